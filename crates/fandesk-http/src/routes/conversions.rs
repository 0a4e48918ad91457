//! Conversions (docs/api.md › Events › Conversions): the creator's platform (a bot token)
//! or the owner records that a fan bought or signed up; the team reads what a fan watched
//! and bought on the fan panel.

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Json};
use crate::openapi::fields;
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_service::{ConversionView, FanActivityView, NewConversion};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(record))
        .routes(routes!(fan_activity))
}

fn kind() -> Object {
    fields::plain_text(
        fandesk_service::MAX_CONVERSION_KIND_CHARS,
        false,
        "What the fan did, in the creator's own words (`purchase`, `subscription`, …):",
    )
}

fn client_id() -> Object {
    fields::plain_text(
        fandesk_service::MAX_CONVERSION_CLIENT_ID_CHARS,
        true,
        "The recorder's own id for this conversion; recording it again with the same id \
         returns the first one and records nothing:",
    )
}

fn id_text(nullable: bool, description: &str) -> Object {
    fields::string(nullable)
        .pattern(Some(r"^[^\x00]*$".to_owned()))
        .description(Some(description.to_owned()))
        .build()
}

fn fan_id() -> Object {
    id_text(false, "The fan who converted (a fan of this workspace).")
}

fn event_id() -> Object {
    id_text(true, "The event the conversion came from, if any.")
}

fn value_cents() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(utoipa::Number::Int(
            fandesk_service::MAX_CONVERSION_VALUE_CENTS as isize,
        )))
        .description(Some("The value in cents (default 0)."))
        .build()
}

/// `POST /api/v1/conversions` as documented: `fan_id` and `kind` are required.
#[derive(Deserialize, ToSchema)]
#[allow(
    dead_code,
    reason = "only its schema is used (and its fields, by a test)"
)]
#[serde(deny_unknown_fields)]
pub struct NewConversionRequest {
    #[schema(schema_with = fan_id)]
    fan_id: String,
    #[schema(schema_with = event_id)]
    event_id: Option<String>,
    #[schema(schema_with = kind)]
    kind: String,
    #[schema(schema_with = value_cents)]
    value_cents: Option<i64>,
    #[schema(schema_with = client_id)]
    client_id: Option<String>,
}

/// What the handler decodes: every field optional, so the service refuses a caller
/// without the right before it names a missing field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRequest {
    fan_id: Option<String>,
    event_id: Option<String>,
    kind: Option<String>,
    value_cents: Option<i64>,
    client_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/conversions", tag = "events", security(("bearer" = [])),
    operation_id = "record_conversion", request_body = NewConversionRequest,
    description = "The owner, or a bot (the creator's platform). The conversion is credited to \
                   the human team member whose public reply to the fan came last within 24 h \
                   before it (`agent_id`, `reply_at`).",
    responses((status = 201, description = "recorded (or, with a `client_id` already used by the \
                                            same caller, the conversion first recorded with it)", body = ConversionView),
              (status = 403, description = "`forbidden`: the owner and bots", body = ErrorBody),
              (status = 422, description = "`invalid_request`: an unknown `fan_id` or `event_id`, \
                                            an empty `kind`, a negative `value_cents`", body = ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(input): Json<ConversionRequest>,
) -> ApiResult<(StatusCode, axum::Json<ConversionView>)> {
    let input = NewConversion {
        fan_id: input.fan_id,
        event_id: input.event_id,
        kind: input.kind,
        value_cents: input.value_cents,
        client_id: input.client_id,
    };
    let (conversion, _) = state
        .app
        .record_conversion(&session.principal, input)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(conversion)))
}

#[utoipa::path(get, path = "/api/v1/fans/{id}/activity", tag = "desk", security(("bearer" = [])),
    operation_id = "fan_activity", params(("id" = String, Path)),
    responses((status = 200, description = "the events the fan watched (seconds watched between \
                                            each start and end) and the fan's conversions", body = FanActivityView),
              (status = 403, description = "`forbidden`: fan profiles are the team's", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
pub async fn fan_activity(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FanActivityView>> {
    Ok(axum::Json(
        state.app.fan_activity(&session.principal, &id).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_and_the_decoded_body_have_the_same_fields() {
        let full = serde_json::json!({"fan_id": "fan_1", "event_id": "evt_1",
            "kind": "purchase", "value_cents": 500, "client_id": "order-1"});
        assert!(serde_json::from_value::<NewConversionRequest>(full.clone()).is_ok());
        assert!(serde_json::from_value::<ConversionRequest>(full.clone()).is_ok());
        let mut more = full;
        more["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<NewConversionRequest>(more.clone()).is_err());
        assert!(serde_json::from_value::<ConversionRequest>(more).is_err());
    }
}
