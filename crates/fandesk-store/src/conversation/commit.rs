//! The SQL of the group commit: load what the batch touches, let [`plan`] decide, write
//! the decisions. One transaction per batch, generic over the backend's [`Dialect`]. Its
//! statements are set-based, never one per op: loads by `IN` lists, one message insert,
//! one multi-row audit insert, the metric upserts, one conversation update (each per
//! 1,000 rows).

use super::plan::{Loaded, OpResult, WriteOp, plan};
use super::rows::{CONVERSATION_COLUMNS, ConversationRow, MESSAGE_COLUMNS, MessageRow};
use crate::dialect::Dialect;
use crate::statement::{Columns, PushValue, Statement, fetch_all, placeholders};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::{ConversationId, FanId};
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres, QueryBuilder, Sqlite};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Rows per multi-row INSERT: 17 parameters a row × 1,000 stays below both backends'
/// limits (SQLite 32,766, PostgreSQL 65,535), so a full batch is one statement.
const INSERT_CHUNK: usize = 1000;
/// Conversations per set-based UPDATE: 17 parameters a row.
const UPDATE_CHUNK: usize = 1000;

impl Store {
    /// Applies `ops` in one transaction and returns one result per op, in order. A
    /// refused op (rule violation, or text that cannot be stored) does not affect the
    /// others; a database failure fails the whole batch and nothing of it is committed.
    pub async fn apply_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<OpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        crate::stored_text::apply_screened(ops, |ops| async move {
            let mut phases = Phases::start();
            let results = match self {
                Store::Sqlite(db) => commit::<Sqlite>(&db.write, &ops, &mut phases).await?,
                Store::Postgres(db) => commit::<Postgres>(&db.pool, &ops, &mut phases).await?,
            };
            phases.mark("commit");
            tracing::debug!(ops = ops.len(), phases = %phases, "group commit");
            Ok(results)
        })
        .await
    }
}

async fn commit<D: Dialect>(
    pool: &sqlx::Pool<D>,
    ops: &[WriteOp],
    phases: &mut Phases,
) -> StoreResult<Vec<OpResult>> {
    let mut tx = pool.begin().await?;
    phases.mark("begin");
    let loaded = load::<D>(&mut tx, ops, phases).await?;
    let plan = plan(ops, loaded);
    phases.mark("plan");
    D::insert_messages(&mut tx, &plan.new_rows).await?;
    phases.mark("insert");
    for chunk in plan.audits.chunks(INSERT_CHUNK) {
        let mut insert = QueryBuilder::<D>::new(
            "INSERT INTO audit_log (id, actor_id, actor_name, action, conversation_id, details, created_at) ",
        );
        insert.push_values(chunk, |mut values, audit| {
            values
                .value(audit.id.as_str())
                .value(audit.actor_id.as_str())
                .value(audit.actor_name.as_str())
                .value(audit.action.as_str())
                .value(audit.conversation_id.as_ref().map(ConversationId::as_str))
                .value(audit.details.as_str())
                .value(to_micros(audit.created_at));
        });
        D::execute(&mut tx, insert.build()).await?;
    }
    phases.mark("audit");
    crate::metrics::commit::write_changes::<D>(&mut tx, &plan.metrics).await?;
    phases.mark("metric_write");
    for chunk in plan.touched.chunks(UPDATE_CHUNK) {
        update_conversations::<D>(&mut tx, chunk).await?;
    }
    phases.mark("update");
    tx.commit().await.map_err(StoreError::at_commit)?;
    Ok(plan.results)
}

/// The messages already stored under `keys` idempotency keys, bound as (client_msg_id,
/// author, conversation) triples: equality on every column of the unique
/// `messages_idempotency` index, whose leading column is the conversation.
fn earlier_sends_sql(keys: usize) -> String {
    let rows: Vec<String> = (0..keys)
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    format!(
        "WITH k (k_client, k_author, k_conversation) AS (VALUES {}) \
         SELECT {MESSAGE_COLUMNS} FROM k JOIN messages ON messages.client_msg_id = k.k_client \
         AND messages.author_id = k.k_author AND messages.conversation_id = k.k_conversation \
         WHERE messages.client_msg_id IS NOT NULL",
        rows.join(", ")
    )
}

