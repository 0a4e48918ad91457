//! The settings of the HTTP edge's protections (README › Settings): the `/metrics` token,
//! and the connection and request limits that keep one client from exhausting the server.

use fandesk_http::HttpConfig;

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
}

impl EdgeArgs {
    /// `base` with these settings applied.
    pub fn apply(&self, base: HttpConfig) -> anyhow::Result<HttpConfig> {
        Ok(HttpConfig {
            metrics_token: self.metrics_token.clone().filter(|token| !token.is_empty()),
            ..base
        })
    }
}
