//! The exact JSON Schema of request fields whose checks live in the service and domain
//! (trimmed lengths, control characters, identifiers, numbers), so the document says
//! precisely which values the server accepts (docs/api.md › Errors: anything else is a
//! 400 or 422 `invalid_request`). Used as `#[schema(schema_with = …)]` on request fields.
//!
//! Patterns are ECMA-262 and spell every class out, so they read the same in any regex
//! dialect: "white space" is what Rust's `str::trim` removes (Unicode `White_Space`),
//! "control" is Unicode `Cc` (`char::is_control`).

use fandesk_domain::message::{MAX_BODY_CHARS, MAX_CLIENT_MSG_ID_BYTES};
use std::collections::BTreeMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};

/// Unicode `White_Space`, which `str::trim` removes from both ends.
pub(super) const SPACE: &str =
    r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Unicode `Cc`.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// Any text without U+0000 (refused in every stored text).
pub(crate) const NO_NUL: &str = r"^[^\x00]*$";

/// A string whose trimmed text is 1 to `max` characters (`max` ≥ 2), without control
/// characters unless `controls`.
fn trimmed_pattern(max: usize, controls: bool) -> String {
    let (edge, inner) = if controls {
        (format!("[^{SPACE}]"), r"[\s\S]".to_owned())
    } else {
        (format!("[^{SPACE}{CONTROL}]"), format!("[^{CONTROL}]"))
    };
    format!(
        "^[{SPACE}]*{edge}(?:{inner}{{0,{}}}{edge})?[{SPACE}]*$",
        max - 2
    )
}

pub(crate) fn string(nullable: bool) -> ObjectBuilder {
    if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    }
}

fn trimmed(max: usize, controls: bool, nullable: bool, description: &str) -> Object {
    let controls_note = if controls {
        ""
    } else {
        ", without control characters"
    };
    string(nullable)
        .pattern(Some(trimmed_pattern(max, controls)))
        .description(Some(format!(
            "{description} 1 to {max} characters once surrounding white space is trimmed\
             {controls_note}."
        )))
        .build()
}

/// Text of 1 to `max` characters once trimmed, without control characters.
pub fn plain_text(max: usize, nullable: bool, description: &str) -> Object {
    trimmed(max, false, nullable, description)
}

/// A person's or fan's display name.
pub fn person_name() -> Object {
    trimmed(100, false, false, "A name:")
}

/// A member's new name (optional when editing).
pub fn optional_person_name() -> Object {
    trimmed(100, false, true, "A name:")
}

/// A member's email address.
pub fn email() -> Object {
    let edge = format!("[^{SPACE}{CONTROL}@]");
    let inner = format!("[^{CONTROL} ]");
    let last = format!("[^{SPACE}{CONTROL}]");
    // The lookahead bounds the trimmed text, which ends at the last non-space character.
    string(false)
        .pattern(Some(format!(
            r"^[{SPACE}]*(?=[\s\S]{{1,254}}[{SPACE}]*$){edge}[^{CONTROL} @]*@{inner}*{last}[{SPACE}]*$"
        )))
        .description(Some(
            "An email address: up to 254 characters once trimmed, with an `@` that has text on \
             both sides, no space and no control characters. Stored lowercase.",
        ))
        .build()
}

/// An id to filter the audit log by: 1 to 100 characters, none a control character.
pub fn audit_id() -> Object {
    string(false)
        .pattern(Some(format!("^[^{CONTROL}]{{1,100}}$")))
        .description(Some(
            "An id: 1 to 100 characters, without control characters.",
        ))
        .build()
}

/// A member's new password.
pub fn password() -> Object {
    string(false)
        .min_length(Some(8))
        .max_length(Some(256))
        .pattern(Some(NO_NUL))
        .description(Some("8 to 256 characters, without U+0000."))
        .build()
}

/// A member's new password (optional when editing).
pub fn optional_password() -> Object {
    string(true)
        .min_length(Some(8))
        .max_length(Some(256))
        .pattern(Some(NO_NUL))
        .description(Some("8 to 256 characters, without U+0000."))
        .build()
}

/// A client's idempotency key (`client_msg_id`).
pub fn client_msg_id() -> Object {
    string(false)
        .pattern(Some(format!("^[!-~]{{1,{MAX_CLIENT_MSG_ID_BYTES}}}$")))
        .description(Some(format!(
            "The client's idempotency key, 1 to {MAX_CLIENT_MSG_ID_BYTES} visible ASCII \
             characters: a retry with the same key returns the original."
        )))
        .build()
}

/// A message body.
pub fn message_body() -> Object {
    trimmed(MAX_BODY_CHARS, true, false, "The text:")
}

/// An event question's text.
pub fn question_body() -> Object {
    trimmed(
        fandesk_domain::question::MAX_QUESTION_CHARS,
        true,
        false,
        "The question:",
    )
}

