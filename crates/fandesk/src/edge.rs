//! The settings of the HTTP edge's protections (README › Settings): the `/metrics` token,
//! and the connection and request limits that keep one client from exhausting the server.

use fandesk_http::client::{FanPolicy, LoginPolicy, ProxyRange};
use fandesk_http::{ConnectionLimits, HttpConfig};
use std::time::Duration;

/// Flags and variables of `fandesk serve` for the edge; each falls back to
/// `HttpConfig::default()`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct EdgeArgs {
    /// The bearer token `/metrics` requires (prefer the variable: a flag shows in the
    /// process list). Without it `/metrics` is refused.
    #[arg(
        long = "metrics-token",
        env = "FANDESK_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// Seconds a connection may take to send a request's headers; also the idle time
    /// allowed between requests on a kept-alive connection (default 10).
    #[arg(long = "header-timeout-secs", env = "FANDESK_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Open connections (WebSockets included) allowed from one client address (default
    /// 256); more are answered 429 and closed.
    #[arg(
        long = "max-connections-per-ip",
        env = "FANDESK_MAX_CONNECTIONS_PER_IP"
    )]
    pub max_connections_per_ip: Option<usize>,
    /// Open connections in all (default: the open-file limit less the reserve); more are
    /// answered 503 (but `/healthz`) and closed.
    #[arg(long = "max-connections", env = "FANDESK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// File descriptors kept free for the database, logs, webhooks and refusals (default
    /// 128).
    #[arg(long = "fd-reserve", env = "FANDESK_FD_RESERVE")]
    pub fd_reserve: Option<usize>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` names
    /// the client; without it the peer's address is the client's.
    #[arg(
        long = "trusted-proxies",
        env = "FANDESK_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ProxyRange>,
    /// Failed logins allowed from one client address per minute (default 100).
    #[arg(long = "login-failures-per-ip", env = "FANDESK_LOGIN_FAILURES_PER_IP")]
    pub login_failures_per_ip: Option<u32>,
    /// Fan sessions one client address may create per minute (default 60).
    #[arg(long = "fan-sessions-per-ip", env = "FANDESK_FAN_SESSIONS_PER_IP")]
    pub fan_sessions_per_ip: Option<u32>,
    /// Messages one fan may send per minute (default 30).
    #[arg(long = "fan-messages-per-fan", env = "FANDESK_FAN_MESSAGES_PER_FAN")]
    pub fan_messages_per_fan: Option<u32>,
    /// Messages the fans at one client address may send per minute (default 300).
    #[arg(long = "fan-messages-per-ip", env = "FANDESK_FAN_MESSAGES_PER_IP")]
    pub fan_messages_per_ip: Option<u32>,
}

impl EdgeArgs {
    /// `base` with these settings applied.
    pub fn apply(&self, base: HttpConfig) -> anyhow::Result<HttpConfig> {
        let defaults = base.connections.clone();
        let connections = ConnectionLimits {
            header_read_timeout: self
                .header_timeout_secs
                .map_or(defaults.header_read_timeout, Duration::from_secs),
            max_per_ip: self.max_connections_per_ip.unwrap_or(defaults.max_per_ip),
            max_connections: self.max_connections.or(defaults.max_connections),
            fd_reserve: self.fd_reserve.unwrap_or(defaults.fd_reserve),
        };
        if connections.header_read_timeout.is_zero() || connections.max_per_ip == 0 {
            anyhow::bail!("--header-timeout-secs and --max-connections-per-ip must be at least 1");
        }
        let login = LoginPolicy {
            failures_per_address_per_minute: self
                .login_failures_per_ip
                .unwrap_or(base.login.failures_per_address_per_minute),
            ..base.login.clone()
        };
        let fans = FanPolicy {
            sessions_per_address_per_minute: self
                .fan_sessions_per_ip
                .unwrap_or(base.fans.sessions_per_address_per_minute),
            messages_per_fan_per_minute: self
                .fan_messages_per_fan
                .unwrap_or(base.fans.messages_per_fan_per_minute),
            messages_per_address_per_minute: self
                .fan_messages_per_ip
                .unwrap_or(base.fans.messages_per_address_per_minute),
        };
        Ok(HttpConfig {
            metrics_token: self.metrics_token.clone().filter(|token| !token.is_empty()),
            connections,
            login,
            fans,
            trusted_proxies: self.trusted_proxies.clone(),
            ..base
        })
    }
}
