//! The application object every use case hangs off: [`App`] owns the store, the bus, the
//! clock, the Prometheus registry and the background machinery (the group-commit writers,
//! the rooms' fan-out, the desk worker, the job scheduler, the charter in force, the webhooks' worker), and
//! starts and stops them.

pub mod clock;
pub mod config;
pub mod error;
pub mod heap_metrics;
pub mod metrics;

use crate::conversation::commit::{ConversationBatch, ConversationWriter};
use crate::jobs::{Jobs, Registry};
use crate::{auth, charter, desk, integration, reporting, room, signals};
use clock::Clock;
use config::Config;
use fandesk_bus::Bus;
use fandesk_store::Store;
use metrics::Metrics;
use std::sync::Arc;

/// The application: cheap to clone, shared by every connection.
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) config: Config,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) writer: ConversationWriter,
    /// Live rooms: their own group-commit writer and the viewer counts.
    pub(crate) rooms: room::Rooms,
    /// Events' questions: their own group-commit writer.
    pub(crate) questions: crate::event::commit::QuestionWriter,
    /// Team channels: their own group-commit writer.
    pub(crate) channels: crate::channel::commit::ChannelWriter,
    /// The charter in force on this node, compiled.
    pub(crate) charter: charter::CharterRuntime,
    /// The agent desk's worker.
    pub(crate) desk: desk::DeskRuntime,
    /// The job scheduler and what it runs.
    pub(crate) jobs: Jobs,
    /// Outgoing webhooks: the event queue and its worker, the SSRF guard, HTTP clients.
    pub(crate) integrations: integration::Integrations,
    /// Password hashes in progress at once: each argon2 hash holds 19 MiB, so a burst of
    /// logins must queue rather than grow the heap (measured, BENCHMARKS.md).
    pub(crate) password_slots: tokio::sync::Semaphore,
}

impl App {
    /// Starts the service and its background tasks: the group-commit writers, the rooms'
    /// fan-out and viewer ticker, the desk worker, the job scheduler, the signal processor.
    pub fn start(store: Store, bus: Arc<dyn Bus>, config: Config, clock: Arc<dyn Clock>) -> App {
        let metrics = Arc::new(Metrics::new());
        let (signal_sender, signal_inputs) =
            tokio::sync::mpsc::channel(signals::processor::SIGNAL_QUEUE);
        let integrations = integration::Integrations::new(&config.webhooks, metrics.clone());
        let desk = desk::DeskRuntime::new(metrics.desk_events_waiting.clone());
        let batch = ConversationBatch {
            bus: bus.clone(),
            metrics: metrics.clone(),
            signals: signal_sender,
            emitter: integrations.emitter.clone(),
            handoffs: desk.handoffs(),
        };
        let writer = ConversationWriter::spawn(store.clone(), batch, &metrics, config.writer());
        let rooms = room::Rooms::start(
            store.clone(),
            bus.clone(),
            metrics.clone(),
            &config,
            clock.clone(),
        );
        let questions =
            crate::event::question::start_writer(store.clone(), bus.clone(), &metrics, &config);
        let channels = crate::channel::commit::ChannelWriter::spawn(
            store.clone(),
            crate::channel::commit::ChannelBatch {
                bus: bus.clone(),
                emitter: integrations.emitter.clone(),
            },
            &metrics,
            config.writer(),
        );
        let mut registry = Registry::default();
        desk::register_jobs(&mut registry, &config.desk);
        reporting::register_jobs(&mut registry);
        auth::register_jobs(&mut registry, &config.jobs);
        charter::register_jobs(&mut registry, &config.charter);
        integration::register_jobs(&mut registry, &config.webhooks);
        crate::schedule::register_jobs(&mut registry);
        crate::conversation::snooze::register_jobs(&mut registry);
        crate::channel::archive::register_jobs(&mut registry);
        let jobs = Jobs::new(registry);
        let app = App {
            inner: Arc::new(Inner {
                store,
                bus,
                config,
                clock,
                metrics,
                writer,
                rooms,
                questions,
                channels,
                charter: charter::CharterRuntime::default(),
                desk,
                jobs,
                integrations,
                password_slots: tokio::sync::Semaphore::new(2),
            }),
        };
        desk::DeskRuntime::start(&app);
        crate::live::reload::on_bus_event(
            &app,
            &fandesk_domain::Topic::Charter.to_string(),
            "the charter",
            |app| async move { app.refresh_charter().await },
        );
        crate::live::reload::on_bus_event(
            &app,
            integration::WEBHOOKS_TOPIC,
            "the webhook list",
            |app| async move { app.reload_webhooks().await },
        );
        integration::Integrations::start(&app);
        Jobs::start(&app);
        if app.inner.config.report_delivery.is_some() {
            let reports = app.clone();
            tokio::spawn(async move {
                if let Err(error) = reports.schedule_report_deliveries().await {
                    tracing::warn!(%error, "could not schedule the weekly report delivery");
                }
            });
        }
        // Ends when the writer stops and drops the queue's sender.
        tokio::spawn(signals::processor::run(app.clone(), signal_inputs));
        app
    }

    /// Stops taking writes, commits and acknowledges everything already queued, then
    /// returns. Reads keep working until the store is closed.
    pub async fn shutdown(&self) {
        self.inner.jobs.shutdown().await;
        self.inner.desk.shutdown().await;
        self.inner.writer.shutdown().await;
        self.inner.rooms.shutdown().await;
        self.inner.questions.shutdown().await;
        self.inner.channels.shutdown().await;
        // After the writer: every committed message has been emitted.
        self.inner.integrations.shutdown().await;
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    /// This node's name (`Config::node`).
    pub fn node(&self) -> &str {
        &self.inner.config.node
    }

    /// Which bus carries live events: `local` (one node) or `nats`.
    pub fn bus_kind(&self) -> &'static str {
        self.inner.bus.kind()
    }

    /// Reads missed timeline events back from this node's database, for the multi-node
    /// bus (`fandesk_bus::NatsBus::set_gap_fill`).
    pub fn gap_fill(&self) -> Arc<dyn fandesk_bus::GapFill> {
        Arc::new(crate::live::gap_fill::StoreGapFill {
            store: self.inner.store.clone(),
        })
    }

    /// Whether the store answers (readiness).
    pub async fn ready(&self) -> bool {
        self.inner.store.count_members().await.is_ok()
    }

    pub(crate) fn now(&self) -> jiff::Timestamp {
        self.inner.clock.now()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn bus(&self) -> &Arc<dyn Bus> {
        &self.inner.bus
    }
}

/// A new opaque id: a type prefix and a time-ordered UUID (v7), so ids sort by creation.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}
