//! Conversions: a fan bought or signed up for something, recorded once per recorder and
//! `client_id`, with the member and reply it is credited to (decided by the service from
//! [`Store::list_replies_to_fan`]). Read back per fan (the fan's panel), per event and per
//! period (the summary and the weekly report).

use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_analytics::revenue::{Conversion, Reply};
use fandesk_domain::event::EventId;
use fandesk_domain::{FanId, MemberId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionRow {
    pub id: String,
    pub fan_id: FanId,
    pub event_id: Option<EventId>,
    pub kind: String,
    pub value_cents: i64,
    pub client_id: Option<String>,
    pub recorded_by: MemberId,
    pub created_at: Timestamp,
    /// The credited member and the time of the credited reply.
    pub agent_id: Option<MemberId>,
    pub reply_at: Option<Timestamp>,
}

impl ConversionRow {
    pub fn as_conversion(&self) -> Conversion {
        Conversion {
            event_id: self.event_id.as_ref().map(|id| id.0.clone()),
            value_cents: self.value_cents,
            created_at: self.created_at,
            agent_id: self.agent_id.as_ref().map(|id| id.0.clone()),
            reply_at: self.reply_at,
        }
    }
}

const COLUMNS: &str = "id, fan_id, event_id, kind, value_cents, client_id, recorded_by, \
     created_at, agent_id, reply_at";

impl<'r, R: Columns> FromRow<'r, R> for ConversionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ConversionRow {
            id: row.text("id")?,
            fan_id: FanId(row.text("fan_id")?),
            event_id: row.optional_text("event_id")?.map(EventId),
            kind: row.text("kind")?,
            value_cents: row.int("value_cents")?,
            client_id: row.optional_text("client_id")?,
            recorded_by: MemberId(row.text("recorded_by")?),
            created_at: row.time("created_at")?,
            agent_id: row.optional_text("agent_id")?.map(MemberId),
            reply_at: row.optional_time("reply_at")?,
        })
    }
}

struct ReplyRow(Reply);

impl<'r, R: Columns> FromRow<'r, R> for ReplyRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ReplyRow(Reply {
            author: row.text("author_id")?,
            sent_at: row.time("sent_at")?,
        }))
    }
}

/// Most conversions one fan's panel lists.
const FAN_LIMIT: i64 = 100;

impl Store {
    /// Public replies by human team members to `fan` (in any of the fan's conversations)
    /// sent in `[from, to]`, from the metric rows the group commit keeps.
    pub async fn list_replies_to_fan(
        &self,
        fan: &FanId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<Reply>> {
        let statement = Statement::new(
            "SELECT m.author_id, m.sent_at FROM metric_team_messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.fan_id = $1 AND m.sent_at >= $2 AND m.sent_at <= $3",
        )
        .bind(fan.as_str())
        .bind(to_micros(from))
        .bind(to_micros(to));
        let rows: Vec<ReplyRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| row.0).collect())
    }

    /// Inserts `row`; with a `client_id` already recorded by the same member, inserts
    /// nothing and returns the stored row instead (`false`: not new).
    pub async fn insert_conversion(
        &self,
        row: &ConversionRow,
    ) -> StoreResult<(ConversionRow, bool)> {
        let statement = Statement::new(
            "INSERT INTO conversions (id, fan_id, event_id, kind, value_cents, client_id, \
             recorded_by, created_at, agent_id, reply_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (recorded_by, client_id) DO NOTHING",
        )
        .bind(row.id.as_str())
        .bind(row.fan_id.as_str())
        .bind(row.event_id.as_ref().map(EventId::as_str))
        .bind(row.kind.as_str())
        .bind(row.value_cents)
        .bind(row.client_id.as_deref())
        .bind(row.recorded_by.as_str())
        .bind(to_micros(row.created_at))
        .bind(row.agent_id.as_ref().map(MemberId::as_str))
        .bind(row.reply_at.map(to_micros));
        if self.writer().execute(statement).await? == 1 {
            return Ok((row.clone(), true));
        }
        let sql =
            format!("SELECT {COLUMNS} FROM conversions WHERE recorded_by = $1 AND client_id = $2");
        let existing = Statement::new(AssertSqlSafe(sql))
            .bind(row.recorded_by.as_str())
            .bind(row.client_id.as_deref());
        let stored: Option<ConversionRow> = self.writer().fetch_optional(existing).await?;
        stored
            .map(|stored| (stored, false))
            .ok_or(StoreError::NotFound("conversion"))
    }

    /// A fan's conversions, newest first.
    pub async fn list_fan_conversions(&self, fan: &FanId) -> StoreResult<Vec<ConversionRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM conversions WHERE fan_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(fan.as_str())
            .bind(FAN_LIMIT);
        self.reader().fetch_all(statement).await
    }

    /// Conversions tied to `event`.
    pub async fn list_event_conversions(&self, event: &EventId) -> StoreResult<Vec<ConversionRow>> {
        let sql = format!("SELECT {COLUMNS} FROM conversions WHERE event_id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(event.as_str());
        self.reader().fetch_all(statement).await
    }

    /// Conversions recorded in `[from, to)`.
    pub async fn list_conversions(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ConversionRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM conversions WHERE created_at >= $1 AND created_at < $2");
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(to_micros(from))
            .bind(to_micros(to));
        self.reader().fetch_all(statement).await
    }
}
