//! fandesk's use cases: the only layer that combines the domain rules, the store and the
//! bus. HTTP and WebSocket handlers call [`App`] methods and nothing below it.

mod alerts;
mod auth;
mod canned;
mod clock;
mod conversation;
mod desk;
mod error;
mod fan_profile;
pub mod frame_queue;
mod message;
mod metrics;
mod metrics_summary;
mod presence;
mod queue;
mod report_delivery;
mod room;
mod room_fanout;
pub mod room_view;
mod room_viewers;
mod room_writer;
mod routing;
mod scheduler;
mod shifts;
mod signal_processor;
mod signals;
mod sla;
mod subscription;
mod supervision;
pub mod view;
mod writer;

pub use alerts::AlertView;
pub use auth::{LoginResult, NewFanSession, NewMember, Session};
pub use canned::{CannedHealthEntry, CannedHealthView, CannedInput, CannedOveruse, CannedView};
pub use clock::{Clock, ManualClock, SystemClock};
pub use desk::DeskConfig;
pub use error::{ServiceError, ServiceResult};
pub use fan_profile::{FanProfilePatch, FanProfileView};
/// The weekly report's model and renderers (JSON, CSV, HTML with SVG charts).
pub use fandesk_analytics::report;
pub use fandesk_domain::desk::FirstLineMode;
pub use message::{PendingSend, SendMessage, Sent};
pub use metrics::Metrics;
pub use metrics_summary::{
    StatsView, SummaryGroupView, SummaryGrouping, SummaryView, build_weekly_report,
};
pub use presence::PresenceState;
pub use queue::{AgentDeskView, PriorityInputView, QueueEntryView, QueueView};
pub use report_delivery::{
    ReportDelivery, ReportFormat, ReportWebhook, report_file_name, report_signature,
};
pub use room::{NewRoom, PendingRoomSend, RoomSent};
pub use room_fanout::{RoomFanoutConfig, RoomMembership};
pub use shifts::{ClockView, CoverageView, ShiftInput, ShiftView, UncoveredHourView};
pub use signals::{KeywordRuleView, RestrictedRuleView};
pub use subscription::{RoomReplay, RoomSubscription, Subscription, SubscriptionEnd};
pub use supervision::AuditView;

pub use fandesk_domain::{Audience, Principal, Role};
pub use fandesk_store::{ConversationFilter, ReviewFilter};

use fandesk_bus::Bus;
use fandesk_store::Store;
use std::sync::Arc;
use std::time::Duration;
use writer::Writer;

/// Runtime settings of the service layer.
#[derive(Clone, Debug)]
pub struct Config {
    /// When set, a fan's `external_id` is trusted only with `signature` =
    /// hex HMAC-SHA256(secret, external_id) (PROTOCOL.md › Authentication).
    pub fan_identity_secret: Option<Vec<u8>>,
    /// How long a team member's token lives.
    pub member_token_ttl: Duration,
    /// How long a fan's token lives (fans come back days later to the same chat).
    pub fan_token_ttl: Duration,
    /// Most ops committed in one transaction by the group-commit writer.
    pub write_batch_max: usize,
    /// Ops waiting for the writer before senders wait (backpressure).
    pub write_queue: usize,
    /// The agent desk: creator time zone and name, SLA target, first-line rule, shifts.
    pub desk: DeskConfig,
    /// Live rooms' fan-out: workers per room and the coalescing tick.
    pub room_fanout: RoomFanoutConfig,
    /// Scheduled weekly report delivery (issue 6 › 4); `None`: off.
    pub report_delivery: Option<ReportDelivery>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fan_identity_secret: None,
            member_token_ttl: Duration::from_secs(12 * 3600),
            fan_token_ttl: Duration::from_secs(30 * 24 * 3600),
            write_batch_max: 512,
            write_queue: 16_384,
            desk: DeskConfig::default(),
            room_fanout: RoomFanoutConfig::default(),
            report_delivery: None,
        }
    }
}

/// The application: cheap to clone, shared by every connection.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    bus: Arc<dyn Bus>,
    config: Config,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    writer: Writer,
    /// Live rooms: their own group-commit writer and the viewer counts.
    rooms: room::Rooms,
    /// Compiled keyword and restricted-word rules.
    rules: signals::RuleCache,
    /// The agent desk's worker and the scheduler of timers.
    desk: desk::DeskRuntime,
    /// Password hashes in progress at once: each argon2 hash holds 19 MiB, so a burst of
    /// logins must queue rather than grow the heap (measured, BENCHMARKS.md).
    password_slots: tokio::sync::Semaphore,
}

impl App {
    /// Starts the service, including its group-commit writer task.
    pub fn start(store: Store, bus: Arc<dyn Bus>, config: Config, clock: Arc<dyn Clock>) -> App {
        let metrics = Arc::new(Metrics::new());
        let (signal_sender, signal_inputs) =
            tokio::sync::mpsc::channel(signal_processor::SIGNAL_QUEUE);
        let writer = Writer::spawn(
            store.clone(),
            bus.clone(),
            metrics.clone(),
            &config,
            signal_sender,
        );
        let rooms = room::Rooms::start(store.clone(), bus.clone(), metrics.clone(), &config);
        let rules = signals::RuleCache::default();
        let desk = desk::DeskRuntime::new();
        let app = App {
            inner: Arc::new(Inner {
                store,
                bus,
                config,
                clock,
                metrics,
                writer,
                rooms,
                rules,
                desk,
                password_slots: tokio::sync::Semaphore::new(2),
            }),
        };
        desk::DeskRuntime::start(&app);
        // Replies are judged against the configured target when they commit (issue 6 › 2).
        let target_ms =
            i64::try_from(app.inner.config.desk.sla_target.as_millis()).unwrap_or(i64::MAX);
        let store = app.inner.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.set_sla_target_ms(target_ms).await {
                tracing::warn!(%error, "could not store the SLA target for metrics");
            }
        });
        if app.inner.config.report_delivery.is_some() {
            let reports = app.clone();
            tokio::spawn(async move {
                if let Err(error) = reports.schedule_report_deliveries().await {
                    tracing::warn!(%error, "could not schedule the weekly report delivery");
                }
            });
        }
        // Ends when the writer stops and drops the queue's sender.
        tokio::spawn(signal_processor::run(app.clone(), signal_inputs));
        app
    }

    /// Stops taking writes, commits and acknowledges everything already queued, then
    /// returns. Reads keep working until the store is closed.
    pub async fn shutdown(&self) {
        self.inner.desk.shutdown().await;
        self.inner.writer.shutdown().await;
        self.inner.rooms.shutdown().await;
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    /// Whether the store answers (readiness).
    pub async fn ready(&self) -> bool {
        self.inner.store.count_members().await.is_ok()
    }

    fn now(&self) -> jiff::Timestamp {
        self.inner.clock.now()
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn bus(&self) -> &Arc<dyn Bus> {
        &self.inner.bus
    }
}

/// A new opaque id: a type prefix and a time-ordered UUID (v7), so ids sort by creation.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}
