//! Team channels (README › Team channels): create (owner, supervisors, under the charter's
//! `channels.limit`), list (active or archived), read, archive and restore; post and read
//! messages (idempotent by `client_msg_id`, threads by `thread_root_id`), and a thread's
//! summary posted back to the channel. Live on the WebSocket topic `channel:{id}`. Fans
//! get 404 from every route here.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::MessageId;
use fandesk_domain::channel::ChannelKind;
use fandesk_service::{
    ChannelMessageFilter, ChannelMessageView, ChannelPost, ChannelSent, ChannelView, NewChannel,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, Object};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(archive))
        .routes(routes!(restore))
        .routes(routes!(post_message, list_messages))
        .routes(routes!(summary))
}

fn kind_schema() -> Object {
    let names: Vec<&str> = ChannelKind::ALL.iter().map(|kind| kind.as_str()).collect();
    fields::string(true)
        .enum_values(Some(names))
        .description(Some(
            "`open` (default: every member posts) or `announcements` (only the owner and \
             supervisors post).",
        ))
        .build()
}

fn member_ids_schema() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::Type::Array,
            utoipa::openapi::Type::Null,
        ]))
        .items(fields::client_msg_id())
        .max_items(Some(fandesk_domain::channel::MAX_MEMBERS))
        .description(Some(
            "Named members (active team members' ids); absent or empty: the whole team. \
             The owner and supervisors always read every channel.",
        ))
        .build()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    #[schema(schema_with = fields::channel_name)]
    pub name: String,
    #[schema(schema_with = fields::channel_purpose)]
    pub purpose: String,
    #[schema(schema_with = fields::channel_guideline)]
    pub guideline: Option<String>,
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[schema(schema_with = member_ids_schema)]
    pub member_ids: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", security(("bearer" = [])),
    operation_id = "create_channel", request_body = CreateChannelRequest,
    responses((status = 201, description = "created", body = ChannelView),
              (status = 403, description = "`forbidden`: the owner and supervisors create channels", body = ErrorBody),
              (status = 404, description = "`not_found`: fans (channels are team-only)", body = ErrorBody),
              (status = 409, description = "`conflict`: as many active channels as the charter's `channels.limit`; `details.limit` says it", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateChannelRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelView>)> {
    let input = NewChannel {
        name: Some(input.name),
        purpose: Some(input.purpose),
        guideline: input.guideline,
        kind: input.kind,
        member_ids: input.member_ids,
    };
    let channel = state.app.create_channel(&session.principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(channel)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListChannelsQuery {
    /// `true`: the archived channels (read-only); `false` (default): the active ones.
    pub archived: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelView>,
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", security(("bearer" = [])),
    operation_id = "list_channels", params(ListChannelsQuery),
    responses((status = 200, description = "the channels the caller belongs to, by name", body = ChannelList),
              (status = 404, description = "`not_found`: fans", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListChannelsQuery>,
) -> ApiResult<axum::Json<ChannelList>> {
    let channels = state
        .app
        .list_channels(&session.principal, query.archived.unwrap_or(false))
        .await?;
    Ok(axum::Json(ChannelList { channels }))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", security(("bearer" = [])),
    operation_id = "get_channel", params(("id" = String, Path)),
    responses((status = 200, description = "the channel", body = ChannelView),
              (status = 404, description = "`not_found`: no such channel, not a member, or a fan", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelView>> {
    Ok(axum::Json(
        state.app.get_channel(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/archive", tag = "channels",
    security(("bearer" = [])), operation_id = "archive_channel", params(("id" = String, Path)),
    responses((status = 200, description = "archived (read-only; unchanged if it was)", body = ChannelView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelView>> {
    let channel = state
        .app
        .set_channel_archived(&session.principal, &id, true)
        .await?;
    Ok(axum::Json(channel))
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/restore", tag = "channels",
    security(("bearer" = [])), operation_id = "restore_channel", params(("id" = String, Path)),
    responses((status = 200, description = "active again (unchanged if it was)", body = ChannelView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the charter's `channels.limit` of active channels is reached (`details.limit`)", body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChannelView>> {
    let channel = state
        .app
        .set_channel_archived(&session.principal, &id, false)
        .await?;
    Ok(axum::Json(channel))
}

fn message_id_schema() -> Object {
    fields::string(true)
        .pattern(Some(format!(
            "^[!-~]{{1,{}}}$",
            fandesk_domain::message::MAX_CLIENT_MSG_ID_BYTES
        )))
        .description(Some("A message id of this channel."))
        .build()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostChannelMessageRequest {
    #[schema(schema_with = fields::client_msg_id)]
    pub client_msg_id: String,
    /// `DECISION: …`, `ACTION: …` or `ACTION(@Name): …` (any case, after leading white
    /// space) tag the message and log it in the decision log.
    #[schema(schema_with = fields::message_body)]
    pub body: String,
    /// Reply in this message's thread (a message of the channel that is not a reply).
    #[schema(schema_with = message_id_schema)]
    pub thread_root_id: Option<String>,
}

fn sent(sent: ChannelSent) -> (StatusCode, axum::Json<ChannelMessageView>) {
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(sent.message))
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/messages", tag = "channels",
    security(("bearer" = [])), operation_id = "post_channel_message", params(("id" = String, Path)),
    request_body = PostChannelMessageRequest,
    responses((status = 201, description = "posted (acknowledged after the commit)", body = ChannelMessageView),
              (status = 200, description = "repeated client_msg_id: the original", body = ChannelMessageView),
              (status = 403, description = "`forbidden`: an announcements channel, and not the owner or a supervisor", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the channel is archived (read-only)", body = ErrorBody),
              (status = 422, description = "`invalid_request`: `ACTION(@Name):` names no team member, or `thread_root_id` names no root of this channel", body = ErrorBody)))]
pub async fn post_message(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<PostChannelMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelMessageView>)> {
    let post = ChannelPost {
        client_msg_id: Some(input.client_msg_id),
        body: input.body,
        thread_root_id: input.thread_root_id,
        summary_of: None,
    };
    let posted = state
        .app
        .post_channel_message(&session.principal, &id, post)
        .await?;
    Ok(sent(posted))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListChannelMessagesQuery {
    /// Only messages after this `seq`.
    #[param(schema_with = fields::uint64)]
    pub after_seq: Option<u64>,
    /// Only this thread: its root and its replies.
    #[param(schema_with = fields::client_msg_id)]
    pub thread_root_id: Option<String>,
    /// Most messages returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelMessageList {
    pub messages: Vec<ChannelMessageView>,
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/messages", tag = "channels",
    security(("bearer" = [])), operation_id = "list_channel_messages",
    params(("id" = String, Path), ListChannelMessagesQuery),
    responses((status = 200, description = "in `seq` order", body = ChannelMessageList),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<ListChannelMessagesQuery>,
) -> ApiResult<axum::Json<ChannelMessageList>> {
    if let Some(root) = &query.thread_root_id {
        fandesk_domain::validate_client_msg_id(root).map_err(|_| {
            fandesk_service::ServiceError::invalid("thread_root_id", "must be a message id")
        })?;
    }
    let filter = ChannelMessageFilter {
        after_seq: query.after_seq.unwrap_or(0),
        thread_root_id: query.thread_root_id.map(MessageId),
    };
    let messages = state
        .app
        .list_channel_messages(&session.principal, &id, filter, query.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(ChannelMessageList { messages }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadSummaryRequest {
    /// The summary (tags apply to it as to any message).
    #[schema(schema_with = fields::message_body)]
    pub body: String,
    /// Optional idempotency key: a retry with it returns the original summary.
    #[schema(schema_with = optional_client_msg_id)]
    pub client_msg_id: Option<String>,
}

fn optional_client_msg_id() -> Object {
    let mut schema = fields::client_msg_id();
    schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::Type::String,
        utoipa::openapi::Type::Null,
    ]);
    schema
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/threads/{root_id}/summary", tag = "channels",
    security(("bearer" = [])), operation_id = "post_thread_summary",
    params(("id" = String, Path), ("root_id" = String, Path)), request_body = ThreadSummaryRequest,
    responses((status = 201, description = "the summary: a channel message with `summary_of`", body = ChannelMessageView),
              (status = 200, description = "repeated client_msg_id: the original", body = ChannelMessageView),
              (status = 403, description = "`forbidden`: an announcements channel, and not the owner or a supervisor", body = ErrorBody),
              (status = 404, description = "`not_found`: no such channel or message", body = ErrorBody),
              (status = 409, description = "`conflict`: the channel is archived", body = ErrorBody),
              (status = 422, description = "`invalid_request`: `root_id` names a reply, not a thread's root", body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((id, root_id)): Path<(String, String)>,
    Json(input): Json<ThreadSummaryRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChannelMessageView>)> {
    let posted = state
        .app
        .post_thread_summary(
            &session.principal,
            &id,
            &root_id,
            input.client_msg_id,
            &input.body,
        )
        .await?;
    Ok(sent(posted))
}
