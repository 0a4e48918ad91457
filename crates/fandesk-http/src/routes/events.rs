//! Premieres and live events (README › Events): create, list, read and update, and the
//! chat replay by video time. The chat
//! is the event's room (`room_id`), served by the room routes.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query, whole};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::event::{EventKind, MAX_DURATION_SECS, MAX_MEDIA_URL_LEN};
use fandesk_service::{
    EventMetricsView, EventPatch, EventView, NewEvent, ReplayMessageView, ServiceError,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(replay))
        .routes(routes!(metrics))
}

fn kind_schema() -> Object {
    let names: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
    fields::string(false)
        .enum_values(Some(names))
        .description(Some("`premiere` (a pre-recorded video) or `live`."))
        .build()
}

fn media_url_schema() -> Object {
    fields::string(true)
        .max_length(Some(MAX_MEDIA_URL_LEN))
        .pattern(Some(
            r"^https?://[^\s/\x00-\x1f\x7f-\x9f][^\s\x00-\x1f\x7f-\x9f]*$",
        ))
        .description(Some(
            "The premiere's video (required for a premiere), or a live event's stream link: \
             an absolute `http://` or `https://` URL without white space or control characters.",
        ))
        .build()
}

fn title_optional() -> Object {
    let mut title = fields::room_title();
    title.schema_type = utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::Type::String,
        utoipa::openapi::Type::Null,
    ]);
    title
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventRequest {
    /// 1–200 characters after trimming; also the chat room's title.
    #[schema(schema_with = fields::room_title)]
    pub title: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// RFC 3339. The event must not have ended already.
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    /// 1–86400: the video's length for a premiere.
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(deserialize_with = "whole::required")]
    pub duration_secs: u32,
    #[schema(schema_with = media_url_schema)]
    pub media_url: Option<String>,
    /// Whether the event takes questions (default false).
    pub qa: Option<bool>,
    /// The chat room's slow mode: minimum seconds between two messages of one fan,
    /// 0–3600 (0 or absent: off).
    #[schema(minimum = 0, maximum = 3600)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub slow_mode_secs: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    operation_id = "create_event", request_body = CreateEventRequest,
    responses((status = 201, description = "created, with its chat room", body = EventView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a premiere without `media_url`, or an event that would already have ended", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateEventRequest>,
) -> ApiResult<(StatusCode, axum::Json<EventView>)> {
    let kind = EventKind::parse(&input.kind)
        .ok_or_else(|| ServiceError::invalid("kind", "must be `premiere` or `live`"))?;
    let input = NewEvent {
        title: input.title,
        kind,
        starts_at: input.starts_at,
        duration_secs: input.duration_secs,
        media_url: input.media_url,
        qa: input.qa,
        slow_mode_secs: input.slow_mode_secs,
    };
    let event = state.app.create_event(&session.principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(event)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListEventsQuery {
    /// Most events returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    operation_id = "list_events", params(ListEventsQuery),
    responses((status = 200, description = "latest start first; every session sees every event", body = EventList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListEventsQuery>,
) -> ApiResult<axum::Json<EventList>> {
    let events = state
        .app
        .list_events(&session.principal, query.limit.unwrap_or(50))
        .await?;
    Ok(axum::Json(EventList { events }))
}

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = [])),
    operation_id = "get_event", params(("id" = String, Path)),
    responses((status = 200, description = "the event, its status and, while live, `position_secs`", body = EventView),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventView>> {
    Ok(axum::Json(
        state.app.get_event(&session.principal, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEventRequest {
    #[schema(schema_with = title_optional)]
    pub title: Option<String>,
    /// Only while `scheduled`, and not to a start that has passed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Timestamp>,
    /// Only while `scheduled`.
    #[schema(minimum = 1, maximum = 86400)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub duration_secs: Option<u32>,
    /// Only while `scheduled`.
    #[schema(schema_with = media_url_schema)]
    pub media_url: Option<String>,
    pub qa: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = [])),
    operation_id = "update_event", params(("id" = String, Path)), request_body = Option<UpdateEventRequest>,
    responses((status = 200, description = "the event as changed", body = EventView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the start, duration or video of an event that has begun", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a start that has passed", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<UpdateEventRequest>,
) -> ApiResult<axum::Json<EventView>> {
    let patch = EventPatch {
        title: input.title,
        starts_at: input.starts_at,
        duration_secs: input.duration_secs,
        media_url: input.media_url,
        qa: input.qa,
    };
    Ok(axum::Json(
        state
            .app
            .update_event(&session.principal, &id, patch)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReplayQuery {
    /// Start of the window in seconds of video time (inclusive; negative: the countdown
    /// chat). Absent: from the first message.
    #[param(schema_with = fields::video_secs)]
    pub from_secs: Option<i64>,
    /// End of the window (exclusive). Absent: to the last message.
    #[param(schema_with = fields::video_secs)]
    pub to_secs: Option<i64>,
    /// Most messages returned: default and most 1000 (narrow the window for more).
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ReplayList {
    pub messages: Vec<ReplayMessageView>,
}

#[utoipa::path(get, path = "/api/v1/events/{id}/replay", tag = "events", security(("bearer" = [])),
    operation_id = "event_replay", params(("id" = String, Path), ReplayQuery),
    responses((status = 200, description = "the chat's messages by video time, in the order they were sent, deleted ones left out; each with `offset_secs`", body = ReplayList),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<ReplayQuery>,
) -> ApiResult<axum::Json<ReplayList>> {
    let messages = state
        .app
        .event_replay(
            &session.principal,
            &id,
            query.from_secs,
            query.to_secs,
            query.limit,
        )
        .await?;
    Ok(axum::Json(ReplayList { messages }))
}

#[utoipa::path(get, path = "/api/v1/events/{id}/metrics", tag = "events", security(("bearer" = [])),
    operation_id = "event_metrics", params(("id" = String, Path)),
    description = "Computed from stored rows at the read, so every node gives the same answer \
                   (docs/metrics.md › Events defines each figure).",
    responses((status = 200, description = "the event's audience, chat, questions and conversions so far", body = EventMetricsView),
              (status = 403, description = "`forbidden`: metrics are for the owner, supervisors and escalation leads", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn metrics(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EventMetricsView>> {
    Ok(axum::Json(
        state.app.event_metrics(&session.principal, &id).await?,
    ))
}

const _: () = assert!(MAX_DURATION_SECS == 86_400);
