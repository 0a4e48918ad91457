//! The agent desk's team endpoints (README › Agent desk): fan profiles, the queue ("why is this
//! first?"), who is on shift with what load, and per-agent capacity.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query, whole};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::{AgentDeskView, FanProfilePatch, FanProfileView, QueueView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_fan, update_fan))
        .routes(routes!(queue))
        .routes(routes!(agents))
        .routes(routes!(set_capacity))
}

#[utoipa::path(get, path = "/api/v1/fans/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = String, Path)),
    description = "A fan's profile (team only; fans get 404).",
    responses((status = 200, description = "the profile", body = FanProfileView)))]
pub async fn get_fan(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FanProfileView>> {
    Ok(axum::Json(
        state.app.get_fan_profile(&session.principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FanPatchRequest {
    /// Replaces the tags: 1–32 characters of a-z, 0-9, `_`, `-` each, at most 20.
    #[schema(schema_with = fields::tags)]
    pub tags: Option<Vec<String>>,
    /// Set by the creator's platform through a bot token, or by the owner.
    #[schema(schema_with = fields::cents)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub lifetime_spend_cents: Option<i64>,
    #[schema(schema_with = fields::notes)]
    pub notes: Option<String>,
    /// Replaces the custom attributes (string values; keys without `.`).
    #[schema(schema_with = fields::attributes)]
    pub attributes: Option<BTreeMap<String, String>>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[schema(schema_with = words::optional_time_zone)]
    pub timezone: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/fans/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Option<FanPatchRequest>,
    description = "Team members edit tags, notes, attributes and time zone; the lifetime spend \
                   is set by the owner or a bot token (the creator's platform). The fan's open \
                   conversation is re-scored.",
    responses((status = 200, description = "the updated profile", body = FanProfileView),
              (status = 403, description = "`forbidden`: `lifetime_spend_cents` from a role other than \
                                            the owner or a bot", body = ErrorBody)))]
pub async fn update_fan(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<FanPatchRequest>,
) -> ApiResult<axum::Json<FanProfileView>> {
    let patch = FanProfilePatch {
        tags: input.tags,
        lifetime_spend_cents: input.lifetime_spend_cents,
        notes: input.notes,
        attributes: input.attributes,
        timezone: input.timezone,
    };
    Ok(axum::Json(
        state
            .app
            .update_fan_profile(&session.principal, &id, patch)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Also list assigned conversations whose fan waits for a reply (live timers).
    pub all: Option<bool>,
    /// Most entries returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/queue", tag = "desk", security(("bearer" = [])),
    params(QueueQuery),
    description = "Unassigned open and pending conversations, highest current score first, with \
                   waiting timers, SLA deadlines and the inputs of each score. Changes are pushed \
                   on the `inbox` topic as `queue.updated` events.",
    responses((status = 200, description = "the queue", body = QueueView),
              (status = 403, description = "`forbidden`: the queue is the team's", body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<QueueQuery>,
) -> ApiResult<axum::Json<QueueView>> {
    let view = state
        .app
        .queue(
            &session.principal,
            query.all.unwrap_or(false),
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(axum::Json(view))
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentDeskView>,
}

#[utoipa::path(get, path = "/api/v1/desk/agents", tag = "desk", security(("bearer" = [])),
    description = "Every human team member: on shift or not, and their load.",
    responses((status = 200, description = "the agents", body = AgentList),
              (status = 403, description = "`forbidden`: the desk is the team's", body = ErrorBody)))]
pub async fn agents(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<AgentList>> {
    Ok(axum::Json(AgentList {
        agents: state.app.desk_agents(&session.principal).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityRequest {
    /// Most conversations assigned automatically at once (0–100; 0 takes none). Default 5.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "whole::required")]
    pub max_concurrent: i64,
}

#[utoipa::path(put, path = "/api/v1/members/{id}/capacity", tag = "desk", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CapacityRequest,
    responses((status = 204, description = "set"),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn set_capacity(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<CapacityRequest>,
) -> ApiResult<StatusCode> {
    state
        .app
        .set_capacity(&session.principal, &id, input.max_concurrent)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
