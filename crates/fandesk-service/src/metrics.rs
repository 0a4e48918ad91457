//! Operational metrics in Prometheus form (issue 2 › 7). The registry belongs to the
//! [`App`](crate::App), not to the process, so several servers in one test process keep
//! separate numbers.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub ws_connections: Gauge,
    /// Messages (timeline entries) committed.
    pub messages_written: Counter,
    /// Acknowledgements given for sends (new and repeated), over REST and WebSocket.
    pub acks: Counter,
    /// Ops per group-commit transaction.
    pub batch_size: Histogram,
    /// Seconds per group-commit transaction.
    pub commit_seconds: Histogram,
    /// Slow subscribers closed with 4008.
    pub slow_consumers_closed: Counter,
    /// HTTP requests served.
    pub http_requests: Counter,
    /// Committed messages not examined for alerts because the signal queue was full.
    pub signals_dropped: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fandesk");
        let ws_connections = Gauge::default();
        let messages_written = Counter::default();
        let acks = Counter::default();
        let batch_size = Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]);
        let commit_seconds = Histogram::new([
            0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
        ]);
        let slow_consumers_closed = Counter::default();
        let http_requests = Counter::default();
        let signals_dropped = Counter::default();
        registry.register(
            "signals_dropped",
            "Committed messages skipped by alerting because its queue was full",
            signals_dropped.clone(),
        );
        registry.register("ws_connections", "Open WebSocket connections", ws_connections.clone());
        registry.register("messages_written", "Messages committed", messages_written.clone());
        registry.register("acks", "Send acknowledgements given", acks.clone());
        registry.register("write_batch_size", "Ops per group-commit transaction", batch_size.clone());
        registry.register("commit_seconds", "Group-commit transaction latency", commit_seconds.clone());
        registry.register(
            "slow_consumers_closed",
            "WebSocket subscribers closed for falling behind (4008)",
            slow_consumers_closed.clone(),
        );
        registry.register("http_requests", "HTTP requests served", http_requests.clone());
        Metrics {
            registry,
            ws_connections,
            messages_written,
            acks,
            batch_size,
            commit_seconds,
            slow_consumers_closed,
            http_requests,
            signals_dropped,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
