//! An event's Q&A (README › Events): fans ask and upvote, the team answers, pins and
//! hides; everyone lists what they may see (fans never a hidden question). Live on the
//! WebSocket topic `event:{id}`.

use crate::AppState;
use crate::client::ClientAddress;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::question::{QuestionAction, QuestionOrder};
use fandesk_service::{QuestionChange, QuestionView, ServiceError};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(ask, list))
        .routes(routes!(upvote))
        .routes(routes!(answer))
        .routes(routes!(pin))
        .routes(routes!(hide))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskQuestionRequest {
    /// The client's idempotency key: a retry with the same key returns the original.
    #[schema(schema_with = fields::client_msg_id)]
    pub client_msg_id: String,
    #[schema(schema_with = fields::question_body)]
    pub body: String,
}

fn answered(change: QuestionChange, created: StatusCode) -> (StatusCode, axum::Json<QuestionView>) {
    let status = if change.changed {
        created
    } else {
        StatusCode::OK
    };
    (status, axum::Json(change.question))
}

#[utoipa::path(post, path = "/api/v1/events/{id}/questions", tag = "events", security(("bearer" = [])),
    operation_id = "ask_question", params(("id" = String, Path)), request_body = AskQuestionRequest,
    responses((status = 201, description = "asked; `upvotes` 0, `state` `open`", body = QuestionView),
              (status = 200, description = "repeated client_msg_id: the original", body = QuestionView),
              (status = 403, description = "`forbidden`: not a fan, or timed out in the event's room", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the event takes no questions, or its room is not open", body = ErrorBody),
              (status = 429, description = "`rate_limited`: the room's slow mode, or a fan sent too many \
                                            messages this minute", body = ErrorBody)))]
pub async fn ask(
    State(state): State<AppState>,
    Auth(session): Auth,
    ClientAddress(client): ClientAddress,
    Path(id): Path<String>,
    Json(input): Json<AskQuestionRequest>,
) -> ApiResult<(StatusCode, axum::Json<QuestionView>)> {
    state.limit_fan_message(&session.principal, client)?;
    let change = state
        .app
        .ask_question(&session.principal, &id, &input.client_msg_id, &input.body)
        .await?;
    Ok(answered(change, StatusCode::CREATED))
}

fn order_schema() -> Object {
    fields::string(false)
        .enum_values(Some(["top", "new"]))
        .description(Some(
            "`top` (default): most upvotes first, then the oldest; `new`: newest first.",
        ))
        .build()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuestionsQuery {
    #[param(schema_with = order_schema)]
    pub order: Option<String>,
    /// Most questions returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionList {
    pub questions: Vec<QuestionView>,
}

#[utoipa::path(get, path = "/api/v1/events/{id}/questions", tag = "events", security(("bearer" = [])),
    operation_id = "list_questions", params(("id" = String, Path), ListQuestionsQuery),
    responses((status = 200, description = "fans see `open`, `answered` and `pinned` questions, with `upvoted`; the team also `hidden` ones, with `fan_id`", body = QuestionList),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<ListQuestionsQuery>,
) -> ApiResult<axum::Json<QuestionList>> {
    let order = match query.order.as_deref() {
        None => QuestionOrder::Top,
        Some(text) => QuestionOrder::parse(text)
            .ok_or_else(|| ServiceError::invalid("order", "must be `top` or `new`"))?,
    };
    let questions = state
        .app
        .list_questions(&session.principal, &id, order, query.limit.unwrap_or(100))
        .await?;
    Ok(axum::Json(QuestionList { questions }))
}

#[utoipa::path(post, path = "/api/v1/events/{id}/questions/{question_id}/upvote", tag = "events",
    security(("bearer" = [])), operation_id = "upvote_question",
    params(("id" = String, Path), ("question_id" = String, Path)),
    responses((status = 201, description = "counted", body = QuestionView),
              (status = 200, description = "this fan had upvoted it already: nothing changed", body = QuestionView),
              (status = 403, description = "`forbidden`: not a fan", body = ErrorBody),
              (status = 404, description = "`not_found` (also a hidden question)", body = ErrorBody)))]
pub async fn upvote(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((id, question_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, axum::Json<QuestionView>)> {
    let change = state
        .app
        .upvote_question(&session.principal, &id, &question_id)
        .await?;
    Ok(answered(change, StatusCode::CREATED))
}

async fn act(
    state: AppState,
    session: fandesk_service::Session,
    (id, question_id): (String, String),
    action: QuestionAction,
) -> ApiResult<axum::Json<QuestionView>> {
    let change = state
        .app
        .act_on_question(&session.principal, &id, &question_id, action)
        .await?;
    Ok(axum::Json(change.question))
}

#[utoipa::path(post, path = "/api/v1/events/{id}/questions/{question_id}/answer", tag = "events",
    security(("bearer" = [])), operation_id = "answer_question",
    params(("id" = String, Path), ("question_id" = String, Path)),
    responses((status = 200, description = "`answered` (unchanged if it was)", body = QuestionView),
              (status = 403, description = "`forbidden`: fans and bots", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the question is hidden", body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(ids): Path<(String, String)>,
) -> ApiResult<axum::Json<QuestionView>> {
    act(state, session, ids, QuestionAction::Answer).await
}

#[utoipa::path(post, path = "/api/v1/events/{id}/questions/{question_id}/pin", tag = "events",
    security(("bearer" = [])), operation_id = "pin_question",
    params(("id" = String, Path), ("question_id" = String, Path)),
    responses((status = 200, description = "`pinned` (unchanged if it was)", body = QuestionView),
              (status = 403, description = "`forbidden`: fans and bots", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conflict`: the question is hidden", body = ErrorBody)))]
pub async fn pin(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(ids): Path<(String, String)>,
) -> ApiResult<axum::Json<QuestionView>> {
    act(state, session, ids, QuestionAction::Pin).await
}

#[utoipa::path(post, path = "/api/v1/events/{id}/questions/{question_id}/hide", tag = "events",
    security(("bearer" = [])), operation_id = "hide_question",
    params(("id" = String, Path), ("question_id" = String, Path)),
    responses((status = 200, description = "`hidden`: fans never see it again (live, they get `question.removed`)", body = QuestionView),
              (status = 403, description = "`forbidden`: fans and bots", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn hide(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(ids): Path<(String, String)>,
) -> ApiResult<axum::Json<QuestionView>> {
    act(state, session, ids, QuestionAction::Hide).await
}
