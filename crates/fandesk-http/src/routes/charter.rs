//! The charter (docs/api.md › Charter; README › Charter): the document in force, saving a
//! new version on top of the one read, the history, diffs between versions, and review
//! sign-offs. Team only: a fan gets the same 404 as for an unknown route on every one of
//! them, before anything they sent is judged.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, LaterJson, decode_query};
use crate::routes::ErrorBody;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use fandesk_service::{
    CharterDiffView, CharterReviewView, CharterVersionDocument, CharterVersionView, CharterView,
    Principal,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_charter, save_charter))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(diff))
        .routes(routes!(list_reviews, review))
}

/// Fans learn nothing of the charter, not even that its routes exist.
fn hidden_from_fans(principal: &Principal) -> ApiResult<()> {
    if principal.is_fan() {
        Err(ApiError::not_found("route"))
    } else {
        Ok(())
    }
}

fn toml_field() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(fandesk_domain::charter::MAX_CHARTER_BYTES))
        .pattern(Some("^[^\\u0000]*$"))
        .description(Some(format!(
            "The whole TOML document, at most {} bytes.",
            fandesk_domain::charter::MAX_CHARTER_BYTES
        )))
        .build()
}

fn version_number() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1_i64))
        .maximum(Some(i64::MAX))
        .build()
}

fn review_note() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(2_000))
        .pattern(Some("^[^\\u0000]*$"))
        .description(Some(
            "What was looked at or agreed; at most 2,000 characters once trimmed.".to_owned(),
        ))
        .build()
}

/// A new version of the charter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCharterRequest {
    #[schema(schema_with = toml_field)]
    pub toml: String,
    /// The `version` the document was read from; the save is refused (409) when another
    /// version was saved since.
    #[schema(schema_with = version_number)]
    pub base_version: i64,
}

#[utoipa::path(get, path = "/api/v1/charter", tag = "charter", security(("bearer" = [])),
    description = "The charter in force, with when its review is due and every key's value \
                   (`settings`, defaults filled in). Team only.",
    responses((status = 200, description = "the version in force", body = CharterView),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody)))]
pub async fn get_charter(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<CharterView>> {
    hidden_from_fans(&session.principal)?;
    Ok(axum::Json(state.app.get_charter(&session.principal).await?))
}

#[utoipa::path(put, path = "/api/v1/charter", tag = "charter", security(("bearer" = [])),
    request_body = SaveCharterRequest,
    description = "Owner. Saves the document as the next version and applies it at once, \
                   on every node. The document is checked whole first: nothing is applied \
                   when any key is unknown or any value is bad.",
    responses((status = 200, description = "the new version, in force", body = CharterView),
              (status = 403, description = "`forbidden`: only the owner edits the charter",
               body = ErrorBody),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody),
              (status = 409, description = "`conflict`: `base_version` is not the current \
                                            version (`details.current_version`)",
               body = ErrorBody),
              (status = 422, description = "`invalid_request`: invalid TOML, an unknown key or \
                                            a bad value; `details.field` is the dotted key \
                                            (`channels.limit`, `keywords.rules[2].name`), \
                                            `details.line` and `details.column` where it is, \
                                            `details.errors` every problem",
               body = ErrorBody)))]
pub async fn save_charter(
    State(state): State<AppState>,
    Auth(session): Auth,
    body: LaterJson,
) -> ApiResult<axum::Json<CharterView>> {
    hidden_from_fans(&session.principal)?;
    let request: SaveCharterRequest = body.decode()?;
    let saved = state
        .app
        .save_charter(&session.principal, &request.toml, request.base_version)
        .await?;
    Ok(axum::Json(saved))
}

#[derive(Serialize, ToSchema)]
pub struct CharterVersionList {
    pub versions: Vec<CharterVersionView>,
}

#[utoipa::path(get, path = "/api/v1/charter/versions", tag = "charter", security(("bearer" = [])),
    description = "Every version, newest first: who saved it and when. Team only.",
    responses((status = 200, description = "the history", body = CharterVersionList),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<CharterVersionList>> {
    hidden_from_fans(&session.principal)?;
    let versions = state.app.list_charter_versions(&session.principal).await?;
    Ok(axum::Json(CharterVersionList { versions }))
}

#[utoipa::path(get, path = "/api/v1/charter/versions/{version}", tag = "charter",
    security(("bearer" = [])), params(("version" = i64, Path, minimum = 1)),
    description = "One version's document. Team only.",
    responses((status = 200, description = "the version", body = CharterVersionDocument)))]
pub async fn get_version(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(version): Path<String>,
) -> ApiResult<axum::Json<CharterVersionDocument>> {
    hidden_from_fans(&session.principal)?;
    let version: i64 = version
        .parse()
        .map_err(|_| ApiError::not_found("charter version"))?;
    let document = state
        .app
        .get_charter_version(&session.principal, version)
        .await?;
    Ok(axum::Json(document))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    #[param(minimum = 1)]
    pub from: i64,
    /// The newer version.
    #[param(minimum = 1)]
    pub to: i64,
}

#[utoipa::path(get, path = "/api/v1/charter/diff", tag = "charter", security(("bearer" = [])),
    params(DiffQuery),
    description = "What changed from version `from` to version `to`: every line tagged, and a \
                   unified diff. Team only.",
    responses((status = 200, description = "the comparison", body = CharterDiffView),
              (status = 404, description = "`not_found`: no such version; fans, for whom the \
                                            route does not exist",
               body = ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    Auth(session): Auth,
    RawQuery(query): RawQuery,
) -> ApiResult<axum::Json<CharterDiffView>> {
    hidden_from_fans(&session.principal)?;
    let query: DiffQuery = decode_query(query.as_deref().unwrap_or(""))?;
    let diff = state
        .app
        .diff_charter(&session.principal, query.from, query.to)
        .await?;
    Ok(axum::Json(diff))
}

/// A review sign-off.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[schema(schema_with = review_note)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CharterReviewList {
    pub reviews: Vec<CharterReviewView>,
}

#[utoipa::path(get, path = "/api/v1/charter/reviews", tag = "charter", security(("bearer" = [])),
    description = "Review sign-offs, newest first (at most 100). Team only.",
    responses((status = 200, description = "the reviews", body = CharterReviewList),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<CharterReviewList>> {
    hidden_from_fans(&session.principal)?;
    let reviews = state.app.list_charter_reviews(&session.principal).await?;
    Ok(axum::Json(CharterReviewList { reviews }))
}

#[utoipa::path(post, path = "/api/v1/charter/reviews", tag = "charter", security(("bearer" = [])),
    operation_id = "review_charter", request_body = Option<ReviewRequest>,
    description = "Owner and supervisors: records that the charter in force was reviewed, \
                   which restarts the review clock (`review_due_at` moves to \
                   `review.every_days` from now).",
    responses((status = 201, description = "recorded", body = CharterReviewView),
              (status = 403, description = "`forbidden`: the owner and supervisors review",
               body = ErrorBody),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Auth(session): Auth,
    body: LaterJson,
) -> ApiResult<(StatusCode, axum::Json<CharterReviewView>)> {
    hidden_from_fans(&session.principal)?;
    let request: ReviewRequest = body.decode()?;
    let review = state
        .app
        .review_charter(&session.principal, request.note.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(review)))
}
