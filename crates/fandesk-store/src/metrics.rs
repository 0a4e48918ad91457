//! The metric rows maintained at write time (issue 6; migration 0005): the SQL that loads
//! a batch's metric state, writes what `fandesk_analytics::step` decided, and reads a
//! period's rows for summaries and reports. Summaries read these tables only — never
//! `messages` — so their cost follows the period's openings, not the message history.

use crate::{Store, StoreResult, from_micros, to_micros};
use fandesk_analytics::{Opening, Resolution, TeamMessage};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

pub(crate) const OPENING_COLUMNS: &str = "id, conversation_id, number, kind, opened_at, first_fan_at, \
     clock_at, first_touch_at, replied_at, replier_id, frt_ms, breached, latest";
pub(crate) const TEAM_MESSAGE_COLUMNS: &str =
    "message_id, conversation_id, author_id, sent_at, answered_at";
pub(crate) const RESOLUTION_COLUMNS: &str =
    "id, conversation_id, resolved_at, escalated, assignee_id, public_messages";

/// Rows per multi-row upsert: 13 parameters a row stays far below both backends' limits.
pub(crate) const METRIC_CHUNK: usize = 400;

/// One hour in microseconds: the bucket of `metric_reply_hours` (migration 0006).
pub(crate) const HOUR_MICROS: i64 = 3_600_000_000;

/// The start of the UTC hour holding `micros`.
pub(crate) fn reply_hour(micros: i64) -> i64 {
    micros - micros.rem_euclid(HOUR_MICROS)
}

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

pub(crate) fn optional_time(micros: Option<i64>) -> StoreResult<Option<Timestamp>> {
    micros.map(from_micros).transpose()
}

macro_rules! decode_opening {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        let kind: &str = row.try_get("kind")?;
        fandesk_analytics::Opening {
            id: row.try_get("id")?,
            conversation: fandesk_domain::ConversationId(row.try_get("conversation_id")?),
            number: u32::try_from(row.try_get::<i64, _>("number")?).unwrap_or(u32::MAX),
            kind: $crate::rows::parse(kind, "opening kind", fandesk_analytics::OpeningKind::parse)?,
            opened_at: $crate::from_micros(row.try_get("opened_at")?)?,
            first_fan_at: $crate::metrics::optional_time(row.try_get("first_fan_at")?)?,
            clock_at: $crate::metrics::optional_time(row.try_get("clock_at")?)?,
            first_touch_at: $crate::metrics::optional_time(row.try_get("first_touch_at")?)?,
            replied_at: $crate::metrics::optional_time(row.try_get("replied_at")?)?,
            replier: row
                .try_get::<Option<String>, _>("replier_id")?
                .map(fandesk_domain::MemberId),
            frt_ms: row.try_get("frt_ms")?,
            breached: row.try_get("breached")?,
            latest: row.try_get("latest")?,
        }
    }};
}

macro_rules! decode_team_message {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        fandesk_analytics::TeamMessage {
            id: row.try_get("message_id")?,
            conversation: fandesk_domain::ConversationId(row.try_get("conversation_id")?),
            author: fandesk_domain::MemberId(row.try_get("author_id")?),
            sent_at: $crate::from_micros(row.try_get("sent_at")?)?,
            answered_at: $crate::metrics::optional_time(row.try_get("answered_at")?)?,
        }
    }};
}

macro_rules! decode_resolution {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        fandesk_analytics::Resolution {
            id: row.try_get("id")?,
            conversation: fandesk_domain::ConversationId(row.try_get("conversation_id")?),
            resolved_at: $crate::from_micros(row.try_get("resolved_at")?)?,
            escalated: row.try_get("escalated")?,
            assignee: row
                .try_get::<Option<String>, _>("assignee_id")?
                .map(fandesk_domain::MemberId),
            public_messages: u64::try_from(row.try_get::<i64, _>("public_messages")?).unwrap_or(0),
        }
    }};
}

