//! Request extractors whose rejections use docs/api.md's error shape: strict JSON bodies
//! and queries (unknown fields rejected, the field named), and bearer authentication.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use fandesk_service::Session;
use serde::de::DeserializeOwned;

/// Largest accepted request body. Messages are at most 4,000 characters; 64 KiB leaves
/// room for JSON escaping without inviting abuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body decoded strictly: a JSON object (serde would also fill a struct from an
/// array, by position). An empty body reads as `{}` so body-less actions work; white
/// space alone is no JSON.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        LaterJson::from_request(request, state)
            .await?
            .decode()
            .map(Json)
    }
}

/// A body read but not yet decoded: [`LaterJson::decode`] decodes it as [`Json`] does,
/// once the handler has decided whether the caller may know the route at all (fans get
/// the same 404 as for an unknown route, whatever they send).
pub struct LaterJson(Bytes);

impl<S: Send + Sync> FromRequest<S> for LaterJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let message = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    format!("body: larger than {MAX_BODY_BYTES} bytes")
                } else {
                    format!("unreadable body: {rejection}")
                };
                ApiError::invalid(rejection.status(), None, message)
            })?;
        Ok(LaterJson(bytes))
    }
}

impl LaterJson {
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let bytes: &[u8] = match self.0.iter().find(|byte| !byte.is_ascii_whitespace()) {
            None if self.0.is_empty() => b"{}",
            Some(b'{') => &self.0,
            _ => return Err(not_an_object(&self.0)),
        };
        decode_json(bytes)
    }
}

/// The refusal of a body that is not a JSON object: malformed (400) or another value (422).
fn not_an_object(bytes: &[u8]) -> ApiError {
    match decode_json::<serde::de::IgnoredAny>(bytes) {
        Err(malformed) => malformed,
        Ok(_) => ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            "body: must be a JSON object",
        ),
    }
}

/// Decodes `bytes` as `T`, naming the field at fault (docs/api.md › Errors). A string
/// holding U+0000 anywhere in the document is refused with its JSON path, whatever the
/// field: no text with it is ever stored (PostgreSQL cannot).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // JSON can only spell U+0000 as an escape, so a document without one skips the walk.
    if contains(bytes, b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        refuse_nul(&value)?;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::invalid(
                StatusCode::BAD_REQUEST,
                None,
                format!("malformed JSON: {inner}"),
            );
        }
        let field = field_name(&path, &inner.to_string());
        ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            field.as_deref(),
            format!(
                "{}: {}",
                field.as_deref().unwrap_or("body"),
                strip_position(&inner.to_string())
            ),
        )
    })?;
    deserializer.end().map_err(|error| {
        ApiError::invalid(
            StatusCode::BAD_REQUEST,
            None,
            format!("malformed JSON: {error}"),
        )
    })?;
    Ok(value)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Refuses a document holding U+0000 in a string or a key, naming the first such place
/// by its path (`author.name`, `items[2].body`; in a key, U+0000 is shown as U+FFFD).
pub fn refuse_nul(value: &serde_json::Value) -> Result<(), ApiError> {
    match nul_path(value, String::new()) {
        None => Ok(()),
        Some(path) => {
            let field = if path.is_empty() { "body" } else { &path };
            Err(ApiError::invalid(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(field),
                format!("{field}: {}", fandesk_domain::text::NUL_REASON),
            ))
        }
    }
}

fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item, format!("{path}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                return Some(inner.replace('\0', "\u{fffd}"));
            }
            nul_path(item, inner)
        }),
        _ => None,
    }
}

/// Decodes an already parsed JSON value as `T`, naming the field at fault.
pub fn decode_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    refuse_nul(&value)?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = field_name(&path, &message);
        ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            field.as_deref(),
            format!(
                "{}: {}",
                field.as_deref().unwrap_or("body"),
                strip_position(&message)
            ),
        )
    })
}

