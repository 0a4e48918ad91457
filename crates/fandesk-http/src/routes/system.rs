//! Health, Prometheus metrics and the OpenAPI document.

use crate::AppState;
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

#[utoipa::path(get, path = "/metrics", tag = "system",
    description = "Prometheus metrics in the OpenMetrics text format (docs/metrics.md).",
    responses((status = 200, description = "OpenMetrics text exposition, version 1.0.0",
               content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, OPENMETRICS)],
        state.app.render_metrics().await,
    )
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
