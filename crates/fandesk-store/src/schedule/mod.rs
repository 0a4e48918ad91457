//! Scheduled messages (`docs/api.md` › Scheduled messages): the message, one row per
//! recipient with its own due time, and "reply later". Recipients are written in batches
//! while the message is `preparing`, so a large segment never holds the writer for long;
//! the message becomes `scheduled` (and its first job is written) in one last
//! transaction. Delivering is `delivery.rs`; replies `reply.rs`.

pub(crate) mod delivery;
pub(crate) mod reply;

use crate::dialect::Dialect;
use crate::jobs::{NewJob, insert_jobs};
use crate::statement::{Columns, PushValue, Statement, placeholders};
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::{ConversationId, FanId, MemberId, MessageId, Role};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, QueryBuilder, Sqlite};
use std::collections::{BTreeMap, HashMap};

/// A scheduled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledMessageRow {
    pub id: String,
    pub body: String,
    /// The audience as asked, JSON.
    pub audience: String,
    pub at: Option<Timestamp>,
    /// `YYYY-MM-DD` and `HH:MM` of a local-time schedule.
    pub local_date: Option<String>,
    pub local_time: Option<String>,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// The zone of recipients who have none.
    pub default_time_zone: String,
    pub recipients: i64,
    /// `preparing`, `scheduled` or `cancelled`.
    pub state: String,
    pub created_by: MemberId,
    pub author_name: String,
    pub author_role: Role,
    pub first_due_at: Option<Timestamp>,
    pub last_due_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
}

/// Recipients of a scheduled message by delivery status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduledProgress {
    pub pending: i64,
    pub sent: i64,
    pub cancelled: i64,
    pub failed: i64,
}

/// A recipient to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewScheduledDelivery {
    pub fan_id: FanId,
    pub time_zone: String,
    pub due_at: Timestamp,
}

/// One recipient of a scheduled message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledDeliveryRow {
    pub scheduled_id: String,
    pub fan_id: FanId,
    pub time_zone: String,
    pub due_at: Timestamp,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub sent_at: Option<Timestamp>,
}

/// A fan of a segment and their time zone, if they gave one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFanRow {
    pub fan_id: FanId,
    pub timezone: Option<String>,
}

const MESSAGE_COLUMNS: &str = "id, body, audience, at_time, local_date, local_time, \
     quiet_start, quiet_end, default_time_zone, recipients, state, created_by, author_name, \
     author_role, first_due_at, last_due_at, created_at, cancelled_at";
pub(crate) const DELIVERY_COLUMNS: &str = "scheduled_id, fan_id, time_zone, due_at, status, \
     attempts, conversation_id, message_id, sent_at";
/// Rows per multi-row insert (4 parameters a row) and ids per `IN` list.
pub(crate) const CHUNK: usize = 1000;

impl<'r, R: Columns> FromRow<'r, R> for ScheduledMessageRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ScheduledMessageRow {
            id: row.text("id")?,
            body: row.text("body")?,
            audience: row.text("audience")?,
            at: row.optional_time("at_time")?,
            local_date: row.optional_text("local_date")?,
            local_time: row.optional_text("local_time")?,
            quiet_start: row.optional_text("quiet_start")?,
            quiet_end: row.optional_text("quiet_end")?,
            default_time_zone: row.text("default_time_zone")?,
            recipients: row.int("recipients")?,
            state: row.text("state")?,
            created_by: MemberId(row.text("created_by")?),
            author_name: row.text("author_name")?,
            author_role: row.parsed("author_role", "role", Role::parse)?,
            first_due_at: row.optional_time("first_due_at")?,
            last_due_at: row.optional_time("last_due_at")?,
            created_at: row.time("created_at")?,
            cancelled_at: row.optional_time("cancelled_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for ScheduledDeliveryRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ScheduledDeliveryRow {
            scheduled_id: row.text("scheduled_id")?,
            fan_id: FanId(row.text("fan_id")?),
            time_zone: row.text("time_zone")?,
            due_at: row.time("due_at")?,
            status: row.text("status")?,
            attempts: row.int("attempts")?,
            conversation_id: row.optional_text("conversation_id")?.map(ConversationId),
            message_id: row.optional_text("message_id")?.map(MessageId),
            sent_at: row.optional_time("sent_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for SegmentFanRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(SegmentFanRow {
            fan_id: FanId(row.text("id")?),
            timezone: row.optional_text("timezone")?,
        })
    }
}

