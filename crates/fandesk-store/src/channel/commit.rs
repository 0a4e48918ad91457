//! The channels' group commit: creations (under the charter's limit of active channels),
//! posts (dense `seq`, idempotent by author and `client_msg_id`, threads checked, the
//! decision row written with its message), archive and restore, and the archiving sweep's
//! warning and archive — each decided inside the transaction against the channel row as
//! the preceding op left it (locked on PostgreSQL, so several nodes can write one channel).

use super::decision::{DECISION_COLUMNS, DECISION_TABLES, DecisionRow};
use super::{CHANNEL_COLUMNS, ChannelMessageRow, ChannelRow, MESSAGE_COLUMNS};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_optional};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::channel::{
    ChannelId, ChannelRefusal, DecisionId, DecisionKind, DecisionStatus,
};
use fandesk_domain::{AuthorKind, MessageId, RuleViolation};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};

/// A tagged message's entry in the decision log.
#[derive(Clone, Debug)]
pub struct NewDecision {
    pub id: DecisionId,
    pub kind: DecisionKind,
    pub text: String,
    pub owner_id: Option<String>,
}

/// What the archiving sweep does to a channel it found idle.
#[derive(Clone, Debug)]
pub enum SweepStep {
    /// Post this warning (a system message; its `seq` is taken in the transaction).
    Warn(Box<ChannelMessageRow>),
    Archive,
}

/// One write in a channel batch. Text is already validated and trimmed by the service.
#[derive(Clone, Debug)]
pub enum ChannelOp {
    /// A new channel, refused when `limit` channels are active already.
    Create { channel: ChannelRow, limit: u32 },
    /// A message (its `seq` is taken in the transaction), with its decision-log entry.
    Post {
        message: ChannelMessageRow,
        decision: Option<NewDecision>,
    },
    /// Archive (`archived`) or restore a channel; a restore respects `limit`.
    SetArchived {
        channel_id: ChannelId,
        archived: bool,
        limit: u32,
        at: Timestamp,
    },
    /// The sweep's step for a channel idle since `active_at`: skipped if it has been used
    /// (or archived, or warned) since the sweep read it.
    Sweep {
        channel_id: ChannelId,
        active_at: Timestamp,
        step: SweepStep,
        at: Timestamp,
    },
}

/// What one op did.
#[derive(Clone, Debug)]
pub enum ChannelOutcome {
    /// A channel created, archived or restored: as it is now; `changed` false when it was
    /// already in that state.
    Channel { channel: ChannelRow, changed: bool },
    /// A message: new (`created`), or the original of a repeated `client_msg_id`.
    Message {
        message: ChannelMessageRow,
        decision: Option<DecisionRow>,
        created: bool,
    },
    /// A sweep step that no longer applied.
    Skipped,
}

pub type ChannelOpResult = Result<ChannelOutcome, ChannelRefusal>;

impl Store {
    /// Applies channel `ops` in one transaction: one result per op, in order. A refused
    /// op does not affect the others; a database failure rolls the whole batch back.
    pub async fn apply_channel_batch(
        &self,
        ops: &[ChannelOp],
    ) -> StoreResult<Vec<ChannelOpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(db) => commit::<Sqlite>(&db.write, ops).await,
            Store::Postgres(db) => commit::<Postgres>(&db.pool, ops).await,
        }
    }
}

async fn commit<D: Dialect>(
    pool: &sqlx::Pool<D>,
    ops: &[ChannelOp],
) -> StoreResult<Vec<ChannelOpResult>> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(apply::<D>(&mut tx, op).await?);
    }
    tx.commit().await.map_err(StoreError::at_commit)?;
    Ok(results)
}

/// Loads (and on PostgreSQL locks) a channel row.
async fn channel<D: Dialect>(
    tx: &mut D::Connection,
    id: &ChannelId,
) -> StoreResult<Option<ChannelRow>> {
    let sql = format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1{}",
        D::LOCK_ROWS
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
    fetch_optional::<D, ChannelRow>(tx, statement).await
}

struct NameRow(String);

impl<'r, R: Columns> FromRow<'r, R> for NameRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(NameRow(row.text("name")?))
    }
}

struct CountRow(i64);

impl<'r, R: Columns> FromRow<'r, R> for CountRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CountRow(row.int("n")?))
    }
}

/// The key under which nodes count active channels one at a time.
const CHANNEL_LIMIT_KEY: i64 = 0x6664_6368_616e; // "fdchan"

/// Refuses one more active channel when `limit` are active already. On PostgreSQL the
/// count is taken under a lock held to the commit, so two nodes creating at once cannot
/// both pass the limit.
async fn check_limit<D: Dialect>(
    tx: &mut D::Connection,
    limit: u32,
) -> StoreResult<Option<ChannelRefusal>> {
    if let Some(sql) = D::EXCLUSIVE_KEY {
        execute::<D>(tx, Statement::new(sql).bind(CHANNEL_LIMIT_KEY)).await?;
    }
    let statement = Statement::new("SELECT COUNT(*) AS n FROM channels WHERE archived_at IS NULL");
    let active = fetch_optional::<D, CountRow>(tx, statement)
        .await?
        .map_or(0, |row| row.0);
    Ok((active >= i64::from(limit)).then_some(ChannelRefusal::Limit(limit)))
}

