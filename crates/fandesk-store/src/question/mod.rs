//! An event's questions: their rows, the timeline entries that number their changes on
//! the topic `event:{id}`, and the group commit that applies asks, upvotes, the team's
//! actions and tallies. One transaction per batch, the event row locked on PostgreSQL (so
//! several nodes can write one event), each op decided against the state the preceding op
//! left. An upvote is counted at once but takes no entry: a tally, which the service runs
//! at most every few hundred milliseconds per question, takes one for all the upvotes
//! since (docs/api.md › WebSocket: a burst of upvotes is not a burst of frames).

mod commit;
mod upvote;

use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult};
use fandesk_domain::event::EventId;
use fandesk_domain::question::{QuestionAction, QuestionId, QuestionOrder, QuestionState};
use fandesk_domain::room::RoomRefusal;
use fandesk_domain::{Audience, FanId, Principal};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionRow {
    pub id: QuestionId,
    pub event_id: EventId,
    pub fan_id: FanId,
    pub author_name: String,
    pub client_msg_id: String,
    pub body: String,
    pub state: QuestionState,
    pub upvotes: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a timeline entry of an event says happened to its question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionEntryKind {
    Created,
    Updated,
}

impl QuestionEntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionEntryKind::Created => "question.created",
            QuestionEntryKind::Updated => "question.updated",
        }
    }

    fn parse(text: &str) -> Option<QuestionEntryKind> {
        [QuestionEntryKind::Created, QuestionEntryKind::Updated]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One timeline entry of an event with its question as it is now (replay) or as the
/// entry left it (live).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionEntry {
    pub event_id: EventId,
    pub seq: u64,
    pub kind: QuestionEntryKind,
    pub question: QuestionRow,
}

const QUESTION_COLUMNS: &str = "q.id, q.event_id, q.fan_id, q.author_name, q.client_msg_id, \
     q.body, q.state, q.upvotes, q.created_at, q.updated_at";

