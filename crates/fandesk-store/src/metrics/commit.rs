//! The metric rows inside the group commit: load a batch's metric state, then write what
//! `fandesk_analytics::step` decided, in the same transaction as the events they fold
//! (`docs/metrics.md`). Generic over the backend's [`Dialect`]; a fixed number of
//! multi-row statements per batch.

use super::{OPENING_COLUMNS, RESOLUTION_COLUMNS, Stored, TEAM_MESSAGE_COLUMNS, reply_hour};
use crate::dialect::Dialect;
use crate::statement::{Columns, PushValue, Statement, fetch_all, fetch_optional, placeholders};
use crate::{StoreResult, to_micros};
use fandesk_analytics::{Changes, Opening, Policy, TeamMessage};
use fandesk_domain::ConversationId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, QueryBuilder};
use std::collections::HashMap;

/// Rows per multi-row upsert: 13 parameters a row stays far below both backends' limits.
pub(crate) const METRIC_CHUNK: usize = 400;

/// Follows the `changed` rows of a batch's team messages (before their upsert): one
/// multi-row statement adds, per (hour, author), the rows that are new and the rows that
/// became answered.
pub(crate) const REPLY_HOURS_UPSERT: &str = ") INSERT INTO metric_reply_hours (hour, author_id, sent, answered) \
     SELECT changed.hour, changed.author_id, \
       SUM(CASE WHEN stored.message_id IS NULL THEN 1 ELSE 0 END), \
       SUM(CASE WHEN changed.answered AND stored.answered_at IS NULL THEN 1 ELSE 0 END) \
     FROM changed LEFT JOIN metric_team_messages stored ON stored.message_id = changed.message_id \
     WHERE TRUE GROUP BY changed.hour, changed.author_id \
     HAVING SUM(CASE WHEN stored.message_id IS NULL OR (changed.answered AND stored.answered_at IS NULL) THEN 1 ELSE 0 END) > 0 \
     ON CONFLICT (hour, author_id) DO UPDATE SET sent = metric_reply_hours.sent + excluded.sent, \
       answered = metric_reply_hours.answered + excluded.answered";

/// Sets `superseded_at` on the resolutions that a later one of their conversation now
/// follows; the conversation ids and a closing parenthesis are appended.
pub(crate) const SUPERSEDE_RESOLUTIONS: &str = "UPDATE metric_resolutions SET superseded_at = \
     (SELECT MIN(later.resolved_at) FROM metric_resolutions later \
      WHERE later.conversation_id = metric_resolutions.conversation_id \
        AND (later.resolved_at > metric_resolutions.resolved_at \
             OR (later.resolved_at = metric_resolutions.resolved_at AND later.id > metric_resolutions.id))) \
     WHERE superseded_at IS NULL AND EXISTS (SELECT 1 FROM metric_resolutions later \
      WHERE later.conversation_id = metric_resolutions.conversation_id \
        AND (later.resolved_at > metric_resolutions.resolved_at \
             OR (later.resolved_at = metric_resolutions.resolved_at AND later.id > metric_resolutions.id))) \
       AND conversation_id IN (";

/// The metric state of a batch's conversations, as committed before the batch.
pub(crate) struct MetricState {
    /// Each conversation's latest opening.
    pub openings: HashMap<ConversationId, Opening>,
    /// Team messages still waiting for the fan, oldest first.
    pub unanswered: HashMap<ConversationId, Vec<TeamMessage>>,
    /// The SLA target (only loaded when an op may be a human's public reply).
    pub policy: Policy,
}

/// The stored SLA target.
struct SlaTarget(i64);

impl<'r, R: Columns> FromRow<'r, R> for SlaTarget {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(SlaTarget(row.int("sla_target_ms")?))
    }
}

