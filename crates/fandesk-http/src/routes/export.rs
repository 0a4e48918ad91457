//! Export and import of the workspace's fans and conversations as JSON lines (docs/api.md
//! › Export and import; docs/export.md): the owner downloads one streamed file and uploads
//! one. A fan gets the same 404 as for an unknown route; other team members get 403.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::routes::ErrorBody;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fandesk_service::{ExportCursor, Principal};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest import body: bigger files go through `fandesk import`, which streams the file
/// and has no request time limit.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(export_workspace))
        .routes(routes!(import_workspace))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

fn hidden_from_fans(principal: &Principal) -> ApiResult<()> {
    if principal.is_fan() {
        Err(ApiError::not_found("route"))
    } else {
        Ok(())
    }
}

#[utoipa::path(get, path = "/api/v1/export", tag = "export", security(("bearer" = [])),
    description = "The workspace's members (without passwords), fans, conversations, messages \
                   (internal ones included) and metric rows as JSON lines, streamed from one \
                   snapshot: a header line with the counts, then one object per row \
                   (docs/export.md). Owner only.",
    responses(
        (status = 200, description = "The export, one JSON object per line",
         content_type = "application/x-ndjson", body = String),
        (status = 403, description = "`forbidden`: the owner only", body = ErrorBody),
        (status = 404, description = "`not_found`: fans do not see this route", body = ErrorBody)))]
pub async fn export_workspace(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Response> {
    hidden_from_fans(&session.principal)?;
    let cursor = state.app.export_workspace(&session.principal).await?;
    let stream = futures_util::stream::unfold(Some(cursor), next_chunk);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"fandesk-export.jsonl\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The next lines of the export; a read error ends the body early (the file is then
/// shorter than its header's counts say), and is logged.
async fn next_chunk(
    cursor: Option<ExportCursor>,
) -> Option<(Result<Bytes, std::io::Error>, Option<ExportCursor>)> {
    let mut cursor = cursor?;
    match cursor.next_chunk().await {
        Ok(Some((chunk, _))) => Some((Ok(Bytes::from(chunk)), Some(cursor))),
        Ok(None) => {
            if let Err(error) = cursor.finish().await {
                tracing::warn!(%error, "export: closing the read transaction failed");
            }
            None
        }
        Err(error) => {
            tracing::error!(%error, "export failed part-way");
            Some((Err(std::io::Error::other(error.to_string())), None))
        }
    }
}

/// What an import inserted and skipped.
#[derive(Serialize, ToSchema)]
pub struct ImportCounts {
    /// Fans inserted.
    pub fans: u64,
    /// Conversations inserted.
    pub conversations: u64,
    /// Messages inserted.
    pub messages: u64,
    /// Rows whose id was already there (members matched by email included).
    pub skipped: u64,
    /// Members created (without a usable password).
    pub members: u64,
    /// Metric rows inserted.
    pub metric_rows: u64,
    /// Team channels, channel messages and decision-log entries inserted.
    pub channel_rows: u64,
    /// Conversions inserted.
    pub conversions: u64,
}

#[utoipa::path(post, path = "/api/v1/import", tag = "export", security(("bearer" = [])),
    request_body(content((String = "application/x-ndjson"), (String = "text/plain")),
        description = "A file written by `GET /api/v1/export` or `fandesk export`, at most 16 MiB \
                       (the content type is not checked)."),
    description = "Imports a JSON-lines export. Every line is checked before any is written; \
                   rows whose id is already there are skipped, so importing twice changes \
                   nothing; members are matched by id, then by email (docs/export.md). Owner only.",
    responses(
        (status = 200, description = "What was inserted and skipped", body = ImportCounts),
        (status = 403, description = "`forbidden`: the owner only", body = ErrorBody),
        (status = 404, description = "`not_found`: fans do not see this route", body = ErrorBody),
        (status = 413, description = "`invalid_request`: larger than 16 MiB", body = ErrorBody),
        (status = 422, description = "`invalid_request`: a line that is not valid, named by its number \
                                      (`details.field` = `body`); nothing of it was written",
         body = ErrorBody)))]
pub async fn import_workspace(
    State(state): State<AppState>,
    Auth(session): Auth,
    request: Request,
) -> ApiResult<Response> {
    hidden_from_fans(&session.principal)?;
    if !session.principal.may(fandesk_domain::Capability::MoveData) {
        // Refused before the body is read.
        state.app.import_workspace(&session.principal, "").await?;
    }
    let bytes = axum::body::to_bytes(request.into_body(), MAX_IMPORT_BYTES)
        .await
        .map_err(|_| {
            ApiError::invalid(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("body"),
                format!("body: larger than {MAX_IMPORT_BYTES} bytes, or unreadable"),
            )
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|error| {
        ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("body"),
            format!("body: not UTF-8 text ({error})"),
        )
    })?;
    let summary = state.app.import_workspace(&session.principal, text).await?;
    let counts = ImportCounts {
        fans: summary.fans,
        conversations: summary.conversations,
        messages: summary.messages,
        skipped: summary.skipped,
        members: summary.members,
        metric_rows: summary.metric_rows,
        channel_rows: summary.channel_rows,
        conversions: summary.conversions,
    };
    Ok(axum::Json(counts).into_response())
}