impl<'r, R: Columns> FromRow<'r, R> for QuestionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let upvotes = row.int("upvotes")?;
        Ok(QuestionRow {
            id: QuestionId(row.text("id")?),
            event_id: EventId(row.text("event_id")?),
            fan_id: FanId(row.text("fan_id")?),
            author_name: row.text("author_name")?,
            client_msg_id: row.text("client_msg_id")?,
            body: row.text("body")?,
            state: row.parsed("state", "question state", QuestionState::parse)?,
            upvotes: u64::try_from(upvotes)
                .map_err(|_| StoreError::Corrupt(format!("upvotes {upvotes}")).into_decode())?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for QuestionEntry {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let seq = row.int("seq")?;
        Ok(QuestionEntry {
            event_id: EventId(row.text("entry_event_id")?),
            seq: u64::try_from(seq)
                .map_err(|_| StoreError::Corrupt(format!("seq {seq}")).into_decode())?,
            kind: row.parsed("kind", "entry kind", QuestionEntryKind::parse)?,
            question: QuestionRow::from_row(row)?,
        })
    }
}

/// One write in a question batch. Text is already validated and trimmed by the service.
#[derive(Clone, Debug)]
pub enum QuestionOp {
    Ask {
        question_id: QuestionId,
        event_id: EventId,
        /// A fan (the service checked it).
        fan_id: FanId,
        author_name: String,
        client_msg_id: String,
        body: String,
        at: Timestamp,
    },
    Upvote {
        event_id: EventId,
        question_id: QuestionId,
        fan_id: FanId,
        at: Timestamp,
    },
    /// Answer, pin or hide (the service checked the actor may moderate).
    Act {
        event_id: EventId,
        question_id: QuestionId,
        actor: Principal,
        action: QuestionAction,
        at: Timestamp,
    },
    /// A `question.updated` entry with the question as it is now: how counted upvotes
    /// reach the timeline (the service tallies them).
    Tally {
        event_id: EventId,
        question_id: QuestionId,
        at: Timestamp,
    },
}

impl QuestionOp {
    fn event_id(&self) -> &EventId {
        match self {
            QuestionOp::Ask { event_id, .. }
            | QuestionOp::Upvote { event_id, .. }
            | QuestionOp::Act { event_id, .. }
            | QuestionOp::Tally { event_id, .. } => event_id,
        }
    }
}

/// What one op did.
#[derive(Clone, Debug)]
pub enum QuestionOutcome {
    /// A change, with its timeline entry (the question as the entry left it).
    Changed(QuestionEntry),
    /// An upvote counted, without an entry of its own: the question with its new count
    /// (a later tally takes the entry).
    Counted(QuestionRow),
    /// Nothing to change (a repeated ask, upvote or action): the question as it is.
    Unchanged(QuestionRow),
}

impl QuestionOutcome {
    pub fn question(&self) -> &QuestionRow {
        match self {
            QuestionOutcome::Changed(entry) => &entry.question,
            QuestionOutcome::Counted(question) | QuestionOutcome::Unchanged(question) => question,
        }
    }
}

pub type QuestionOpResult = Result<QuestionOutcome, RoomRefusal>;

impl Store {
    /// Applies question `ops` in one transaction: one result per op, in order. A refused
    /// op does not affect the others; a database failure rolls the whole batch back.
    pub async fn apply_question_batch(
        &self,
        ops: &[QuestionOp],
    ) -> StoreResult<Vec<QuestionOpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(db) => commit::commit::<Sqlite>(&db.write, ops).await,
            Store::Postgres(db) => commit::commit::<Postgres>(&db.pool, ops).await,
        }
    }

    pub async fn find_question(
        &self,
        event_id: &EventId,
        id: &QuestionId,
    ) -> StoreResult<Option<QuestionRow>> {
        let sql = format!(
            "SELECT {QUESTION_COLUMNS} FROM event_questions q WHERE q.event_id = $1 AND q.id = $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(event_id.as_str())
            .bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// An event's questions `audience` may see, in `order`, at most `limit`.
    pub async fn list_questions(
        &self,
        event_id: &EventId,
        audience: Audience,
        order: QuestionOrder,
        limit: u32,
    ) -> StoreResult<Vec<QuestionRow>> {
        let hidden = if audience == Audience::Fan {
            " AND q.state <> 'hidden'"
        } else {
            ""
        };
        let order_by = match order {
            QuestionOrder::Top => "q.upvotes DESC, q.created_at ASC, q.id ASC",
            QuestionOrder::New => "q.created_at DESC, q.id DESC",
        };
        let sql = format!(
            "SELECT {QUESTION_COLUMNS} FROM event_questions q WHERE q.event_id = $1{hidden} \
             ORDER BY {order_by} LIMIT $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(event_id.as_str())
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// The questions of the event that `fan` has upvoted.
    pub async fn upvoted_by(
        &self,
        fan: &FanId,
        event_id: &EventId,
    ) -> StoreResult<Vec<QuestionId>> {
        let statement = Statement::new(
            "SELECT u.question_id AS id FROM event_question_upvotes u \
             JOIN event_questions q ON q.id = u.question_id WHERE u.fan_id = $1 AND q.event_id = $2",
        )
        .bind(fan.as_str())
        .bind(event_id.as_str());
        let rows: Vec<IdRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| QuestionId(row.0)).collect())
    }

    /// The event's timeline after `after_seq`, at most `limit` entries, each with its
    /// question as it is now.
    pub async fn list_question_entries(
        &self,
        event_id: &EventId,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<QuestionEntry>> {
        let sql = format!(
            "SELECT e.event_id AS entry_event_id, e.seq, e.kind, {QUESTION_COLUMNS} \
             FROM event_entries e JOIN event_questions q ON q.id = e.question_id \
             WHERE e.event_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(event_id.as_str())
            .bind(after_seq as i64)
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// The event's last `seq` (0 before its first question).
    pub async fn event_last_seq(&self, event_id: &EventId) -> StoreResult<Option<u64>> {
        let statement = Statement::new("SELECT last_seq AS n FROM events WHERE id = $1")
            .bind(event_id.as_str());
        let row: Option<CountRow> = self.reader().fetch_optional(statement).await?;
        Ok(row.map(|row| row.0.max(0) as u64))
    }
}

struct IdRow(String);

impl<'r, R: Columns> FromRow<'r, R> for IdRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(IdRow(row.text("id")?))
    }
}

pub(super) struct CountRow(pub(super) i64);

impl<'r, R: Columns> FromRow<'r, R> for CountRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CountRow(row.int("n")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_kinds_round_trip() {
        for kind in [QuestionEntryKind::Created, QuestionEntryKind::Updated] {
            assert_eq!(QuestionEntryKind::parse(kind.as_str()), Some(kind));
        }
    }
}
