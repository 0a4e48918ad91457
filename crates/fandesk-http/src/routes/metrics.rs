//! Metrics and reports (docs/api.md › Metrics and reports: `GET /api/v1/metrics/summary`,
//! `GET /api/v1/reports/weekly`; README › Metrics). Prometheus `/metrics` is in
//! `system.rs`.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Query};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fandesk_service::report::{to_csv, to_html, to_json};
use fandesk_service::{ServiceError, SummaryGrouping, SummaryView};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(summary))
        .routes(routes!(weekly))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Start of the period (inclusive).
    #[param(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// End of the period (exclusive); at most 366 days after `from`.
    #[param(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// `agent`, `shift`, `day` or `none` (default).
    #[param(schema_with = words::summary_grouping)]
    pub group_by: Option<String>,
    /// IANA time zone of `day` groups; default the creator's.
    #[param(schema_with = words::time_zone)]
    pub tz: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/metrics/summary", tag = "metrics", security(("bearer" = [])),
    params(SummaryQuery),
    description = "First-response time (mean, p50, p90 by nearest rank, count), first-touch time, resolution \
                   rate, reply rate, mean conversation length, SLA breaches and volume for `[from, to)`, per \
                   agent, shift, local day or overall (docs/metrics.md). Openings belong to the \
                   instant their clock started, team messages to when they were sent, resolutions to when they \
                   happened. Supervisors, escalation leads and the owner.",
    responses((status = 200, description = "one group per agent, shift, day, or one in all",
               body = SummaryView),
              (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
               body = ErrorBody),
              (status = 422, description = "`invalid_request`: `to` not after `from`, a period over 366 \
                                            days, or `group_by=shift` with no shifts defined",
               body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<SummaryQuery>,
) -> ApiResult<axum::Json<SummaryView>> {
    let grouping = match query.group_by.as_deref() {
        None => SummaryGrouping::None,
        Some(text) => SummaryGrouping::parse(text).ok_or_else(|| {
            ServiceError::invalid("group_by", "must be agent, shift, day or none")
        })?,
    };
    let view = state
        .app
        .metrics_summary(
            &session.principal,
            query.from,
            query.to,
            grouping,
            query.tz.as_deref(),
        )
        .await?;
    Ok(axum::Json(view))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WeeklyQuery {
    /// ISO week `YYYY-Www`, e.g. `2026-W47`; default the last complete week.
    #[param(schema_with = fields::iso_week)]
    pub week: Option<String>,
    /// `json` (default), `csv` or `html`.
    #[param(schema_with = words::report_format)]
    pub format: Option<String>,
    /// IANA time zone the week runs in; default the creator's.
    #[param(schema_with = words::time_zone)]
    pub tz: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/weekly", tag = "metrics", security(("bearer" = [])),
    params(WeeklyQuery),
    description = "The weekly report: per agent and per shift tables with week-over-week deltas; as `html` \
                   with inline SVG charts (FRT distribution, volume by hour, resolution and reply-rate trends).",
    responses(
        (status = 200, description = "The report as JSON, CSV or HTML (by `format`)", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/html"))),
        (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
         body = ErrorBody),
        (status = 422, description = "`invalid_request`: week 53 of a year that has 52",
         body = ErrorBody)))]
pub async fn weekly(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<WeeklyQuery>,
) -> ApiResult<Response> {
    let format = query.format.as_deref().unwrap_or("json");
    let content_type = match format {
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => {
            return Err(ApiError::invalid(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("format"),
                "format: must be json, csv or html",
            ));
        }
    };
    let report = state
        .app
        .weekly_report(
            &session.principal,
            query.week.as_deref(),
            query.tz.as_deref(),
        )
        .await?;
    let body = match format {
        "csv" => to_csv(&report),
        "html" => to_html(&report),
        _ => to_json(&report),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