/// An escalation's reason.
pub fn reason() -> Object {
    trimmed(
        fandesk_domain::change::MAX_REASON_CHARS,
        true,
        false,
        "Why, shown to the team in the timeline:",
    )
}

/// A room's title.
pub fn room_title() -> Object {
    trimmed(
        fandesk_domain::room::MAX_TITLE_CHARS,
        true,
        false,
        "The title:",
    )
}

/// A team channel's name.
pub fn channel_name() -> Object {
    trimmed(
        fandesk_domain::channel::MAX_NAME_CHARS,
        true,
        false,
        "The name:",
    )
}

/// A team channel's purpose (required).
pub fn channel_purpose() -> Object {
    trimmed(
        fandesk_domain::channel::MAX_PURPOSE_CHARS,
        true,
        false,
        "What the channel is for:",
    )
}

/// A team channel's pinned guideline: may be empty or white space (stored empty).
pub fn channel_guideline() -> Object {
    let max = fandesk_domain::channel::MAX_GUIDELINE_CHARS;
    string(true)
        .pattern(Some(format!(
            "^[{SPACE}]*(?:[^{SPACE}](?:[\\s\\S]{{0,{}}}[^{SPACE}])?)?[{SPACE}]*$",
            max - 2
        )))
        .description(Some(format!(
            "The pinned guideline: at most {max} characters once surrounding white space is \
             trimmed (may be empty)."
        )))
        .build()
}

/// A canned response's title (optional when editing).
pub fn canned_title() -> Object {
    trimmed(100, true, true, "The title:")
}

/// A canned response's title, required on creation.
pub fn canned_title_required() -> Object {
    trimmed(100, true, false, "The title:")
}

fn shortcut_builder(nullable: bool) -> Object {
    string(nullable)
        .pattern(Some("^[a-z0-9_-]{1,32}$"))
        .description(Some(
            "Typed after `/` in the console: 1 to 32 of `a-z`, `0-9`, `_`, `-`; unique.",
        ))
        .build()
}

/// A canned response's shortcut (optional when editing).
pub fn shortcut() -> Object {
    shortcut_builder(true)
}

/// A canned response's shortcut, required on creation.
pub fn shortcut_required() -> Object {
    shortcut_builder(false)
}

/// A shift's name (optional when editing).
pub fn shift_name() -> Object {
    trimmed(
        fandesk_domain::desk::shift::MAX_SHIFT_NAME_CHARS,
        true,
        true,
        "The name, unique:",
    )
}

/// A shift's name, required on creation.
pub fn shift_name_required() -> Object {
    trimmed(
        fandesk_domain::desk::shift::MAX_SHIFT_NAME_CHARS,
        true,
        false,
        "The name, unique:",
    )
}

/// A keyword rule's name.
pub fn rule_name() -> Object {
    trimmed(
        fandesk_domain::signals::keyword::MAX_RULE_NAME_CHARS,
        false,
        false,
        "The rule's name, reported in alerts:",
    )
}

/// A keyword or restricted-word pattern.
pub fn word_pattern() -> Object {
    trimmed(64, false, false, "A word or phrase:")
}

/// A keyword rule's patterns.
pub fn word_patterns() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(word_pattern())
        .min_items(Some(1))
        .max_items(Some(
            fandesk_domain::signals::keyword::MAX_PATTERNS_PER_RULE,
        ))
}

/// A local wall-clock time of a shift (optional when editing).
fn local_time_builder(nullable: bool) -> Object {
    string(nullable)
        .pattern(Some(format!(
            "^[{SPACE}]*(?:[01][0-9]|2[0-3]):[0-5][0-9][{SPACE}]*$"
        )))
        .description(Some(
            "Local `HH:MM` in the creator's time zone; an end at or before the start \
             means the next day.",
        ))
        .build()
}

pub fn local_time() -> Object {
    local_time_builder(true)
}

pub fn local_time_required() -> Object {
    local_time_builder(false)
}

/// A calendar date `YYYY-MM-DD`.
pub fn date() -> Object {
    string(false)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .build()
}

fn integer(minimum: i128, maximum: i128, format: Option<KnownFormat>) -> Object {
    let number = |value: i128| -> utoipa::Number {
        match isize::try_from(value) {
            Ok(signed) => utoipa::Number::Int(signed),
            Err(_) => utoipa::Number::UInt(usize::try_from(value).unwrap_or(usize::MAX)),
        }
    };
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(format.map(SchemaFormat::KnownFormat))
        .minimum(Some(number(minimum)))
        .maximum(Some(number(maximum)))
        .build()
}

/// A `u32` (page sizes: the service clamps them to its own bounds).
pub fn uint32() -> Object {
    integer(0, u32::MAX.into(), Some(KnownFormat::Int64))
}

