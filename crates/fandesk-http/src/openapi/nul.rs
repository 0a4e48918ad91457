//! Every JSON body refuses text holding U+0000 (`extract.rs`, docs/api.md › Errors): each
//! free-text string of a request body without a pattern of its own says so in the
//! document, so a client that follows the schema never meets that 422.

use super::fields::NO_NUL;
use std::collections::BTreeSet;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// Adds the no-U+0000 pattern to the request bodies' free-text strings: inline ones in
/// place, and every component a body reaches (through properties, items, maps and
/// compositions) once.
pub(super) fn body_text_has_no_nul(document: &mut Document) {
    let mut pending = Vec::new();
    for item in document.paths.paths.values_mut() {
        for operation in super::operations(item) {
            for schema in body_schemas(operation) {
                mark(schema, &mut pending);
            }
        }
    }
    let Some(components) = &mut document.components else {
        return;
    };
    let mut done = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = components.schemas.get_mut(&name) {
            mark(schema, &mut pending);
        }
    }
}

fn body_schemas(operation: &mut Operation) -> impl Iterator<Item = &mut RefOr<Schema>> {
    operation
        .request_body
        .iter_mut()
        .filter_map(|body| match body {
            RefOr::T(body) => Some(body),
            RefOr::Ref(_) => None,
        })
        .flat_map(|body| body.content.values_mut())
        .filter_map(|content| match content {
            RefOr::T(content) => content.schema.as_mut(),
            RefOr::Ref(_) => None,
        })
}

/// Walks one schema: strings get the pattern, references are queued by component name.
fn mark(schema: &mut RefOr<Schema>, pending: &mut Vec<String>) {
    let schema = match schema {
        RefOr::Ref(reference) => {
            if let Some(name) = reference.ref_location.strip_prefix(COMPONENT_PREFIX) {
                pending.push(name.to_owned());
            }
            return;
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::Object(object) => {
            if is_free_text(&object.schema_type)
                && object.pattern.is_none()
                && object.enum_values.is_none()
                && object.format.is_none()
            {
                object.pattern = Some(NO_NUL.to_owned());
            }
            for property in object.properties.values_mut() {
                mark(property, pending);
            }
            if let Some(additional) = &mut object.additional_properties
                && let AdditionalProperties::RefOr(value) = additional.as_mut()
            {
                mark(value, pending);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                mark(items, pending);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(|item| mark(item, pending)),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(|item| mark(item, pending)),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(|item| mark(item, pending)),
        _ => {}
    }
}

fn is_free_text(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}
