//! Login, logout, members and fan sessions (docs/api.md › Authentication).

use crate::AppState;
use crate::client::ClientAddress;
use crate::error::ApiResult;
use crate::extract::{Auth, Json};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::view::{FanView, MemberView};
use fandesk_service::{MemberUpdate, NewFanSession, NewMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_member, list_members))
        .routes(routes!(update_member))
        .routes(routes!(create_fan_session))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Matched case-insensitively, surrounding white space ignored.
    pub email: String,
    pub password: String,
    /// Also set the session in an `HttpOnly`, `SameSite=Strict` cookie (the web console).
    /// Cookie-authenticated writes must come from this server's origin (or carry
    /// `X-Requested-With` when the browser sends no `Origin`).
    pub cookie: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub member: MemberView,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "logged in; with `cookie: true` the session is also set \
                                             in a cookie", body = LoginResponse),
              (status = 401, description = "`unauthorized`: wrong email or password", body = ErrorBody),
              (status = 403, description = "`forbidden`: a cookie asked for from another site", body = ErrorBody),
              (status = 429, description = "`rate_limited`: the account waits after repeated failed \
                                            logins, or this address failed too often this minute \
                                            (`details.retry_after_secs`)", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
    Json(input): Json<LoginRequest>,
) -> ApiResult<(axum::http::HeaderMap, axum::Json<LoginResponse>)> {
    let cookie = input.cookie.unwrap_or(false);
    if cookie {
        // Another site must not log a browser into an account of its choosing.
        crate::cookie::check_csrf(&method, &headers, &state.config.allowed_origins)?;
    }
    let guard = &state.login_guard;
    // Refusals are answered after a pause (`LoginPolicy::refusal_hold`).
    guard
        .held(guard.admit_address(client, std::time::Instant::now()))
        .await?;
    let failures = state.app.login_failures(&input.email).await?;
    guard
        .held(guard.admit(
            failures,
            client,
            std::time::Instant::now(),
            jiff::Timestamp::now(),
        ))
        .await?;
    let result = match state.app.login(&input.email, &input.password).await {
        Ok(result) => {
            if failures.is_some() {
                state.app.clear_login_failures(&input.email).await?;
            }
            result
        }
        Err(error) => {
            if matches!(error, fandesk_service::ServiceError::Unauthorized) {
                guard.failed(client, std::time::Instant::now());
                state.app.record_login_failure(&input.email).await?;
            }
            return Err(error.into());
        }
    };
    let mut out = axum::http::HeaderMap::new();
    if cookie {
        let session = state.app.authenticate(&result.token).await?;
        let lifetime = session
            .expires_at
            .duration_since(jiff::Timestamp::now())
            .as_secs();
        if let Some(value) =
            crate::cookie::set(&result.token, lifetime, crate::cookie::from_https(&headers))
        {
            out.insert(axum::http::header::SET_COOKIE, value);
        }
    }
    Ok((
        out,
        axum::Json(LoginResponse {
            token: result.token,
            member: result.member,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "token revoked; its WebSockets close with 4001; \
                                            the session cookie, if any, is cleared"),
              (status = 403, description = "`forbidden`: a cookie-authenticated request from another site",
               body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    auth: Result<Auth, crate::error::ApiError>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let result = match auth {
        Ok(Auth(session)) => state
            .app
            .logout(&session)
            .await
            .map_err(crate::error::ApiError::from),
        Err(error) => Err(error),
    };
    let unauthorized =
        matches!(&result, Err(error) if error.code_and_message().0 == "unauthorized");
    let mut response = match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    };
    // A stale cookie goes too, so the console does not keep presenting it.
    if crate::cookie::session_token(&headers).is_some()
        && (response.status().is_success() || unauthorized)
    {
        response
            .headers_mut()
            .insert(axum::http::header::SET_COOKIE, crate::cookie::clear());
    }
    response
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    /// `member` or `fan`.
    pub kind: String,
    pub id: String,
    pub name: String,
    /// The member's role; absent for fans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "the caller", body = MeResponse)))]
pub async fn me(Auth(session): Auth) -> axum::Json<MeResponse> {
    let principal = &session.principal;
    axum::Json(MeResponse {
        kind: if principal.is_fan() { "fan" } else { "member" }.to_owned(),
        id: principal.author_id().to_owned(),
        name: principal.name().to_owned(),
        role: principal.role().map(|role| role.as_str().to_owned()),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMemberRequest {
    #[schema(schema_with = fields::email)]
    pub email: String,
    #[schema(schema_with = fields::person_name)]
    pub name: String,
    #[schema(schema_with = words::role)]
    pub role: String,
    #[schema(schema_with = fields::password)]
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/members", tag = "members", security(("bearer" = [])),
    request_body = CreateMemberRequest,
    responses((status = 201, description = "created", body = MemberView),
              (status = 403, description = "`forbidden`: only the owner manages members", body = ErrorBody),
              (status = 409, description = "`conflict`: a member with this email exists", body = ErrorBody)))]
pub async fn create_member(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateMemberRequest>,
) -> ApiResult<(StatusCode, axum::Json<MemberView>)> {
    let input = NewMember {
        email: input.email,
        name: input.name,
        role: input.role,
        password: input.password,
    };
    let member = state.app.create_member(&session.principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(member)))
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

#[utoipa::path(get, path = "/api/v1/members", tag = "members", security(("bearer" = [])),
    responses((status = 200, description = "the team", body = MemberList),
              (status = 403, description = "`forbidden`: fans cannot list the team", body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<MemberList>> {
    let members = state.app.list_members(&session.principal).await?;
    Ok(axum::Json(MemberList { members }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    #[schema(schema_with = fields::optional_person_name)]
    pub name: Option<String>,
    /// The last active owner keeps the owner role.
    #[schema(schema_with = words::optional_role)]
    pub role: Option<String>,
    /// `false` deactivates the member: their sessions end (WebSockets close with 4001),
    /// they cannot log in and are assigned nothing; their conversations stay. `true`
    /// reactivates them. The last active owner cannot be deactivated.
    pub active: Option<bool>,
    /// A new password, set by the owner; the member's sessions end.
    #[schema(schema_with = fields::optional_password)]
    pub password: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Option<UpdateMemberRequest>,
    description = "Owner only. Each field present is changed; no body, or `{}`, changes nothing.",
    responses((status = 200, description = "the member as changed", body = MemberView),
              (status = 403, description = "`forbidden`: only the owner manages members", body = ErrorBody),
              (status = 404, description = "`not_found`: no such member", body = ErrorBody),
              (status = 409, description = "`conflict`: the change would leave the team without \
                                            an active owner", body = ErrorBody)))]
pub async fn update_member(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(input): Json<UpdateMemberRequest>,
) -> ApiResult<axum::Json<MemberView>> {
    let input = MemberUpdate {
        name: input.name,
        role: input.role,
        active: input.active,
        password: input.password,
    };
    let member = state
        .app
        .update_member(&session.principal, &id, input)
        .await?;
    Ok(axum::Json(member))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FanSessionRequest {
    #[schema(schema_with = fields::person_name)]
    pub display_name: String,
    /// The creator platform's id for this fan; trusted only with a valid `signature`
    /// (with a fan identity secret configured: 1–200 characters once trimmed, no control
    /// characters; without one it is ignored).
    pub external_id: Option<String>,
    /// The fan's IANA time zone, e.g. `Europe/Paris`.
    #[schema(schema_with = words::optional_time_zone)]
    pub timezone: Option<String>,
    /// hex HMAC-SHA256(fan identity secret, external_id); only with `external_id`.
    pub signature: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FanSessionResponse {
    pub token: String,
    pub fan: FanView,
}

#[utoipa::path(post, path = "/api/v1/fan-sessions", tag = "auth", request_body = FanSessionRequest,
    responses((status = 201, description = "a session for a new fan, or for the fan the signed \
                                             `external_id` names", body = FanSessionResponse),
              (status = 401, description = "`unauthorized`: a wrong `signature`", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a `signature` without \
                                            `external_id`, or (with a fan identity secret) an \
                                            `external_id` without `signature`", body = ErrorBody),
              (status = 429, description = "`rate_limited`: too many fan sessions from this \
                                            address this minute", body = ErrorBody)))]
pub async fn create_fan_session(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(input): Json<FanSessionRequest>,
) -> ApiResult<(StatusCode, axum::Json<FanSessionResponse>)> {
    state
        .fan_limits
        .session(client, std::time::Instant::now())?;
    let input = NewFanSession {
        display_name: input.display_name,
        external_id: input.external_id,
        timezone: input.timezone,
        signature: input.signature,
    };
    let (token, fan) = state.app.create_fan_session(input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FanSessionResponse { token, fan }),
    ))
}
