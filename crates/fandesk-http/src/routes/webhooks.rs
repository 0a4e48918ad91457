//! Outgoing webhooks (docs/api.md › Webhooks): the owner creates, lists and deletes them
//! and reads each one's delivery log.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Query};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::integration::{
    MAX_SECRET_CHARS, MAX_URL_BYTES, MIN_SECRET_CHARS, WebhookEvent,
};
use fandesk_service::{NewWebhook, WebhookDeliveryView, WebhookView};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(deliveries))
}

fn url_schema(required: bool) -> Object {
    fields::string(!required)
        .max_length(Some(MAX_URL_BYTES))
        .pattern(Some("^[Hh][Tt][Tt][Pp]://"))
        .description(Some(
            "An `http://` URL (no TLS in this build). Its host must be public — not loopback, \
             private, link-local, unique-local, multicast, unspecified or another special \
             range, however spelled, nor a name resolving there — unless allow-listed with \
             `--webhook-allow-hosts`; otherwise 422 with `details.field` = `url`.",
        ))
        .build()
}

fn events_schema(required: bool) -> Array {
    let names: Vec<&str> = WebhookEvent::ALL
        .iter()
        .map(|event| event.as_str())
        .collect();
    let types = if required {
        utoipa::openapi::schema::SchemaType::Type(Type::Array)
    } else {
        utoipa::openapi::schema::SchemaType::from_iter([Type::Array, Type::Null])
    };
    ArrayBuilder::new()
        .schema_type(types)
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .description(Some(
            "The events to receive. Internal messages come only as \
             `message.created.internal`, never as `message.created`.",
        ))
        .build()
}

fn secret_schema(required: bool) -> Object {
    fields::string(!required)
        .min_length(Some(MIN_SECRET_CHARS))
        .max_length(Some(MAX_SECRET_CHARS))
        .pattern(Some(
            r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$",
        ))
        .description(Some(
            "The HMAC-SHA256 key of `X-Fandesk-Signature`: 16 to 256 characters, no control \
             characters, no surrounding white space. Never shown again.",
        ))
        .build()
}

fn url_required() -> Object {
    url_schema(true)
}
fn url_optional() -> Object {
    url_schema(false)
}
fn events_required() -> Array {
    events_schema(true)
}
fn events_optional() -> Array {
    events_schema(false)
}
fn secret_required() -> Object {
    secret_schema(true)
}
fn secret_optional() -> Object {
    secret_schema(false)
}

/// The documented body of `POST /webhooks`: [`WebhookRequest`]'s fields, all required.
/// The handler decodes a `WebhookRequest`, so the service checks the caller's role before
/// it reports a missing field (a supervisor's empty body is a 403).
#[derive(ToSchema)]
#[allow(dead_code, reason = "only its schema is used")]
pub struct NewWebhookRequest {
    #[schema(schema_with = url_required)]
    url: String,
    #[schema(schema_with = events_required)]
    events: Vec<String>,
    #[schema(schema_with = secret_required)]
    secret: String,
}

/// A webhook to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    #[schema(schema_with = url_optional)]
    pub url: Option<String>,
    #[schema(schema_with = events_optional)]
    pub events: Option<Vec<String>>,
    #[schema(schema_with = secret_optional)]
    pub secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryList {
    pub deliveries: Vec<WebhookDeliveryView>,
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    operation_id = "create_webhook", request_body = NewWebhookRequest,
    description = "Owner. Each event is POSTed to `url` with `X-Fandesk-Event`, \
        `X-Fandesk-Delivery` (stable across retries), `X-Fandesk-Timestamp` and \
        `X-Fandesk-Signature: sha256=HEX(HMAC-SHA256(secret, \"{timestamp}.{body}\"))`; a \
        non-2xx answer is retried with exponential backoff.",
    responses((status = 201, description = "created (the secret is not shown)", body = WebhookView),
              (status = 403, description = "`forbidden`: the owner manages webhooks", body = ErrorBody),
              (status = 422, description = "`invalid_request`: a URL that is not `http://`, or \
                  whose host is not public and not allow-listed (`details.field` = `url`); \
                  an unknown event; a short secret", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<WebhookRequest>,
) -> ApiResult<(StatusCode, axum::Json<WebhookView>)> {
    let input = NewWebhook {
        url: input.url,
        events: input.events,
        secret: input.secret,
    };
    let view = state.app.create_webhook(&session.principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    operation_id = "list_webhooks",
    responses((status = 200, description = "oldest first, each with its last delivery", body = WebhookList),
              (status = 403, description = "`forbidden`: the owner manages webhooks", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<WebhookList>> {
    Ok(axum::Json(WebhookList {
        webhooks: state.app.list_webhooks(&session.principal).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    operation_id = "get_webhook", params(("id" = String, Path)),
    responses((status = 200, description = "the webhook", body = WebhookView),
              (status = 403, description = "`forbidden`: the owner manages webhooks", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookView>> {
    Ok(axum::Json(
        state.app.get_webhook(&session.principal, &id).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    operation_id = "delete_webhook", params(("id" = String, Path)),
    responses((status = 204, description = "deleted: nothing more is sent to it"),
              (status = 403, description = "`forbidden`: the owner manages webhooks", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_webhook(&session.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Most deliveries returned: default 50; values outside 1–200 are clamped.
    #[param(schema_with = fields::uint32)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    operation_id = "list_webhook_deliveries", params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, description = "the delivery log, newest first", body = WebhookDeliveryList),
              (status = 403, description = "`forbidden`: the owner manages webhooks", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult<axum::Json<WebhookDeliveryList>> {
    let deliveries = state
        .app
        .list_webhook_deliveries(&session.principal, &id, query.limit.unwrap_or(50))
        .await?;
    Ok(axum::Json(WebhookDeliveryList { deliveries }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The console's webhook form offers exactly the events the API accepts.
    #[test]
    fn the_console_lists_every_event() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/js/webhooks.js");
        let script = std::fs::read_to_string(path).expect("console/js/webhooks.js");
        let list = script
            .split("export const WEBHOOK_EVENTS = [")
            .nth(1)
            .and_then(|rest| rest.split("\n];").next())
            .expect("webhooks.js defines WEBHOOK_EVENTS");
        let listed: Vec<&str> = list
            .lines()
            .filter_map(|line| line.trim().strip_prefix("['"))
            .filter_map(|line| line.split('\'').next())
            .collect();
        let known: Vec<&str> = WebhookEvent::ALL
            .iter()
            .map(|event| event.as_str())
            .collect();
        assert_eq!(listed, known, "WEBHOOK_EVENTS in console/js/webhooks.js");
    }
}
