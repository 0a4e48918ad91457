//! Delivering a scheduled message, a batch of recipients at a time. For each batch the
//! service asks [`Store::assign_scheduled_conversations`] for each fan's conversation —
//! the one they have, or a new `pending` one (waiting on the fan), opened here — and that
//! choice is written on the recipient's row before anything is posted. The messages then
//! go through the group commit with the idempotency key `scheduled-{id}` in that
//! conversation, so a batch cut short by a crash is posted again into the same
//! conversations and answered with the messages already there. Last,
//! [`Store::record_scheduled_outcomes`] marks the batch sent. Each step is one
//! transaction with a fixed number of statements per batch.

use super::{CHUNK, DELIVERY_COLUMNS, ScheduledDeliveryRow};
use crate::conversation::rows::ConversationRow;
use crate::dialect::Dialect;
use crate::statement::{Columns, PushValue, Statement, fetch_all, placeholders};
use crate::{Store, StoreResult, to_micros};
use fandesk_analytics::Changes;
use fandesk_domain::{ConversationId, FanId, MessageId, Status};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, QueryBuilder, Sqlite};
use std::collections::HashMap;

/// A recipient and its conversation.
struct FanConversation {
    fan_id: FanId,
    conversation_id: Option<ConversationId>,
}

impl<'r, R: Columns> FromRow<'r, R> for FanConversation {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FanConversation {
            fan_id: FanId(row.text("fan_id")?),
            conversation_id: row.optional_text("conversation_id")?.map(ConversationId),
        })
    }
}

/// A recipient whose message was committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledSent {
    pub fan_id: FanId,
    pub message_id: MessageId,
    pub at: Timestamp,
}

impl Store {
    /// Pending recipients of message `id` due at `now`, earliest first.
    pub async fn due_scheduled_deliveries(
        &self,
        id: &str,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledDeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM scheduled_deliveries WHERE scheduled_id = $1 \
             AND status = 'pending' AND due_at <= $2 ORDER BY due_at, fan_id LIMIT $3"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(id)
            .bind(to_micros(now))
            .bind(i64::from(limit));
        self.writer().fetch_all(statement).await
    }

    /// When the next pending recipient of message `id` is due.
    pub async fn next_scheduled_due(&self, id: &str) -> StoreResult<Option<Timestamp>> {
        let statement = Statement::new(
            "SELECT MIN(due_at) FROM scheduled_deliveries WHERE scheduled_id = $1 \
             AND status = 'pending'",
        )
        .bind(id);
        let (due,): (Option<i64>,) = self.writer().fetch_one(statement).await?;
        due.map(crate::from_micros).transpose()
    }

    /// The conversation each of `fans` gets message `id` in, chosen once: the one already
    /// on the recipient's row, else the fan's unresolved conversation, else a new
    /// `pending` one (its id taken from `new_ids`, its first metric opening written with
    /// it). Returns the conversations, and which of them were opened here.
    pub async fn assign_scheduled_conversations(
        &self,
        id: &str,
        fans: &[FanId],
        new_ids: &[ConversationId],
        at: Timestamp,
    ) -> StoreResult<(HashMap<FanId, ConversationId>, Vec<ConversationRow>)> {
        if fans.is_empty() {
            return Ok((HashMap::new(), Vec::new()));
        }
        match self {
            Store::Sqlite(db) => assign::<Sqlite>(&db.write, id, fans, new_ids, at).await,
            Store::Postgres(db) => assign::<Postgres>(&db.pool, id, fans, new_ids, at).await,
        }
    }

    /// Marks `sent` recipients sent (also those a cancellation caught after their message
    /// was committed: they did get it), and gives `retry` recipients back without their
    /// conversation (it was resolved before the message went in), `failed` after
    /// `max_attempts`.
    pub async fn record_scheduled_outcomes(
        &self,
        id: &str,
        sent: &[ScheduledSent],
        retry: &[FanId],
        max_attempts: i64,
    ) -> StoreResult<()> {
        if sent.is_empty() && retry.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(db) => outcomes::<Sqlite>(&db.write, id, sent, retry, max_attempts).await,
            Store::Postgres(db) => {
                outcomes::<Postgres>(&db.pool, id, sent, retry, max_attempts).await
            }
        }
    }
}