/// Upserts the rows of a compacted `fandesk_analytics::Changes` inside transaction `$tx`.
macro_rules! write_metric_changes {
    ($tx:expr, $db:ty, $changes:expr) => {{
        let changes: &fandesk_analytics::Changes = $changes;
        for chunk in changes.openings.chunks($crate::metrics::METRIC_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                "INSERT INTO metric_openings ({}) ",
                $crate::metrics::OPENING_COLUMNS
            ));
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.clone())
                    .push_bind(row.conversation.0.clone())
                    .push_bind(i64::from(row.number))
                    .push_bind(row.kind.as_str())
                    .push_bind($crate::to_micros(row.opened_at))
                    .push_bind(row.first_fan_at.map($crate::to_micros))
                    .push_bind(row.clock_at.map($crate::to_micros))
                    .push_bind(row.first_touch_at.map($crate::to_micros))
                    .push_bind(row.replied_at.map($crate::to_micros))
                    .push_bind(row.replier.as_ref().map(|id| id.0.clone()))
                    .push_bind(row.frt_ms)
                    .push_bind(row.breached)
                    .push_bind(row.latest);
            });
            insert.push(
                " ON CONFLICT (id) DO UPDATE SET first_fan_at = excluded.first_fan_at, \
                 clock_at = excluded.clock_at, first_touch_at = excluded.first_touch_at, \
                 replied_at = excluded.replied_at, replier_id = excluded.replier_id, \
                 frt_ms = excluded.frt_ms, breached = excluded.breached, latest = excluded.latest",
            );
            insert.build().execute(&mut *$tx).await?;
        }
        for chunk in changes.team_messages.chunks($crate::metrics::METRIC_CHUNK) {
            // The hourly reply counters first: whether a row is new, and whether it was
            // answered before, is read from the rows as they stand before the upsert.
            let mut counters = sqlx::QueryBuilder::<$db>::new(
                "WITH changed (message_id, hour, author_id, answered) AS (",
            );
            counters.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.clone())
                    .push_bind($crate::metrics::reply_hour($crate::to_micros(row.sent_at)))
                    .push_bind(row.author.0.clone())
                    .push_bind(row.answered_at.is_some());
            });
            counters.push($crate::metrics::REPLY_HOURS_UPSERT);
            counters.build().execute(&mut *$tx).await?;
            let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                "INSERT INTO metric_team_messages ({}) ",
                $crate::metrics::TEAM_MESSAGE_COLUMNS
            ));
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.clone())
                    .push_bind(row.conversation.0.clone())
                    .push_bind(row.author.0.clone())
                    .push_bind($crate::to_micros(row.sent_at))
                    .push_bind(row.answered_at.map($crate::to_micros));
            });
            insert
                .push(" ON CONFLICT (message_id) DO UPDATE SET answered_at = excluded.answered_at");
            insert.build().execute(&mut *$tx).await?;
        }
        for chunk in changes.resolutions.chunks($crate::metrics::METRIC_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<$db>::new(format!(
                "INSERT INTO metric_resolutions ({}) ",
                $crate::metrics::RESOLUTION_COLUMNS
            ));
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.clone())
                    .push_bind(row.conversation.0.clone())
                    .push_bind($crate::to_micros(row.resolved_at))
                    .push_bind(row.escalated)
                    .push_bind(row.assignee.as_ref().map(|id| id.0.clone()))
                    .push_bind(row.public_messages as i64);
            });
            insert.build().execute(&mut *$tx).await?;
        }
        // A new resolution supersedes the conversation's earlier ones (migration 0006).
        let mut resolved: Vec<&str> = changes
            .resolutions
            .iter()
            .map(|row| row.conversation.as_str())
            .collect();
        resolved.sort_unstable();
        resolved.dedup();
        for chunk in resolved.chunks($crate::metrics::METRIC_CHUNK) {
            let mut update = sqlx::QueryBuilder::<$db>::new($crate::metrics::SUPERSEDE_RESOLUTIONS);
            let mut ids = update.separated(", ");
            for id in chunk {
                ids.push_bind(id.to_string());
            }
            update.push(")");
            update.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Inserts one opening (a conversation's first, next to its creation) on `$executor`.
macro_rules! insert_opening {
    ($executor:expr, $opening:expr) => {{
        let opening: &fandesk_analytics::Opening = $opening;
        let sql = format!(
            "INSERT INTO metric_openings ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            $crate::metrics::OPENING_COLUMNS
        );
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(opening.id.as_str())
            .bind(opening.conversation.as_str())
            .bind(i64::from(opening.number))
            .bind(opening.kind.as_str())
            .bind($crate::to_micros(opening.opened_at))
            .bind(opening.first_fan_at.map($crate::to_micros))
            .bind(opening.clock_at.map($crate::to_micros))
            .bind(opening.first_touch_at.map($crate::to_micros))
            .bind(opening.replied_at.map($crate::to_micros))
            .bind(opening.replier.as_ref().map(|id| id.as_str()))
            .bind(opening.frt_ms)
            .bind(opening.breached)
            .bind(opening.latest)
            .execute($executor)
            .await?;
    }};
}

/// Loads, inside transaction `$tx`, the metric state of conversations `$ids`: their latest
/// openings, and team messages still waiting for the fan that were sent at or after
/// `$cutoff` (older ones can no longer be answered in time). Returns
/// `(openings, unanswered, policy)`.
macro_rules! load_metric_state {
    ($tx:expr, $db:ty, $ids:expr, $cutoff:expr, $need_policy:expr) => {{
        let ids: &[&str] = $ids;
        let mut openings = std::collections::HashMap::new();
        let mut unanswered: std::collections::HashMap<
            fandesk_domain::ConversationId,
            Vec<fandesk_analytics::TeamMessage>,
        > = std::collections::HashMap::new();
        let mut policy = fandesk_analytics::Policy::default();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT {} FROM metric_openings WHERE latest AND conversation_id IN ({})",
                $crate::metrics::OPENING_COLUMNS,
                (1..=ids.len())
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut query = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.as_str()));
            for id in ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *$tx).await? {
                let opening = decode_opening!(&row);
                openings.insert(opening.conversation.clone(), opening);
            }
            let sql = format!(
                "SELECT {} FROM metric_team_messages WHERE answered_at IS NULL AND sent_at >= $1 \
                 AND conversation_id IN ({}) ORDER BY sent_at, message_id",
                $crate::metrics::TEAM_MESSAGE_COLUMNS,
                (2..=ids.len() + 1)
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut query = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.as_str()))
                .bind($crate::to_micros($cutoff));
            for id in ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *$tx).await? {
                let message = decode_team_message!(&row);
                unanswered
                    .entry(message.conversation.clone())
                    .or_default()
                    .push(message);
            }
        }
        if $need_policy {
            let target: Option<i64> = sqlx::query_scalar::<$db, i64>(
                "SELECT sla_target_ms FROM metric_settings WHERE id = 1",
            )
            .fetch_optional(&mut *$tx)
            .await?;
            if let Some(target) = target {
                policy.sla_target_ms = target;
            }
        }
        (openings, unanswered, policy)
    }};
}

