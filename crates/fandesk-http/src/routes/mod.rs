//! REST handlers, one module per product noun; request and response types sit next to
//! their handler.

pub mod auth;
pub mod canned;
pub mod conversations;
pub mod desk;
pub mod metrics;
pub mod rooms;
pub mod shifts;
pub mod signals;
pub mod supervision;
pub mod system;

use serde::Serialize;
use utoipa::ToSchema;

/// PROTOCOL.md's error body, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// snake_case code: `unauthorized`, `forbidden`, `not_found`, `invalid_request`,
    /// `conflict`, `rate_limited`, `canned_first_line_unedited`, `bot_rule_violation`.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Extra facts, such as the offending `field`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}