async fn message<D: Dialect>(
    tx: &mut D::Connection,
    channel: &ChannelId,
    id: &MessageId,
) -> StoreResult<Option<ChannelMessageRow>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM channel_messages m WHERE m.channel_id = $1 AND m.id = $2"
    );
    let statement = Statement::new(AssertSqlSafe(sql))
        .bind(channel.as_str())
        .bind(id.as_str());
    fetch_optional::<D, ChannelMessageRow>(tx, statement).await
}

async fn decision_of<D: Dialect>(
    tx: &mut D::Connection,
    message: &MessageId,
) -> StoreResult<Option<DecisionRow>> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM {DECISION_TABLES} WHERE d.message_id = $1");
    let statement = Statement::new(AssertSqlSafe(sql)).bind(message.as_str());
    fetch_optional::<D, DecisionRow>(tx, statement).await
}

/// Checks that `field` names a message of the channel that is not itself a reply (threads
/// are one level deep).
async fn check_root<D: Dialect>(
    tx: &mut D::Connection,
    channel: &ChannelId,
    field: &'static str,
    id: &MessageId,
) -> StoreResult<Option<ChannelRefusal>> {
    let refusal = match message::<D>(tx, channel, id).await? {
        // A summary names its thread in the path: a missing one is not found.
        None if field == "summary_of" => return Ok(Some(ChannelRefusal::Missing("message"))),
        None => RuleViolation::invalid(field, "names no message of this channel"),
        Some(root) if root.thread_root_id.is_some() => {
            RuleViolation::invalid(field, "names a reply: name its thread's root")
        }
        Some(_) => return Ok(None),
    };
    Ok(Some(refusal.into()))
}

/// Applies one op inside the batch's transaction.
async fn apply<D: Dialect>(tx: &mut D::Connection, op: &ChannelOp) -> StoreResult<ChannelOpResult> {
    match op {
        ChannelOp::Create { channel, limit } => {
            if let Some(refusal) = check_limit::<D>(tx, *limit).await? {
                return Ok(Err(refusal));
            }
            insert_channel::<D>(tx, channel).await?;
            Ok(Ok(ChannelOutcome::Channel {
                channel: channel.clone(),
                changed: true,
            }))
        }
        ChannelOp::Post { message, decision } => post::<D>(tx, message, decision.as_ref()).await,
        ChannelOp::SetArchived {
            channel_id,
            archived,
            limit,
            at,
        } => {
            let Some(mut row) = channel::<D>(tx, channel_id).await? else {
                return Ok(Err(ChannelRefusal::Missing("channel")));
            };
            if row.archived_at.is_some() == *archived {
                return Ok(Ok(ChannelOutcome::Channel {
                    channel: row,
                    changed: false,
                }));
            }
            if *archived {
                row.archived_at = Some(*at);
            } else {
                if let Some(refusal) = check_limit::<D>(tx, *limit).await? {
                    return Ok(Err(refusal));
                }
                // A restored channel starts a new idle spell.
                row.archived_at = None;
                row.active_at = *at;
                row.warned_at = None;
            }
            update_state::<D>(tx, &row).await?;
            Ok(Ok(ChannelOutcome::Channel {
                channel: row,
                changed: true,
            }))
        }
        ChannelOp::Sweep {
            channel_id,
            active_at,
            step,
            at,
        } => {
            let Some(mut row) = channel::<D>(tx, channel_id).await? else {
                return Ok(Ok(ChannelOutcome::Skipped));
            };
            if row.archived_at.is_some() || row.active_at != *active_at {
                return Ok(Ok(ChannelOutcome::Skipped));
            }
            match step {
                SweepStep::Archive => {
                    row.archived_at = Some(*at);
                    update_state::<D>(tx, &row).await?;
                    Ok(Ok(ChannelOutcome::Channel {
                        channel: row,
                        changed: true,
                    }))
                }
                SweepStep::Warn(_) if row.warned_at.is_some() => Ok(Ok(ChannelOutcome::Skipped)),
                SweepStep::Warn(warning) => {
                    row.warned_at = Some(*at);
                    update_state::<D>(tx, &row).await?;
                    post::<D>(tx, warning.as_ref(), None).await
                }
            }
        }
    }
}

async fn insert_channel<D: Dialect>(
    tx: &mut D::Connection,
    channel: &ChannelRow,
) -> StoreResult<()> {
    let members = serde_json::to_string(&channel.member_ids)
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let statement = Statement::new(
        "INSERT INTO channels (id, name, purpose, guideline, kind, member_ids, created_by, \
         created_at, last_seq, last_message_at, active_at, warned_at, archived_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL, $9, NULL, NULL)",
    )
    .bind(channel.id.as_str())
    .bind(channel.name.as_str())
    .bind(channel.purpose.as_str())
    .bind(channel.guideline.as_str())
    .bind(channel.kind.as_str())
    .bind(members.as_str())
    .bind(channel.created_by.as_str())
    .bind(to_micros(channel.created_at))
    .bind(to_micros(channel.active_at));
    execute::<D>(tx, statement).await?;
    Ok(())
}