struct StatusCount(String, String, i64);

impl<'r, R: Columns> FromRow<'r, R> for StatusCount {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(StatusCount(
            row.text("scheduled_id")?,
            row.text("status")?,
            row.int("count")?,
        ))
    }
}

impl Store {
    /// The fans of a segment, by id: every fan when `all`, else those listed in `fan_ids`
    /// (unknown ids are left out) and those with any of `tags`.
    pub async fn list_segment_fans(
        &self,
        fan_ids: &[FanId],
        tags: &[String],
        all: bool,
    ) -> StoreResult<Vec<SegmentFanRow>> {
        let mut fans: BTreeMap<FanId, Option<String>> = BTreeMap::new();
        let mut collect = |rows: Vec<SegmentFanRow>| {
            for row in rows {
                fans.insert(row.fan_id, row.timezone);
            }
        };
        if all {
            let statement = Statement::new("SELECT id, timezone FROM fans");
            collect(self.reader().fetch_all(statement).await?);
        } else {
            for chunk in fan_ids.chunks(CHUNK) {
                let sql = format!(
                    "SELECT id, timezone FROM fans WHERE id IN ({})",
                    placeholders(1, chunk.len())
                );
                let statement =
                    Statement::new(AssertSqlSafe(sql)).bind_all(chunk.iter().map(FanId::as_str));
                collect(self.reader().fetch_all(statement).await?);
            }
            if !tags.is_empty() {
                // Tags are stored as a JSON array of strings: match the quoted element.
                let patterns: Vec<String> = tags
                    .iter()
                    .map(|tag| {
                        let quoted = serde_json::Value::from(tag.to_lowercase()).to_string();
                        format!("%{}%", crate::desk::escape_like(&quoted))
                    })
                    .collect();
                let conditions: Vec<String> = (1..=patterns.len())
                    .map(|n| format!("tags LIKE ${n} ESCAPE '\\'"))
                    .collect();
                let sql = format!(
                    "SELECT id, timezone FROM fans WHERE {}",
                    conditions.join(" OR ")
                );
                let statement = Statement::new(AssertSqlSafe(sql))
                    .bind_all(patterns.iter().map(String::as_str));
                collect(self.reader().fetch_all(statement).await?);
            }
        }
        Ok(fans
            .into_iter()
            .map(|(fan_id, timezone)| SegmentFanRow { fan_id, timezone })
            .collect())
    }

