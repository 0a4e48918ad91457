//! The OpenAPI document served at `GET /api/v1/openapi.json`. It comes from the router
//! that serves the requests ([`crate::routes::router`]: each handler's `#[utoipa::path]`
//! registers it), completed here with the answers that the extractors and layers give
//! every route of a kind (docs/api.md › Errors): a bearer-authenticated route can answer
//! 401, a route with a path parameter 404, a query string 400 and 422 (U+0000), a JSON
//! body 400, 413 and 422 (its free text states that U+0000 is refused), and any route 500 or 503.

pub mod fields;
mod nul;
pub mod words;

use crate::extract::MAX_BODY_BYTES;
use crate::routes::{ErrorBody, ErrorDetail};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "fandesk", description = "Real-time chat operations for creator teams. \
        The WebSocket protocol and the error codes are specified in docs/api.md. Every error \
        answer carries `{\"error\":{\"code\",\"message\",\"details\"}}`; besides the \
        answers listed per operation, a listed path asked with another method answers 405 \
        `method_not_allowed` with an `Allow` header, and an unlisted path 404 `not_found`. \
        Request bodies are read as JSON whatever their `Content-Type`. The web console \
        authenticates with its session cookie instead of the bearer token (README › Web \
        console)."),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&SharedComponents),
    tags(
        (name = "auth", description = "Team login and fan sessions"),
        (name = "members", description = "The team's members"),
        (name = "conversations", description = "Fan ↔ team conversations"),
        (name = "messages", description = "Timeline messages"),
        (name = "supervision", description = "Monitor, take over, audit log, message review"),
        (name = "signals", description = "Alerts, keyword and restricted-word rules"),
        (name = "metrics", description = "Metric summaries and the weekly report"),
        (name = "rooms", description = "Live rooms: premiere and event chat, slow mode, moderation"),
        (name = "events", description = "Premieres and live events: status, playback position, the label"),
        (name = "desk", description = "Fan profiles, the priority queue, agents' load and capacity"),
        (name = "shifts", description = "Shifts, clock-in, 24/7 coverage"),
        (name = "canned", description = "Canned responses, rendering, library health"),
        (name = "charter", description = "The team's charter: versions, diffs, reviews"),
        (name = "scheduled", description = "Scheduled messages to fans and segments, in each fan's time zone"),
        (name = "flows", description = "Scripted bot flows: versions, the active flow"),
        (name = "webhooks", description = "Outgoing event webhooks and their delivery logs"),
        (name = "api-tokens", description = "Integration API tokens: long-lived, role-scoped, revocable (owner)"),
        (name = "channels", description = "Team channels, threads and the decision log (team only)"),
        (name = "export", description = "Export and import of fans and conversations as JSON lines (owner)"),
        (name = "realtime", description = "WebSocket"),
        (name = "system", description = "Health, metrics, this document"),
    )
)]
struct ApiDoc;

/// The bearer security scheme and the schemas that fields refer to by name.
struct SharedComponents;

impl Modify for SharedComponents {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // `/metrics` takes the operator's metrics token, not a session token.
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.schemas.insert(
            words::TIME_ZONE.to_owned(),
            RefOr::T(words::time_zone_component()),
        );
    }
}

/// The document's info, tags, shared schemas and security scheme; the router adds the
/// paths.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// The finished document of [`crate::routes::router`].
pub fn document() -> Document {
    finish(crate::routes::router().into_openapi())
}

/// Adds the answers each operation gets from its extractors and from the layers around
/// every route, where the handler's annotation has not described them already.
pub fn finish(mut document: Document) -> Document {
    if let Some(components) = &mut document.components {
        fields::relate_fan_session_fields(&mut components.schemas);
        fan_view_is_closed(&mut components.schemas);
    }
    nul::body_text_has_no_nul(&mut document);
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            never_null_in_query(operation);
            query_text_has_no_nul(operation);
            optional_body_is_absent_not_null(operation);
            for (status, description) in shared_answers(operation) {
                match operation.responses.responses.get_mut(status) {
                    // The handler's own reasons come first; the shared ones are added when
                    // they answer with the same body.
                    Some(RefOr::T(response)) if carries_error_body(response) => {
                        response.description = format!("{}; {description}", response.description);
                    }
                    Some(_) => {}
                    None => {
                        operation
                            .responses
                            .responses
                            .insert(status.to_owned(), error_response(&description));
                    }
                }
            }
        }
    }
    document
}

