//! REST handlers, one module per product noun; request and response types sit next to
//! their handler. Each module's `router()` registers its handlers once, through their
//! `#[utoipa::path]` annotations, so the router and the OpenAPI document cannot differ.

pub mod api_tokens;
pub mod auth;
pub mod canned;
pub mod channels;
pub mod charter;
pub mod conversations;
pub mod conversions;
pub mod decisions;
pub mod desk;
pub mod events;
pub mod export;
pub mod flows;
pub mod inbox;
pub mod metrics;
pub mod questions;
pub mod rooms;
pub mod scheduled;
pub mod shifts;
pub mod signals;
pub mod supervision;
pub mod system;
pub mod webhooks;

use crate::AppState;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

/// Every documented route: the REST API, the WebSocket upgrade, health, metrics and the
/// OpenAPI document itself.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(system::router())
        .merge(auth::router())
        .merge(conversations::router())
        .merge(supervision::router())
        .merge(signals::router())
        .merge(metrics::router())
        .merge(desk::router())
        .merge(inbox::router())
        .merge(shifts::router())
        .merge(canned::router())
        .merge(rooms::router())
        .merge(events::router())
        .merge(conversions::router())
        .merge(questions::router())
        .merge(charter::router())
        .merge(flows::router())
        .merge(webhooks::router())
        .merge(api_tokens::router())
        .merge(scheduled::router())
        .merge(export::router())
        .merge(channels::router())
        .merge(decisions::router())
        .merge(crate::ws::router())
}

/// The error body of docs/api.md › Errors, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// snake_case code: `unauthorized`, `forbidden`, `not_found`, `invalid_request`,
    /// `conflict`, `rate_limited`, `canned_first_line_unedited`, `bot_rule_violation`,
    /// `template_variable_missing`, `method_not_allowed`, `timeout`, `unavailable`,
    /// `internal`.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// Extra facts, such as the offending `field`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}