/// serde reports an unknown or missing field at its parent's path; the field's own name
/// is in the message between backticks.
fn field_name(path: &str, message: &str) -> Option<String> {
    let named = (message.starts_with("unknown field") || message.starts_with("missing field"))
        .then(|| message.split('`').nth(1).map(str::to_owned))
        .flatten();
    match (named, path) {
        (Some(name), "." | "") => Some(name),
        // serde_path_to_error already ends the path with an unknown field's name.
        (Some(name), path) if path == name || path.ends_with(&format!(".{name}")) => {
            Some(path.to_owned())
        }
        (Some(name), parent) => Some(format!("{parent}.{name}")),
        (None, "." | "") => None,
        (None, path) => Some(path.to_owned()),
    }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// Integer body fields that accept any JSON number without a fraction: JSON does not
/// tell `15` from `15.0`, and JSON Schema counts both as the integer 15. A fraction, or a
/// value out of the field's range, is refused with the field named. Use with
/// `#[serde(deserialize_with = "whole::required")]`, or for an `Option`,
/// `#[serde(default, deserialize_with = "whole::optional")]`.
pub mod whole {
    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Number;

    pub fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i128>,
    {
        let number = Number::deserialize(deserializer)?;
        integer(&number)
            .ok_or_else(|| D::Error::custom(format!("{number} is not an integer in range")))
    }

    pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i128>,
    {
        match Option::<Number>::deserialize(deserializer)? {
            None => Ok(None),
            Some(number) => integer(&number)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("{number} is not an integer in range"))),
        }
    }

    fn integer<T: TryFrom<i128>>(number: &Number) -> Option<T> {
        let value = match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(signed), _, _) => i128::from(signed),
            (None, Some(unsigned), _) => i128::from(unsigned),
            // A float beyond i128 saturates there, and so fails every field's range.
            (None, None, Some(float)) if float.is_finite() && float.fract() == 0.0 => float as i128,
            _ => return None,
        };
        T::try_from(value).ok()
    }
}

/// A query string decoded strictly.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        decode_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// Decodes a query string strictly, as [`Query`] does; for handlers that must decide
/// something (who may see the route) before the query is judged.
pub fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some((key, _)) = form_urlencoded::parse(query.as_bytes())
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
    {
        let field = if key.contains('\0') { "query" } else { &key };
        return Err(ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(field),
            format!("query {field}: {}", fandesk_domain::text::NUL_REASON),
        ));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = field_name(&path, &message);
        ApiError::invalid(
            StatusCode::BAD_REQUEST,
            field.as_deref(),
            format!("query {}: {message}", field.as_deref().unwrap_or("string")),
        )
    })
}

/// Answers 404 for a path holding an escaped U+0000 (`%00`): no id or page has one, and
/// the store never looks such text up (PostgreSQL cannot compare it).
pub async fn refuse_nul_path(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.uri().path().contains("%00") {
        return ApiError::not_found("route").into_response();
    }
    next.run(request).await
}

