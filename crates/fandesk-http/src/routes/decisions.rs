//! The decision log (README › Team channels): decisions and actions logged from tagged
//! channel messages, filtered; an entry's status set open or done; the log exported as
//! Markdown or CSV. Fans get 404 from every route here.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fandesk_domain::channel::{ChannelId, DecisionKind, DecisionStatus};
use fandesk_service::{DecisionExportFormat, DecisionFilter, DecisionView, ServiceError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list))
        .routes(routes!(export))
        .routes(routes!(update))
}

fn enum_schema(names: &[&str], description: &str) -> Object {
    fields::string(true)
        .enum_values(Some(names.to_vec()))
        .description(Some(description.to_owned()))
        .build()
}

fn kind_schema() -> Object {
    enum_schema(&["decision", "action"], "Only decisions, or only actions.")
}

fn status_schema() -> Object {
    enum_schema(&["open", "done"], "Only open, or only done entries.")
}

fn format_schema() -> Object {
    fields::string(true)
        .enum_values(Some(["md", "csv"]))
        .description(Some(
            "`md`: a Markdown table (`text/markdown`); `csv`: RFC 4180 CSV (`text/csv`).",
        ))
        .build()
}

/// The filters every read of the log takes.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    #[param(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// Only this channel's entries.
    #[param(schema_with = fields::client_msg_id)]
    pub channel_id: Option<String>,
    /// Only this member's actions (a member id).
    #[param(schema_with = fields::client_msg_id)]
    pub owner: Option<String>,
    /// Only entries logged on this day (UTC).
    #[param(schema_with = fields::date)]
    pub date: Option<String>,
    /// Only entries logged at or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Only entries logged before this time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    /// Most entries a list returns: default 200; values outside 1–500 are clamped (an
    /// export ignores it and takes up to 10,000).
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
    /// Exports: `md` (default) or `csv` (a list ignores it).
    #[param(schema_with = format_schema)]
    pub format: Option<String>,
}

impl DecisionQuery {
    fn filter(&self) -> Result<DecisionFilter, ServiceError> {
        let parsed =
            |field: &'static str, text: &Option<String>, parse: fn(&str) -> bool| match text {
                Some(text) if !parse(text) => Err(ServiceError::invalid(field, "unknown value")),
                _ => Ok(()),
            };
        parsed("kind", &self.kind, |text| {
            DecisionKind::parse(text).is_some()
        })?;
        parsed("status", &self.status, |text| {
            DecisionStatus::parse(text).is_some()
        })?;
        // Checked on lists too (which ignore it), so a wrong value is never silently taken.
        parsed("format", &self.format, |text| matches!(text, "md" | "csv"))?;
        for (field, id) in [("channel_id", &self.channel_id), ("owner", &self.owner)] {
            if id.as_deref() == Some("") {
                return Err(ServiceError::invalid(field, "must not be empty"));
            }
        }
        let (mut from, mut to) = (self.from, self.to);
        if let Some(day) = &self.date {
            let date: Date = day
                .parse()
                .map_err(|_| ServiceError::invalid("date", "must be YYYY-MM-DD"))?;
            let out_of_range = |_| ServiceError::invalid("date", "is out of range");
            let start = date
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map_err(out_of_range)?
                .timestamp();
            let end = date
                .tomorrow()
                .and_then(|next| next.to_zoned_datetime(jiff::tz::TimeZone::UTC))
                .map_err(out_of_range)?
                .timestamp();
            from = Some(from.map_or(start, |at| at.max(start)));
            to = Some(to.map_or(end, |at| at.min(end)));
        }
        Ok(DecisionFilter {
            kind: self.kind.as_deref().and_then(DecisionKind::parse),
            status: self.status.as_deref().and_then(DecisionStatus::parse),
            channel_id: self.channel_id.as_deref().map(ChannelId::from),
            owner_id: self.owner.clone(),
            from,
            to,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct DecisionList {
    pub items: Vec<DecisionView>,
}

#[utoipa::path(get, path = "/api/v1/decisions", tag = "channels", security(("bearer" = [])),
    operation_id = "list_decisions", params(DecisionQuery),
    responses((status = 200, description = "newest first, from the channels the caller belongs to", body = DecisionList),
              (status = 404, description = "`not_found`: fans", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<DecisionQuery>,
) -> ApiResult<axum::Json<DecisionList>> {
    let filter = query.filter()?;
    let items = state
        .app
        .list_decisions(&session.principal, &filter, query.limit.unwrap_or(200))
        .await?;
    Ok(axum::Json(DecisionList { items }))
}

#[utoipa::path(get, path = "/api/v1/decisions/export", tag = "channels", security(("bearer" = [])),
    operation_id = "export_decisions", params(DecisionQuery),
    responses((status = 200, description = "the filtered log, oldest first",
                content((String = "text/markdown"), (String = "text/csv"))),
              (status = 404, description = "`not_found`: fans", body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<DecisionQuery>,
) -> ApiResult<Response> {
    let format = match query.format.as_deref() {
        None => DecisionExportFormat::Markdown,
        Some(text) => DecisionExportFormat::parse(text)
            .ok_or_else(|| ServiceError::invalid("format", "must be `md` or `csv`"))?,
    };
    let filter = query.filter()?;
    let text = state
        .app
        .export_decisions(&session.principal, &filter, format)
        .await?;
    let name = match format {
        DecisionExportFormat::Markdown => "attachment; filename=\"decisions.md\"",
        DecisionExportFormat::Csv => "attachment; filename=\"decisions.csv\"",
    };
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::CONTENT_DISPOSITION, name),
        ],
        text,
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDecisionRequest {
    #[schema(schema_with = status_required)]
    pub status: String,
}

fn status_required() -> Object {
    fields::string(false)
        .enum_values(Some(["open", "done"]))
        .build()
}

#[utoipa::path(patch, path = "/api/v1/decisions/{id}", tag = "channels", security(("bearer" = [])),
    operation_id = "update_decision", params(("id" = String, Path)), request_body = UpdateDecisionRequest,
    responses((status = 200, description = "the entry with its new status", body = DecisionView),
              (status = 404, description = "`not_found`: no such entry in a channel the caller belongs to", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<UpdateDecisionRequest>,
) -> ApiResult<axum::Json<DecisionView>> {
    let status = DecisionStatus::parse(&input.status)
        .ok_or_else(|| ServiceError::invalid("status", "must be `open` or `done`"))?;
    let decision = state
        .app
        .set_decision_status(&session.principal, &id, status)
        .await?;
    Ok(axum::Json(decision))
}
