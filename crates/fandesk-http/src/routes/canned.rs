//! Canned responses (docs/api.md › Canned responses; README › Agent desk): the library,
//! rendering for a conversation, and library health.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::{CannedHealthView, CannedInput, CannedView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(health))
        .routes(routes!(update, delete))
        .routes(routes!(render))
}

/// The documented body of `POST /canned-responses`: [`CannedRequest`]'s fields, all
/// required. The handler decodes a `CannedRequest`, so the service checks the caller's
/// role before it reports a missing field (an agent's empty body is a 403).
#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewCannedRequest {
    /// `[a-z0-9_-]{1,32}`, typed after `/` in the console; unique.
    #[schema(schema_with = fields::shortcut_required)]
    shortcut: String,
    #[schema(schema_with = fields::canned_title_required)]
    title: String,
    /// The template: `{{ fan.name }}`, `{{ fan.first_name }}`, `{{ agent.name }}`,
    /// `{{ creator.name }}`, `{{ fan.attributes.KEY }}`, with defaults as
    /// `{{ fan.first_name | default: "there" }}`.
    #[schema(schema_with = fields::template_required)]
    body: String,
}

/// Changes to a canned response: the fields given replace the old ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedRequest {
    /// `[a-z0-9_-]{1,32}`, typed after `/` in the console; unique.
    #[schema(schema_with = fields::shortcut)]
    pub shortcut: Option<String>,
    /// 1–100 characters.
    #[schema(schema_with = fields::canned_title)]
    pub title: Option<String>,
    /// The template (see creation).
    #[schema(schema_with = fields::template)]
    pub body: Option<String>,
}

impl From<CannedRequest> for CannedInput {
    fn from(request: CannedRequest) -> Self {
        CannedInput {
            shortcut: request.shortcut,
            title: request.title,
            body: request.body,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CannedList {
    pub canned_responses: Vec<CannedView>,
}

#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "canned", security(("bearer" = [])),
    operation_id = "create_canned_response", request_body = NewCannedRequest,
    description = "Owner and supervisors. The body is checked (syntax, known variables) before it \
                   is stored.",
    responses((status = 201, description = "created", body = CannedView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: the shortcut is taken", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a body that is not a valid \
                                            template", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CannedRequest>,
) -> ApiResult<(StatusCode, axum::Json<CannedView>)> {
    let canned = state
        .app
        .create_canned(&session.principal, input.into())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(canned)))
}

#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "canned", security(("bearer" = [])),
    operation_id = "list_canned_responses",
    responses((status = 200, description = "the library", body = CannedList),
              (status = 403, description = "`forbidden`: canned responses are the team's", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<CannedList>> {
    Ok(axum::Json(CannedList {
        canned_responses: state.app.list_canned(&session.principal).await?,
    }))
}

#[utoipa::path(patch, path = "/api/v1/canned-responses/{id}", tag = "canned", security(("bearer" = [])),
    operation_id = "update_canned_response", params(("id" = String, Path)),
    request_body = Option<CannedRequest>,
    responses((status = 200, description = "updated", body = CannedView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody),
              (status = 409, description = "`conflict`: the shortcut is taken", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a body that is not a valid \
                                            template", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<CannedRequest>,
) -> ApiResult<axum::Json<CannedView>> {
    Ok(axum::Json(
        state
            .app
            .update_canned(&session.principal, &id, input.into())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", tag = "canned", security(("bearer" = [])),
    operation_id = "delete_canned_response", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_canned(&session.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    pub conversation_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rendered {
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/canned-responses/{id}/render", tag = "canned", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = RenderRequest,
    description = "Renders the template for the conversation's fan, signed by the caller. A variable \
                   with no value and no default is refused with 422 `template_variable_missing`.",
    responses((status = 200, description = "the text to send", body = Rendered),
              (status = 403, description = "`forbidden`: canned responses are the team's", body = ErrorBody),
              (status = 404, description = "`not_found`: no such canned response or conversation",
               body = ErrorBody),
              (status = 422, description = "`template_variable_missing`", body = ErrorBody)))]
pub async fn render(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<RenderRequest>,
) -> ApiResult<axum::Json<Rendered>> {
    let body = state
        .app
        .render_canned(&session.principal, &id, &input.conversation_id)
        .await?;
    Ok(axum::Json(Rendered { body }))
}

#[utoipa::path(get, path = "/api/v1/canned-responses/health", tag = "canned", security(("bearer" = [])),
    description = "Usage counts, stale templates (not edited in 90 days), templates over-used by an \
                   agent, and a warning outside the recommended 10–15 templates.",
    responses((status = 200, description = "the library's health", body = CannedHealthView),
              (status = 403, description = "`forbidden`: the owner and supervisors", body = ErrorBody)))]
pub async fn health(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<CannedHealthView>> {
    Ok(axum::Json(
        state.app.canned_health(&session.principal).await?,
    ))
}
