//! Scheduled messages (docs/api.md › Scheduled messages): an owner or supervisor schedules
//! a message for fans or a segment, previews who gets it when, follows its progress and
//! recipients, and cancels what is still pending.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::schedule::{MAX_FAN_IDS, MAX_SEGMENT_TAGS};
use fandesk_service::{
    AudienceInput, LocalInput, NewScheduledMessage, QuietInput, SchedulePreview,
    ScheduledDeliveryView, ScheduledMessageView,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(preview))
        .routes(routes!(get, cancel))
        .routes(routes!(deliveries))
}

fn wall_time() -> Object {
    fields::string(false)
        .pattern(Some("^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"))
        .description(Some("`HH:MM`, 00:00 to 23:59."))
        .build()
}

fn wall_time_optional() -> Object {
    fields::string(true)
        .pattern(Some("^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"))
        .description(Some("`HH:MM`, 00:00 to 23:59."))
        .build()
}

fn date_optional() -> Object {
    fields::string(true)
        .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        .description(Some("A calendar date `YYYY-MM-DD`."))
        .build()
}

fn fan_ids() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            fields::string(false)
                .pattern(Some(r"^[\t-\r ]*[!-~]{1,128}[\t-\r ]*$"))
                .build(),
        )
        .max_items(Some(MAX_FAN_IDS))
        .description(Some(
            "Fans by id (each must exist); a fan listed twice or also matched by tags gets \
             the message once.",
        ))
        .build()
}

fn segment_tags() -> Array {
    let mut tags = fields::tags();
    tags.max_items = Some(MAX_SEGMENT_TAGS);
    tags.description = Some("Fans with any of these tags (as fan profiles spell them).".into());
    tags
}

/// Who gets the message: the union of the parts given (at least one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceRequest {
    #[schema(schema_with = fan_ids)]
    pub fan_ids: Option<Vec<String>>,
    #[schema(schema_with = segment_tags)]
    pub tags: Option<Vec<String>>,
    /// Fans tagged `vip`.
    pub vip: Option<bool>,
    /// Every fan.
    pub all: Option<bool>,
}

/// A wall-clock date and time, in each fan's own time zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalTimeRequest {
    #[schema(schema_with = date_optional)]
    pub date: Option<String>,
    #[schema(schema_with = wall_time_optional)]
    pub time: Option<String>,
}

/// Local hours `[start, end)` in which nothing is delivered (across midnight when `end`
/// is before `start`); a due time inside them moves to their end.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursRequest {
    #[schema(schema_with = wall_time_optional)]
    pub start: Option<String>,
    #[schema(schema_with = wall_time_optional)]
    pub end: Option<String>,
}

/// The documented body of `POST /scheduled-messages` and its preview: [`ScheduleRequest`]
/// with `body` and `audience` required and exactly one of `at` and `local`. The handler
/// decodes a `ScheduleRequest`, so the service checks the caller's role before it reports
/// a missing field (an agent's empty body is a 403).
#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewScheduleRequest {
    #[schema(schema_with = fields::message_body)]
    body: String,
    audience: AudienceRequest,
    /// RFC 3339: the same instant for every fan (a past one means now), within 366 days.
    #[schema(value_type = Option<String>, format = DateTime)]
    at: Option<Timestamp>,
    /// Instead of `at`: this wall-clock time in each fan's time zone (fans without one:
    /// the creator's). A time a spring-forward gap skips moves forward by the gap; one a
    /// fall-back repeats is the first.
    local: Option<NewLocalTime>,
    quiet_hours: Option<NewQuietHours>,
}

#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewLocalTime {
    #[schema(schema_with = fields::date)]
    date: String,
    #[schema(schema_with = wall_time)]
    time: String,
}

#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewQuietHours {
    #[schema(schema_with = wall_time)]
    start: String,
    #[schema(schema_with = wall_time)]
    end: String,
}

/// A message to schedule (or preview).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub body: Option<String>,
    pub audience: Option<AudienceRequest>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    pub local: Option<LocalTimeRequest>,
    pub quiet_hours: Option<QuietHoursRequest>,
}

