//! Conversations and messages (docs/api.md › Conversations and messages).

use crate::AppState;
use crate::client::ClientAddress;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json, Query};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::view::{ConversationView, MessageView};
use fandesk_service::{ConversationFilter, ScheduledReplyView, SendMessage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(open, list))
        .routes(routes!(get))
        .routes(routes!(resolve))
        .routes(routes!(reopen))
        .routes(routes!(snooze))
        .routes(routes!(send, list_messages))
        .routes(routes!(list_scheduled_replies))
        .routes(routes!(cancel_scheduled_reply))
}

/// `POST /conversations` takes an empty object.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenConversationRequest {}

#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    operation_id = "open_conversation", request_body = Option<OpenConversationRequest>,
    responses((status = 201, description = "created", body = ConversationView),
              (status = 200, description = "the fan's open conversation", body = ConversationView),
              (status = 403, description = "`forbidden`: fans open conversations", body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(_input): Json<OpenConversationRequest>,
) -> ApiResult<(StatusCode, axum::Json<ConversationView>)> {
    let (view, created) = state.app.open_conversation(&session.principal).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(view)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListConversationsQuery {
    #[param(schema_with = words::status)]
    pub status: Option<String>,
    pub assignee_id: Option<String>,
    /// Only conversations nobody is assigned to.
    pub unassigned: Option<bool>,
    /// Team: part of the fan's display name (case-insensitive).
    pub fan_name: Option<String>,
    /// Team: a fan profile tag, e.g. `vip`.
    pub tag: Option<String>,
    /// Team: part of a message's text, public or internal (case-insensitive), searched in
    /// the 2,000 most recently active conversations.
    pub q: Option<String>,
    /// Team: one fan's conversations (their history).
    pub fan_id: Option<String>,
    /// Team: only conversations whose stored priority is at least this.
    #[param(schema_with = fields::int64)]
    pub min_priority: Option<i64>,
    /// Most conversations returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationView>,
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    operation_id = "list_conversations", params(ListConversationsQuery),
    responses((status = 200, description = "newest first; fans see only their own", body = ConversationList),
              (status = 403, description = "`forbidden`: fans filter only by status", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListConversationsQuery>,
) -> ApiResult<axum::Json<ConversationList>> {
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(fandesk_domain::Status::parse(text).ok_or_else(|| {
            ApiError::invalid(
                StatusCode::BAD_REQUEST,
                Some("status"),
                "status: must be open, pending, snoozed or resolved",
            )
        })?),
    };
    let filter = ConversationFilter {
        status,
        assignee_id: query.assignee_id.map(fandesk_domain::MemberId),
        unassigned: query.unassigned.unwrap_or(false),
        fan_id: query.fan_id.map(fandesk_domain::FanId),
        fan_name: query.fan_name,
        tag: query.tag,
        text: query
            .q
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty()),
        min_priority: query.min_priority,
        limit: query.limit.unwrap_or(50),
    };
    let conversations = state
        .app
        .list_conversations(&session.principal, filter)
        .await?;
    Ok(axum::Json(ConversationList { conversations }))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    operation_id = "get_conversation", params(("id" = String, Path)),
    responses((status = 200, description = "the conversation (fans: only the fan-safe fields)",
               body = ConversationView)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.get_conversation(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/resolve", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "resolved", body = ConversationView),
              (status = 403, description = "`forbidden`: fans cannot resolve", body = ErrorBody),
              (status = 409, description = "`conflict`: already resolved", body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state.app.resolve(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "open again", body = ConversationView),
              (status = 403, description = "`forbidden`: fans cannot reopen", body = ErrorBody),
              (status = 409, description = "`conflict`: not resolved", body = ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(state.app.reopen(&session.principal, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// When it wakes (RFC 3339): in the future, at most 30 days ahead.
    #[schema(value_type = String, format = DateTime)]
    pub until: jiff::Timestamp,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/snooze", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SnoozeRequest,
    description = "Sets the conversation aside until `until`; it returns to `open` then, or as soon as \
                   the fan writes. Fans are shown `open` throughout.",
    responses((status = 200, description = "snoozed", body = ConversationView),
              (status = 403, description = "`forbidden`: the assignee, the escalation lead or a \
                                            supervisor snoozes", body = ErrorBody),
              (status = 409, description = "`conflict`: resolved", body = ErrorBody),
              (status = 422, description = "`invalid_request`: `until` is past or more than 30 days \
                                            ahead", body = ErrorBody)))]
pub async fn snooze(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<SnoozeRequest>,
) -> ApiResult<axum::Json<ConversationView>> {
    Ok(axum::Json(
        state
            .app
            .snooze(&session.principal, &id, input.until)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The client's idempotency key: a retry with the same key returns the original.
    #[schema(schema_with = fields::client_msg_id)]
    pub client_msg_id: String,
    /// 1–4,000 characters after trimming.
    #[schema(schema_with = fields::message_body)]
    pub body: String,
    /// `public` (default) or `internal` (team only).
    #[schema(schema_with = words::visibility)]
    pub visibility: Option<String>,
    /// The canned response this message was made from (first-line rule).
    pub template_id: Option<String>,
    /// Whisper: the team member an internal message is addressed to.
    pub to: Option<String>,
    /// Reply later (team, public): send it at this time (RFC 3339, in the future, within
    /// 366 days) instead of now; answered 202 with the scheduled reply.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub send_at: Option<jiff::Timestamp>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    operation_id = "send_message", params(("id" = String, Path)), request_body = SendMessageRequest,
    responses((status = 201, description = "committed", body = MessageView),
              (status = 200, description = "repeated client_msg_id: the original", body = MessageView),
              (status = 202, description = "`send_at` given: the reply is scheduled (a repeated \
                                            client_msg_id returns the one scheduled first)",
               body = ScheduledReplyView),
              (status = 403, description = "`forbidden`: a fan sending `internal`, or a role that may \
                                            not post here", body = ErrorBody),
              (status = 409, description = "`conflict`: the conversation does not take this message now",
               body = ErrorBody),
              (status = 422, description = "`invalid_request` (a restricted word, an \
                  unknown `template_id` or `to`, `to` on a public message), \
                  `canned_first_line_unedited`, `bot_rule_violation`", body = ErrorBody),
              (status = 429, description = "`rate_limited`: a fan sent too many messages this \
                                            minute (per fan and per address)", body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(session): Auth,
    ClientAddress(client): ClientAddress,
    Path(id): Path<String>,
    Json(input): Json<SendMessageRequest>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    state.limit_fan_message(&session.principal, client)?;
    let send_at = input.send_at;
    let input = SendMessage {
        client_msg_id: input.client_msg_id,
        body: input.body,
        visibility: input.visibility,
        template_id: input.template_id,
        to: input.to,
    };
    if let Some(send_at) = send_at {
        let (scheduled, _) = state
            .app
            .schedule_reply(&session.principal, &id, input, send_at)
            .await?;
        return Ok((StatusCode::ACCEPTED, axum::Json(scheduled)).into_response());
    }
    let sent = state
        .app
        .send_message(&session.principal, &id, input)
        .await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(sent.message)).into_response())
}

/// A conversation's replies scheduled for later.
#[derive(Serialize, ToSchema)]
pub struct ScheduledReplyList {
    pub scheduled_replies: Vec<ScheduledReplyView>,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/scheduled-replies", tag = "messages",
    security(("bearer" = [])), operation_id = "list_scheduled_replies", params(("id" = String, Path)),
    responses((status = 200, description = "pending and past replies sent later, by send time",
               body = ScheduledReplyList),
              (status = 403, description = "`forbidden`: fans and bots", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn list_scheduled_replies(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ScheduledReplyList>> {
    let scheduled_replies = state
        .app
        .list_scheduled_replies(&session.principal, &id)
        .await?;
    Ok(axum::Json(ScheduledReplyList { scheduled_replies }))
}

#[utoipa::path(delete, path = "/api/v1/scheduled-replies/{id}", tag = "messages",
    security(("bearer" = [])), operation_id = "cancel_scheduled_reply", params(("id" = String, Path)),
    responses((status = 200, description = "cancelled", body = ScheduledReplyView),
              (status = 403, description = "`forbidden`: not its author, an owner or a supervisor",
               body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: already sent, failed or cancelled",
               body = ErrorBody)))]
pub async fn cancel_scheduled_reply(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ScheduledReplyView>> {
    Ok(axum::Json(
        state
            .app
            .cancel_scheduled_reply(&session.principal, &id)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListMessagesQuery {
    /// Return entries after this position (fans: the public sequence). Default 0.
    #[param(schema_with = fields::uint64)]
    pub after_seq: Option<u64>,
    /// Most messages returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    operation_id = "list_messages", params(("id" = String, Path), ListMessagesQuery),
    responses((status = 200, description = "in `seq` order (fans: the public sequence, no internal \
                                             messages)", body = MessageList)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<ListMessagesQuery>,
) -> ApiResult<axum::Json<MessageList>> {
    let messages = state
        .app
        .list_messages(
            &session.principal,
            &id,
            query.after_seq.unwrap_or(0),
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(axum::Json(MessageList { messages }))
}
