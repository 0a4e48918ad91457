//! Outgoing webhooks (`docs/api.md` › Webhooks): the subscriptions, and the log of what
//! was sent to each. A delivery row and the job that attempts it are written in one
//! transaction, so an event handed to the store is delivered (or given up on) whatever
//! happens to the process; the job's retries update the same row.

use crate::dialect::Dialect;
use crate::jobs::{NewJob, insert_jobs};
use crate::statement::{Columns, PushValue, Statement};
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::MemberId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, QueryBuilder, Sqlite};

/// A webhook subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// Event names (`message.created`, …), sorted.
    pub events: Vec<String>,
    pub secret: String,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

/// One event sent (or being sent) to one webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// While `pending`: when its job is next due (read from the jobs table).
    pub next_attempt_at: Option<Timestamp>,
}

/// A delivery to create, with the job that attempts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhookDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub job: NewJob,
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// The delivery's status after it: `pending` (will retry), `delivered` or `failed`.
    pub status: &'static str,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub at: Timestamp,
}

const WEBHOOK_COLUMNS: &str = "id, url, events, secret, created_by, created_at, deleted_at";
/// A delivery's columns (the table is `d`) and, while it is pending, when its job is due:
/// the job keyed `webhook:{id}` that is not done.
const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event, d.status, d.attempts, \
     d.last_status_code, d.last_error, d.last_attempt_at, d.delivered_at, d.created_at, \
     (SELECT j.due_at FROM jobs j WHERE d.status = 'pending' AND j.done_at IS NULL \
      AND j.job_key = 'webhook:' || d.id) AS next_attempt_at";
/// Deliveries per multi-row insert: 5 parameters a row.
const DELIVERY_CHUNK: usize = 1000;

impl<'r, R: Columns> FromRow<'r, R> for WebhookRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(WebhookRow {
            id: row.text("id")?,
            url: row.text("url")?,
            events: row
                .text("events")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            secret: row.text("secret")?,
            created_by: MemberId(row.text("created_by")?),
            created_at: row.time("created_at")?,
            deleted_at: row.optional_time("deleted_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for WebhookDeliveryRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(WebhookDeliveryRow {
            id: row.text("id")?,
            webhook_id: row.text("webhook_id")?,
            event: row.text("event")?,
            status: row.text("status")?,
            attempts: row.int("attempts")?,
            last_status_code: row.optional_int("last_status_code")?,
            last_error: row.optional_text("last_error")?,
            last_attempt_at: row.optional_time("last_attempt_at")?,
            delivered_at: row.optional_time("delivered_at")?,
            created_at: row.time("created_at")?,
            next_attempt_at: row.optional_time("next_attempt_at")?,
        })
    }
}

impl Store {
    pub async fn insert_webhook(&self, webhook: &WebhookRow) -> StoreResult<()> {
        let events = webhook.events.join(" ");
        let statement = Statement::new(
            "INSERT INTO webhooks (id, url, events, secret, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(webhook.id.as_str())
        .bind(webhook.url.as_str())
        .bind(events.as_str())
        .bind(webhook.secret.as_str())
        .bind(webhook.created_by.as_str())
        .bind(to_micros(webhook.created_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// The webhooks not deleted, oldest first.
    pub async fn list_webhooks(&self) -> StoreResult<Vec<WebhookRow>> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id"
        );
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)))
            .await
    }

    /// A webhook, deleted or not.
    pub async fn find_webhook(&self, id: &str) -> StoreResult<Option<WebhookRow>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        self.reader()
            .fetch_optional(Statement::new(AssertSqlSafe(sql)).bind(id))
            .await
    }

    /// Marks a webhook deleted; `false` when there is no such webhook (or it was deleted).
    pub async fn delete_webhook(&self, id: &str, at: Timestamp) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE webhooks SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(to_micros(at));
        Ok(self.writer().execute(statement).await? == 1)
    }

    /// Creates deliveries and their jobs in one transaction.
    pub async fn insert_webhook_deliveries(
        &self,
        deliveries: &[NewWebhookDelivery],
        at: Timestamp,
    ) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(db) => insert_deliveries::<Sqlite>(&db.write, deliveries, at).await,
            Store::Postgres(db) => insert_deliveries::<Postgres>(&db.pool, deliveries, at).await,
        }
    }

    /// Records an attempt of delivery `id`: its outcome, one attempt more, and the time
    /// delivered when it was.
    pub async fn record_webhook_attempt(
        &self,
        id: &str,
        attempt: &WebhookAttempt,
    ) -> StoreResult<()> {
        let delivered = (attempt.status == "delivered").then_some(to_micros(attempt.at));
        let statement = Statement::new(
            "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, \
             last_status_code = $3, last_error = $4, last_attempt_at = $5, delivered_at = $6 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(attempt.status)
        .bind(attempt.status_code)
        .bind(attempt.error.as_deref())
        .bind(to_micros(attempt.at))
        .bind(delivered);
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Marks a delivery that will not be attempted (its webhook was deleted).
    pub async fn cancel_webhook_delivery(&self, id: &str) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE webhook_deliveries SET status = 'cancelled' WHERE id = $1 AND status = 'pending'",
        )
        .bind(id);
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// A webhook's deliveries, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        webhook_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = $1 \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(webhook_id)
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// The delivery of `webhook_id` attempted last, if any (the webhook's last status).
    pub async fn last_webhook_attempt(
        &self,
        webhook_id: &str,
    ) -> StoreResult<Option<WebhookDeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = $1 \
             AND d.last_attempt_at IS NOT NULL ORDER BY d.last_attempt_at DESC, d.id DESC LIMIT 1"
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind(webhook_id);
        self.reader().fetch_optional(statement).await
    }

    pub async fn find_webhook_delivery(&self, id: &str) -> StoreResult<Option<WebhookDeliveryRow>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = $1");
        self.reader()
            .fetch_optional(Statement::new(AssertSqlSafe(sql)).bind(id))
            .await
    }
}

async fn insert_deliveries<D: Dialect>(
    pool: &sqlx::Pool<D>,
    deliveries: &[NewWebhookDelivery],
    at: Timestamp,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for chunk in deliveries.chunks(DELIVERY_CHUNK) {
        let mut insert = QueryBuilder::<D>::new(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, status, created_at) ",
        );
        insert.push_values(chunk, |mut values, delivery| {
            values
                .value(delivery.id.as_str())
                .value(delivery.webhook_id.as_str())
                .value(delivery.event.as_str())
                .value("pending")
                .value(to_micros(at));
        });
        D::execute(&mut tx, insert.build()).await?;
    }
    let jobs: Vec<NewJob> = deliveries
        .iter()
        .map(|delivery| delivery.job.clone())
        .collect();
    insert_jobs::<D>(&mut tx, &jobs, at).await?;
    tx.commit().await?;
    Ok(())
}
