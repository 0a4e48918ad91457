//! `GET /api/v1/ws` (docs/api.md › WebSocket): the upgrade, the browser Origin check,
//! and per-connection limits. The connection loop lives in [`connection`].

mod connection;
pub mod frames;
mod outbound;
mod pace;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::bearer_token;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
pub use pace::FrameRate;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Bytes tungstenite reads from the socket at once (its read buffer's initial size).
const READ_BUFFER_BYTES: usize = 512;
/// Bytes of frames buffered before tungstenite writes without waiting for the flush.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// WebSocket limits.
#[derive(Clone, Debug)]
pub struct WsConfig {
    /// A connection that sends nothing (not even a pong to our pings) for this long is
    /// closed. The server pings at a third of it.
    pub idle_timeout: Duration,
    /// Frames queued for one connection before it counts as a slow consumer (4008).
    pub queue_frames: usize,
    /// Largest accepted client message and frame, in bytes.
    pub max_message_bytes: usize,
    /// Time allowed for the `hello` frame when the upgrade carried no token.
    pub hello_timeout: Duration,
    /// How fast a fan's connection is read: a burst of frames, then a steady rate, each
    /// raised by the fan message quota (`FrameRate::with_quota`); faster frames wait in the
    /// socket until their turn (`pace.rs`). `None`: as fast as they come.
    pub fan_frames: Option<FrameRate>,
    /// The same for a connection that has not authenticated yet (it needs one `hello`).
    pub anonymous_frames: Option<FrameRate>,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            idle_timeout: Duration::from_secs(90),
            queue_frames: 1024,
            max_message_bytes: 64 * 1024,
            hello_timeout: Duration::from_secs(10),
            // With the default quota of 30 messages a minute: 60 frames at once, then 6 a
            // second. The console sends `typing` at most every 3 s per topic.
            fan_frames: Some(FrameRate {
                per_second: 5,
                burst: 30,
            }),
            anonymous_frames: Some(FrameRate {
                per_second: 2,
                burst: 10,
            }),
        }
    }
}

/// The WebSocket upgrade route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(upgrade))
}

#[utoipa::path(get, path = "/api/v1/ws", tag = "realtime", security((), ("bearer" = [])),
    params(
        ("Connection" = String, Header, pattern = "[Uu][Pp][Gg][Rr][Aa][Dd][Ee]",
         description = "lists `Upgrade`"),
        ("Upgrade" = String, Header, pattern = "^[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]$",
         description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, pattern = "^13$"),
        ("Sec-WebSocket-Key" = String, Header, description = "the client's nonce (RFC 6455)"),
    ),
    description = "WebSocket upgrade. Authenticate with `Authorization: Bearer`, the console's \
                   session cookie, or a first `{\"type\":\"hello\",\"token\"}` frame. See \
                   docs/api.md › WebSocket.",
    responses((status = 101, description = "switching protocols"),
              (status = 400, description = "`invalid_request`: not a WebSocket upgrade request",
               body = crate::routes::ErrorBody),
              (status = 401, description = "`unauthorized`: a token was given and is not valid",
               body = crate::routes::ErrorBody),
              (status = 403, description = "`forbidden`: a browser Origin not allowed",
               body = crate::routes::ErrorBody),
              (status = 426, description = "`invalid_request`: the connection cannot be upgraded",
               body = crate::routes::ErrorBody)))]
pub async fn upgrade(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let client = match crate::client::ClientAddress::from_request_parts(&mut parts, &state).await {
        Ok(crate::client::ClientAddress(client)) => client,
        Err(error) => return error.into_response(),
    };
    if !origin_allowed(&parts.headers, &state.config.allowed_origins) {
        return ApiError::from(fandesk_service::ServiceError::Forbidden(
            "WebSocket Origin not allowed".into(),
        ))
        .into_response();
    }
    // The console's session cookie stands in for the header; Origin was checked above.
    let token = bearer_token(&parts)
        .map(str::to_owned)
        .or_else(|| crate::cookie::session_token(&parts.headers));
    let session = match token {
        Some(token) => match state.app.authenticate(&token).await {
            Ok(session) => Some(session),
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => None,
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return upgrade_refused(rejection).into_response(),
    };
    let max_message_bytes = state.config.ws.max_message_bytes;
    // One box for what the connection needs: axum's upgrade task keeps whatever the
    // callback captures for the connection's whole life.
    let parts = Box::new((state, session, client));
    upgrade
        // tungstenite's defaults are a 128 KiB read buffer and 64 MiB messages per
        // connection; idle connections must stay small (BENCHMARKS.md). Client frames are
        // small; a larger one (up to `max_message_bytes`) still assembles, the buffer
        // grows for it.
        .read_buffer_size(READ_BUFFER_BYTES)
        // Frames are buffered until the connection flushes, once per wake-up: a room's
        // coalesced tick goes out in one write. The buffer is empty until first used.
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
        .on_upgrade(move |socket| {
            let (state, session, client) = *parts;
            connection::run(socket, state, session, client)
        })
}

/// A request that is not a valid WebSocket upgrade, in the API's error shape.
fn upgrade_refused(rejection: WebSocketUpgradeRejection) -> ApiError {
    ApiError::invalid(
        rejection.status(),
        None,
        format!("not a WebSocket upgrade: {}", rejection.body_text()),
    )
}

/// Browsers always send `Origin`; other clients usually don't. A present Origin must be
/// the server's own (same host) or on the allow-list.
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed
        .iter()
        .any(|entry| entry == "*" || entry.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(origin: Option<&str>, host: &str, allowed: &[&str], expected: bool) {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            origin_allowed(&headers, &allowed),
            expected,
            "{origin:?} on {host}"
        );
    }

    #[test]
    fn origin_rules() {
        check(None, "a:8080", &[], true);
        check(Some("http://a:8080"), "a:8080", &[], true);
        check(Some("https://a:8080"), "a:8080", &[], true);
        check(Some("http://evil.example"), "a:8080", &[], false);
        check(
            Some("http://evil.example"),
            "a:8080",
            &["http://evil.example"],
            true,
        );
        check(Some("null"), "a:8080", &[], false);
    }
}