/// Loads, inside transaction `tx`, the metric state of conversations `ids`: their latest
/// openings, and team messages still waiting for the fan that were sent at or after
/// `cutoff` (older ones can no longer be answered in time).
pub(crate) async fn load_state<D: Dialect>(
    tx: &mut D::Connection,
    ids: &[&str],
    cutoff: Timestamp,
    need_policy: bool,
) -> StoreResult<MetricState> {
    let mut state = MetricState {
        openings: HashMap::new(),
        unanswered: HashMap::new(),
        policy: Policy::default(),
    };
    if !ids.is_empty() {
        let sql = format!(
            "SELECT {OPENING_COLUMNS} FROM metric_openings WHERE latest AND conversation_id IN ({})",
            placeholders(1, ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind_all(ids.iter().copied());
        for Stored(opening) in fetch_all::<D, Stored<Opening>>(tx, statement).await? {
            state.openings.insert(opening.conversation.clone(), opening);
        }
        let sql = format!(
            "SELECT {TEAM_MESSAGE_COLUMNS} FROM metric_team_messages WHERE answered_at IS NULL \
             AND sent_at >= $1 AND conversation_id IN ({}) ORDER BY sent_at, message_id",
            placeholders(2, ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(to_micros(cutoff))
            .bind_all(ids.iter().copied());
        for Stored(message) in fetch_all::<D, Stored<TeamMessage>>(tx, statement).await? {
            state
                .unanswered
                .entry(message.conversation.clone())
                .or_default()
                .push(message);
        }
    }
    if need_policy {
        let statement = Statement::new("SELECT sla_target_ms FROM metric_settings WHERE id = 1");
        if let Some(SlaTarget(target)) = fetch_optional::<D, SlaTarget>(tx, statement).await? {
            state.policy.sla_target_ms = target;
        }
    }
    Ok(state)
}

/// Upserts the rows of a compacted `fandesk_analytics::Changes` inside transaction `tx`.
pub(crate) async fn write_changes<D: Dialect>(
    tx: &mut D::Connection,
    changes: &Changes,
) -> StoreResult<()> {
    for chunk in changes.openings.chunks(METRIC_CHUNK) {
        let mut insert =
            QueryBuilder::<D>::new(format!("INSERT INTO metric_openings ({OPENING_COLUMNS}) "));
        insert.push_values(chunk, |mut values, row| {
            values
                .value(row.id.as_str())
                .value(row.conversation.as_str())
                .value(i64::from(row.number))
                .value(row.kind.as_str())
                .value(to_micros(row.opened_at))
                .value(row.first_fan_at.map(to_micros))
                .value(row.clock_at.map(to_micros))
                .value(row.first_touch_at.map(to_micros))
                .value(row.replied_at.map(to_micros))
                .value(row.replier.as_ref().map(|id| id.as_str()))
                .value(row.frt_ms)
                .value(row.breached)
                .value(row.latest);
        });
        insert.push(
            " ON CONFLICT (id) DO UPDATE SET first_fan_at = excluded.first_fan_at, \
             clock_at = excluded.clock_at, first_touch_at = excluded.first_touch_at, \
             replied_at = excluded.replied_at, replier_id = excluded.replier_id, \
             frt_ms = excluded.frt_ms, breached = excluded.breached, latest = excluded.latest",
        );
        D::execute(tx, insert.build()).await?;
    }
    for chunk in changes.team_messages.chunks(METRIC_CHUNK) {
        // The hourly reply counters first: whether a row is new, and whether it was
        // answered before, is read from the rows as they stand before the upsert.
        let mut counters =
            QueryBuilder::<D>::new("WITH changed (message_id, hour, author_id, answered) AS (");
        counters.push_values(chunk, |mut values, row| {
            values
                .value(row.id.as_str())
                .value(reply_hour(to_micros(row.sent_at)))
                .value(row.author.as_str())
                .value(row.answered_at.is_some());
        });
        counters.push(REPLY_HOURS_UPSERT);
        D::execute(tx, counters.build()).await?;
        let mut insert = QueryBuilder::<D>::new(format!(
            "INSERT INTO metric_team_messages ({TEAM_MESSAGE_COLUMNS}) "
        ));
        insert.push_values(chunk, |mut values, row| {
            values
                .value(row.id.as_str())
                .value(row.conversation.as_str())
                .value(row.author.as_str())
                .value(to_micros(row.sent_at))
                .value(row.answered_at.map(to_micros));
        });
        insert.push(" ON CONFLICT (message_id) DO UPDATE SET answered_at = excluded.answered_at");
        D::execute(tx, insert.build()).await?;
    }
    for chunk in changes.resolutions.chunks(METRIC_CHUNK) {
        let mut insert = QueryBuilder::<D>::new(format!(
            "INSERT INTO metric_resolutions ({RESOLUTION_COLUMNS}) "
        ));
        insert.push_values(chunk, |mut values, row| {
            values
                .value(row.id.as_str())
                .value(row.conversation.as_str())
                .value(to_micros(row.resolved_at))
                .value(row.escalated)
                .value(row.assignee.as_ref().map(|id| id.as_str()))
                .value(row.public_messages as i64);
        });
        D::execute(tx, insert.build()).await?;
    }
    // A new resolution supersedes the conversation's earlier ones (migration 0006).
    let mut resolved: Vec<&str> = changes
        .resolutions
        .iter()
        .map(|row| row.conversation.as_str())
        .collect();
    resolved.sort_unstable();
    resolved.dedup();
    for chunk in resolved.chunks(METRIC_CHUNK) {
        let mut update = QueryBuilder::<D>::new(SUPERSEDE_RESOLUTIONS);
        let mut ids = update.separated(", ");
        for id in chunk {
            ids.value(*id);
        }
        update.push(")");
        D::execute(tx, update.build()).await?;
    }
    Ok(())
}

/// Inserts one opening (a conversation's first, next to its creation).
pub(crate) fn insert_opening(opening: &Opening) -> Statement<'_> {
    let sql = format!(
        "INSERT INTO metric_openings ({OPENING_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    Statement::new(AssertSqlSafe(sql))
        .bind(opening.id.as_str())
        .bind(opening.conversation.as_str())
        .bind(i64::from(opening.number))
        .bind(opening.kind.as_str())
        .bind(to_micros(opening.opened_at))
        .bind(opening.first_fan_at.map(to_micros))
        .bind(opening.clock_at.map(to_micros))
        .bind(opening.first_touch_at.map(to_micros))
        .bind(opening.replied_at.map(to_micros))
        .bind(opening.replier.as_ref().map(|id| id.as_str()))
        .bind(opening.frt_ms)
        .bind(opening.breached)
        .bind(opening.latest)
}