/// A period's metric rows, as summaries and reports fold them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricRows {
    /// Openings whose FRT clock started in the period.
    pub openings: Vec<Opening>,
    /// Public human team messages sent in the period.
    pub team_messages: Vec<TeamMessage>,
    /// Resolutions in the period.
    pub resolutions: Vec<Resolution>,
}

impl Store {
    /// The metric rows of `[from, to)` — three index range reads, no message scan.
    pub async fn list_metric_rows(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<MetricRows> {
        let (from, to) = (to_micros(from), to_micros(to));
        let openings_sql = format!(
            "SELECT {OPENING_COLUMNS} FROM metric_openings WHERE clock_at IS NOT NULL \
             AND clock_at >= $1 AND clock_at < $2 ORDER BY clock_at, id"
        );
        let messages_sql = format!(
            "SELECT {TEAM_MESSAGE_COLUMNS} FROM metric_team_messages WHERE sent_at >= $1 AND sent_at < $2 \
             ORDER BY sent_at, message_id"
        );
        let resolutions_sql = format!(
            "SELECT {RESOLUTION_COLUMNS} FROM metric_resolutions WHERE resolved_at >= $1 AND resolved_at < $2 \
             ORDER BY resolved_at, id"
        );
        on_pool!(self, read, |pool| {
            let mut rows = MetricRows::default();
            for row in sqlx::query(AssertSqlSafe(openings_sql.as_str()))
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
            {
                rows.openings.push(decode_opening!(&row));
            }
            for row in sqlx::query(AssertSqlSafe(messages_sql.as_str()))
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
            {
                rows.team_messages.push(decode_team_message!(&row));
            }
            for row in sqlx::query(AssertSqlSafe(resolutions_sql.as_str()))
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
            {
                rows.resolutions.push(decode_resolution!(&row));
            }
            Ok(rows)
        })
    }

    /// Every metric row of one conversation (tests and audits compare them with a replay).
    pub async fn list_conversation_metric_rows(
        &self,
        conversation: &str,
    ) -> StoreResult<MetricRows> {
        let openings_sql = format!(
            "SELECT {OPENING_COLUMNS} FROM metric_openings WHERE conversation_id = $1 ORDER BY number"
        );
        let messages_sql = format!(
            "SELECT {TEAM_MESSAGE_COLUMNS} FROM metric_team_messages WHERE conversation_id = $1 ORDER BY sent_at, message_id"
        );
        let resolutions_sql = format!(
            "SELECT {RESOLUTION_COLUMNS} FROM metric_resolutions WHERE conversation_id = $1 ORDER BY resolved_at, id"
        );
        on_pool!(self, write, |pool| {
            let mut rows = MetricRows::default();
            for row in sqlx::query(AssertSqlSafe(openings_sql.as_str()))
                .bind(conversation)
                .fetch_all(pool)
                .await?
            {
                rows.openings.push(decode_opening!(&row));
            }
            for row in sqlx::query(AssertSqlSafe(messages_sql.as_str()))
                .bind(conversation)
                .fetch_all(pool)
                .await?
            {
                rows.team_messages.push(decode_team_message!(&row));
            }
            for row in sqlx::query(AssertSqlSafe(resolutions_sql.as_str()))
                .bind(conversation)
                .fetch_all(pool)
                .await?
            {
                rows.resolutions.push(decode_resolution!(&row));
            }
            Ok(rows)
        })
    }

    /// The hourly reply counters of the hours starting in `[from, to)` (migration 0006),
    /// by hour and author: tests and audits compare them with the rows.
    pub async fn list_reply_hours(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ReplyHourRow>> {
        let rows: Vec<(i64, String, i64, i64)> = on_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT hour, author_id, sent, answered FROM metric_reply_hours \
                 WHERE hour >= $1 AND hour < $2 ORDER BY hour, author_id",
            )
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(hour, author, sent, answered)| {
                Ok(ReplyHourRow {
                    hour: from_micros(hour)?,
                    author,
                    sent,
                    answered,
                })
            })
            .collect()
    }

