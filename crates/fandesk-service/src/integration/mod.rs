//! Integrations (docs/product.md › Webhooks; docs/api.md › Webhooks): outgoing event
//! webhooks and the signed posting they share with the weekly report.
//!
//! Features announce what happened with [`App::emit`] after their commit: an
//! [`IntegrationEvent`]. Emitting never waits: the event goes over a bounded queue to the
//! integrations worker ([`delivery`]), which writes one delivery row per subscribed
//! webhook together with a durable job (`JobKind::WebhookDelivery`) in one transaction.
//! The job scheduler then posts each delivery, signed ([`signature`]) through the SSRF
//! guard ([`guard`], [`outbound`]), and retries a failure with exponential backoff; the
//! delivery row is the webhook's log, with the last status of each.
//!
//! - `webhooks` — the owner's use cases: create, list, delete, read the delivery log.
//! - `event` — what can be emitted, and the JSON a receiver gets.

pub(crate) mod delivery;
pub(crate) mod event;
pub(crate) mod guard;
pub(crate) mod outbound;
pub(crate) mod signature;
pub(crate) mod webhooks;

pub use event::IntegrationEvent;
pub use guard::{HostResolver, Resolution, SystemResolver};
pub use webhooks::{NewWebhook, WebhookDeliveryView, WebhookView};

