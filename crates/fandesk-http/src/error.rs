//! The HTTP edge of [`ServiceError`]: docs/api.md's error shape
//! `{"error":{"code","message","details"}}`, with 5xx details logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fandesk_service::ServiceError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    /// `invalid_request` naming the offending field (docs/api.md › Errors).
    pub fn invalid(status: StatusCode, field: Option<&str>, message: impl Into<String>) -> Self {
        let details = match field {
            Some(field) => json!({ "field": field }),
            None => json!({}),
        };
        ApiError {
            status,
            code: "invalid_request",
            message: message.into(),
            details,
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::from(ServiceError::Unauthorized)
    }

    pub fn not_found(what: &'static str) -> Self {
        ApiError::from(ServiceError::NotFound(what))
    }

    /// A known path asked with a method it does not serve (the `Allow` header lists
    /// those it does).
    pub fn method_not_allowed() -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not serve that method",
        )
    }

    /// The request took longer than the server allows.
    pub fn timeout(limit: std::time::Duration) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("no answer within {} seconds", limit.as_secs()),
        )
    }

    /// The same error with `details` replaced (e.g. `retry_after_secs`).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The error's `details` object (e.g. the offending `field`).
    pub fn details(&self) -> &Value {
        &self.details
    }

    /// For WebSocket error frames, which carry the same code and message.
    pub fn code_and_message(&self) -> (&'static str, String) {
        (self.code, self.message.clone())
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %error, "request failed");
        }
        let details = error.details();
        ApiError {
            status,
            code: error.code(),
            message: error.public_message(),
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "code": self.code, "message": self.message, "details": self.details }
        });
        (self.status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