/// A fan's view of a conversation has its fan-safe fields and no others (docs/api.md ›
/// Conversations), which also tells it apart from the team's view in `ConversationView`.
fn fan_view_is_closed(schemas: &mut std::collections::BTreeMap<String, RefOr<Schema>>) {
    if let Some(RefOr::T(Schema::Object(view))) = schemas.get_mut("FanConversationView") {
        view.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    }
}

/// A query string has no `null`: an absent parameter is how an `Option` is left out.
fn never_null_in_query(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema
            && let SchemaType::Array(types) = &schema.schema_type
        {
            let types: Vec<Type> = types
                .iter()
                .filter(|kind| **kind != Type::Null)
                .cloned()
                .collect();
            schema.schema_type = match types.as_slice() {
                [single] => SchemaType::Type(single.clone()),
                _ => SchemaType::from_iter(types),
            };
        }
    }
}

/// Every query string refuses U+0000 (`extract.rs`): a free-text query parameter without a
/// pattern of its own says so.
fn query_text_has_no_nul(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema
            && matches!(schema.schema_type, SchemaType::Type(Type::String))
            && schema.pattern.is_none()
            && schema.enum_values.is_none()
        {
            schema.pattern = Some(fields::NO_NUL.to_owned());
        }
    }
}

/// An optional body may be left out (it then reads as `{}`); a body that is sent must be
/// the object, not `null`.
fn optional_body_is_absent_not_null(operation: &mut Operation) {
    let Some(RefOr::T(body)) = &mut operation.request_body else {
        return;
    };
    if matches!(body.required, Some(Required::True)) {
        return;
    }
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else {
            continue;
        };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
            let mut kept = one_of.items.iter().filter(|item| !is_null(item));
            if let (Some(only), None) = (kept.next(), kept.next()) {
                content.schema = Some(only.clone());
            }
        }
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object)) if object.schema_type == SchemaType::Type(Type::Null))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The statuses an operation can answer because of its shape, with why.
fn shared_answers(operation: &Operation) -> Vec<(&'static str, String)> {
    let mut answers = Vec::new();
    if requires_bearer(operation) {
        answers.push((
            "401",
            "`unauthorized`: no token, or a revoked or expired one".to_owned(),
        ));
    }
    let located = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(
            |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == place),
        )
    };
    if located(ParameterIn::Path) {
        answers.push((
            "404",
            "`not_found`: no such resource, or one the caller may not see".to_owned(),
        ));
    }
    let query = located(ParameterIn::Query);
    let query_fault = "an unknown, malformed or out-of-range query parameter (`details.field` \
                       names it)";
    if let Some(RefOr::T(body)) = &operation.request_body {
        let bad_request = if query {
            format!("`invalid_request`: malformed JSON, or {query_fault}")
        } else {
            "`invalid_request`: malformed JSON".to_owned()
        };
        answers.push(("400", bad_request));
        answers.push((
            "413",
            format!("`invalid_request`: a body larger than {MAX_BODY_BYTES} bytes"),
        ));
        let empty = if matches!(body.required, Some(Required::True)) {
            ""
        } else {
            " (an empty body reads as `{}`)"
        };
        answers.push((
            "422",
            format!(
                "`invalid_request`: a body that does not match its schema{empty}: an unknown, \
                 missing or mistyped field, a value out of bounds, or text holding U+0000 \
                 (in the body{also}); `details.field` names it",
                also = if query { " or the query" } else { "" }
            ),
        ));
    } else if query {
        answers.push(("400", format!("`invalid_request`: {query_fault}")));
        answers.push((
            "422",
            "`invalid_request`: a query value holding U+0000 (`details.field` names it)".to_owned(),
        ));
    }
    answers.push((
        "500",
        "`internal`: an unexpected failure (details are logged, never sent)".to_owned(),
    ));
    answers.push((
        "503",
        format!(
            "`timeout`: no answer within {} seconds; `unavailable`: the server is shutting down",
            crate::HttpConfig::default().request_timeout.as_secs()
        ),
    ));
    answers
}

