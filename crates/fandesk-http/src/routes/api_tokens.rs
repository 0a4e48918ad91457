//! Integration API tokens (docs/api.md › API tokens): the owner creates one (its secret in
//! that answer only), lists them without secrets, and revokes one.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::integration::api_token::TOKEN_ROLES;
use fandesk_service::{ApiTokenView, CreatedApiToken, NewApiToken};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

fn role_schema(nullable: bool) -> Object {
    fields::string(nullable)
        .enum_values(Some(TOKEN_ROLES.iter().map(|role| role.as_str())))
        .description(Some(
            "The role the token acts as (never `owner`): it holds that role's permissions.",
        ))
        .build()
}
fn role_required() -> Object {
    role_schema(false)
}
fn role_optional() -> Object {
    role_schema(true)
}

/// The documented body of `POST /api-tokens`: [`ApiTokenRequest`] with `name` and `role`
/// required. The handler decodes an `ApiTokenRequest`, so the service checks the caller's
/// role before it reports a missing field (a supervisor's empty body is a 403).
#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewApiTokenRequest {
    #[schema(schema_with = fields::person_name)]
    name: String,
    #[schema(schema_with = role_required)]
    role: String,
    /// When the token stops working (RFC 3339, in the future); absent or `null`: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
}

/// An integration API token to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenRequest {
    #[schema(schema_with = fields::optional_person_name)]
    pub name: Option<String>,
    #[schema(schema_with = role_optional)]
    pub role: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiTokenList {
    pub tokens: Vec<ApiTokenView>,
}

#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])),
    operation_id = "create_api_token", request_body = NewApiTokenRequest,
    description = "Owner. Creates a long-lived bearer token for an outside system: \
        `Authorization: Bearer <token>` then acts with `role`'s permissions on behalf of the \
        caller, under the token's name. The secret is in this answer only; the server keeps \
        its SHA-256. At most 50 tokens may be live at once (409).",
    responses((status = 201, description = "created: `token` is the secret, shown once", body = CreatedApiToken),
              (status = 403, description = "`forbidden`: the owner manages API tokens", body = ErrorBody),
              (status = 409, description = "`conflict`: 50 tokens are live already", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a missing or bad `name`, a role \
                  that is not a token role (`owner` included), an `expires_at` not in the future",
                  body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<ApiTokenRequest>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiToken>)> {
    let input = NewApiToken {
        name: input.name,
        role: input.role,
        expires_at: input.expires_at,
    };
    let created = state
        .app
        .create_api_token(&session.principal, input)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])),
    operation_id = "list_api_tokens",
    responses((status = 200, description = "newest first, revoked and expired ones too; never a secret", body = ApiTokenList),
              (status = 403, description = "`forbidden`: the owner manages API tokens", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<ApiTokenList>> {
    Ok(axum::Json(ApiTokenList {
        tokens: state.app.list_api_tokens(&session.principal).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", security(("bearer" = [])),
    operation_id = "revoke_api_token", params(("id" = String, Path)),
    responses((status = 204, description = "revoked (again: nothing changes): the next request \
                  with it is a 401, its WebSockets close with 4001"),
              (status = 403, description = "`forbidden`: the owner manages API tokens", body = ErrorBody),
              (status = 404, description = "`not_found`: no such token", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.revoke_api_token(&session.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