impl From<ScheduleRequest> for NewScheduledMessage {
    fn from(input: ScheduleRequest) -> NewScheduledMessage {
        NewScheduledMessage {
            body: input.body,
            audience: input.audience.map(|audience| AudienceInput {
                fan_ids: audience.fan_ids,
                tags: audience.tags,
                vip: audience.vip,
                all: audience.all,
            }),
            at: input.at,
            local: input.local.map(|local| LocalInput {
                date: local.date,
                time: local.time,
            }),
            quiet_hours: input.quiet_hours.map(|quiet| QuietInput {
                start: quiet.start,
                end: quiet.end,
            }),
        }
    }
}

/// The created message (`status` `scheduled`, `recipients` its fans).
#[utoipa::path(post, path = "/api/v1/scheduled-messages", tag = "scheduled",
    security(("bearer" = [])), operation_id = "create_scheduled_message",
    request_body = NewScheduleRequest,
    responses((status = 201, description = "scheduled: every recipient and their due time are fixed", body = ScheduledMessageView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 422, description = "`invalid_request` naming the field: a missing or bad \
                  body (or one the restricted words block), an empty audience or one no fan \
                  matches, an unknown fan id, both or neither of `at` and `local`, a time more \
                  than 366 days ahead or a local time already past everywhere, quiet hours that \
                  start where they end", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<ScheduleRequest>,
) -> ApiResult<(StatusCode, axum::Json<ScheduledMessageView>)> {
    let view = state
        .app
        .create_scheduled_message(&session.principal, input.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(post, path = "/api/v1/scheduled-messages/preview", tag = "scheduled",
    security(("bearer" = [])), operation_id = "preview_scheduled_message",
    request_body = NewScheduleRequest,
    responses((status = 200, description = "how many fans would get it, and when, per time zone (nothing is written)", body = SchedulePreview),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 422, description = "`invalid_request`: as for creating one", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<ScheduleRequest>,
) -> ApiResult<axum::Json<SchedulePreview>> {
    Ok(axum::Json(
        state
            .app
            .preview_scheduled_message(&session.principal, input.into())
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListScheduledQuery {
    /// Most messages returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduledMessageList {
    pub scheduled_messages: Vec<ScheduledMessageView>,
}

#[utoipa::path(get, path = "/api/v1/scheduled-messages", tag = "scheduled",
    security(("bearer" = [])), operation_id = "list_scheduled_messages", params(ListScheduledQuery),
    responses((status = 200, description = "newest first, each with its progress", body = ScheduledMessageList),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListScheduledQuery>,
) -> ApiResult<axum::Json<ScheduledMessageList>> {
    let scheduled_messages = state
        .app
        .list_scheduled_messages(&session.principal, query.limit.unwrap_or(50))
        .await?;
    Ok(axum::Json(ScheduledMessageList { scheduled_messages }))
}

#[utoipa::path(get, path = "/api/v1/scheduled-messages/{id}", tag = "scheduled",
    security(("bearer" = [])), operation_id = "get_scheduled_message", params(("id" = String, Path)),
    responses((status = 200, description = "the message and its progress", body = ScheduledMessageView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ScheduledMessageView>> {
    Ok(axum::Json(
        state
            .app
            .get_scheduled_message(&session.principal, &id)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/scheduled-messages/{id}", tag = "scheduled",
    security(("bearer" = [])), operation_id = "cancel_scheduled_message", params(("id" = String, Path)),
    responses((status = 200, description = "cancelled: no pending recipient gets it (again: unchanged)", body = ScheduledMessageView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ScheduledMessageView>> {
    Ok(axum::Json(
        state
            .app
            .cancel_scheduled_message(&session.principal, &id)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Recipients after this fan id (the last of the previous page).
    pub after: Option<String>,
    /// Most recipients returned: default 200; values outside 1–1000 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ScheduledDeliveryList {
    /// By fan id.
    pub deliveries: Vec<ScheduledDeliveryView>,
}

#[utoipa::path(get, path = "/api/v1/scheduled-messages/{id}/deliveries", tag = "scheduled",
    security(("bearer" = [])), operation_id = "list_scheduled_deliveries",
    params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, description = "its recipients by fan id, each with its due time and status", body = ScheduledDeliveryList),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult<axum::Json<ScheduledDeliveryList>> {
    let deliveries = state
        .app
        .list_scheduled_deliveries(
            &session.principal,
            &id,
            query.after.as_deref(),
            query.limit.unwrap_or(200),
        )
        .await?;
    Ok(axum::Json(ScheduledDeliveryList { deliveries }))
}