    /// Writes a scheduled message in state `preparing` (its recipients follow).
    pub async fn insert_scheduled_message(&self, row: &ScheduledMessageRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO scheduled_messages ({MESSAGE_COLUMNS}) VALUES ({})",
            placeholders(1, 18)
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(row.id.as_str())
            .bind(row.body.as_str())
            .bind(row.audience.as_str())
            .bind(row.at.map(to_micros))
            .bind(row.local_date.as_deref())
            .bind(row.local_time.as_deref())
            .bind(row.quiet_start.as_deref())
            .bind(row.quiet_end.as_deref())
            .bind(row.default_time_zone.as_str())
            .bind(row.recipients)
            .bind(row.state.as_str())
            .bind(row.created_by.as_str())
            .bind(row.author_name.as_str())
            .bind(row.author_role.as_str())
            .bind(row.first_due_at.map(to_micros))
            .bind(row.last_due_at.map(to_micros))
            .bind(to_micros(row.created_at))
            .bind(row.cancelled_at.map(to_micros));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Writes recipients of scheduled message `id`, `pending`, in one transaction.
    pub async fn insert_scheduled_deliveries(
        &self,
        id: &str,
        deliveries: &[NewScheduledDelivery],
    ) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(db) => insert_deliveries::<Sqlite>(&db.write, id, deliveries).await,
            Store::Postgres(db) => {
                insert_deliveries::<Postgres>(&db.pool, id, deliveries).await?;
                // A segment lands thousands of rows at once, before autovacuum has looked at
                // the table: with the old statistics PostgreSQL planned each batch's
                // `fan_id IN (…)` lookup as a scan of every recipient (1.3 s a batch for a
                // 100,000-fan segment right after an import, 46 ms once analyzed).
                if deliveries.len() >= ANALYZE_AFTER {
                    sqlx::query("ANALYZE scheduled_deliveries")
                        .execute(&db.pool)
                        .await?;
                }
                Ok(())
            }
        }
    }

    /// Makes a prepared message `scheduled` and writes its first job, together; `false`
    /// when it was cancelled meanwhile.
    pub async fn activate_scheduled_message(
        &self,
        id: &str,
        job: &NewJob,
        at: Timestamp,
    ) -> StoreResult<bool> {
        match self {
            Store::Sqlite(db) => activate::<Sqlite>(&db.write, id, job, at).await,
            Store::Postgres(db) => activate::<Postgres>(&db.pool, id, job, at).await,
        }
    }

    pub async fn find_scheduled_message(
        &self,
        id: &str,
    ) -> StoreResult<Option<ScheduledMessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM scheduled_messages WHERE id = $1");
        self.reader()
            .fetch_optional(Statement::new(AssertSqlSafe(sql)).bind(id))
            .await
    }

    /// Newest first.
    pub async fn list_scheduled_messages(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledMessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM scheduled_messages ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)).bind(i64::from(limit)))
            .await
    }

    /// How many recipients of each message are pending, sent, cancelled and failed.
    pub async fn scheduled_progress(
        &self,
        ids: &[&str],
    ) -> StoreResult<HashMap<String, ScheduledProgress>> {
        let mut progress: HashMap<String, ScheduledProgress> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT scheduled_id, status, COUNT(*) AS count FROM scheduled_deliveries \
                 WHERE scheduled_id IN ({}) GROUP BY scheduled_id, status",
                placeholders(1, chunk.len())
            );
            let statement = Statement::new(AssertSqlSafe(sql)).bind_all(chunk.iter().copied());
            let rows: Vec<StatusCount> = self.reader().fetch_all(statement).await?;
            for StatusCount(id, status, count) in rows {
                let entry = progress.entry(id).or_default();
                match status.as_str() {
                    "pending" => entry.pending += count,
                    "sent" => entry.sent += count,
                    "cancelled" => entry.cancelled += count,
                    _ => entry.failed += count,
                }
            }
        }
        Ok(progress)
    }

    /// Cancels a message and its pending recipients; `false` when it was cancelled
    /// already (or does not exist).
    pub async fn cancel_scheduled_message(&self, id: &str, at: Timestamp) -> StoreResult<bool> {
        let changed = self
            .writer()
            .transaction(vec![
                Statement::new(
                    "UPDATE scheduled_messages SET state = 'cancelled', cancelled_at = $2 \
                     WHERE id = $1 AND state <> 'cancelled'",
                )
                .bind(id)
                .bind(to_micros(at)),
                Statement::new(
                    "UPDATE scheduled_deliveries SET status = 'cancelled' \
                     WHERE scheduled_id = $1 AND status = 'pending'",
                )
                .bind(id),
            ])
            .await?;
        Ok(changed.first() == Some(&1))
    }

    /// Recipients of a message by fan id, after `after` (a fan id) when given.
    pub async fn list_scheduled_deliveries(
        &self,
        id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledDeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM scheduled_deliveries WHERE scheduled_id = $1 \
             AND fan_id > $2 ORDER BY fan_id LIMIT $3"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(id)
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }
}

/// Recipients written at once from which PostgreSQL's statistics are refreshed right away.
const ANALYZE_AFTER: usize = 1_000;

async fn insert_deliveries<D: Dialect>(
    pool: &sqlx::Pool<D>,
    id: &str,
    deliveries: &[NewScheduledDelivery],
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for chunk in deliveries.chunks(CHUNK) {
        let mut insert = QueryBuilder::<D>::new(
            "INSERT INTO scheduled_deliveries (scheduled_id, fan_id, time_zone, due_at, status) ",
        );
        insert.push_values(chunk, |mut values, delivery| {
            values
                .value(id)
                .value(delivery.fan_id.as_str())
                .value(delivery.time_zone.as_str())
                .value(to_micros(delivery.due_at))
                .value("pending");
        });
        D::execute(&mut tx, insert.build()).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn activate<D: Dialect>(
    pool: &sqlx::Pool<D>,
    id: &str,
    job: &NewJob,
    at: Timestamp,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let statement = Statement::new(
        "UPDATE scheduled_messages SET state = 'scheduled' WHERE id = $1 AND state = 'preparing'",
    )
    .bind(id);
    let changed = crate::statement::execute::<D>(&mut tx, statement).await?;
    if changed == 1 {
        insert_jobs::<D>(&mut tx, std::slice::from_ref(job), at).await?;
    }
    tx.commit().await?;
    Ok(changed == 1)
}
