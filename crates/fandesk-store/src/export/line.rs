//! One line of the JSON-lines format, both ways: a row's values written as a line, and a
//! line read back and checked against its table's columns (docs/export.md › Lines). Pure:
//! no database here, so every refusal is a table test.

use super::tables::{Column, Kind, Table, by_line};
use serde_json::{Map, Value as Json};
use std::fmt::Write as _;

/// The format's name and version, in the header line.
pub const FORMAT: &str = "fandesk-export";
pub const VERSION: i64 = 1;

/// One column's value, as the store binds it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
}

/// A checked line: its table and its values in the table's column order.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub table: &'static Table,
    pub values: Vec<Value>,
}

impl Record {
    pub(crate) fn text(&self, column: &str) -> Option<&str> {
        let index = self
            .table
            .columns
            .iter()
            .position(|known| known.name == column)?;
        match &self.values[index] {
            Value::Text(text) => text.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn key(&self) -> &str {
        self.text(self.table.key()).unwrap_or_default()
    }
}

/// What a line turned out to be.
#[derive(Clone, Debug)]
pub(crate) enum Parsed {
    Header,
    Row(Record),
}

/// Writes one row as a line (without its newline): `"type"` first, then the columns in
/// table order, so the same rows always give the same bytes.
pub(crate) fn write_line(table: &Table, values: &[Value]) -> String {
    let mut line = String::with_capacity(256);
    let _ = write!(line, "{{\"type\":\"{}\"", table.line);
    for (column, value) in table.columns.iter().zip(values) {
        let _ = write!(line, ",\"{}\":", column.name);
        line.push_str(&json_of(column, value).to_string());
    }
    line.push('}');
    line
}

fn json_of(column: &Column, value: &Value) -> Json {
    match value {
        Value::Text(None) | Value::Int(None) | Value::Real(None) => Json::Null,
        Value::Text(Some(text)) => match column.kind {
            // Stored JSON is written as itself; text that is not JSON stays a string, which
            // an import refuses, so a corrupt row is seen rather than silently changed.
            Kind::JsonArray | Kind::JsonObject => {
                serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.clone()))
            }
            _ => Json::String(text.clone()),
        },
        Value::Int(Some(number)) => Json::from(*number),
        Value::Real(Some(number)) => serde_json::Number::from_f64(*number)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Bool(flag) => Json::Bool(*flag),
    }
}

/// Reads and checks one line. The error is the reason, without the line number (the
/// caller adds it).
pub(crate) fn parse_line(text: &str) -> Result<Parsed, String> {
    let json: Json = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
    let Json::Object(mut object) = json else {
        return Err("a line must be a JSON object".to_owned());
    };
    let kind = match object.remove("type") {
        Some(Json::String(kind)) => kind,
        Some(_) => return Err("\"type\" must be a string".to_owned()),
        None => return Err("missing \"type\"".to_owned()),
    };
    if kind == "header" {
        check_header(&object)?;
        return Ok(Parsed::Header);
    }
    let table = by_line(&kind).ok_or_else(|| format!("unknown type {kind:?}"))?;
    let mut values = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        let value = object
            .remove(column.name)
            .ok_or_else(|| format!("{kind}: missing \"{}\"", column.name))?;
        values.push(
            value_of(column, value)
                .map_err(|reason| format!("{kind}.{}: {reason}", column.name))?,
        );
    }
    if let Some(extra) = object.keys().next() {
        return Err(format!("{kind}: unknown field {extra:?}"));
    }
    Ok(Parsed::Row(Record { table, values }))
}

fn check_header(object: &Map<String, Json>) -> Result<(), String> {
    if object.get("format").and_then(Json::as_str) != Some(FORMAT) {
        return Err(format!("header: \"format\" must be {FORMAT:?}"));
    }
    match object.get("version").and_then(Json::as_i64) {
        Some(VERSION) => Ok(()),
        Some(other) => Err(format!(
            "header: version {other} is not supported (this fandesk reads version {VERSION})"
        )),
        None => Err("header: missing \"version\"".to_owned()),
    }
}

