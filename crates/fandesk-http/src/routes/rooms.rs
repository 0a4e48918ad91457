//! Live rooms (README › Live rooms): create, list, open, close, messages (the REST
//! mirror of WebSocket `send` on `room:{id}`), and moderation (delete, timeouts).

use crate::AppState;
use crate::client::ClientAddress;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query, whole};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::room_view::{RoomMessageView, RoomView, TimeoutView};
use fandesk_service::{NewRoom, SendMessage};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(open))
        .routes(routes!(close))
        .routes(routes!(send, list_messages))
        .routes(routes!(delete_message))
        .routes(routes!(time_out))
        .routes(routes!(set_slow_mode))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// 1–200 characters after trimming.
    #[schema(schema_with = fields::room_title)]
    pub title: String,
    /// When the room opens by itself (RFC 3339). Without it, the room stays `scheduled`
    /// until the team opens it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opens_at: Option<Timestamp>,
    /// Minimum seconds between two messages of one fan, 0–3600 (0 or absent: off).
    #[schema(minimum = 0, maximum = 3600)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub slow_mode_secs: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    operation_id = "create_room", request_body = CreateRoomRequest,
    responses((status = 201, description = "created (state `scheduled`)", body = RoomView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateRoomRequest>,
) -> ApiResult<(StatusCode, axum::Json<RoomView>)> {
    let input = NewRoom {
        title: input.title,
        opens_at: input.opens_at,
        slow_mode_secs: input.slow_mode_secs,
    };
    let room = state.app.create_room(&session.principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(room)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListRoomsQuery {
    /// Most rooms returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomView>,
}

#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", security(("bearer" = [])),
    operation_id = "list_rooms", params(ListRoomsQuery),
    responses((status = 200, description = "newest first; fans see every room", body = RoomList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListRoomsQuery>,
) -> ApiResult<axum::Json<RoomList>> {
    let rooms = state
        .app
        .list_rooms(&session.principal, query.limit.unwrap_or(50))
        .await?;
    Ok(axum::Json(RoomList { rooms }))
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", security(("bearer" = [])),
    operation_id = "get_room", params(("id" = String, Path)),
    responses((status = 200, description = "the room", body = RoomView)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomView>> {
    Ok(axum::Json(
        state.app.get_room(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/open", tag = "rooms", security(("bearer" = [])),
    operation_id = "open_room", params(("id" = String, Path)),
    responses((status = 200, description = "open; subscribers get `room.updated`", body = RoomView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: already open, or closed", body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomView>> {
    Ok(axum::Json(
        state.app.open_room(&session.principal, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/close", tag = "rooms", security(("bearer" = [])),
    operation_id = "close_room", params(("id" = String, Path)),
    responses((status = 200, description = "closed: read-only chat replay", body = RoomView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: already closed", body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RoomView>> {
    Ok(axum::Json(
        state.app.close_room(&session.principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRoomMessageRequest {
    /// The client's idempotency key: a retry with the same key returns the original.
    #[schema(schema_with = fields::client_msg_id)]
    pub client_msg_id: String,
    /// 1–4,000 characters after trimming.
    #[schema(schema_with = fields::message_body)]
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages", tag = "rooms", security(("bearer" = [])),
    operation_id = "send_room_message", params(("id" = String, Path)),
    request_body = SendRoomMessageRequest,
    responses((status = 201, description = "committed", body = RoomMessageView),
              (status = 200, description = "repeated client_msg_id: the original", body = RoomMessageView),
              (status = 403, description = "`forbidden`: timed out, or a role that may not post",
               body = ErrorBody),
              (status = 409, description = "`conflict`: room not open (fans) or closed", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a restricted word",
               body = ErrorBody),
              (status = 429, description = "`rate_limited`: slow mode, or a fan sent too many \
                                            messages this minute", body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(session): Auth,
    ClientAddress(client): ClientAddress,
    Path(id): Path<String>,
    Json(input): Json<SendRoomMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<RoomMessageView>)> {
    state.limit_fan_message(&session.principal, client)?;
    let input = SendMessage {
        client_msg_id: input.client_msg_id,
        body: input.body,
        visibility: None,
        template_id: None,
        to: None,
    };
    let sent = state
        .app
        .send_room_message(&session.principal, &id, input)
        .await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(sent.message)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListRoomMessagesQuery {
    /// Return messages after this position. Default 0.
    #[param(schema_with = fields::uint64)]
    pub after_seq: Option<u64>,
    /// Most messages returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomMessageList {
    pub messages: Vec<RoomMessageView>,
}

#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages", tag = "rooms", security(("bearer" = [])),
    operation_id = "list_room_messages", params(("id" = String, Path), ListRoomMessagesQuery),
    responses((status = 200, description = "messages in `seq` order; deleted ones are tombstones \
        (`deleted: true`, empty body for fans); the `seq` of deletion events is skipped", body = RoomMessageList)))]
pub async fn list_messages(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<ListRoomMessagesQuery>,
) -> ApiResult<axum::Json<RoomMessageList>> {
    let messages = state
        .app
        .list_room_messages(
            &session.principal,
            &id,
            query.after_seq.unwrap_or(0),
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(axum::Json(RoomMessageList { messages }))
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages/{message_id}/delete", tag = "rooms",
    security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, description = "deleted (again: unchanged); subscribers get `message.deleted`",
               body = RoomMessageView),
              (status = 403, description = "`forbidden`: human team members only", body = ErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<RoomMessageView>> {
    Ok(axum::Json(
        state
            .app
            .delete_room_message(&session.principal, &id, &message_id)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutRequest {
    pub fan_id: String,
    /// 0–604,800 (7 days); 0 lifts a timeout.
    #[schema(minimum = 0, maximum = 604800)]
    #[serde(deserialize_with = "whole::required")]
    pub seconds: u64,
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/timeouts", tag = "rooms", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TimeoutRequest,
    responses((status = 200, description = "the fan's sends are refused (`forbidden`) until `until`",
               body = TimeoutView),
              (status = 403, description = "`forbidden`: human team members only", body = ErrorBody),
              (status = 404, description = "`not_found`: no such room or fan", body = ErrorBody)))]
pub async fn time_out(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<TimeoutRequest>,
) -> ApiResult<axum::Json<TimeoutView>> {
    Ok(axum::Json(
        state
            .app
            .time_out_fan(&session.principal, &id, &input.fan_id, input.seconds)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowModeRequest {
    /// Minimum seconds between two messages of one fan, 0–3600 (0 turns slow mode off).
    #[schema(minimum = 0, maximum = 3600)]
    #[serde(deserialize_with = "whole::required")]
    pub slow_mode_secs: u32,
}

#[utoipa::path(post, path = "/api/v1/rooms/{id}/slow-mode", tag = "rooms", security(("bearer" = [])),
    operation_id = "set_slow_mode", params(("id" = String, Path)), request_body = SlowModeRequest,
    responses((status = 200, description = "the room with its new `slow_mode_secs`; subscribers get `room.updated`",
               body = RoomView),
              (status = 403, description = "`forbidden`: human team members only", body = ErrorBody),
              (status = 404, description = "`not_found`: no such room", body = ErrorBody)))]
pub async fn set_slow_mode(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<SlowModeRequest>,
) -> ApiResult<axum::Json<RoomView>> {
    Ok(axum::Json(
        state
            .app
            .set_slow_mode(&session.principal, &id, input.slow_mode_secs)
            .await?,
    ))
}
