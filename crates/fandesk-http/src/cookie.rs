//! The team console's session cookie (README › Web console) and the CSRF rule that comes with
//! it. A browser logs in with `"cookie": true` and gets its token in an `HttpOnly`,
//! `SameSite=Strict` cookie that scripts cannot read; the `Auth` extractor and the
//! WebSocket upgrade accept it when no `Authorization` header is present.
//!
//! CSRF: a cookie-authenticated request that changes state (any method but GET, HEAD,
//! OPTIONS) must prove it comes from our own pages. Its `Origin`, when present, must be
//! this server's (or on the allow-list, like WebSockets); without an `Origin` it must
//! carry `X-Requested-With`, a header cross-site forms cannot send and cross-site
//! scripts cannot send without a CORS preflight, which this server never grants. Bearer
//! requests are not exposed to CSRF (browsers never attach the header by themselves).

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};

/// The cookie's name; `__Host-` would forbid it on plain-HTTP development servers.
pub const NAME: &str = "fandesk_session";

/// The session token in the request's cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

/// `Set-Cookie` for a new session living `max_age_secs`. `secure` adds `Secure` (the
/// page was served over HTTPS, so the cookie must never travel over plain HTTP).
pub fn set(token: &str, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age_secs.max(0)
    );
    HeaderValue::from_str(&value).ok()
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear() -> HeaderValue {
    HeaderValue::from_static("fandesk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request came from an HTTPS page (then the cookie is marked `Secure`).
pub fn from_https(headers: &HeaderMap) -> bool {
    let origin_https = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|origin| origin.starts_with("https://"));
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    origin_https || forwarded_https
}

/// The CSRF rule of this module's comment, for a request authenticated by the cookie
/// (or asking for one).
pub fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    allowed_origins: &[String],
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let trusted = if headers.contains_key(header::ORIGIN) {
        crate::ws::origin_allowed(headers, allowed_origins)
    } else {
        headers.contains_key("x-requested-with")
    };
    if trusted {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "cross-site request refused: send it from the console's origin (or with X-Requested-With)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn finds_the_session_cookie() {
        let check = |pairs: &[(&str, &str)], expected: Option<&str>| {
            assert_eq!(
                session_token(&headers(pairs)).as_deref(),
                expected,
                "{pairs:?}"
            );
        };
        check(&[("cookie", "fandesk_session=abc")], Some("abc"));
        check(&[("cookie", "a=1; fandesk_session=abc; b=2")], Some("abc"));
        check(
            &[("cookie", "a=1"), ("cookie", "fandesk_session=xyz")],
            Some("xyz"),
        );
        check(&[("cookie", "fandesk_session=")], None);
        check(&[("cookie", "xfandesk_session=abc")], None);
        check(&[], None);
    }

    #[test]
    fn cookie_attributes() {
        let value = set("fdk_1", 3600, false).unwrap();
        assert_eq!(
            value,
            "fandesk_session=fdk_1; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        );
        assert!(
            set("fdk_1", 60, true)
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
        assert!(clear().to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn csrf_rule() {
        let host = ("host", "desk.example:8080");
        let check = |method: Method, pairs: &[(&str, &str)], ok: bool| {
            assert_eq!(
                check_csrf(&method, &headers(pairs), &[]).is_ok(),
                ok,
                "{method} {pairs:?}"
            );
        };
        check(
            Method::GET,
            &[host, ("origin", "http://evil.example")],
            true,
        );
        check(
            Method::POST,
            &[host, ("origin", "http://desk.example:8080")],
            true,
        );
        check(
            Method::POST,
            &[host, ("origin", "https://desk.example:8080")],
            true,
        );
        check(
            Method::POST,
            &[host, ("origin", "http://evil.example")],
            false,
        );
        check(
            Method::POST,
            &[
                host,
                ("origin", "http://evil.example"),
                ("x-requested-with", "fandesk"),
            ],
            false,
        );
        check(Method::POST, &[host, ("origin", "null")], false);
        check(Method::DELETE, &[host], false);
        check(
            Method::PATCH,
            &[host, ("x-requested-with", "fandesk")],
            true,
        );
        assert!(
            check_csrf(
                &Method::POST,
                &headers(&[host, ("origin", "http://app.example")]),
                &["http://app.example".into()]
            )
            .is_ok()
        );
    }
}
