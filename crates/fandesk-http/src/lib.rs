//! fandesk's HTTP edge: REST handlers, the WebSocket endpoint, strict extractors, error
//! mapping and the OpenAPI document. Only this crate names axum and the wire DTOs of
//! requests.

pub mod client;
mod console;
mod cookie;
pub mod error;
pub mod extract;
#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod listen;
pub mod openapi;
mod routes;
pub mod ws;

pub use listen::ConnectionLimits;
pub use ws::WsConfig;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use fandesk_service::App;
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
    /// Login backoff per account and failed logins per client address.
    pub login: client::LoginPolicy,
    /// Fan sessions per client address, fan messages per fan and per address.
    pub fans: client::FanPolicy,
    /// Proxies whose `X-Forwarded-For` names the client (`client::client_address`); their
    /// own connections are not capped per address.
    pub trusted_proxies: Vec<client::ProxyRange>,
    /// Longest a request may take until its response starts; past it the answer is 503
    /// `timeout`. A WebSocket is not cut: its upgrade answers at once.
    pub request_timeout: std::time::Duration,
    /// The bearer token a Prometheus scraper presents on `/metrics`; without one the
    /// route is refused (the metrics describe the team's workload).
    pub metrics_token: Option<String>,
    /// Header-read timeout, connections per address and in all, descriptors in reserve.
    pub connections: ConnectionLimits,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_origins: Vec::new(),
            ws: WsConfig::default(),
            login: client::LoginPolicy::default(),
            fans: client::FanPolicy::default(),
            trusted_proxies: Vec::new(),
            request_timeout: std::time::Duration::from_secs(30),
            metrics_token: None,
            connections: ConnectionLimits::default(),
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
    /// Login backoff per account, failed logins per address (password guessing).
    pub login_guard: Arc<client::LoginGuard>,
    /// Fan sessions and messages per fan and per address (floods).
    pub fan_limits: Arc<client::FanLimits>,
}

impl AppState {
    /// Counts a message from `principal` at `client` against the fan limits; members are
    /// not limited here.
    pub(crate) fn limit_fan_message(
        &self,
        principal: &fandesk_domain::Principal,
        client: std::net::IpAddr,
    ) -> Result<(), error::ApiError> {
        match principal {
            fandesk_domain::Principal::Fan { id, .. } => {
                self.fan_limits
                    .message(id.as_str(), client, std::time::Instant::now())
            }
            fandesk_domain::Principal::Member { .. } => Ok(()),
        }
    }
}

/// All routes: the documented ones of [`routes::router`] (the OpenAPI document is made
/// from the same router), the console's pages, and the error answers for unknown paths
/// and methods.
pub fn router(state: AppState) -> Router {
    let (routes, document) = routes::router().split_for_parts();
    let document = serde_json::to_vec(&openapi::finish(document))
        .expect("the OpenAPI document serializes to JSON");
    let timeout = state.config.request_timeout;
    routes
        .merge(console::routes())
        .fallback(|| async { error::ApiError::not_found("route") })
        // Must follow every route: it applies to the routes registered so far.
        .method_not_allowed_fallback(|| async { error::ApiError::method_not_allowed() })
        .layer(axum::Extension(routes::system::OpenApiJson(
            document.into(),
        )))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(axum::middleware::from_fn(move |request, next| {
            limits::time_limit(timeout, request, next)
        }))
        .layer(axum::middleware::from_fn(extract::refuse_nul_path))
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
/// and waits for in-flight requests (and so their writes) to finish. Connections are
/// accepted under [`ConnectionLimits`] (`listen.rs`).
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: HttpConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let login_guard = Arc::new(client::LoginGuard::new(config.login.clone()));
    let fan_limits = Arc::new(client::FanLimits::new(&config.fans));
    let state = AppState {
        app,
        config: Arc::new(config),
        shutdown: shutdown.clone(),
        login_guard,
        fan_limits,
    };
    let limits = state.config.connections.clone();
    let trusted = state.config.trusted_proxies.clone();
    listen::accept_loop(listener, router(state), limits, trusted, shutdown).await
}
