//! The closed vocabularies of request fields, as JSON Schema enums: roles, statuses,
//! visibilities, rule actions, groupings, report formats, weekdays and time zones. Each
//! list is the domain's own where it has one; a test checks that the server's parsers
//! take every other listed word.

use super::fields::string;
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

/// The name of the shared time zone schema in `components`.
pub const TIME_ZONE: &str = "TimeZone";

/// One of `values`, each a word the server's parser accepts (unit tests check it).
fn words(values: &[&str], nullable: bool) -> Object {
    string(nullable)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// The roles, as [`fandesk_domain::Role`] names them.
pub fn role() -> Object {
    let names: Vec<&str> = fandesk_domain::Role::ALL
        .iter()
        .map(|role| role.as_str())
        .collect();
    words(&names, false)
}

/// A role, or `null` (optional when editing).
pub fn optional_role() -> Object {
    let names: Vec<&str> = fandesk_domain::Role::ALL
        .iter()
        .map(|role| role.as_str())
        .collect();
    words(&names, true)
}

/// An audited action, as [`fandesk_domain::team::AUDITED_ACTIONS`] lists them.
pub fn audit_action() -> Object {
    words(&fandesk_domain::team::AUDITED_ACTIONS, false)
}

/// A conversation status, as [`fandesk_domain::Status`] names them.
pub fn status() -> Object {
    let names: Vec<&str> = fandesk_domain::Status::ALL
        .iter()
        .map(|status| status.as_str())
        .collect();
    words(&names, false)
}

/// `public` (the default) or `internal` (team only).
pub fn visibility() -> Object {
    words(VISIBILITIES, true)
}

const VISIBILITIES: &[&str] = &["public", "internal"];

/// `block` or `warn`.
pub fn restricted_action() -> Object {
    words(RESTRICTED_ACTIONS, false)
}

const RESTRICTED_ACTIONS: &[&str] = &["block", "warn"];

/// How a metrics summary groups: `agent`, `shift`, `day` or `none`.
pub fn summary_grouping() -> Object {
    words(SUMMARY_GROUPINGS, false)
}

const SUMMARY_GROUPINGS: &[&str] = &["agent", "shift", "day", "none"];

/// The weekly report's format.
pub fn report_format() -> Object {
    words(REPORT_FORMATS, false)
}

/// What `GET /api/v1/reports/weekly` renders.
const REPORT_FORMATS: &[&str] = &["json", "csv", "html"];

fn weekdays_builder(nullable: bool) -> Array {
    let types = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::Type(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(types)
        .items(words(WEEKDAYS, false))
        .min_items(Some(1))
        .description(Some(
            "Local days the shift starts on: `mon` … `sun` or full names (case-insensitive).",
        ))
        .build()
}

pub fn weekdays() -> Array {
    weekdays_builder(true)
}

pub fn weekdays_required() -> Array {
    weekdays_builder(false)
}

const WEEKDAYS: &[&str] = &[
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The shared time zone schema: every IANA name the server knows.
pub fn time_zone_component() -> Schema {
    Schema::Object(
        string(false)
            .enum_values(Some(time_zone_names()))
            .description(Some(
                "An IANA time zone name such as `Europe/Paris` (matched case-insensitively).",
            ))
            .build(),
    )
}

/// Every IANA name of the time zone database the server uses.
fn time_zone_names() -> Vec<String> {
    jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .collect()
}

/// A time zone.
pub fn time_zone() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(TIME_ZONE))
}

/// A time zone, or `null` for none.
pub fn optional_time_zone() -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(time_zone())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed word is one the server's parser takes.
    #[test]
    fn listed_words_parse() {
        for word in VISIBILITIES {
            assert!(fandesk_domain::Visibility::parse(word).is_some(), "{word}");
        }
        for word in RESTRICTED_ACTIONS {
            assert!(
                fandesk_domain::signals::RestrictedAction::parse(word).is_some(),
                "{word}"
            );
        }
        for word in SUMMARY_GROUPINGS {
            assert!(
                fandesk_service::SummaryGrouping::parse(word).is_some(),
                "{word}"
            );
        }
        for word in WEEKDAYS {
            assert!(
                fandesk_domain::desk::shift::parse_weekday(word).is_some(),
                "{word}"
            );
        }
        assert!(!time_zone_names().is_empty());
        for name in time_zone_names() {
            assert!(jiff::tz::TimeZone::get(&name).is_ok(), "{name}");
        }
    }
}