/// One conversation of a fan who has a reopen in the batch, not resolved.
struct ActiveConversation {
    fan_id: FanId,
    id: ConversationId,
}

impl<'r, R: Columns> FromRow<'r, R> for ActiveConversation {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ActiveConversation {
            fan_id: FanId(row.text("fan_id")?),
            id: ConversationId(row.text("id")?),
        })
    }
}

/// Loads (and on PostgreSQL locks) what the batch is decided against.
async fn load<D: Dialect>(
    tx: &mut D::Connection,
    ops: &[WriteOp],
    phases: &mut Phases,
) -> StoreResult<Loaded> {
    // 1. Every conversation the batch touches, locked in id order on PostgreSQL.
    let mut ids: Vec<&str> = ops.iter().map(|op| op.conversation_id().as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN ({}) ORDER BY id{}",
        placeholders(1, ids.len()),
        D::LOCK_ROWS
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind_all(ids.iter().copied());
    let conversations: HashMap<ConversationId, ConversationRow> =
        fetch_all::<D, ConversationRow>(tx, statement)
            .await?
            .into_iter()
            .map(|conversation| (conversation.id.clone(), conversation))
            .collect();
    // 2. Earlier sends under the same idempotency keys, looked up by the whole key
    // (client_msg_id, author, conversation) through its unique index. Not by client_msg_id
    // alone: a scheduled message posts the same `scheduled-{id}` into every recipient's
    // conversation, and each batch would read back every recipient already sent.
    let mut keys: Vec<(&str, &str, &str)> = ops
        .iter()
        .filter_map(|op| {
            op.idempotency_key()
                .map(|(author, client, conversation)| (client, author, conversation))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut existing = Vec::new();
    if !keys.is_empty() {
        let sql = earlier_sends_sql(keys.len());
        let statement = Statement::new(AssertSqlSafe(sql)).bind_all(
            keys.iter()
                .flat_map(|(client, author, conversation)| [*client, *author, *conversation]),
        );
        existing = fetch_all::<D, MessageRow>(tx, statement).await?;
    }
    // 3. A reopen must not give a fan two unresolved conversations.
    let mut fans_with_active: HashMap<FanId, HashSet<ConversationId>> = HashMap::new();
    let reopen_fans: Vec<&str> = ops
        .iter()
        .filter(|op| op.is_reopen())
        .filter_map(|op| conversations.get(op.conversation_id()))
        .map(|conversation| conversation.fan_id.as_str())
        .collect();
    if !reopen_fans.is_empty() {
        let sql = format!(
            "SELECT fan_id, id FROM conversations WHERE status <> 'resolved' AND fan_id IN ({})",
            placeholders(1, reopen_fans.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind_all(reopen_fans.iter().copied());
        for active in fetch_all::<D, ActiveConversation>(tx, statement).await? {
            fans_with_active
                .entry(active.fan_id)
                .or_default()
                .insert(active.id);
        }
    }
    phases.mark("load");
    // 4. Metric state: latest openings, team messages still waiting for the fan (only
    // those young enough to be answered in time), the SLA target.
    let metrics = crate::metrics::commit::load_state::<D>(
        tx,
        &ids,
        crate::metrics::step::answerable_since(ops),
        ops.iter().any(crate::metrics::step::may_stop_clock),
    )
    .await?;
    phases.mark("metric_load");
    Ok(Loaded {
        conversations,
        existing,
        fans_with_active,
        metric_openings: metrics.openings,
        metric_unanswered: metrics.unanswered,
        metric_policy: metrics.policy,
    })
}

/// One set-based UPDATE of the touched conversations (not one per conversation): the
/// CTE's column names work on SQLite (≥ 3.33 for `UPDATE … FROM`) and PostgreSQL, whose
/// `VALUES` take their types from the typed parameters.
async fn update_conversations<D: Dialect>(
    tx: &mut D::Connection,
    conversations: &[ConversationRow],
) -> StoreResult<()> {
    let mut update = QueryBuilder::<D>::new(
        "WITH v (id, status, assignee_id, last_seq, last_public_seq, updated_at, escalated, \
         escalated_to, observer_id, awaiting_since, sentiment, sentiment_messages, \
         sentiment_negative, bot_automated_last, bot_fan_waiting, bot_exchanges, \
         bot_handed_off, snoozed_until) AS (",
    );
    update.push_values(conversations, |mut values, conversation| {
        values
            .value(conversation.id.as_str())
            .value(conversation.status.as_str())
            .value(conversation.assignee_id.as_ref().map(|id| id.as_str()))
            .value(conversation.last_seq as i64)
            .value(conversation.last_public_seq as i64)
            .value(to_micros(conversation.updated_at))
            .value(conversation.escalated)
            .value(conversation.escalated_to.as_ref().map(|id| id.as_str()))
            .value(conversation.observer_id.as_ref().map(|id| id.as_str()))
            .value(conversation.awaiting_since.map(to_micros))
            .value(conversation.sentiment.score)
            .value(i64::from(conversation.sentiment.messages))
            .value(conversation.sentiment.negative)
            .value(conversation.bot.automated_last)
            .value(conversation.bot.fan_waiting)
            .value(i64::from(conversation.bot.exchanges))
            .value(conversation.bot.handed_off)
            .value(conversation.snoozed_until.map(to_micros));
    });
    update.push(
        ") UPDATE conversations SET status = v.status, assignee_id = v.assignee_id, \
         last_seq = v.last_seq, last_public_seq = v.last_public_seq, \
         updated_at = v.updated_at, last_message_at = v.updated_at, \
         escalated = v.escalated, escalated_to = v.escalated_to, \
         observer_id = v.observer_id, awaiting_since = v.awaiting_since, \
         sentiment = v.sentiment, sentiment_messages = v.sentiment_messages, \
         sentiment_negative = v.sentiment_negative, \
         bot_automated_last = v.bot_automated_last, bot_fan_waiting = v.bot_fan_waiting, \
         bot_exchanges = v.bot_exchanges, bot_handed_off = v.bot_handed_off, \
         snoozed_until = v.snoozed_until \
         FROM v WHERE conversations.id = v.id",
    );
    D::execute(tx, update.build()).await?;
    Ok(())
}

/// The message insert of [`Dialect::insert_messages`] as multi-row `VALUES` (SQLite).
pub(crate) async fn insert_messages_values<D: Dialect>(
    connection: &mut D::Connection,
    rows: &[MessageRow],
) -> StoreResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut insert =
            QueryBuilder::<D>::new(format!("INSERT INTO messages ({MESSAGE_COLUMNS}) "));
        insert.push_values(chunk, |mut values, row| {
            values
                .value(row.id.as_str())
                .value(row.conversation_id.as_str())
                .value(row.seq as i64)
                .value(row.public_seq.map(|seq| seq as i64))
                .value(row.author_id.as_str())
                .value(row.author_kind.as_str())
                .value(row.author_name.as_str())
                .value(row.client_msg_id.as_deref())
                .value(row.body.as_str())
                .value(row.visibility.as_str())
                .value(row.automated)
                .value(to_micros(row.created_at))
                .value(row.whisper_to.as_ref().map(|id| id.as_str()))
                .value(row.reply_ms)
                .value(row.sentiment)
                .value(row.flag.as_deref())
                .value(row.event.map(|event| event.as_str()))
                .value(row.quick_replies_json().as_deref());
        });
        D::execute(connection, insert.build()).await?;
    }
    Ok(())
}

/// The message insert of [`Dialect::insert_messages`] as one `UNNEST` of column arrays
/// (PostgreSQL): a 500-row `VALUES` with 8,000 parameters was re-planned every batch.
pub(crate) async fn insert_messages_unnest(
    connection: &mut PgConnection,
    rows: &[MessageRow],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let text = |get: fn(&MessageRow) -> &str| -> Vec<&str> { rows.iter().map(get).collect() };
    let optional = |get: fn(&MessageRow) -> Option<&str>| -> Vec<Option<&str>> {
        rows.iter().map(get).collect()
    };
    sqlx::query::<Postgres>(POSTGRES_INSERT_MESSAGES)
        .bind(text(|row| row.id.as_str()))
        .bind(text(|row| row.conversation_id.as_str()))
        .bind(rows.iter().map(|row| row.seq as i64).collect::<Vec<i64>>())
        .bind(
            rows.iter()
                .map(|row| row.public_seq.map(|seq| seq as i64))
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(text(|row| row.author_id.as_str()))
        .bind(text(|row| row.author_kind.as_str()))
        .bind(text(|row| row.author_name.as_str()))
        .bind(optional(|row| row.client_msg_id.as_deref()))
        .bind(text(|row| row.body.as_str()))
        .bind(text(|row| row.visibility.as_str()))
        .bind(rows.iter().map(|row| row.automated).collect::<Vec<bool>>())
        .bind(
            rows.iter()
                .map(|row| to_micros(row.created_at))
                .collect::<Vec<i64>>(),
        )
        .bind(optional(|row| {
            row.whisper_to.as_ref().map(|id| id.as_str())
        }))
        .bind(
            rows.iter()
                .map(|row| row.reply_ms)
                .collect::<Vec<Option<i64>>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.sentiment)
                .collect::<Vec<Option<f64>>>(),
        )
        .bind(optional(|row| row.flag.as_deref()))
        .bind(optional(|row| row.event.map(|event| event.as_str())))
        .bind(
            rows.iter()
                .map(MessageRow::quick_replies_json)
                .collect::<Vec<Option<String>>>(),
        )
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Column order of `MESSAGE_COLUMNS`.
const POSTGRES_INSERT_MESSAGES: &str = "INSERT INTO messages (id, conversation_id, seq, \
     public_seq, author_id, author_kind, author_name, client_msg_id, body, visibility, \
     automated, created_at, whisper_to, reply_ms, sentiment, flag, event, quick_replies) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[], $12::int8[], \
     $13::text[], $14::int8[], $15::float8[], $16::text[], $17::text[], $18::text[])";

/// Wall time of each step of a group commit, logged with `FANDESK_LOG=fandesk_store=debug`.
struct Phases {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start() -> Phases {
        Phases {
            last: Instant::now(),
            spent: Vec::with_capacity(10),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.spent.push((phase, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (phase, spent) in &self.spent {
            write!(f, "{phase}={:.2}ms ", spent.as_secs_f64() * 1000.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::earlier_sends_sql;
    use crate::Store;
    use sqlx::AssertSqlSafe;

    /// The duplicate check of a batch reads the unique index by its whole key, so each
    /// lookup lands among its own conversation's entries (the index's leading column).
    #[tokio::test]
    async fn the_duplicate_check_reads_the_idempotency_index_by_conversation() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("store");
        let Store::Sqlite(db) = &store else {
            unreachable!("opened SQLite")
        };
        let mut query = sqlx::query_as(AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {}",
            earlier_sends_sql(2)
        )));
        for value in ["c-1", "mem_1", "cnv_1", "c-2", "fan_1", "cnv_2"] {
            query = query.bind(value);
        }
        let plan: Vec<(i64, i64, i64, String)> = query.fetch_all(&db.read).await.expect("plan");
        let steps: Vec<&str> = plan.iter().map(|step| step.3.as_str()).collect();
        assert!(
            steps.iter().any(|step| step.contains("USING INDEX messages_idempotency (conversation_id=? AND author_id=? AND client_msg_id=?)")),
            "{steps:?}"
        );
        store.close().await;
    }
}
