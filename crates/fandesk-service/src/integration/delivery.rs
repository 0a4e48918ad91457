//! From emitted events to signed POSTs. The worker takes what features emitted, writes a
//! delivery row and its job for each subscribed webhook (one transaction per batch of
//! events) and wakes the scheduler; the job handler ([`App::run_webhook_job`]) posts one
//! delivery and records the attempt. A failed attempt (no answer, a non-2xx status, a
//! refused address) is retried with the scheduler's backoff until
//! `WebhookConfig::max_attempts`, then the delivery is `failed`. Delivery is at least
//! once: a receiver de-duplicates by `X-Fandesk-Delivery`.

use crate::app::error::{ServiceError, ServiceResult};
use crate::integration::IntegrationEvent;
use crate::integration::guard::Guard;
use crate::integration::outbound::{Answer, SignedPost};
use crate::jobs::JobKind;
use crate::{App, Inner, new_id};
use fandesk_domain::integration::WebhookEvent;
use fandesk_store::{JobRow, NewJob, NewWebhookDelivery, WebhookAttempt, WebhookRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Weak;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// An event with the time it happened.
pub(crate) struct Emitted {
    pub event: IntegrationEvent,
    pub at: Timestamp,
}

/// Events turned into deliveries per transaction at most.
const BATCH_MAX: usize = 256;

/// A delivery job's facts: which webhook, and the body fixed when the event happened
/// (so every attempt sends the same bytes).
#[derive(Serialize, Deserialize)]
struct DeliveryJob {
    delivery_id: String,
    webhook_id: String,
    event: String,
    body: String,
}

pub(crate) async fn run(
    weak: Weak<Inner>,
    mut receiver: mpsc::Receiver<Emitted>,
    stop: CancellationToken,
) {
    if let Some(inner) = weak.upgrade() {
        let app = App { inner };
        if let Err(error) = app.reload_webhooks().await {
            tracing::warn!(%error, "could not load the webhook list");
        }
    }
    loop {
        let first = tokio::select! {
            biased;
            event = receiver.recv() => event,
            () = stop.cancelled() => {
                // Take nothing new; what was emitted already still becomes deliveries.
                receiver.close();
                receiver.recv().await
            }
        };
        let Some(first) = first else { break };
        let mut events = vec![first];
        while events.len() < BATCH_MAX {
            match receiver.try_recv() {
                Ok(event) => events.push(event),
                Err(_) => break,
            }
        }
        let Some(inner) = weak.upgrade() else { break };
        let app = App { inner };
        if let Err(error) = app.create_deliveries(&events).await {
            tracing::error!(%error, events = events.len(), "could not record webhook deliveries; these events are not delivered");
        }
    }
}

fn subscribes(webhook: &WebhookRow, event: WebhookEvent) -> bool {
    webhook.events.iter().any(|name| name == event.as_str())
}

impl App {
    /// One delivery (and job) per event and subscribed webhook, in one transaction.
    async fn create_deliveries(&self, events: &[Emitted]) -> ServiceResult<()> {
        let webhooks = self.inner.integrations.webhooks();
        let now = self.now();
        let mut deliveries = Vec::new();
        for Emitted { event, at } in events {
            let kind = event.kind();
            let targets: Vec<&WebhookRow> = webhooks
                .iter()
                .filter(|webhook| subscribes(webhook, kind))
                .collect();
            if targets.is_empty() {
                continue;
            }
            let event_id = new_id("evt");
            let full = event.body(&event_id, *at, true);
            let redacted = event
                .has_internal_variant()
                .then(|| event.body(&event_id, *at, false));
            for webhook in targets {
                let sees_internal = subscribes(webhook, WebhookEvent::MessageCreatedInternal);
                let body = match (&redacted, sees_internal) {
                    (Some(redacted), false) => redacted.clone(),
                    _ => full.clone(),
                };
                let delivery_id = new_id("dlv");
                let payload = DeliveryJob {
                    delivery_id: delivery_id.clone(),
                    webhook_id: webhook.id.clone(),
                    event: kind.as_str().to_owned(),
                    body,
                };
                let payload = serde_json::to_string(&payload)
                    .map_err(|error| ServiceError::Internal(error.to_string()))?;
                deliveries.push(NewWebhookDelivery {
                    id: delivery_id.clone(),
                    webhook_id: webhook.id.clone(),
                    event: kind.as_str().to_owned(),
                    job: NewJob {
                        id: new_id("job"),
                        kind: JobKind::WebhookDelivery.as_str().to_owned(),
                        key: format!("webhook:{delivery_id}"),
                        payload,
                        due_at: now,
                    },
                });
            }
        }
        if deliveries.is_empty() {
            return Ok(());
        }
        self.store()
            .insert_webhook_deliveries(&deliveries, now)
            .await?;
        self.inner.jobs.wake();
        Ok(())
    }

    /// Posts one delivery and records the attempt. An error gives the job back to be
    /// retried after the backoff.
    pub(crate) async fn run_webhook_job(&self, job: &JobRow) -> ServiceResult<()> {
        let Ok(payload) = serde_json::from_str::<DeliveryJob>(&job.payload) else {
            tracing::warn!(job = %job.id, "unreadable webhook delivery; dropped");
            return Ok(());
        };
        let webhook = self.store().find_webhook(&payload.webhook_id).await?;
        let Some(webhook) = webhook.filter(|webhook| webhook.deleted_at.is_none()) else {
            self.store()
                .cancel_webhook_delivery(&payload.delivery_id)
                .await?;
            return Ok(());
        };
        let config = &self.inner.config.webhooks;
        let answer = self.attempt(&webhook, &payload, config.timeout).await;
        let delivered = answer.is_success();
        let last = job.attempts >= config.max_attempts;
        let (status_code, error) = match &answer {
            Answer::Status(code) => (Some(i64::from(*code)), None),
            Answer::Failed(why) => (None, Some(why.clone())),
        };
        let attempt = WebhookAttempt {
            status: match (delivered, last) {
                (true, _) => "delivered",
                (false, true) => "failed",
                (false, false) => "pending",
            },
            status_code,
            error,
            at: self.now(),
        };
        self.store()
            .record_webhook_attempt(&payload.delivery_id, &attempt)
            .await?;
        if delivered || last {
            if !delivered {
                tracing::warn!(delivery = %payload.delivery_id, webhook = %webhook.id, "webhook delivery given up");
            }
            return Ok(());
        }
        Err(ServiceError::Internal(format!(
            "webhook {} delivery {}: {}",
            webhook.id,
            payload.delivery_id,
            match &answer {
                Answer::Status(code) => format!("answered {code}"),
                Answer::Failed(why) => why.clone(),
            }
        )))
    }

    async fn attempt(
        &self,
        webhook: &WebhookRow,
        payload: &DeliveryJob,
        timeout: std::time::Duration,
    ) -> Answer {
        let integrations = &self.inner.integrations;
        // Address literals never reach the resolver: check the URL itself first (names
        // are checked again by the resolver when the client connects).
        let checked = match Guard::parse(&webhook.url) {
            Ok(url) => integrations
                .guard
                .check(&url)
                .await
                .map_err(|refusal| refusal.0),
            Err(error) => Err(error.to_string()),
        };
        if let Err(why) = checked {
            return Answer::Failed(format!("refused: {why}"));
        }
        let post = SignedPost {
            url: &webhook.url,
            secret: webhook.secret.as_bytes(),
            event: &payload.event,
            delivery_id: &payload.delivery_id,
            timestamp: self.now().as_second(),
            content_type: "application/json",
            body: payload.body.clone().into_bytes(),
            headers: Vec::new(),
            timeout,
        };
        integrations.outbound.post_guarded(post).await
    }
}
