//! Operational metrics in Prometheus form (docs/metrics.md). The registry belongs to the
//! [`App`](crate::App), not to the process, so several servers in one test process keep
//! separate numbers. The group-commit histograms carry the writer's name as the `writer`
//! label (`conversation`, `room`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

use super::heap_metrics::{HeapCollector, HeapReader};

pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub ws_connections: Gauge,
    /// Messages (timeline entries) committed.
    pub messages_written: Counter,
    /// Acknowledgements given for sends (new and repeated), over REST and WebSocket.
    pub acks: Counter,
    /// Ops per group-commit transaction, by writer.
    pub batch_size: Family<WriterLabels, Histogram, fn() -> Histogram>,
    /// Seconds per group-commit transaction, by writer.
    pub commit_seconds: Family<WriterLabels, Histogram, fn() -> Histogram>,
    /// Slow subscribers closed with 4008.
    pub slow_consumers_closed: Counter,
    /// HTTP requests served.
    pub http_requests: Counter,
    /// Committed messages not examined for alerts because the signal queue was full.
    pub signals_dropped: Counter,
    /// Events not sent to webhooks because the integrations queue was full.
    pub webhook_events_dropped: Counter,
    /// Live desk gauges (docs/product.md › Metrics and reports), refreshed from the store
    /// at each scrape.
    pub desk: DeskGauges,
    /// Events handed to the desk worker (routing, SLA timers) and not yet taken by it.
    pub desk_events_waiting: Gauge,
    /// The allocator's figures, once the binary hands over a reader.
    heap: Arc<HeapCollector>,
}

/// The `writer` label of the group-commit histograms.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriterLabels {
    pub writer: &'static str,
}

/// One writer's group-commit histograms, resolved once when the writer starts.
pub(crate) struct WriterMetrics {
    pub batch_size: Histogram,
    pub commit_seconds: Histogram,
}

fn batch_size_histogram() -> Histogram {
    Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0])
}

fn commit_seconds_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
    ])
}

/// Fans waiting for a human, the oldest wait, members clocked in, alerts raised.
#[derive(Default)]
pub struct DeskGauges {
    pub waiting_fans: Gauge,
    pub oldest_wait_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub agents_online: Gauge,
    pub alerts_raised: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fandesk");
        let ws_connections = Gauge::default();
        let messages_written = Counter::default();
        let acks = Counter::default();
        let batch_size: Family<WriterLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(batch_size_histogram);
        let commit_seconds: Family<WriterLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(commit_seconds_histogram);
        let slow_consumers_closed = Counter::default();
        let http_requests = Counter::default();
        let signals_dropped = Counter::default();
        let webhook_events_dropped = Counter::default();
        registry.register(
            "webhook_events_dropped",
            "Events not sent to webhooks because their queue was full",
            webhook_events_dropped.clone(),
        );
        registry.register(
            "signals_dropped",
            "Committed messages skipped by alerting because its queue was full",
            signals_dropped.clone(),
        );
        registry.register(
            "ws_connections",
            "Open WebSocket connections",
            ws_connections.clone(),
        );
        registry.register(
            "messages_written",
            "Messages committed",
            messages_written.clone(),
        );
        registry.register("acks", "Send acknowledgements given", acks.clone());
        registry.register(
            "write_batch_size",
            "Ops per group-commit transaction",
            batch_size.clone(),
        );
        registry.register(
            "commit_seconds",
            "Group-commit transaction latency",
            commit_seconds.clone(),
        );
        registry.register(
            "slow_consumers_closed",
            "WebSocket subscribers closed for falling behind (4008)",
            slow_consumers_closed.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        let desk = DeskGauges::default();
        registry.register(
            "waiting_fans",
            "Unresolved conversations whose fan waits for a human reply",
            desk.waiting_fans.clone(),
        );
        registry.register(
            "oldest_wait_seconds",
            "How long the longest-waiting fan has waited for a human reply",
            desk.oldest_wait_seconds.clone(),
        );
        registry.register(
            "agents_online",
            "Team members clocked in",
            desk.agents_online.clone(),
        );
        registry.register(
            "alerts_raised",
            "Alerts raised since the database was created",
            desk.alerts_raised.clone(),
        );
        let desk_events_waiting = Gauge::default();
        registry.register(
            "desk_events_waiting",
            "Events handed to the desk worker and not yet taken by it (a fan message merges into its conversation's waiting one)",
            desk_events_waiting.clone(),
        );
        let heap = Arc::new(HeapCollector::default());
        registry.register_collector(Box::new(Arc::clone(&heap)));
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
            webhook_events_dropped,
            desk,
            desk_events_waiting,
            heap,
        }
    }

    /// Reports the allocator's figures at each scrape (docs/api.md › `GET /metrics`). The
    /// first reader set stays.
    pub fn set_heap_reader(&self, reader: HeapReader) {
        let _ = self.heap.reader.set(reader);
    }

    /// The histograms of the writer named `writer`.
    pub(crate) fn writer(&self, writer: &'static str) -> WriterMetrics {
        let labels = WriterLabels { writer };
        WriterMetrics {
            batch_size: self.batch_size.get_or_create(&labels).clone(),
            commit_seconds: self.commit_seconds.get_or_create(&labels).clone(),
        }
    }

    /// Sets the live desk gauges from the store's figures as of `now`.
    pub fn set_desk_figures(&self, figures: &fandesk_store::LiveDeskFigures, now: jiff::Timestamp) {
        self.desk.waiting_fans.set(figures.waiting_fans);
        let oldest = figures.oldest_waiting_since.map_or(0.0, |since| {
            now.duration_since(since).as_secs_f64().max(0.0)
        });
        self.desk.oldest_wait_seconds.set(oldest);
        self.desk.agents_online.set(figures.agents_clocked_in);
        self.desk.alerts_raised.set(figures.alerts_raised);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeapFigures;

    #[test]
    fn heap_gauges_appear_only_with_a_reader() {
        let metrics = Metrics::new();
        assert!(!metrics.render().contains("heap_"));
        metrics.set_heap_reader(|| {
            Some(HeapFigures {
                allocated: 1_000,
                active: 4_096,
                resident: 8_192,
            })
        });
        let text = metrics.render();
        for line in [
            "# TYPE fandesk_heap_allocated_bytes gauge",
            "# UNIT fandesk_heap_allocated_bytes bytes",
            "fandesk_heap_allocated_bytes 1000",
            "fandesk_heap_active_bytes 4096",
            "fandesk_heap_resident_bytes 8192",
        ] {
            assert!(
                text.lines().any(|got| got == line),
                "no {line:?} in\n{text}"
            );
        }
        assert!(text.trim_end().ends_with("# EOF"));
    }

    #[test]
    fn commit_histograms_are_labelled_by_writer() {
        let metrics = Metrics::new();
        let conversation = metrics.writer("conversation");
        let room = metrics.writer("room");
        conversation.batch_size.observe(3.0);
        conversation.batch_size.observe(5.0);
        room.commit_seconds.observe(0.004);
        // Resolving a writer again shares its series.
        metrics.writer("room").commit_seconds.observe(0.002);
        let text = metrics.render();
        for line in [
            "fandesk_write_batch_size_count{writer=\"conversation\"} 2",
            "fandesk_write_batch_size_sum{writer=\"conversation\"} 8.0",
            "fandesk_write_batch_size_count{writer=\"room\"} 0",
            "fandesk_commit_seconds_count{writer=\"room\"} 2",
        ] {
            assert!(
                text.lines().any(|got| got == line),
                "no {line:?} in\n{text}"
            );
        }
    }
}