fn value_of(column: &Column, value: Json) -> Result<Value, &'static str> {
    if value.is_null() {
        if !column.nullable {
            return Err("must not be null");
        }
        return Ok(match column.kind {
            Kind::Int => Value::Int(None),
            Kind::Real => Value::Real(None),
            Kind::Bool => return Err("must not be null"),
            Kind::Text | Kind::JsonArray | Kind::JsonObject => Value::Text(None),
        });
    }
    match column.kind {
        Kind::Text => {
            let Json::String(text) = value else {
                return Err("must be a string");
            };
            // PostgreSQL's text refuses U+0000; refused on both backends alike.
            if text.contains('\0') {
                return Err("must not contain U+0000");
            }
            if column.vocabulary.is_some_and(|known| !known(&text)) {
                return Err("unknown value");
            }
            Ok(Value::Text(Some(text)))
        }
        Kind::Int => value
            .as_i64()
            .map(|number| Value::Int(Some(number)))
            .ok_or("must be an integer"),
        Kind::Real => value
            .as_f64()
            .map(|number| Value::Real(Some(number)))
            .ok_or("must be a number"),
        Kind::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or("must be true or false"),
        Kind::JsonArray if value.is_array() => Ok(Value::Text(Some(value.to_string()))),
        Kind::JsonArray => Err("must be an array"),
        Kind::JsonObject if value.is_object() => Ok(Value::Text(Some(value.to_string()))),
        Kind::JsonObject => Err("must be an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(type)` for an accepted line, `Err(reason)` for a refused one.
    fn check(line: &str, expected: Result<&str, &str>) {
        let got = parse_line(line).map(|parsed| match parsed {
            Parsed::Header => "header",
            Parsed::Row(record) => record.table.line,
        });
        match (&got, expected) {
            (Ok(kind), Ok(expected)) => assert_eq!(*kind, expected, "{line}"),
            (Err(reason), Err(expected)) => {
                assert!(
                    reason.contains(expected),
                    "{line}: {reason:?} lacks {expected:?}"
                )
            }
            _ => panic!("{line}: got {got:?}, expected {expected:?}"),
        }
    }

    const FAN: &str = r#""id":"f1","display_name":"Ann","external_id":null,"timezone":"Europe/Paris","tags":["vip"],"lifetime_spend_cents":1200,"notes":"","attributes":{"tier":"gold"},"created_at":1,"last_seen_at":2"#;

    #[test]
    fn lines_are_checked_against_their_columns() {
        let cases: &[(String, Result<&str, &str>)] = &[
            (
                r#"{"type":"header","format":"fandesk-export","version":1,"counts":{}}"#.into(),
                Ok("header"),
            ),
            (
                r#"{"type":"header","format":"fandesk-export","version":2}"#.into(),
                Err("version 2 is not supported"),
            ),
            (r#"{"type":"header","version":1}"#.into(), Err("\"format\"")),
            (format!(r#"{{"type":"fan",{FAN}}}"#), Ok("fan")),
            ("not json".into(), Err("not JSON")),
            ("[1]".into(), Err("JSON object")),
            (r#"{"id":"x"}"#.into(), Err("missing \"type\"")),
            (r#"{"type":"room"}"#.into(), Err("unknown type \"room\"")),
            (
                format!(r#"{{"type":"fan",{FAN},"extra":1}}"#),
                Err("unknown field \"extra\""),
            ),
            (
                format!(r#"{{"type":"fan",{}}}"#, FAN.replace(r#""notes":"","#, "")),
                Err("fan: missing \"notes\""),
            ),
            (
                format!(r#"{{"type":"fan",{}}}"#, FAN.replace(r#""tags":["vip"]"#, r#""tags":"vip""#)),
                Err("fan.tags: must be an array"),
            ),
            (
                format!(r#"{{"type":"fan",{}}}"#, FAN.replace(r#""display_name":"Ann""#, r#""display_name":null"#)),
                Err("fan.display_name: must not be null"),
            ),
            (
                format!(r#"{{"type":"fan",{}}}"#, FAN.replace(r#""created_at":1"#, r#""created_at":1.5"#)),
                Err("fan.created_at: must be an integer"),
            ),
            (
                format!(r#"{{"type":"fan",{}}}"#, FAN.replace("Ann", "A\\u0000nn")),
                Err("U+0000"),
            ),
            (
                r#"{"type":"member","id":"m","email":"a@b","name":"A","role":"king","created_at":0,"max_concurrent":5,"deactivated_at":null}"#.into(),
                Err("member.role: unknown value"),
            ),
            (
                r#"{"type":"member","id":"m","email":"a@b","name":"A","role":"agent","created_at":0,"max_concurrent":5,"deactivated_at":null}"#.into(),
                Ok("member"),
            ),
        ];
        for (line, expected) in cases {
            check(line, *expected);
        }
    }

    #[test]
    fn a_written_line_reads_back_to_the_same_values() {
        let Ok(Parsed::Row(record)) = parse_line(&format!(r#"{{"type":"fan",{FAN}}}"#)) else {
            panic!("the fan line must parse");
        };
        let written = write_line(record.table, &record.values);
        assert_eq!(written, format!(r#"{{"type":"fan",{FAN}}}"#));
        assert_eq!(record.key(), "f1");
    }
}
