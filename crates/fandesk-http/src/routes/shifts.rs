//! Shifts, clock-in and coverage (README › Agent desk).

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::{ClockView, CoverageView, ShiftInput, ShiftView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(clock_in))
        .routes(routes!(clock_out))
        .routes(routes!(update, delete))
        .routes(routes!(coverage))
}

#[derive(Serialize, ToSchema)]
pub struct ShiftList {
    pub shifts: Vec<ShiftView>,
}

/// The documented body of `POST /shifts`: [`ShiftRequest`]'s fields, all but the members
/// required. The handler decodes a `ShiftRequest`, so the service checks the caller's
/// role before it reports a missing field (an agent's empty body is a 403).
#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewShiftRequest {
    #[schema(schema_with = fields::shift_name_required)]
    name: String,
    #[schema(schema_with = words::weekdays_required)]
    weekdays: Vec<String>,
    #[schema(schema_with = fields::local_time_required)]
    start: String,
    #[schema(schema_with = fields::local_time_required)]
    end: String,
    /// Who works the shift (human team members).
    member_ids: Option<Vec<String>>,
}

/// Changes to a shift: the fields given replace the old ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    /// 1–64 characters, unique.
    #[schema(schema_with = fields::shift_name)]
    pub name: Option<String>,
    /// Local days the shift starts on: `mon` … `sun` (or full names).
    #[schema(schema_with = words::weekdays)]
    pub weekdays: Option<Vec<String>>,
    /// Local `HH:MM` in the creator's time zone.
    #[schema(schema_with = fields::local_time)]
    pub start: Option<String>,
    /// Local `HH:MM`; at or before `start` means the next day (night shifts).
    #[schema(schema_with = fields::local_time)]
    pub end: Option<String>,
    /// Replaces who works the shift (human team members).
    pub member_ids: Option<Vec<String>>,
}

impl From<ShiftRequest> for ShiftInput {
    fn from(request: ShiftRequest) -> Self {
        ShiftInput {
            name: request.name,
            weekdays: request.weekdays,
            start: request.start,
            end: request.end,
            member_ids: request.member_ids,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/shifts", tag = "shifts", security(("bearer" = [])),
    operation_id = "list_shifts",
    responses((status = 200, description = "every shift", body = ShiftList),
              (status = 403, description = "`forbidden`: shifts are the team's", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<ShiftList>> {
    Ok(axum::Json(ShiftList {
        shifts: state.app.list_shifts(&session.principal).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/shifts", tag = "shifts", security(("bearer" = [])),
    operation_id = "create_shift", request_body = NewShiftRequest,
    description = "Owner and supervisors.",
    responses((status = 201, description = "created", body = ShiftView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: a shift with this name exists", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a member id that is not a \
                                            human team member", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<ShiftRequest>,
) -> ApiResult<(StatusCode, axum::Json<ShiftView>)> {
    let shift = state
        .app
        .create_shift(&session.principal, input.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(shift)))
}

#[utoipa::path(patch, path = "/api/v1/shifts/{id}", tag = "shifts", security(("bearer" = [])),
    operation_id = "update_shift", params(("id" = String, Path)), request_body = Option<ShiftRequest>,
    responses((status = 200, description = "updated", body = ShiftView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: a shift with this name exists", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a member id that is not a \
                                            human team member", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<ShiftRequest>,
) -> ApiResult<axum::Json<ShiftView>> {
    Ok(axum::Json(
        state
            .app
            .update_shift(&session.principal, &id, input.into())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/shifts/{id}", tag = "shifts", security(("bearer" = [])),
    operation_id = "delete_shift", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_shift(&session.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clock-in and clock-out take an empty object.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {}

#[utoipa::path(post, path = "/api/v1/shifts/clock-in", tag = "shifts", security(("bearer" = [])),
    request_body = Option<ClockRequest>,
    description = "The caller is on shift until clock-out (also outside their scheduled shifts).",
    responses((status = 200, description = "on shift", body = ClockView),
              (status = 403, description = "`forbidden`: human team members clock in", body = ErrorBody)))]
pub async fn clock_in(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(_input): Json<ClockRequest>,
) -> ApiResult<axum::Json<ClockView>> {
    Ok(axum::Json(state.app.clock(&session.principal, true).await?))
}

#[utoipa::path(post, path = "/api/v1/shifts/clock-out", tag = "shifts", security(("bearer" = [])),
    request_body = Option<ClockRequest>,
    description = "Ends the caller's shift early: off shift until their next shift window or clock-in.",
    responses((status = 200, description = "off shift", body = ClockView),
              (status = 403, description = "`forbidden`: human team members clock out", body = ErrorBody)))]
pub async fn clock_out(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(_input): Json<ClockRequest>,
) -> ApiResult<axum::Json<ClockView>> {
    Ok(axum::Json(
        state.app.clock(&session.principal, false).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// The local date (`YYYY-MM-DD`) the seven days start on; default this week's Monday.
    #[param(schema_with = fields::date)]
    pub week: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/coverage", tag = "shifts", security(("bearer" = [])),
    params(CoverageQuery),
    description = "Every hour of the week, in the creator's time zone, that no staffed shift fully covers.",
    responses((status = 200, description = "the uncovered hours", body = CoverageView),
              (status = 403, description = "`forbidden`: coverage is the team's", body = ErrorBody),
              (status = 422, description = "`invalid_request`: `week` is not a date", body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<CoverageQuery>,
) -> ApiResult<axum::Json<CoverageView>> {
    Ok(axum::Json(
        state
            .app
            .coverage(&session.principal, query.week.as_deref())
            .await?,
    ))
}
