//! The metric rows maintained at write time (migration 0005; definitions in
//! `docs/metrics.md`): their decoding and the reads of a period's rows for summaries and
//! reports. Summaries read these tables only — never `messages` — so their cost follows
//! the period's openings, not the message history. `step.rs` turns committed ops into
//! metric events, `commit.rs` loads and writes the rows inside the group commit, and
//! `aggregate.rs` reduces a period to per-group totals in the database.

pub(crate) mod aggregate;
pub(crate) mod commit;
pub(crate) mod step;

use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult, from_micros, to_micros};
use fandesk_analytics::{Opening, OpeningKind, Resolution, TeamMessage};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

pub(crate) const OPENING_COLUMNS: &str = "id, conversation_id, number, kind, opened_at, first_fan_at, \
     clock_at, first_touch_at, replied_at, replier_id, frt_ms, breached, latest";
pub(crate) const TEAM_MESSAGE_COLUMNS: &str =
    "message_id, conversation_id, author_id, sent_at, answered_at";
pub(crate) const RESOLUTION_COLUMNS: &str =
    "id, conversation_id, resolved_at, escalated, assignee_id, public_messages";

/// One hour in microseconds: the bucket of `metric_reply_hours` (migration 0006).
pub(crate) const HOUR_MICROS: i64 = 3_600_000_000;

/// The start of the UTC hour holding `micros`.
pub(crate) fn reply_hour(micros: i64) -> i64 {
    micros - micros.rem_euclid(HOUR_MICROS)
}

/// A metric row of `fandesk_analytics` as read from its table (the wrapper gives the
/// foreign types a `FromRow`).
pub(crate) struct Stored<T>(pub T);

impl<'r, R: Columns> FromRow<'r, R> for Stored<Opening> {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Stored(Opening {
            id: row.text("id")?,
            conversation: ConversationId(row.text("conversation_id")?),
            number: u32::try_from(row.int("number")?).unwrap_or(u32::MAX),
            kind: row.parsed("kind", "opening kind", OpeningKind::parse)?,
            opened_at: row.time("opened_at")?,
            first_fan_at: row.optional_time("first_fan_at")?,
            clock_at: row.optional_time("clock_at")?,
            first_touch_at: row.optional_time("first_touch_at")?,
            replied_at: row.optional_time("replied_at")?,
            replier: row.optional_text("replier_id")?.map(MemberId),
            frt_ms: row.optional_int("frt_ms")?,
            breached: row.boolean("breached")?,
            latest: row.boolean("latest")?,
        }))
    }
}

impl<'r, R: Columns> FromRow<'r, R> for Stored<TeamMessage> {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Stored(TeamMessage {
            id: row.text("message_id")?,
            conversation: ConversationId(row.text("conversation_id")?),
            author: MemberId(row.text("author_id")?),
            sent_at: row.time("sent_at")?,
            answered_at: row.optional_time("answered_at")?,
        }))
    }
}

impl<'r, R: Columns> FromRow<'r, R> for Stored<Resolution> {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Stored(Resolution {
            id: row.text("id")?,
            conversation: ConversationId(row.text("conversation_id")?),
            resolved_at: row.time("resolved_at")?,
            escalated: row.boolean("escalated")?,
            assignee: row.optional_text("assignee_id")?.map(MemberId),
            public_messages: u64::try_from(row.int("public_messages")?).unwrap_or(0),
        }))
    }
}

/// Unwraps a list of [`Stored`] rows.
pub(crate) fn unwrap<T>(rows: Vec<Stored<T>>) -> Vec<T> {
    rows.into_iter().map(|Stored(row)| row).collect()
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
        let reader = self.reader();
        let statement = |sql: String| Statement::new(AssertSqlSafe(sql)).bind(from).bind(to);
        Ok(MetricRows {
            openings: unwrap(reader.fetch_all(statement(openings_sql)).await?),
            team_messages: unwrap(reader.fetch_all(statement(messages_sql)).await?),
            resolutions: unwrap(reader.fetch_all(statement(resolutions_sql)).await?),
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
        let writer = self.writer();
        let statement = |sql: String| Statement::new(AssertSqlSafe(sql)).bind(conversation);
        Ok(MetricRows {
            openings: unwrap(writer.fetch_all(statement(openings_sql)).await?),
            team_messages: unwrap(writer.fetch_all(statement(messages_sql)).await?),
            resolutions: unwrap(writer.fetch_all(statement(resolutions_sql)).await?),
        })
    }

    /// The hourly reply counters of the hours starting in `[from, to)` (migration 0006),
    /// by hour and author: tests and audits compare them with the rows.
    pub async fn list_reply_hours(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ReplyHourRow>> {
        let statement = Statement::new(
            "SELECT hour, author_id, sent, answered FROM metric_reply_hours \
             WHERE hour >= $1 AND hour < $2 ORDER BY hour, author_id",
        )
        .bind(to_micros(from))
        .bind(to_micros(to));
        let rows: Vec<(i64, String, i64, i64)> = self.reader().fetch_all(statement).await?;
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

    /// Sets the first-response target later replies are judged against (`docs/product.md` ›
    /// SLA: the target comes from the charter); replies already committed keep their verdict.
    pub async fn set_sla_target_ms(&self, target_ms: i64) -> StoreResult<()> {
        let statement =
            Statement::new("UPDATE metric_settings SET sla_target_ms = $1 WHERE id = 1")
                .bind(target_ms);
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Live desk figures for `/metrics` (`docs/api.md` › Metrics and reports): fans waiting for a human and the
    /// oldest wait's start, members clocked in, alerts raised so far.
    pub async fn live_desk_figures(&self) -> StoreResult<LiveDeskFigures> {
        let reader = self.reader();
        let (waiting, oldest): (i64, Option<i64>) = reader
            .fetch_one(Statement::new(
                "SELECT COUNT(*), MIN(awaiting_since) FROM conversations \
                 WHERE status <> 'resolved' AND awaiting_since IS NOT NULL",
            ))
            .await?;
        let (clocked_in,): (i64,) = reader
            .fetch_one(Statement::new(
                "SELECT COUNT(*) FROM member_clock WHERE clocked_in",
            ))
            .await?;
        let (alerts,): (i64,) = reader
            .fetch_one(Statement::new("SELECT COUNT(*) FROM alerts"))
            .await?;
        Ok(LiveDeskFigures {
            waiting_fans: waiting,
            oldest_waiting_since: oldest.map(from_micros).transpose()?,
            agents_clocked_in: clocked_in,
            alerts_raised: alerts,
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
