//! Scripted bot flows (docs/api.md › Flows): upload a flow in YAML or JSON, add versions,
//! read them, and activate one flow for new conversations. Owners and supervisors; a fan
//! gets the same 404 as for an unknown route.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Json, Query};
use crate::routes::ErrorBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fandesk_domain::flow::MAX_SOURCE_BYTES;
use fandesk_service::{FlowDetailView, FlowUpload, FlowView, Principal};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This module's routes (registered once, documented by their annotations).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(get_flow))
        .routes(routes!(add_flow_version))
        .routes(routes!(activate_flow))
        .routes(routes!(deactivate_flow))
}

/// Fans learn nothing of flows, not even that their routes exist.
fn hidden_from_fans(principal: &Principal) -> ApiResult<()> {
    if principal.is_fan() {
        Err(ApiError::not_found("route"))
    } else {
        Ok(())
    }
}

fn source_field() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(MAX_SOURCE_BYTES))
        .pattern(Some("^[^\\u0000]*$"))
        .description(Some(format!(
            "The whole flow document in `format`, at most {MAX_SOURCE_BYTES} bytes \
             (docs/api.md › Flows)."
        )))
        .build()
}

fn format_field() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(["yaml", "json"]))
        .description(Some("How `source` is written; `yaml` when absent."))
        .build()
}

fn version_field(nullable: bool) -> Object {
    let kind = if nullable {
        SchemaType::from_iter([Type::Integer, Type::Null])
    } else {
        SchemaType::Type(Type::Integer)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1_i64))
        .maximum(Some(i64::MAX))
        .build()
}

fn base_version() -> Object {
    version_field(false)
}

fn optional_version() -> Object {
    version_field(true)
}

/// A flow document.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowRequest {
    #[schema(schema_with = source_field)]
    pub source: String,
    #[schema(schema_with = format_field)]
    pub format: Option<String>,
}

/// A new version of a flow, on top of the one read.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowVersionRequest {
    #[schema(schema_with = source_field)]
    pub source: String,
    #[schema(schema_with = format_field)]
    pub format: Option<String>,
    /// The `latest_version` the document was read from; refused (409) when another
    /// version was added since.
    #[schema(schema_with = base_version)]
    pub base_version: i64,
}

/// Which version to activate.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The version new conversations start; the newest when absent.
    #[schema(schema_with = optional_version)]
    pub version: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// The version whose source and document to show; the newest when absent.
    #[param(schema_with = base_version)]
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FlowList {
    pub flows: Vec<FlowView>,
}

const INVALID_FLOW: &str = "`invalid_request`: a flow that does not parse or breaks a rule; \
    `details.field` is the key (`steps.greet.menu[1].next`, `source` for the document as a \
    whole) and `details.line` its line when known";

#[utoipa::path(get, path = "/api/v1/flows", tag = "flows", security(("bearer" = [])),
    operation_id = "list_flows",
    description = "Every flow, the active one first. Owners and supervisors.",
    responses((status = 200, description = "the flows", body = FlowList),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody)))]
pub async fn list_flows(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<axum::Json<FlowList>> {
    hidden_from_fans(&session.principal)?;
    Ok(axum::Json(FlowList {
        flows: state.app.list_flows(&session.principal).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/flows", tag = "flows", security(("bearer" = [])),
    operation_id = "create_flow", request_body = FlowRequest,
    description = "A new flow, as its version 1. It starts no conversation until activated.",
    responses((status = 201, description = "created", body = FlowDetailView),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody),
              (status = 404, description = "`not_found`: fans, for whom the route does not exist",
               body = ErrorBody),
              (status = 422, description = INVALID_FLOW, body = ErrorBody)))]
pub async fn create_flow(
    State(state): State<AppState>,
    Auth(session): Auth,
    Json(request): Json<FlowRequest>,
) -> ApiResult<(StatusCode, axum::Json<FlowDetailView>)> {
    hidden_from_fans(&session.principal)?;
    let upload = FlowUpload {
        source: request.source,
        format: request.format,
    };
    let view = state.app.create_flow(&session.principal, upload).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(get, path = "/api/v1/flows/{id}", tag = "flows", security(("bearer" = [])),
    operation_id = "get_flow", params(("id" = String, Path), FlowQuery),
    description = "The flow, one version's source and validated document (the newest \
                   unless `version`), and every version, newest first.",
    responses((status = 200, description = "the flow", body = FlowDetailView),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody)))]
pub async fn get_flow(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Query(query): Query<FlowQuery>,
) -> ApiResult<axum::Json<FlowDetailView>> {
    hidden_from_fans(&session.principal)?;
    Ok(axum::Json(
        state
            .app
            .get_flow(&session.principal, &id, query.version)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/flows/{id}/versions", tag = "flows",
    security(("bearer" = [])), operation_id = "add_flow_version",
    params(("id" = String, Path)), request_body = FlowVersionRequest,
    description = "Saves the document as the flow's next version. An active flow keeps \
                   starting the version it was activated with until activated again.",
    responses((status = 201, description = "the flow with its new version", body = FlowDetailView),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody),
              (status = 409, description = "`conflict`: `base_version` is not the newest \
                                            (`details.current_version`)", body = ErrorBody),
              (status = 422, description = INVALID_FLOW, body = ErrorBody)))]
pub async fn add_flow_version(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(request): Json<FlowVersionRequest>,
) -> ApiResult<(StatusCode, axum::Json<FlowDetailView>)> {
    hidden_from_fans(&session.principal)?;
    let upload = FlowUpload {
        source: request.source,
        format: request.format,
    };
    let view = state
        .app
        .add_flow_version(&session.principal, &id, request.base_version, upload)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(post, path = "/api/v1/flows/{id}/activate", tag = "flows",
    security(("bearer" = [])), operation_id = "activate_flow",
    params(("id" = String, Path)), request_body = ActivateRequest,
    description = "New conversations start this flow at `version` (the newest when absent); \
                   the flow active before stops starting them. Conversations already in a \
                   flow finish the version they started.",
    responses((status = 200, description = "the flow, active", body = FlowView),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody),
              (status = 422, description = "`invalid_request`: no such version \
                                            (`details.field` = `version`)", body = ErrorBody)))]
pub async fn activate_flow(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
    Json(request): Json<ActivateRequest>,
) -> ApiResult<axum::Json<FlowView>> {
    hidden_from_fans(&session.principal)?;
    Ok(axum::Json(
        state
            .app
            .activate_flow(&session.principal, &id, request.version)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/flows/{id}/deactivate", tag = "flows",
    security(("bearer" = [])), operation_id = "deactivate_flow",
    params(("id" = String, Path)),
    description = "New conversations start no flow while this one was active; those in it \
                   finish it. An inactive flow stays as it is.",
    responses((status = 200, description = "the flow, inactive", body = FlowView),
              (status = 403, description = "`forbidden`: flows are the owner's and supervisors'",
               body = ErrorBody)))]
pub async fn deactivate_flow(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<FlowView>> {
    hidden_from_fans(&session.principal)?;
    Ok(axum::Json(
        state.app.deactivate_flow(&session.principal, &id).await?,
    ))
}