/// Bearer authentication is required unless an empty requirement makes it optional
/// (the WebSocket upgrade also takes its token in a `hello` frame).
fn requires_bearer(operation: &Operation) -> bool {
    let empty = utoipa::openapi::security::SecurityRequirement::default();
    operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty() && !requirements.contains(&empty))
}

fn carries_error_body(response: &utoipa::openapi::Response) -> bool {
    response.content.values().all(|content| match content {
        RefOr::T(content) => matches!(&content.schema,
            Some(RefOr::Ref(reference)) if reference.ref_location.ends_with("/ErrorBody")),
        RefOr::Ref(_) => false,
    })
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties(document: &Document, name: &str) -> Vec<String> {
        let value = serde_json::to_value(document).expect("a JSON document");
        let schema = &value["components"]["schemas"][name];
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has no properties: {schema}"))
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    #[test]
    fn documented_creation_bodies_have_the_decoded_fields() {
        let document = document();
        for (documented, decoded) in [
            ("NewShiftRequest", "ShiftRequest"),
            ("NewCannedRequest", "CannedRequest"),
        ] {
            assert_eq!(
                properties(&document, documented),
                properties(&document, decoded),
                "{documented} and {decoded}"
            );
        }
    }

    #[test]
    fn every_reference_resolves() {
        let text = serde_json::to_string(&document()).expect("a JSON document");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let schemas = value["components"]["schemas"].as_object().expect("schemas");
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap_or_default();
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(schemas.contains_key(name), "{target} does not resolve");
        }
    }

    /// Walks a JSON schema value independently of `nul.rs`: every string reached from a
    /// request body either has a pattern, an enum or a format.
    fn unstated_strings(
        value: &serde_json::Value,
        schemas: &serde_json::Map<String, serde_json::Value>,
        path: &str,
        seen: &mut std::collections::BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        match value {
            serde_json::Value::Object(object) => {
                if let Some(target) = object.get("$ref").and_then(|v| v.as_str()) {
                    let name = target.trim_start_matches("#/components/schemas/");
                    if seen.insert(name.to_owned()) {
                        unstated_strings(&schemas[name], schemas, name, seen, found);
                    }
                    return;
                }
                let is_string = match object.get("type") {
                    Some(serde_json::Value::String(kind)) => kind == "string",
                    Some(serde_json::Value::Array(kinds)) => kinds.iter().any(|k| k == "string"),
                    _ => false,
                };
                let stated = ["pattern", "enum", "format", "const"]
                    .iter()
                    .any(|key| object.contains_key(*key));
                if is_string && !stated {
                    found.push(path.to_owned());
                }
                for (key, inner) in object {
                    unstated_strings(inner, schemas, &format!("{path}.{key}"), seen, found);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    unstated_strings(inner, schemas, &format!("{path}[{index}]"), seen, found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn request_body_text_states_that_u0000_is_refused() {
        let value = serde_json::to_value(document()).expect("a JSON document");
        let schemas = value["components"]["schemas"].as_object().expect("schemas");
        assert_eq!(
            value["components"]["schemas"]["LoginRequest"]["properties"]["email"]["pattern"],
            fields::NO_NUL
        );
        let mut seen = std::collections::BTreeSet::new();
        let mut found = Vec::new();
        for (path, item) in value["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                if let Some(body) = operation.get("requestBody") {
                    let at = format!("{method} {path}");
                    unstated_strings(body, schemas, &at, &mut seen, &mut found);
                }
            }
        }
        assert!(seen.len() > 20, "bodies reach {} components", seen.len());
        assert!(
            found.is_empty(),
            "strings without a stated rule: {found:#?}"
        );
    }
}
