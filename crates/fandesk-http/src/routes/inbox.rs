//! The inbox's team endpoints (docs/api.md › Inbox): conversations' last messages and the
//! caller's unread counts, the caller's reading position, and the fan directory.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query, whole};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use fandesk_service::{FanFilter, FanPageView, InboxSummaryView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(summaries))
        .routes(routes!(mark_read))
        .routes(routes!(list_fans))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummariesQuery {
    /// Conversation ids, comma-separated (at most 200); unknown ids are left out.
    pub ids: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SummaryList {
    /// In the order the ids were named.
    pub summaries: Vec<InboxSummaryView>,
}

#[utoipa::path(get, path = "/api/v1/inbox/summaries", tag = "desk", security(("bearer" = [])),
    operation_id = "inbox_summaries", params(SummariesQuery),
    description = "Each named conversation's last message (public or internal, as the team \
                   sees it) and the caller's unread count. Team only.",
    responses((status = 200, description = "one summary per known conversation", body = SummaryList),
              (status = 403, description = "`forbidden`: the inbox is for the team", body = ErrorBody)))]
pub async fn summaries(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<SummariesQuery>,
) -> ApiResult<axum::Json<SummaryList>> {
    let ids: Vec<String> = query
        .ids
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    let summaries = state.app.inbox_summaries(&session.principal, &ids).await?;
    Ok(axum::Json(SummaryList { summaries }))
}

/// `POST …/read` takes an optional position.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Read up to this timeline `seq`; default the conversation's last entry. A position
    /// past the last entry is taken as the last entry; the position never moves back.
    /// `null` is the same as leaving it out.
    #[schema(schema_with = fields::optional_uint64)]
    #[serde(default, deserialize_with = "whole::optional")]
    pub seq: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "desk", security(("bearer" = [])),
    operation_id = "mark_read", params(("id" = String, Path)), request_body = Option<MarkReadRequest>,
    description = "Moves the caller's reading position forward. Team only.",
    responses((status = 200, description = "the conversation's summary for the caller", body = InboxSummaryView),
              (status = 403, description = "`forbidden`: the inbox is for the team", body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<MarkReadRequest>,
) -> ApiResult<axum::Json<InboxSummaryView>> {
    Ok(axum::Json(
        state
            .app
            .mark_read(&session.principal, &id, input.seq)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListFansQuery {
    /// Part of the fan's display name (case-insensitive).
    pub q: Option<String>,
    /// A profile tag, e.g. `vip` (matched whole).
    pub tag: Option<String>,
    /// Most fans returned: default 50; values outside 1–100 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
    /// Fans to skip (at most 100000): the `next_offset` of the previous page.
    #[param(schema_with = fields::fan_offset)]
    pub offset: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/fans", tag = "desk", security(("bearer" = [])),
    operation_id = "list_fans", params(ListFansQuery),
    description = "The fan directory: fans most recently seen first, with their profile and \
                   how many conversations they have had. Team only.",
    responses((status = 200, description = "a page of fans", body = FanPageView),
              (status = 403, description = "`forbidden`: fan profiles are for the team", body = ErrorBody)))]
pub async fn list_fans(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<ListFansQuery>,
) -> ApiResult<axum::Json<FanPageView>> {
    let filter = FanFilter {
        name: query.q,
        tag: query.tag,
        limit: query.limit.unwrap_or(50),
        offset: query.offset.unwrap_or(0),
    };
    Ok(axum::Json(
        state.app.list_fans(&session.principal, filter).await?,
    ))
}
