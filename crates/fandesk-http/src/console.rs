//! The web console and the fans' pages: our own static files from `console/` at the
//! repository root, embedded in the binary, served at `/` (team console), `/chat` (fans'
//! chat), `/events/{id}` (an event's page for fans) and `/console/*` (assets) with a strict
//! Content-Security-Policy (no inline script or style, connections only to this host,
//! media only from this host or, on an event's page, from its video's origin),
//! `nosniff`, and revalidation by ETag so a new binary's files are picked up at once.

use crate::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../console/",
                $path
            )),
        }
    };
}

/// Every file of `console/` (a test keeps this list and the directory in step).
const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("chat.html", HTML),
    asset!("app.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("js/api.js", JS),
    asset!("js/app.js", JS),
    asset!("js/chat.js", JS),
    asset!("js/composer.js", JS),
    asset!("js/conversation.js", JS),
    asset!("js/dashboard.js", JS),
    asset!("js/directory.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/fanpanel.js", JS),
    asset!("js/format.js", JS),
    asset!("js/inbox.js", JS),
    asset!("js/later.js", JS),
    asset!("js/lists.js", JS),
    asset!("js/live.js", JS),
    asset!("js/timeline.js", JS),
    asset!("admin.css", CSS),
    asset!("js/charter.js", JS),
    asset!("js/webhooks.js", JS),
    asset!("js/flows.js", JS),
    asset!("js/events.js", JS),
    asset!("js/scheduled.js", JS),
    asset!("js/data.js", JS),
    asset!("js/channels.js", JS),
    asset!("js/decisions.js", JS),
    asset!("js/fans.js", JS),
    asset!("js/notify.js", JS),
    asset!("js/search.js", JS),
    asset!("js/team.js", JS),
    asset!("js/audit.js", JS),
    asset!("js/tokens.js", JS),
    asset!("js/shifts.js", JS),
    asset!("js/clock-in.js", JS),
    asset!("js/canned-library.js", JS),
    asset!("js/rules.js", JS),
    asset!("event.html", HTML),
    asset!("watch.css", CSS),
    asset!("js/fan-session.js", JS),
    asset!("js/watch.js", JS),
    asset!("js/watch-clock.js", JS),
    asset!("js/watch-chat.js", JS),
    asset!("js/watch-qa.js", JS),
    asset!("js/event-moderation.js", JS),
    asset!("js/event-metrics.js", JS),
    asset!("js/voice.js", JS),
    asset!("js/charter-due.js", JS),
    asset!("js/chart.js", JS),
    asset!("js/period.js", JS),
    asset!("js/metrics.js", JS),
    asset!("js/review.js", JS),
    asset!("js/report.js", JS),
    asset!("js/conv-actions.js", JS),
];

/// Longest path segment looked up as an event id (ids are far shorter).
const MAX_EVENT_ID_LEN: usize = 100;

/// The console's routes, merged into the main router (paths outside `/api/v1`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve("index.html", &headers, None) }),
        )
        .route(
            "/chat",
            get(|headers: HeaderMap| async move { serve("chat.html", &headers, None) }),
        )
        .route("/events/{id}", get(event_page))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                serve(&path, &headers, None)
            }),
        )
}

/// An event's page for fans. The page is the same for every event (it reads the event
/// over the API with the fan's session); only its policy differs: the video may load
/// from the origin of the event's `media_url`. An unknown event still gets the page,
/// which says so.
async fn event_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = if id.len() <= MAX_EVENT_ID_LEN {
        match state.app.event_media_origin(&id).await {
            Ok(origin) => origin,
            Err(error) => {
                tracing::warn!(%error, "event page: the event's video origin was not read");
                None
            }
        }
    } else {
        None
    };
    serve("event.html", &headers, origin.as_deref())
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

fn serve(path: &str, headers: &HeaderMap, media_origin: Option<&str>) -> Response {
    let Some(asset) = find(path) else {
        return crate::error::ApiError::not_found("console file").into_response();
    };
    let etag = format!("\"{:016x}\"", fnv1a(asset.body));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, asset.body).into_response()
    };
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(headers, media_origin)) {
        out.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Scripts, styles and images only from this server; no inline code (so injected markup
/// could not run even if some text were ever parsed as HTML); network connections only
/// to this server, including its WebSocket (older browsers do not let `'self'` cover
/// `ws:`/`wss:`, so the host is named); media from this server, or also from
/// `media_origin` (an event's video, already reduced to an origin by the domain).
fn content_security_policy(headers: &HeaderMap, media_origin: Option<&str>) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| valid_host(host));
    let sockets = host
        .map(|host| format!(" ws://{host} wss://{host}"))
        .unwrap_or_default();
    let media = media_origin
        .filter(|origin| valid_host(origin.replace("://", "").as_str()))
        .map(|origin| format!(" media-src 'self' {origin};"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{sockets};{media} object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// A Host header that cannot smuggle anything into the policy: name or address, port.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
}

/// FNV-1a: a stable, dependency-free fingerprint for the ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_console_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console");
        let mut found = Vec::new();
        let mut pending = vec![root.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    found.push(
                        path.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        found.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|asset| asset.path.to_owned()).collect();
        listed.sort();
        assert_eq!(found, listed, "console/ and ASSETS differ");
    }

    #[test]
    fn policy_names_the_websocket_host_only_when_safe() {
        let check = |host: Option<&str>, contains: &str, absent: &str| {
            let mut headers = HeaderMap::new();
            if let Some(host) = host {
                headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            }
            let policy = content_security_policy(&headers, None);
            assert!(policy.contains(contains), "{policy}");
            assert!(absent.is_empty() || !policy.contains(absent), "{policy}");
            assert!(!policy.contains("unsafe"), "{policy}");
        };
        check(
            Some("127.0.0.1:8080"),
            "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;",
            "",
        );
        check(Some("[::1]:80"), "ws://[::1]:80", "");
        check(
            Some("a; script-src *"),
            "connect-src 'self';",
            "script-src *",
        );
        check(None, "connect-src 'self';", "ws://");
    }

    #[test]
    fn an_event_page_may_load_media_from_its_video_origin_only() {
        let headers = HeaderMap::new();
        let policy = content_security_policy(&headers, Some("https://cdn.example.com:8443"));
        assert!(
            policy.contains("; media-src 'self' https://cdn.example.com:8443; object-src"),
            "{policy}"
        );
        assert!(!content_security_policy(&headers, None).contains("media-src"));
        let smuggled = content_security_policy(&headers, Some("https://a; script-src *"));
        assert!(!smuggled.contains("media-src"), "{smuggled}");
        assert!(!smuggled.contains("script-src *"), "{smuggled}");
    }

    #[test]
    fn assets_have_types() {
        for asset in ASSETS {
            let expected = match asset.path.rsplit('.').next() {
                Some("html") => HTML,
                Some("css") => CSS,
                Some("js") => JS,
                Some("svg") => SVG,
                other => panic!("unexpected file type {other:?}"),
            };
            assert_eq!(asset.content_type, expected, "{}", asset.path);
        }
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }
}