/// Writes a channel's archive state and idle spell.
async fn update_state<D: Dialect>(tx: &mut D::Connection, row: &ChannelRow) -> StoreResult<()> {
    let statement = Statement::new(
        "UPDATE channels SET archived_at = $2, active_at = $3, warned_at = $4 WHERE id = $1",
    )
    .bind(row.id.as_str())
    .bind(row.archived_at.map(to_micros))
    .bind(to_micros(row.active_at))
    .bind(row.warned_at.map(to_micros));
    execute::<D>(tx, statement).await?;
    Ok(())
}

async fn post<D: Dialect>(
    tx: &mut D::Connection,
    message: &ChannelMessageRow,
    decision: Option<&NewDecision>,
) -> StoreResult<ChannelOpResult> {
    let Some(row) = channel::<D>(tx, &message.channel_id).await? else {
        return Ok(Err(ChannelRefusal::Missing("channel")));
    };
    if let Some(key) = &message.client_msg_id {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM channel_messages m \
             WHERE m.channel_id = $1 AND m.author_id = $2 AND m.client_msg_id = $3"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(message.channel_id.as_str())
            .bind(message.author_id.as_str())
            .bind(key.as_str());
        if let Some(original) = fetch_optional::<D, ChannelMessageRow>(tx, statement).await? {
            let decision = decision_of::<D>(tx, &original.id).await?;
            return Ok(Ok(ChannelOutcome::Message {
                message: original,
                decision,
                created: false,
            }));
        }
    }
    if row.archived_at.is_some() {
        return Ok(Err(RuleViolation::InvalidTransition(
            "the channel is archived (read-only): restore it to post",
        )
        .into()));
    }
    let roots = [
        ("thread_root_id", &message.thread_root_id),
        ("summary_of", &message.summary_of),
    ];
    for (field, root) in roots {
        if let Some(root) = root
            && let Some(refusal) = check_root::<D>(tx, &message.channel_id, field, root).await?
        {
            return Ok(Err(refusal));
        }
    }
    let seq = row.last_seq + 1;
    let by_member = message.author_kind != AuthorKind::System;
    let at = to_micros(message.created_at);
    // A member's message starts a new idle spell; the archive warning does not.
    let statement = if by_member {
        Statement::new(
            "UPDATE channels SET last_seq = $2, last_message_at = $3, active_at = $3, \
             warned_at = NULL WHERE id = $1",
        )
        .bind(row.id.as_str())
        .bind(seq as i64)
        .bind(at)
    } else {
        Statement::new("UPDATE channels SET last_seq = $2 WHERE id = $1")
            .bind(row.id.as_str())
            .bind(seq as i64)
    };
    execute::<D>(tx, statement).await?;
    let stored = ChannelMessageRow {
        seq,
        tag: decision.map(|decision| decision.kind),
        ..message.clone()
    };
    let statement = Statement::new(
        "INSERT INTO channel_messages (id, channel_id, seq, author_kind, author_id, author_name, \
         client_msg_id, body, thread_root_id, summary_of, tag, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(stored.id.as_str())
    .bind(stored.channel_id.as_str())
    .bind(seq as i64)
    .bind(stored.author_kind.as_str())
    .bind(stored.author_id.as_str())
    .bind(stored.author_name.as_str())
    .bind(stored.client_msg_id.as_deref())
    .bind(stored.body.as_str())
    .bind(stored.thread_root_id.as_ref().map(|id| id.as_str()))
    .bind(stored.summary_of.as_ref().map(|id| id.as_str()))
    .bind(stored.tag.map(|tag| tag.as_str()))
    .bind(at);
    execute::<D>(tx, statement).await?;
    let decision = match decision {
        None => None,
        Some(new) => {
            let statement = Statement::new("SELECT name FROM members WHERE id = $1")
                .bind(new.owner_id.as_deref());
            let owner_name = fetch_optional::<D, NameRow>(tx, statement)
                .await?
                .map(|row| row.0);
            let logged = DecisionRow {
                id: new.id.clone(),
                kind: new.kind,
                text: new.text.clone(),
                owner_id: new.owner_id.clone(),
                status: DecisionStatus::Open,
                channel_id: stored.channel_id.clone(),
                message_id: stored.id.clone(),
                created_at: stored.created_at,
                updated_at: stored.created_at,
                owner_name,
                channel_name: row.name.clone(),
            };
            let statement = Statement::new(
                "INSERT INTO decisions (id, kind, text, owner_id, status, channel_id, message_id, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(logged.id.as_str())
            .bind(logged.kind.as_str())
            .bind(logged.text.as_str())
            .bind(logged.owner_id.as_deref())
            .bind(logged.status.as_str())
            .bind(logged.channel_id.as_str())
            .bind(logged.message_id.as_str())
            .bind(at);
            execute::<D>(tx, statement).await?;
            Some(logged)
        }
    };
    Ok(Ok(ChannelOutcome::Message {
        message: stored,
        decision,
        created: true,
    }))
}
