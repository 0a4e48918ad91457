//! Health, Prometheus metrics and the OpenAPI document.

use crate::AppState;
use crate::error::ApiError;
use crate::routes::ErrorBody;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` once the server accepts requests.
    pub status: String,
    /// This node's name (unique among the nodes sharing a database).
    pub node: String,
    /// What carries live events between connections: `local` (this process only) or
    /// `nats` (every node on the same NATS server).
    #[schema(pattern = "^(local|nats)$")]
    pub bus: String,
}

#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "accepting requests", body = Health),
              (status = 503, description = "not ready (the store does not answer)", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (code, status) = if state.app.ready().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let health = Health {
        status: status.into(),
        node: state.app.node().to_owned(),
        bus: state.app.bus_kind().into(),
    };
    (code, axum::Json(health))
}

/// The Prometheus exposition's content type (OpenMetrics text 1.0.0).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[utoipa::path(get, path = "/metrics", tag = "system", security(("metrics_token" = [])),
    description = "Prometheus metrics in the OpenMetrics text format (docs/metrics.md), for a \
                   scraper holding the metrics token (`--metrics-token` / \
                   `FANDESK_METRICS_TOKEN`) as its bearer token. Without a configured token the \
                   route is refused.",
    responses((status = 200, description = "OpenMetrics text exposition, version 1.0.0",
               content_type = "application/openmetrics-text", body = String),
              (status = 403, description = "`forbidden`: a token was presented but the server \
                                            has no metrics token configured", body = ErrorBody)))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(ApiError::unauthorized)?;
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "metrics are off: the server has no metrics token",
        ));
    };
    if !same_secret(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::unauthorized());
    }
    Ok((
        [(header::CONTENT_TYPE, OPENMETRICS)],
        state.app.render_metrics().await,
    ))
}

/// Compares a presented secret with the expected one in time that depends on the length
/// only, so a guess learns nothing from how fast it is refused.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The OpenAPI document, produced once from the router (see [`crate::openapi`]).
#[derive(Clone)]
pub struct OpenApiJson(pub axum::body::Bytes);

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json",
               body = Object)))]
pub async fn openapi(axum::Extension(document): axum::Extension<OpenApiJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.0)
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_match_only_exactly() {
        for (given, expected, same) in [
            ("s3cret", "s3cret", true),
            ("s3cres", "s3cret", false),
            ("s3cre", "s3cret", false),
            ("s3crett", "s3cret", false),
            ("", "s3cret", false),
        ] {
            assert_eq!(
                same_secret(given.as_bytes(), expected.as_bytes()),
                same,
                "{given}"
            );
        }
    }
}