/// The bearer token of a request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// An authenticated caller (docs/api.md › Authentication: every other call). Without an
/// `Authorization` header, the console's session cookie is accepted under the CSRF rule
/// of [`crate::cookie`].
pub struct Auth(pub Session);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = match bearer_token(parts) {
            Some(token) => token.to_owned(),
            None => {
                let token = crate::cookie::session_token(&parts.headers)
                    .ok_or_else(ApiError::unauthorized)?;
                crate::cookie::check_csrf(
                    &parts.method,
                    &parts.headers,
                    &state.config.allowed_origins,
                )?;
                token
            }
        };
        Ok(Auth(state.app.authenticate(&token).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Send {
        client_msg_id: String,
        body: String,
    }

    fn check(input: &str, status: u16, field: Option<&str>) {
        let error = decode_json::<Send>(input.as_bytes()).expect_err(input);
        let (_, message) = error.code_and_message();
        let named = error.details()["field"].as_str().map(str::to_owned);
        let response = axum::response::IntoResponse::into_response(error);
        assert_eq!(response.status().as_u16(), status, "{input}");
        assert_eq!(named.as_deref(), field, "{input}: {message}");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Counts {
        #[serde(deserialize_with = "whole::required")]
        seconds: u64,
        #[serde(default, deserialize_with = "whole::optional")]
        limit: Option<u32>,
    }

    #[test]
    fn integers_may_be_written_as_whole_floats() {
        let decode = |input: &str| {
            decode_json::<Counts>(input.as_bytes()).map(|counts| (counts.seconds, counts.limit))
        };
        assert_eq!(decode(r#"{"seconds": 5}"#).ok(), Some((5, None)));
        assert_eq!(
            decode(r#"{"seconds": 5.0, "limit": 7.0}"#).ok(),
            Some((5, Some(7)))
        );
        assert_eq!(
            decode(r#"{"seconds": 5, "limit": null}"#).ok(),
            Some((5, None))
        );
        assert_eq!(
            decode(r#"{"seconds": 18446744073709551615}"#).ok(),
            Some((u64::MAX, None))
        );
        for refused in [
            r#"{"seconds": 5.5}"#,
            r#"{"seconds": -1}"#,
            r#"{"seconds": -1.0}"#,
            r#"{"seconds": 1e30}"#,
            r#"{"seconds": "5"}"#,
            r#"{"seconds": 5, "limit": 4294967296}"#,
            r#"{"seconds": 5, "limit": 0.5}"#,
        ] {
            let error = decode(refused).expect_err(refused);
            assert_eq!(error.code_and_message().0, "invalid_request", "{refused}");
            assert!(error.details()["field"].is_string(), "{refused}: {error:?}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Empty {}

    async fn body(text: &'static str) -> Result<Empty, (u16, &'static str)> {
        let request = Request::builder()
            .body(axum::body::Body::from(text))
            .expect("a request");
        match Json::<Empty>::from_request(request, &()).await {
            Ok(Json(value)) => Ok(value),
            Err(error) => {
                let code = error.code_and_message().0;
                let response = axum::response::IntoResponse::into_response(error);
                Err((response.status().as_u16(), code))
            }
        }
    }

    #[tokio::test]
    async fn bodies_are_objects_or_empty() {
        assert!(body("").await.is_ok());
        assert!(body(" {} ").await.is_ok());
        for (text, status) in [
            ("[]", 422),
            ("null", 422),
            ("7", 422),
            ("\"x\"", 422),
            ("[", 400),
            (" \n", 400),
        ] {
            assert_eq!(
                body(text).await.err(),
                Some((status, "invalid_request")),
                "{text}"
            );
        }
    }

    #[test]
    fn u0000_is_refused_by_its_path() {
        let refused = |input: &str| {
            let error = decode_json::<serde_json::Value>(input.as_bytes()).expect_err(input);
            assert_eq!(error.code_and_message().0, "invalid_request", "{input}");
            let response = axum::response::IntoResponse::into_response(error);
            assert_eq!(response.status().as_u16(), 422, "{input}");
        };
        let field = |input: &str| {
            decode_json::<serde_json::Value>(input.as_bytes())
                .expect_err(input)
                .details()["field"]
                .as_str()
                .map(str::to_owned)
        };
        for (input, path) in [
            (r#"{"body":"a\u0000b"}"#, "body"),
            (r#"{"author":{"name":"\u0000"}}"#, "author.name"),
            (r#"{"items":["ok",{"body":"x\u0000"}]}"#, "items[1].body"),
            // A key is named with U+FFFD in place of U+0000.
            (r#"{"attributes":{"k\u0000":"v"}}"#, "attributes.k\u{fffd}"),
        ] {
            refused(input);
            assert_eq!(field(input).as_deref(), Some(path), "{input}");
        }
        // An escaped backslash followed by "u0000" is six plain characters.
        assert!(decode_json::<serde_json::Value>(br#"{"body":"\\u0000"}"#).is_ok());
        // Strings decoded from an already parsed value are checked too (WebSocket frames).
        let value = serde_json::json!({"topic": "t\0"});
        let error = decode_value::<serde_json::Value>(value).expect_err("refused");
        assert_eq!(error.details()["field"], "topic");
    }

    #[test]
    fn rejections_name_the_field() {
        assert_eq!(
            field_name(".", "unknown field `colour`, expected one of"),
            Some("colour".into())
        );
        assert_eq!(field_name(".", "missing field `body`"), Some("body".into()));
        assert_eq!(
            field_name("body", "invalid type: integer `5`, expected a string"),
            Some("body".into())
        );
        assert_eq!(
            field_name("author", "unknown field `x`"),
            Some("author.x".into())
        );
        assert_eq!(
            field_name("colour", "unknown field `colour`"),
            Some("colour".into())
        );
        assert_eq!(
            field_name("author.x", "unknown field `x`"),
            Some("author.x".into())
        );
        check(
            r#"{"client_msg_id":"a","body":"b","colour":1}"#,
            422,
            Some("colour"),
        );
        check(r#"{"client_msg_id":"a","body":5}"#, 422, Some("body"));
        check(r#"{"client_msg_id":"a""#, 400, None);
        check(r#"{"client_msg_id":"a","body":"b"} trailing"#, 400, None);
        check("[]", 422, None);
    }
}
