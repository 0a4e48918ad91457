//! The owner's webhooks (docs/api.md › Webhooks): create one (its URL checked by the SSRF
//! guard now, and again at every delivery), list them with their last delivery, delete
//! one, and read a webhook's delivery log. The secret is write-only: no answer shows it.

use crate::app::error::{ServiceError, ServiceResult};
use crate::integration::guard::Guard;
use crate::{App, new_id};
use fandesk_domain::integration::{validate_events, validate_secret};
use fandesk_domain::{Capability, MemberId, Principal};
use fandesk_store::{WebhookDeliveryRow, WebhookRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Most deliveries one log page returns.
pub const MAX_DELIVERY_PAGE: u32 = 200;

/// `POST /api/v1/webhooks`: every field is required (checked after the caller's role).
#[derive(Clone, Debug, Default)]
pub struct NewWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
}

/// One entry of a webhook's delivery log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// The `X-Fandesk-Delivery` header: the same on every attempt.
    pub id: String,
    pub event: String,
    /// `pending` (attempts left), `delivered`, `failed` (given up) or `cancelled` (the
    /// webhook was deleted first).
    pub status: String,
    pub attempts: i64,
    /// The receiver's HTTP status at the last attempt.
    pub last_status_code: Option<i64>,
    /// Why the last attempt got no answer (a refused address, a timeout…).
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// While `pending`: when the next attempt is due (`null` otherwise).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
}

impl From<&WebhookDeliveryRow> for WebhookDeliveryView {
    fn from(row: &WebhookDeliveryRow) -> Self {
        WebhookDeliveryView {
            id: row.id.clone(),
            event: row.event.clone(),
            status: row.status.clone(),
            attempts: row.attempts,
            last_status_code: row.last_status_code,
            last_error: row.last_error.clone(),
            last_attempt_at: row.last_attempt_at,
            delivered_at: row.delivered_at,
            created_at: row.created_at,
            next_attempt_at: row.next_attempt_at,
        }
    }
}

/// A webhook as the API shows it (never its secret).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// Subscribed events, sorted.
    pub events: Vec<String>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The delivery attempted last: the webhook's last status.
    pub last_delivery: Option<WebhookDeliveryView>,
}

impl WebhookView {
    fn new(row: &WebhookRow, last: Option<&WebhookDeliveryRow>) -> WebhookView {
        WebhookView {
            id: row.id.clone(),
            url: row.url.clone(),
            events: row.events.clone(),
            created_by: row.created_by.0.clone(),
            created_at: row.created_at,
            last_delivery: last.map(WebhookDeliveryView::from),
        }
    }
}

impl App {
    /// `POST /api/v1/webhooks` (owner). The URL is refused (422, `details.field` =
    /// `url`) when its host is not public and not allow-listed.
    pub async fn create_webhook(
        &self,
        actor: &Principal,
        input: NewWebhook,
    ) -> ServiceResult<WebhookView> {
        actor.require(Capability::ManageIntegrations)?;
        let missing = |field: &str| ServiceError::invalid(field, "is required");
        let url = Guard::parse(input.url.as_deref().ok_or_else(|| missing("url"))?)?;
        let events = validate_events(input.events.as_deref().ok_or_else(|| missing("events"))?)?;
        let secret = input.secret.ok_or_else(|| missing("secret"))?;
        validate_secret(&secret)?;
        self.inner.integrations.guard.check(&url).await?;
        let Principal::Member { id, .. } = actor else {
            return Err(ServiceError::Forbidden(
                "only the owner manages webhooks".into(),
            ));
        };
        let row = WebhookRow {
            id: new_id("whk"),
            url: url.to_string(),
            events: events
                .iter()
                .map(|event| event.as_str().to_owned())
                .collect(),
            secret,
            created_by: MemberId::clone(id),
            created_at: self.now(),
            deleted_at: None,
        };
        self.store().insert_webhook(&row).await?;
        self.webhooks_changed().await?;
        tracing::info!(webhook = %row.id, url = %row.url, "webhook created");
        Ok(WebhookView::new(&row, None))
    }

    /// `GET /api/v1/webhooks` (owner): oldest first, each with its last delivery.
    pub async fn list_webhooks(&self, actor: &Principal) -> ServiceResult<Vec<WebhookView>> {
        actor.require(Capability::ManageIntegrations)?;
        let rows = self.store().list_webhooks().await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            let last = self.store().last_webhook_attempt(&row.id).await?;
            views.push(WebhookView::new(row, last.as_ref()));
        }
        Ok(views)
    }

    /// `GET /api/v1/webhooks/{id}` (owner).
    pub async fn get_webhook(&self, actor: &Principal, id: &str) -> ServiceResult<WebhookView> {
        actor.require(Capability::ManageIntegrations)?;
        let row = self.live_webhook(id).await?;
        let last = self.store().last_webhook_attempt(&row.id).await?;
        Ok(WebhookView::new(&row, last.as_ref()))
    }

    /// `DELETE /api/v1/webhooks/{id}` (owner): nothing more is sent to it; deliveries
    /// still pending are cancelled when their turn comes.
    pub async fn delete_webhook(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageIntegrations)?;
        if !self.store().delete_webhook(id, self.now()).await? {
            return Err(ServiceError::NotFound("webhook"));
        }
        self.webhooks_changed().await?;
        tracing::info!(webhook = %id, "webhook deleted");
        Ok(())
    }

    /// `GET /api/v1/webhooks/{id}/deliveries` (owner): newest first.
    pub async fn list_webhook_deliveries(
        &self,
        actor: &Principal,
        id: &str,
        limit: u32,
    ) -> ServiceResult<Vec<WebhookDeliveryView>> {
        actor.require(Capability::ManageIntegrations)?;
        let row = self.live_webhook(id).await?;
        let rows = self
            .store()
            .list_webhook_deliveries(&row.id, limit.clamp(1, MAX_DELIVERY_PAGE))
            .await?;
        Ok(rows.iter().map(WebhookDeliveryView::from).collect())
    }

    async fn live_webhook(&self, id: &str) -> ServiceResult<WebhookRow> {
        self.store()
            .find_webhook(id)
            .await?
            .filter(|row| row.deleted_at.is_none())
            .ok_or(ServiceError::NotFound("webhook"))
    }
}
