//! Alerts and the editable signal rules (docs/api.md › Alerts; README › Supervision and signals).

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json, Query};
use crate::openapi::{fields, words};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::{AlertAction, AlertState};
use fandesk_service::{AlertView, KeywordRuleView, RestrictedRuleView};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(alerts))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(dismiss_alert))
        .routes(routes!(list_keyword_rules, create_keyword_rule))
        .routes(routes!(delete_keyword_rule))
        .routes(routes!(list_restricted_rules, create_restricted_rule))
        .routes(routes!(delete_restricted_rule))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// Alerts created at or after this time (default: the last 24 hours).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Most alerts returned: default 100; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
    /// Only alerts in this state: `open`, `acknowledged` or `dismissed` (default: all).
    #[param(value_type = Option<String>, pattern = "^(open|acknowledged|dismissed)$")]
    pub state: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "signals", security(("bearer" = [])),
    params(AlertsQuery), responses((status = 200, description = "newest first", body = AlertList),
        (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
         body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Auth(session): Auth,
    Query(query): Query<AlertsQuery>,
) -> ApiResult<axum::Json<AlertList>> {
    let since = match query.since {
        Some(since) => since,
        None => Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .map_err(|_| {
                ApiError::invalid(
                    StatusCode::BAD_REQUEST,
                    Some("since"),
                    "since: out of range",
                )
            })?,
    };
    let wanted = match query.state.as_deref() {
        None => None,
        Some(text) => Some(AlertState::parse(text).ok_or_else(|| {
            ApiError::invalid(
                StatusCode::BAD_REQUEST,
                Some("state"),
                "state: open, acknowledged or dismissed",
            )
        })?),
    };
    let alerts = state
        .app
        .list_alerts(
            &session.principal,
            since,
            wanted,
            query.limit.unwrap_or(100),
        )
        .await?;
    Ok(axum::Json(AlertList { alerts }))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "signals",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "acknowledged (someone is on it), who and when kept; \
                                             again: the alert as it is", body = AlertView),
              (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
               body = ErrorBody),
              (status = 409, description = "`conflict`: the alert was dismissed", body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AlertView>> {
    let alert = state
        .app
        .handle_alert(&session.principal, &id, AlertAction::Acknowledge)
        .await?;
    Ok(axum::Json(alert))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/dismiss", tag = "signals",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "dismissed (nothing to do), who and when kept; again: \
                                             the alert as it is", body = AlertView),
              (status = 403, description = "`forbidden`: supervisors, escalation leads and the owner",
               body = ErrorBody),
              (status = 409, description = "`conflict`: the alert changed meanwhile; try again",
               body = ErrorBody)))]
pub async fn dismiss_alert(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AlertView>> {
    let alert = state
        .app
        .handle_alert(&session.principal, &id, AlertAction::Dismiss)
        .await?;
    Ok(axum::Json(alert))
}

#[derive(Serialize, ToSchema)]
pub struct KeywordRuleList {
    pub rules: Vec<KeywordRuleView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeywordRule {
    /// The rule's name, reported in alerts (e.g. `refund`).
    #[schema(schema_with = fields::rule_name)]
    pub name: String,
    /// Words that trigger it; inflections match too (`refunds`, `refunded`). Each must
    /// contain a letter or digit.
    #[schema(schema_with = fields::word_patterns)]
    pub patterns: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/keyword-rules", tag = "signals", security(("bearer" = [])),
    responses((status = 200, description = "every keyword rule", body = KeywordRuleList),
              (status = 403, description = "`forbidden`: fans cannot see the rules", body = ErrorBody)))]
pub async fn list_keyword_rules(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<KeywordRuleList>> {
    Ok(axum::Json(KeywordRuleList {
        rules: state.app.list_keyword_rules(&session.principal).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/keyword-rules", tag = "signals", security(("bearer" = [])),
    request_body = CreateKeywordRule,
    responses((status = 201, description = "created", body = KeywordRuleView),
              (status = 403, description = "`forbidden`: the owner and supervisors edit the rules",
               body = ErrorBody),
              (status = 409, description = "`conflict`: a rule with this name exists", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a pattern without a letter \
                                            or digit, or one longer than 64 characters once folded",
               body = ErrorBody)))]
pub async fn create_keyword_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateKeywordRule>,
) -> ApiResult<(StatusCode, axum::Json<KeywordRuleView>)> {
    let rule = state
        .app
        .create_keyword_rule(&session.principal, &input.name, &input.patterns)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(rule)))
}

#[utoipa::path(delete, path = "/api/v1/keyword-rules/{id}", tag = "signals", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "deleted"),
        (status = 403, description = "`forbidden`: the owner and supervisors edit the rules",
         body = ErrorBody)))]
pub async fn delete_keyword_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_keyword_rule(&session.principal, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct RestrictedRuleList {
    pub rules: Vec<RestrictedRuleView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRestrictedRule {
    /// A word or phrase team members must not send.
    #[schema(schema_with = fields::word_pattern)]
    pub pattern: String,
    /// `block` (refused with `invalid_request`) or `warn` (sent, flagged to supervisors).
    #[schema(schema_with = words::restricted_action)]
    pub action: String,
}

#[utoipa::path(get, path = "/api/v1/restricted-rules", tag = "signals", security(("bearer" = [])),
    responses((status = 200, description = "every restricted-word rule", body = RestrictedRuleList),
              (status = 403, description = "`forbidden`: fans cannot see the rules", body = ErrorBody)))]
pub async fn list_restricted_rules(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<RestrictedRuleList>> {
    Ok(axum::Json(RestrictedRuleList {
        rules: state.app.list_restricted_rules(&session.principal).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/restricted-rules", tag = "signals", security(("bearer" = [])),
    request_body = CreateRestrictedRule,
    responses((status = 201, description = "created", body = RestrictedRuleView),
              (status = 403, description = "`forbidden`: the owner and supervisors edit the rules",
               body = ErrorBody),
              (status = 409, description = "`conflict`: a rule for this word exists", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a pattern without a letter \
                                            or digit", body = ErrorBody)))]
pub async fn create_restricted_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<CreateRestrictedRule>,
) -> ApiResult<(StatusCode, axum::Json<RestrictedRuleView>)> {
    let rule = state
        .app
        .create_restricted_rule(&session.principal, &input.pattern, &input.action)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(rule)))
}

#[utoipa::path(delete, path = "/api/v1/restricted-rules/{id}", tag = "signals", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204, description = "deleted"),
        (status = 403, description = "`forbidden`: the owner and supervisors edit the rules",
         body = ErrorBody)))]
pub async fn delete_restricted_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_restricted_rule(&session.principal, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