use crate::app::metrics::Metrics;
use crate::jobs::{FirstRun, JobKind, Registry};
use crate::live::publish::{Frames, publish_ephemeral};
use crate::{App, Inner};
use delivery::Emitted;
use fandesk_domain::integration::WebhookEvent;
use fandesk_store::WebhookRow;
use guard::Guard;
use jiff::Timestamp;
use outbound::Outbound;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Settings of outgoing webhooks.
#[derive(Clone)]
pub struct WebhookConfig {
    /// Hosts (names or addresses, no port) a webhook may reach although they are not
    /// public: `--webhook-allow-hosts` / `FANDESK_WEBHOOK_ALLOW_HOSTS`.
    pub allow_hosts: Vec<String>,
    /// Per attempt; a timed-out attempt is retried like any failure.
    pub timeout: Duration,
    /// Attempts of one delivery before it is given up (`failed`); retries back off as
    /// every job does (`JobsConfig::retry_first` doubling up to `retry_max`).
    pub max_attempts: i64,
    /// How often each node reloads the webhook list (a webhook created on another node).
    pub reload_every: Duration,
    /// Resolves webhook host names; tests swap in their own.
    pub resolver: Arc<dyn HostResolver>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_hosts: Vec::new(),
            timeout: Duration::from_secs(10),
            max_attempts: 10,
            reload_every: Duration::from_secs(10),
            resolver: Arc::new(SystemResolver),
        }
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("allow_hosts", &self.allow_hosts)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Events waiting for the integrations worker before new ones are dropped (counted in
/// `fandesk_webhook_events_dropped`): the write path never waits for webhooks.
pub(crate) const EVENT_QUEUE: usize = 16_384;

/// The sending side of the event queue, cheap to clone: held by the `App` and by the
/// conversations' writer, which emits `message.created` for each committed message.
#[derive(Clone)]
pub(crate) struct Emitter {
    sender: mpsc::Sender<Emitted>,
    /// One bit per `WebhookEvent::ALL` index: some webhook subscribes to it. All set until
    /// the list is first loaded, so nothing emitted at start is lost.
    subscribed: Arc<AtomicU8>,
    metrics: Arc<Metrics>,
}

fn bit(event: WebhookEvent) -> u8 {
    let index = WebhookEvent::ALL
        .iter()
        .position(|known| *known == event)
        .unwrap_or(0);
    1 << index
}

impl Emitter {
    /// Whether any webhook subscribes to `event` (so building its payload is worth it).
    pub(crate) fn wants(&self, event: WebhookEvent) -> bool {
        self.subscribed.load(Ordering::Relaxed) & bit(event) != 0
    }

    /// Hands `event`, which happened at `at`, to the worker; never waits.
    pub(crate) fn emit(&self, event: IntegrationEvent, at: Timestamp) {
        if !self.wants(event.kind()) {
            return;
        }
        if self.sender.try_send(Emitted { event, at }).is_err() {
            self.metrics.webhook_events_dropped.inc();
            tracing::warn!("webhook event queue full; an event was dropped");
        }
    }

    fn set_subscriptions(&self, webhooks: &[WebhookRow]) {
        let mask = webhooks
            .iter()
            .flat_map(|webhook| webhook.events.iter())
            .filter_map(|name| WebhookEvent::parse(name))
            .fold(0u8, |mask, event| mask | bit(event));
        self.subscribed.store(mask, Ordering::Relaxed);
    }
}

/// The integrations an `App` owns: the event queue, the webhook list, the guard, the
/// HTTP clients and the worker.
pub(crate) struct Integrations {
    pub(crate) emitter: Emitter,
    receiver: Mutex<Option<mpsc::Receiver<Emitted>>>,
    /// The webhooks not deleted, as last loaded.
    webhooks: RwLock<Arc<Vec<WebhookRow>>>,
    pub(crate) guard: Arc<Guard>,
    pub(crate) outbound: Outbound,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Integrations {
    pub(crate) fn new(config: &WebhookConfig, metrics: Arc<Metrics>) -> Integrations {
        let (sender, receiver) = mpsc::channel(EVENT_QUEUE);
        let guard = Arc::new(Guard::new(&config.allow_hosts, config.resolver.clone()));
        Integrations {
            emitter: Emitter {
                sender,
                subscribed: Arc::new(AtomicU8::new(u8::MAX)),
                metrics,
            },
            receiver: Mutex::new(Some(receiver)),
            webhooks: RwLock::new(Arc::new(Vec::new())),
            outbound: Outbound::new(guard.clone()),
            guard,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }

    /// Spawns the worker. It holds the `App` weakly, so dropping the last `App` ends it.
    pub(crate) fn start(app: &App) {
        let integrations = &app.inner.integrations;
        let receiver = integrations
            .receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(receiver) = receiver else { return };
        let weak: Weak<Inner> = Arc::downgrade(&app.inner);
        let task = tokio::spawn(delivery::run(weak, receiver, integrations.stop.clone()));
        *integrations
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(task);
    }

    /// Turns what was emitted before this call into deliveries, then stops the worker.
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    pub(crate) fn webhooks(&self) -> Arc<Vec<WebhookRow>> {
        self.webhooks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set_webhooks(&self, webhooks: Vec<WebhookRow>) {
        self.emitter.set_subscriptions(&webhooks);
        *self
            .webhooks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(webhooks);
    }
}

impl App {
    /// Announces `event` to the webhooks subscribed to it; called by a feature after its
    /// commit. Returns at once: delivery happens in the background, durably.
    pub(crate) fn emit(&self, event: IntegrationEvent) {
        self.inner.integrations.emitter.emit(event, self.now());
    }

    /// Whether some webhook subscribes to `event` (to skip building a payload nobody
    /// wants).
    pub(crate) fn emits(&self, event: WebhookEvent) -> bool {
        self.inner.integrations.emitter.wants(event)
    }

    /// After a webhook was created or deleted here: reloads the list, and tells every other
    /// node to reload theirs (an event they emit in the meantime would miss the change).
    pub(crate) async fn webhooks_changed(&self) -> crate::ServiceResult<()> {
        self.reload_webhooks().await?;
        publish_ephemeral(
            self.bus().as_ref(),
            WEBHOOKS_TOPIC.to_owned(),
            Frames::team_only(bytes::Bytes::new()),
        );
        Ok(())
    }

    /// Reloads the webhook list from the store.
    pub(crate) async fn reload_webhooks(&self) -> crate::ServiceResult<()> {
        let webhooks = self.store().list_webhooks().await?;
        self.inner.integrations.set_webhooks(webhooks);
        Ok(())
    }
}

/// The bus topic on which a node announces that the webhook list changed, so every node
/// reloads it at once. Not a client topic (clients cannot name it).
pub(crate) const WEBHOOKS_TOPIC: &str = "_webhooks.changed";

/// Webhook deliveries, and reloading the webhook list now and then (webhooks created on
/// another node).
pub(crate) fn register_jobs(jobs: &mut Registry, config: &WebhookConfig) {
    jobs.on_due(JobKind::WebhookDelivery, |app, job| {
        Box::pin(async move { app.run_webhook_job(&job).await })
    });
    jobs.every(
        "webhook list reload",
        config.reload_every,
        FirstRun::AfterOnePeriod,
        |app| {
            Box::pin(async move {
                if let Err(error) = app.reload_webhooks().await {
                    tracing::warn!(%error, "could not reload the webhook list");
                }
            })
        },
    );
}
