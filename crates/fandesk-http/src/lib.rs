//! fandesk's HTTP edge: REST handlers, the WebSocket endpoint, strict extractors, error
//! mapping and the OpenAPI document. Only this crate names axum and the wire DTOs of
//! requests.

mod console;
mod cookie;
pub mod error;
pub mod extract;
mod limits;
pub mod openapi;
mod routes;
pub mod ws;

pub use ws::WsConfig;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use fandesk_service::App;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Browser origins allowed to open WebSockets besides the server's own
    /// (`*` allows any).
    pub allowed_origins: Vec<String>,
    pub ws: WsConfig,
    /// Login attempts allowed per client IP address and minute (burst of the same size).
    pub login_attempts_per_minute: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_origins: Vec::new(),
            ws: WsConfig::default(),
            login_attempts_per_minute: 30,
        }
    }
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<HttpConfig>,
    /// Cancelled on shutdown: WebSockets close with 1001.
    pub shutdown: CancellationToken,
    /// Login attempts per client address (password guessing).
    pub login_limiter: Arc<limits::LoginLimiter>,
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(routes::auth::login))
        .route("/auth/logout", post(routes::auth::logout))
        .route("/me", get(routes::auth::me))
        .route(
            "/members",
            post(routes::auth::create_member).get(routes::auth::list_members),
        )
        .route("/fan-sessions", post(routes::auth::create_fan_session))
        .route(
            "/conversations",
            post(routes::conversations::open).get(routes::conversations::list),
        )
        .route("/conversations/{id}", get(routes::conversations::get))
        .route(
            "/conversations/{id}/resolve",
            post(routes::conversations::resolve),
        )
        .route(
            "/conversations/{id}/reopen",
            post(routes::conversations::reopen),
        )
        .route(
            "/conversations/{id}/assign",
            post(routes::supervision::assign),
        )
        .route(
            "/conversations/{id}/unassign",
            post(routes::supervision::unassign),
        )
        .route(
            "/conversations/{id}/escalate",
            post(routes::supervision::escalate),
        )
        .route(
            "/conversations/{id}/monitor",
            post(routes::supervision::monitor),
        )
        .route(
            "/conversations/{id}/takeover",
            post(routes::supervision::takeover),
        )
        .route(
            "/conversations/{id}/handback",
            post(routes::supervision::handback),
        )
        .route("/audit", get(routes::supervision::audit))
        .route("/alerts", get(routes::signals::alerts))
        .route("/metrics/summary", get(routes::metrics::summary))
        .route("/reports/weekly", get(routes::metrics::weekly))
        .route(
            "/keyword-rules",
            get(routes::signals::list_keyword_rules).post(routes::signals::create_keyword_rule),
        )
        .route(
            "/keyword-rules/{id}",
            axum::routing::delete(routes::signals::delete_keyword_rule),
        )
        .route(
            "/restricted-rules",
            get(routes::signals::list_restricted_rules)
                .post(routes::signals::create_restricted_rule),
        )
        .route(
            "/restricted-rules/{id}",
            axum::routing::delete(routes::signals::delete_restricted_rule),
        )
        .route("/review/messages", get(routes::supervision::review))
        .route(
            "/fans/{id}",
            get(routes::desk::get_fan).patch(routes::desk::update_fan),
        )
        .route("/queue", get(routes::desk::queue))
        .route("/desk/agents", get(routes::desk::agents))
        .route(
            "/members/{id}/capacity",
            axum::routing::put(routes::desk::set_capacity),
        )
        .route(
            "/shifts",
            get(routes::shifts::list).post(routes::shifts::create),
        )
        .route("/shifts/clock-in", post(routes::shifts::clock_in))
        .route("/shifts/clock-out", post(routes::shifts::clock_out))
        .route(
            "/shifts/{id}",
            axum::routing::patch(routes::shifts::update).delete(routes::shifts::delete),
        )
        .route("/coverage", get(routes::shifts::coverage))
        .route(
            "/canned-responses",
            get(routes::canned::list).post(routes::canned::create),
        )
        .route("/canned-responses/health", get(routes::canned::health))
        .route(
            "/canned-responses/{id}",
            axum::routing::patch(routes::canned::update).delete(routes::canned::delete),
        )
        .route(
            "/canned-responses/{id}/render",
            post(routes::canned::render),
        )
        .route(
            "/conversations/{id}/messages",
            post(routes::conversations::send).get(routes::conversations::list_messages),
        )
        .route(
            "/rooms",
            post(routes::rooms::create).get(routes::rooms::list),
        )
        .route("/rooms/{id}", get(routes::rooms::get))
        .route("/rooms/{id}/open", post(routes::rooms::open))
        .route("/rooms/{id}/close", post(routes::rooms::close))
        .route(
            "/rooms/{id}/messages",
            post(routes::rooms::send).get(routes::rooms::list_messages),
        )
        .route(
            "/rooms/{id}/messages/{message_id}/delete",
            post(routes::rooms::delete_message),
        )
        .route("/rooms/{id}/timeouts", post(routes::rooms::time_out))
        .route("/openapi.json", get(routes::system::openapi))
        .route("/ws", get(ws::upgrade))
        .fallback(|| async { error::ApiError::not_found("route") });
    Router::new()
        .route("/healthz", get(routes::system::healthz))
        .route("/metrics", get(routes::system::metrics))
        .nest("/api/v1", api)
        .merge(console::routes())
        .fallback(|| async { error::ApiError::not_found("route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .with_state(state)
}

async fn count_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    state.app.metrics().http_requests.inc();
    next.run(request).await
}

/// Serves until `shutdown` is cancelled: stops accepting, closes WebSockets with 1001,
/// and waits for in-flight requests (and so their writes) to finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: HttpConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let login_limiter = Arc::new(limits::LoginLimiter::new(config.login_attempts_per_minute));
    let state = AppState {
        app,
        config: Arc::new(config),
        shutdown: shutdown.clone(),
        login_limiter,
    };
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Acks and events are small writes: without TCP_NODELAY, Nagle's algorithm and the
    // peer's delayed ACK hold an ack back ~40 ms (measured, BENCHMARKS.md).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, service)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