    /// Sets the first-response target later replies are judged against (PRODUCT.md › C2:
    /// "target from the charter"); replies already committed keep their verdict.
    pub async fn set_sla_target_ms(&self, target_ms: i64) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query("UPDATE metric_settings SET sla_target_ms = $1 WHERE id = 1")
                .bind(target_ms)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Live desk figures for `/metrics` (PRODUCT.md › C9): fans waiting for a human and the
    /// oldest wait's start, members clocked in, alerts raised so far.
    pub async fn live_desk_figures(&self) -> StoreResult<LiveDeskFigures> {
        on_pool!(self, read, |pool| {
            let (waiting, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(awaiting_since) FROM conversations \
                 WHERE status <> 'resolved' AND awaiting_since IS NOT NULL",
            )
            .fetch_one(pool)
            .await?;
            let clocked_in: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM member_clock WHERE clocked_in")
                    .fetch_one(pool)
                    .await?;
            let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
                .fetch_one(pool)
                .await?;
            Ok(LiveDeskFigures {
                waiting_fans: waiting,
                oldest_waiting_since: optional_time(oldest)?,
                agents_clocked_in: clocked_in,
                alerts_raised: alerts,
            })
        })
    }
}

/// One counter of `metric_reply_hours`: an author's public human team messages sent in
/// the UTC hour starting at `hour`, and how many the fan answered within 24 h.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReplyHourRow {
    pub hour: Timestamp,
    pub author: String,
    pub sent: i64,
    pub answered: i64,
}

/// See [`Store::live_desk_figures`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveDeskFigures {
    pub waiting_fans: i64,
    pub oldest_waiting_since: Option<Timestamp>,
    pub agents_clocked_in: i64,
    pub alerts_raised: i64,
}