async fn assign<D: Dialect>(
    pool: &sqlx::Pool<D>,
    id: &str,
    fans: &[FanId],
    new_ids: &[ConversationId],
    at: Timestamp,
) -> StoreResult<(HashMap<FanId, ConversationId>, Vec<ConversationRow>)> {
    let mut tx = pool.begin().await?;
    let mut chosen: HashMap<FanId, ConversationId> = HashMap::new();
    let mut opened = Vec::new();
    for (chunk, chunk_ids) in fans.chunks(CHUNK).zip(new_ids.chunks(CHUNK)) {
        // 1. What earlier attempts chose (rows locked on PostgreSQL: one node at a time).
        let sql = format!(
            "SELECT fan_id, conversation_id FROM scheduled_deliveries WHERE scheduled_id = $1 \
             AND fan_id IN ({}) ORDER BY fan_id{}",
            placeholders(2, chunk.len()),
            D::LOCK_ROWS
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(id)
            .bind_all(chunk.iter().map(FanId::as_str));
        let mut missing = Vec::new();
        for row in fetch_all::<D, FanConversation>(&mut tx, statement).await? {
            match row.conversation_id {
                Some(conversation) => {
                    chosen.insert(row.fan_id, conversation);
                }
                None => missing.push(row.fan_id),
            }
        }
        if missing.is_empty() {
            continue;
        }
        // 2. The fans' unresolved conversations.
        let mut fresh: HashMap<FanId, ConversationId> = active::<D>(&mut tx, &missing).await?;
        // 3. A new pending conversation for each fan without one; a conversation the fan
        // opened meanwhile wins (the one-unresolved-per-fan index), and is read again.
        let to_open: Vec<ConversationRow> = missing
            .iter()
            .filter(|fan| !fresh.contains_key(*fan))
            .zip(chunk_ids.iter())
            .map(|(fan, conversation)| {
                let mut row = ConversationRow::new_open(conversation.clone(), fan.clone(), at);
                row.status = Status::Pending;
                row
            })
            .collect();
        if !to_open.is_empty() {
            let inserted = insert_pending::<D>(&mut tx, &to_open).await?;
            let mut changes = Changes::default();
            for row in to_open.iter().filter(|row| inserted.contains(&row.id)) {
                changes
                    .openings
                    .extend(crate::metrics::step::creation_changes(row).openings);
                fresh.insert(row.fan_id.clone(), row.id.clone());
                opened.push(row.clone());
            }
            crate::metrics::commit::write_changes::<D>(&mut tx, &changes).await?;
            let lost: Vec<FanId> = missing
                .iter()
                .filter(|fan| !fresh.contains_key(*fan))
                .cloned()
                .collect();
            if !lost.is_empty() {
                fresh.extend(active::<D>(&mut tx, &lost).await?);
            }
        }
        // 4. The choice, on the recipients' rows.
        if !fresh.is_empty() {
            let rows: Vec<(&FanId, &ConversationId)> = fresh.iter().collect();
            let mut update =
                QueryBuilder::<D>::new("WITH v (scheduled_id, fan_id, conversation_id) AS (");
            update.push_values(&rows, |mut values, (fan, conversation)| {
                values
                    .value(id)
                    .value(fan.as_str())
                    .value(conversation.as_str());
            });
            update.push(
                ") UPDATE scheduled_deliveries SET conversation_id = v.conversation_id FROM v \
                 WHERE scheduled_deliveries.scheduled_id = v.scheduled_id \
                 AND scheduled_deliveries.fan_id = v.fan_id",
            );
            D::execute(&mut tx, update.build()).await?;
        }
        chosen.extend(fresh);
    }
    tx.commit().await?;
    Ok((chosen, opened))
}

/// The unresolved conversation of each of `fans` that has one.
async fn active<D: Dialect>(
    tx: &mut D::Connection,
    fans: &[FanId],
) -> StoreResult<HashMap<FanId, ConversationId>> {
    let sql = format!(
        "SELECT fan_id, id AS conversation_id FROM conversations WHERE status <> 'resolved' \
         AND fan_id IN ({})",
        placeholders(1, fans.len())
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind_all(fans.iter().map(FanId::as_str));
    Ok(fetch_all::<D, FanConversation>(tx, statement)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.fan_id, row.conversation_id?)))
        .collect())
}

struct Inserted(String);

impl<'r, R: Columns> FromRow<'r, R> for Inserted {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Inserted(row.text("id")?))
    }
}

/// Inserts the pending conversations; returns the ids that went in (a fan who has an
/// unresolved conversation by now keeps it instead).
async fn insert_pending<D: Dialect>(
    tx: &mut D::Connection,
    rows: &[ConversationRow],
) -> StoreResult<Vec<ConversationId>> {
    let mut insert = QueryBuilder::<D>::new(
        "INSERT INTO conversations (id, fan_id, status, escalated, priority, last_seq, \
         last_public_seq, created_at, updated_at) ",
    );
    insert.push_values(rows, |mut values, row| {
        values
            .value(row.id.as_str())
            .value(row.fan_id.as_str())
            .value(row.status.as_str())
            .value(false)
            .value(0i64)
            .value(0i64)
            .value(0i64)
            .value(to_micros(row.created_at))
            .value(to_micros(row.updated_at));
    });
    insert.push(" ON CONFLICT (fan_id) WHERE status <> 'resolved' DO NOTHING RETURNING id");
    let rows = D::fetch_all(tx, insert.build()).await?;
    let mut inserted = Vec::with_capacity(rows.len());
    for row in &rows {
        inserted.push(ConversationId(Inserted::from_row(row)?.0));
    }
    Ok(inserted)
}

async fn outcomes<D: Dialect>(
    pool: &sqlx::Pool<D>,
    id: &str,
    sent: &[ScheduledSent],
    retry: &[FanId],
    max_attempts: i64,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for chunk in sent.chunks(CHUNK) {
        let mut update =
            QueryBuilder::<D>::new("WITH v (scheduled_id, fan_id, message_id, sent_at) AS (");
        update.push_values(chunk, |mut values, sent| {
            values
                .value(id)
                .value(sent.fan_id.as_str())
                .value(sent.message_id.as_str())
                .value(to_micros(sent.at));
        });
        update.push(
            ") UPDATE scheduled_deliveries SET status = 'sent', message_id = v.message_id, \
             sent_at = v.sent_at FROM v WHERE scheduled_deliveries.scheduled_id = v.scheduled_id \
             AND scheduled_deliveries.fan_id = v.fan_id \
             AND scheduled_deliveries.status IN ('pending', 'cancelled')",
        );
        D::execute(&mut tx, update.build()).await?;
    }
    for chunk in retry.chunks(CHUNK) {
        let sql = format!(
            "UPDATE scheduled_deliveries SET conversation_id = NULL, attempts = attempts + 1, \
             status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END \
             WHERE scheduled_id = $1 AND status = 'pending' AND fan_id IN ({})",
            placeholders(3, chunk.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(id)
            .bind(max_attempts)
            .bind_all(chunk.iter().map(FanId::as_str));
        crate::statement::execute::<D>(&mut tx, statement).await?;
    }
    tx.commit().await?;
    Ok(())
}
