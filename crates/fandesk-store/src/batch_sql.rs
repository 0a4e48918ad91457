//! The SQL of the group commit: load what the batch touches, let `batch::plan` decide,
//! write the decisions. One transaction per batch, instantiated once per backend.

use crate::batch::{Loaded, OpResult, WriteOp, plan};
use crate::rows::{CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::{Store, StoreResult, to_micros};
use sqlx::AssertSqlSafe;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Rows per multi-row INSERT: 16 parameters a row × 1,000 stays below both backends'
/// limits (SQLite 32,766, PostgreSQL 65,535), so a full batch is one statement.
const INSERT_CHUNK: usize = 1000;
/// Conversations per set-based UPDATE: 13 parameters a row.
const UPDATE_CHUNK: usize = 1000;

fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts a batch's new messages. SQLite: multi-row `VALUES`. PostgreSQL: one `UNNEST`
/// of column arrays — one statement shape whatever the batch size, so it is planned once
/// (a 500-row `VALUES` with 8,000 parameters was re-planned every batch).
macro_rules! insert_messages {
    (sqlite, $tx:expr, $rows:expr) => {{
        let rows: &[crate::MessageRow] = $rows;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                "INSERT INTO messages ({MESSAGE_COLUMNS}) "
            ));
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.0.clone())
                    .push_bind(row.conversation_id.0.clone())
                    .push_bind(row.seq as i64)
                    .push_bind(row.public_seq.map(|seq| seq as i64))
                    .push_bind(row.author_id.clone())
                    .push_bind(row.author_kind.as_str())
                    .push_bind(row.author_name.clone())
                    .push_bind(row.client_msg_id.clone())
                    .push_bind(row.body.clone())
                    .push_bind(row.visibility.as_str())
                    .push_bind(row.automated)
                    .push_bind(to_micros(row.created_at))
                    .push_bind(row.whisper_to.as_ref().map(|id| id.0.clone()))
                    .push_bind(row.reply_ms)
                    .push_bind(row.sentiment)
                    .push_bind(row.flag.clone());
            });
            insert.build().execute(&mut *$tx).await?;
        }
    }};
    (postgres, $tx:expr, $rows:expr) => {{
        let rows: &[crate::MessageRow] = $rows;
        if !rows.is_empty() {
            let text = |get: fn(&crate::MessageRow) -> &str| -> Vec<&str> {
                rows.iter().map(get).collect()
            };
            let optional = |get: fn(&crate::MessageRow) -> Option<&str>| -> Vec<Option<&str>> {
                rows.iter().map(get).collect()
            };
            sqlx::query::<sqlx::Postgres>(POSTGRES_INSERT_MESSAGES)
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
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// Column order of `MESSAGE_COLUMNS`.
const POSTGRES_INSERT_MESSAGES: &str = "INSERT INTO messages (id, conversation_id, seq, \
     public_seq, author_id, author_kind, author_name, client_msg_id, body, visibility, \
     automated, created_at, whisper_to, reply_ms, sentiment, flag) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[], $12::int8[], \
     $13::text[], $14::int8[], $15::float8[], $16::text[])";

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

/// The transaction body, instantiated once per backend. `$lock` is the row-lock suffix.
macro_rules! run_batch {
    ($backend:ident, $tx:expr, $db:ty, $lock:expr, $ops:expr, $phases:expr) => {{
        let tx = $tx;
        let phases: &mut Phases = $phases;
        let ops: &[WriteOp] = $ops;
        // 1. Load (and on PostgreSQL lock, in id order) every conversation the batch touches.
        let mut ids: Vec<&str> = ops.iter().map(|op| op.conversation_id().as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN ({}) ORDER BY id{}",
            placeholders(ids.len()),
            $lock
        );
        let mut query = sqlx::query::<$db>(AssertSqlSafe(sql.as_str()));
        for id in &ids {
            query = query.bind(*id);
        }
        let mut conversations = HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            let conversation = decode_conversation!(&row);
            conversations.insert(conversation.id.clone(), conversation);
        }
        // 2. Earlier sends of the same client_msg_ids (idempotency).
        let mut client_ids: Vec<&str> =
            ops.iter().filter_map(|op| op.idempotency_key().map(|key| key.1)).collect();
        client_ids.sort_unstable();
        client_ids.dedup();
        let mut existing = Vec::new();
        if !client_ids.is_empty() {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_msg_id IN ({})",
                placeholders(client_ids.len())
            );
            let mut query = sqlx::query::<$db>(AssertSqlSafe(sql.as_str()));
            for id in &client_ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                existing.push(decode_message!(&row));
            }
        }
        // 3. A reopen must not give a fan two unresolved conversations.
        let mut fans_with_active: HashMap<fandesk_domain::FanId, HashSet<fandesk_domain::ConversationId>> =
            HashMap::new();
        let reopen_fans: Vec<String> = ops
            .iter()
            .filter(|op| op.is_reopen())
            .filter_map(|op| conversations.get(op.conversation_id()).map(|c: &crate::ConversationRow| c.fan_id.0.clone()))
            .collect();
        if !reopen_fans.is_empty() {
            let sql = format!(
                "SELECT fan_id, id FROM conversations WHERE status <> 'resolved' AND fan_id IN ({})",
                placeholders(reopen_fans.len())
            );
            let mut query = sqlx::query_as::<$db, (String, String)>(AssertSqlSafe(sql.as_str()));
            for fan in &reopen_fans {
                query = query.bind(fan.as_str());
            }
            for (fan, id) in query.fetch_all(&mut *tx).await? {
                fans_with_active
                    .entry(fandesk_domain::FanId(fan))
                    .or_default()
                    .insert(fandesk_domain::ConversationId(id));
            }
        }
        // 4. Metric state (issue 6): latest openings, team messages still waiting for the
        // fan (only those young enough to be answered in time), the SLA target.
        phases.mark("load");
        let (metric_openings, metric_unanswered, metric_policy) = load_metric_state!(
            tx,
            $db,
            &ids,
            crate::metric_step::answerable_since(ops),
            ops.iter().any(crate::metric_step::may_stop_clock)
        );
        // 5. Decide, then write what was decided.
        phases.mark("metric_load");
        let plan = plan(ops, Loaded { conversations, existing, fans_with_active, metric_openings, metric_unanswered, metric_policy });
        phases.mark("plan");
        insert_messages!($backend, tx, &plan.new_rows);
        phases.mark("insert");
        for chunk in plan.audits.chunks(INSERT_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO audit_log (id, actor_id, actor_name, action, conversation_id, details, created_at) ",
            );
            insert.push_values(chunk, |mut values, audit| {
                values
                    .push_bind(audit.id.clone())
                    .push_bind(audit.actor_id.clone())
                    .push_bind(audit.actor_name.clone())
                    .push_bind(audit.action.clone())
                    .push_bind(audit.conversation_id.as_ref().map(|id| id.0.clone()))
                    .push_bind(audit.details.clone())
                    .push_bind(to_micros(audit.created_at));
            });
            insert.build().execute(&mut *tx).await?;
        }
        phases.mark("audit");
        write_metric_changes!(tx, $db, &plan.metrics);
        phases.mark("metric_write");
        // One set-based UPDATE per chunk (not one per conversation): the CTE's column
        // names work on SQLite (≥ 3.33 for UPDATE … FROM) and PostgreSQL, whose VALUES
        // take their types from the typed parameters.
        for chunk in plan.touched.chunks(UPDATE_CHUNK) {
            let mut update = sqlx::QueryBuilder::<$db>::new(
                "WITH v (id, status, assignee_id, last_seq, last_public_seq, updated_at, escalated, \
                 escalated_to, observer_id, awaiting_since, sentiment, sentiment_messages, \
                 sentiment_negative) AS (",
            );
            update.push_values(chunk, |mut values, conversation| {
                values
                    .push_bind(conversation.id.0.clone())
                    .push_bind(conversation.status.as_str())
                    .push_bind(conversation.assignee_id.as_ref().map(|id| id.0.clone()))
                    .push_bind(conversation.last_seq as i64)
                    .push_bind(conversation.last_public_seq as i64)
                    .push_bind(to_micros(conversation.updated_at))
                    .push_bind(conversation.escalated)
                    .push_bind(conversation.escalated_to.as_ref().map(|id| id.0.clone()))
                    .push_bind(conversation.observer_id.as_ref().map(|id| id.0.clone()))
                    .push_bind(conversation.awaiting_since.map(to_micros))
                    .push_bind(conversation.sentiment.score)
                    .push_bind(i64::from(conversation.sentiment.messages))
                    .push_bind(conversation.sentiment.negative);
            });
            update.push(
                ") UPDATE conversations SET status = v.status, assignee_id = v.assignee_id, \
                 last_seq = v.last_seq, last_public_seq = v.last_public_seq, \
                 updated_at = v.updated_at, last_message_at = v.updated_at, \
                 escalated = v.escalated, escalated_to = v.escalated_to, \
                 observer_id = v.observer_id, awaiting_since = v.awaiting_since, \
                 sentiment = v.sentiment, sentiment_messages = v.sentiment_messages, \
                 sentiment_negative = v.sentiment_negative \
                 FROM v WHERE conversations.id = v.id",
            );
            update.build().execute(&mut *tx).await?;
        }
        phases.mark("update");
        plan.results
    }};
}

impl Store {
    /// Applies `ops` in one transaction and returns one result per op, in order. A
    /// refused op (rule violation) does not affect the others; a database failure fails
    /// the whole batch and nothing of it is committed.
    pub async fn apply_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<OpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut phases = Phases::start();
        let results = match self {
            Store::Sqlite(db) => {
                let mut tx = db.write.begin().await?;
                phases.mark("begin");
                let results = run_batch!(sqlite, &mut *tx, sqlx::Sqlite, "", ops, &mut phases);
                tx.commit().await?;
                results
            }
            Store::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                phases.mark("begin");
                let results = run_batch!(
                    postgres,
                    &mut *tx,
                    sqlx::Postgres,
                    " FOR UPDATE",
                    ops,
                    &mut phases
                );
                tx.commit().await?;
                results
            }
        };
        phases.mark("commit");
        tracing::debug!(ops = ops.len(), phases = %phases, "group commit");
        Ok(results)
    }
}
