//! Team actions on a conversation and supervision (docs/api.md › Supervision: assign,
//! escalate, monitor, take over, hand back, audit log, message review; README ›
//! Supervision and signals).

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use fandesk_service::view::{ConversationView, MessageView};
use fandesk_service::{AuditFilter, AuditView, ReviewFilter};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(escalate))
        .routes(routes!(monitor))
        .routes(routes!(takeover))
        .routes(routes!(handback))
        .routes(routes!(audit))
        .routes(routes!(review))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub member_id: String,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, description = "assigned", body = ConversationView),
              (status = 403, description = "`forbidden`: the caller may not assign this way", body = ErrorBody),
              (status = 409, description = "`conflict`: the conversation's state does not allow it",
               body = ErrorBody),
              (status = 422, description = "`invalid_request`: no such member, or a bot",
               body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<AssignRequest>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state
            .app
            .assign(&session.principal, &id, &input.member_id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/unassign", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "back in the queue", body = ConversationView),
              (status = 403, description = "`forbidden`: the caller may not unassign it", body = ErrorBody),
              (status = 409, description = "`conflict`: the conversation's state does not allow it",
               body = ErrorBody)))]
pub async fn unassign(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.unassign(&session.principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// Why (1–500 characters); shown to the team in the timeline.
    #[schema(schema_with = fields::reason)]
    pub reason: String,
    /// The escalation lead; default: the least loaded one.
    pub lead_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/escalate", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = EscalateRequest,
    responses((status = 200, description = "escalated", body = ConversationView),
              (status = 403, description = "`forbidden`: the caller may not escalate it", body = ErrorBody),
              (status = 409, description = "`conflict`: the conversation's state does not allow it, or \
                                            no escalation lead is available", body = ErrorBody),
              (status = 422, description = "`invalid_request`: `lead_id` is no escalation \
                                            lead", body = ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<EscalateRequest>,
) -> ApiResult<axum::Json<ConversationView>> {
    let view = state
        .app
        .escalate(
            &session.principal,
            &id,
            &input.reason,
            input.lead_id.as_deref(),
        )
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/monitor", tag = "supervision", security(("bearer" = [])),
    params(("id" = String, Path)),
    description = "Silent join: audited and shown to the team; the fan sees nothing. Subscribe to \
                   `conversation:{id}` for the live events.",
    responses((status = 200, description = "monitoring", body = ConversationView),
              (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
               body = ErrorBody)))]
pub async fn monitor(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.monitor(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/takeover", tag = "supervision", security(("bearer" = [])),
    params(("id" = String, Path)),
    description = "The caller becomes the assignee; the agent stays as observer. No system text reaches the fan.",
    responses((status = 200, description = "taken over", body = ConversationView),
              (status = 403, description = "`forbidden`: the caller may not take it over", body = ErrorBody),
              (status = 409, description = "`conflict`: the conversation's state does not allow it",
               body = ErrorBody)))]
pub async fn takeover(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.take_over(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/handback", tag = "supervision", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "handed back", body = ConversationView),
              (status = 403, description = "`forbidden`: the caller may not hand it back", body = ErrorBody),
              (status = 409, description = "`conflict`: not taken over", body = ErrorBody)))]
pub async fn handback(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.hand_back(&session.principal, &id).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries strictly older than this time (paging backwards).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<Timestamp>,
    /// Most entries returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
    /// Only this action.
    #[param(schema_with = words::audit_action)]
    pub action: Option<String>,
    /// Only entries by this member.
    #[param(schema_with = fields::audit_id)]
    pub actor_id: Option<String>,
    /// Only entries about this conversation.
    #[param(schema_with = fields::audit_id)]
    pub conversation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditView>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "supervision", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, description = "newest first", body = AuditList),
        (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditList>> {
    let filter = AuditFilter {
        before: query.before,
        limit: query.limit.unwrap_or(50),
        action: query.action,
        actor_id: query.actor_id,
        conversation_id: query.conversation_id,
    };
    let entries = state.app.list_audit(&session.principal, filter).await?;
    Ok(axum::Json(AuditList { entries }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// Only this member's messages.
    pub agent_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    /// Messages strictly older than this time (paging backwards).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<Timestamp>,
    /// Most messages returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewList {
    /// Newest first; public replies carry `reply_ms`.
    pub messages: Vec<MessageView>,
}

#[utoipa::path(get, path = "/api/v1/review/messages", tag = "supervision", security(("bearer" = [])),
    params(ReviewQuery), responses((status = 200, description = "newest first", body = ReviewList),
        (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
         body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ReviewQuery>,
) -> ApiResult<axum::Json<ReviewList>> {
    let filter = ReviewFilter {
        author_id: query.agent_id.map(fandesk_domain::MemberId),
        from: query.from,
        to: query.to,
        before: query.before,
        limit: query.limit.unwrap_or(50),
    };
    let messages = state
        .app
        .review_messages(&session.principal, filter)
        .await?;
    Ok(axum::Json(ReviewList { messages }))
}