/// An offset into the fan directory (the service refuses more).
pub fn fan_offset() -> Object {
    integer(0, 100_000, Some(KnownFormat::Int64))
}

/// Seconds of an event's video time (negative: before the start), within two days.
pub fn video_secs() -> Object {
    let max = i128::from(fandesk_domain::event::MAX_REPLAY_OFFSET_SECS);
    integer(-max, max, Some(KnownFormat::Int64))
}

/// A `u64` (positions in a timeline).
pub fn uint64() -> Object {
    integer(0, u64::MAX.into(), None)
}

/// A `u64` that may also be `null` (taken as absent).
pub fn optional_uint64() -> Object {
    let mut schema = uint64();
    schema.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    schema
}

/// An `i64`.
pub fn int64() -> Object {
    integer(i64::MIN.into(), i64::MAX.into(), Some(KnownFormat::Int64))
}

/// An ISO week `YYYY-Www`.
pub fn iso_week() -> Object {
    string(false)
        .pattern(Some(format!(
            "^[{SPACE}]*[0-9]{{4}}-W(?:0[1-9]|[1-4][0-9]|5[0-3])[{SPACE}]*$"
        )))
        .description(Some("An ISO week `YYYY-Www`, e.g. `2026-W47`."))
        .build()
}

/// A fan's tags (replacing the old ones).
pub fn tags() -> Array {
    let tag = string(false).pattern(Some(format!("^[{SPACE}]*[A-Za-z0-9_-]{{1,32}}[{SPACE}]*$")));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(tag)
        .max_items(Some(20))
        .description(Some(
            "Replaces the tags: at most 20, each 1 to 32 of `a-z`, `0-9`, `_`, `-` once trimmed \
             (stored lowercase, sorted, without repeats).",
        ))
        .build()
}

/// An amount in cents, not negative.
pub fn cents() -> Object {
    let mut schema = integer(0, i64::MAX.into(), Some(KnownFormat::Int64));
    schema.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    schema
}

/// A team's notes on a fan.
pub fn notes() -> Object {
    string(true)
        .max_length(Some(4_000))
        .description(Some("At most 4,000 characters."))
        .build()
}

/// A fan's custom attributes (replacing the old ones).
pub fn attributes() -> Object {
    let key = string(false)
        .max_length(Some(64))
        .pattern(Some(format!("^[^.]*[^.{SPACE}][^.]*$")));
    let value = string(false)
        .max_length(Some(500))
        .pattern(Some(format!("^[^{CONTROL}]*$")));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property_names(Some(key))
        .additional_properties(Some(value))
        .max_properties(Some(50))
        .description(Some(
            "Replaces the custom attributes: at most 50; keys 1 to 64 characters, not all white \
             space, without `.`; values at most 500 characters without control characters.",
        ))
        .build()
}

fn template_builder(nullable: bool) -> Object {
    string(nullable)
        .max_length(Some(fandesk_domain::desk::canned::MAX_TEMPLATE_CHARS))
        .pattern(Some(format!("[^{SPACE}]")))
        .description(Some(
            "The template, at most 4,000 characters and not all white space: text with \
             `{{ fan.name }}`, `{{ fan.first_name }}`, `{{ agent.name }}`, `{{ creator.name }}`, \
             `{{ fan.attributes.KEY }}`, and defaults as `{{ fan.first_name | default: \"there\" }}`.",
        ))
        .build()
}

/// A canned response's template (optional when editing).
pub fn template() -> Object {
    template_builder(true)
}

/// A canned response's template, required on creation.
pub fn template_required() -> Object {
    template_builder(false)
}

/// A fan session's `signature` is refused without an `external_id` to sign: the request
/// schema also requires, when `signature` is a string, that `external_id` is one.
pub fn relate_fan_session_fields(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let Some(RefOr::T(request)) = schemas.get("FanSessionRequest").cloned() else {
        return;
    };
    let no_signature =
        ObjectBuilder::new().property("signature", ObjectBuilder::new().schema_type(Type::Null));
    let signed = ObjectBuilder::new()
        .property(
            "external_id",
            ObjectBuilder::new().schema_type(Type::String),
        )
        .required("external_id");
    let rule = AnyOfBuilder::new().item(no_signature).item(signed);
    let related = AllOfBuilder::new().item(request).item(rule).build();
    schemas.insert(
        "FanSessionRequest".to_owned(),
        RefOr::T(Schema::AllOf(related)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_text_patterns_bound_the_trimmed_length() {
        assert_eq!(
            trimmed_pattern(3, false),
            format!(
                "^[{SPACE}]*[^{SPACE}{CONTROL}](?:[^{CONTROL}]{{0,1}}[^{SPACE}{CONTROL}])?[{SPACE}]*$"
            )
        );
    }
}
