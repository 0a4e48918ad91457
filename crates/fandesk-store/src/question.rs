//! An event's questions: their rows, the timeline entries that number their changes on
//! the topic `event:{id}`, and the group commit that applies asks, upvotes, the team's
//! actions and tallies. One transaction per batch, the event row locked on PostgreSQL (so
//! several nodes can write one event), each op decided against the state the preceding op
//! left. An upvote is counted at once but takes no entry: a tally, which the service runs
//! at most every few hundred milliseconds per question, takes one for all the upvotes
//! since (docs/api.md › WebSocket: a burst of upvotes is not a burst of frames).

use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_optional};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::event::EventId;
use fandesk_domain::question::{QuestionAction, QuestionId, QuestionOrder, QuestionState};
use fandesk_domain::room::{FanStanding, RoomId, RoomRefusal, RoomState};
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

/// The event's row as a batch sees it.
struct EventState {
    last_seq: u64,
    qa: bool,
    room_id: RoomId,
    room_state: RoomState,
    opens_at: Option<Timestamp>,
    slow_mode_secs: u32,
}

impl<'r, R: Columns> FromRow<'r, R> for EventState {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(EventState {
            last_seq: row.int("last_seq")?.max(0) as u64,
            qa: row.boolean("qa")?,
            room_id: RoomId(row.text("room_id")?),
            room_state: row.parsed("state", "room state", RoomState::parse)?,
            opens_at: row.optional_time("opens_at")?,
            slow_mode_secs: u32::try_from(row.int("slow_mode_secs")?).unwrap_or(u32::MAX),
        })
    }
}

/// A fan's standing for asking: timed out in the event's room, and their last question.
struct Standing {
    timed_out_until: Option<Timestamp>,
    last_asked_at: Option<Timestamp>,
}

impl<'r, R: Columns> FromRow<'r, R> for Standing {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Standing {
            timed_out_until: row.optional_time("timed_out_until")?,
            last_asked_at: row.optional_time("last_asked_at")?,
        })
    }
}

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
            Store::Sqlite(db) => commit::<Sqlite>(&db.write, ops).await,
            Store::Postgres(db) => commit::<Postgres>(&db.pool, ops).await,
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

struct CountRow(i64);

impl<'r, R: Columns> FromRow<'r, R> for CountRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CountRow(row.int("n")?))
    }
}

async fn commit<D: Dialect>(
    pool: &sqlx::Pool<D>,
    ops: &[QuestionOp],
) -> StoreResult<Vec<QuestionOpResult>> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(apply::<D>(&mut tx, op).await?);
    }
    tx.commit().await.map_err(StoreError::at_commit)?;
    Ok(results)
}

/// Loads (and on PostgreSQL locks) the event row with its room.
async fn event_state<D: Dialect>(
    tx: &mut D::Connection,
    event_id: &EventId,
) -> StoreResult<Option<EventState>> {
    let sql = format!(
        "SELECT e.last_seq, e.qa, e.room_id, r.state, r.opens_at, r.slow_mode_secs \
         FROM events e JOIN rooms r ON r.id = e.room_id WHERE e.id = $1{}",
        // The event row only: the rooms' writer locks room rows.
        if D::LOCK_ROWS.is_empty() {
            ""
        } else {
            " FOR UPDATE OF e"
        }
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind(event_id.as_str());
    fetch_optional::<D, EventState>(tx, statement).await
}

async fn question<D: Dialect>(
    tx: &mut D::Connection,
    event_id: &EventId,
    id: &QuestionId,
) -> StoreResult<Option<QuestionRow>> {
    let sql = format!(
        "SELECT {QUESTION_COLUMNS} FROM event_questions q WHERE q.event_id = $1 AND q.id = $2"
    );
    let statement = Statement::new(AssertSqlSafe(sql))
        .bind(event_id.as_str())
        .bind(id.as_str());
    fetch_optional::<D, QuestionRow>(tx, statement).await
}

/// Applies one op inside the batch's transaction.
async fn apply<D: Dialect>(
    tx: &mut D::Connection,
    op: &QuestionOp,
) -> StoreResult<QuestionOpResult> {
    let Some(event) = event_state::<D>(tx, op.event_id()).await? else {
        return Ok(Err(RoomRefusal::Missing("event")));
    };
    match op {
        QuestionOp::Ask {
            question_id,
            event_id,
            fan_id,
            author_name,
            client_msg_id,
            body,
            at,
        } => {
            let sql = format!(
                "SELECT {QUESTION_COLUMNS} FROM event_questions q \
                 WHERE q.event_id = $1 AND q.fan_id = $2 AND q.client_msg_id = $3"
            );
            let statement = Statement::new(AssertSqlSafe(sql))
                .bind(event_id.as_str())
                .bind(fan_id.as_str())
                .bind(client_msg_id.as_str());
            if let Some(original) = fetch_optional::<D, QuestionRow>(tx, statement).await? {
                return Ok(Ok(QuestionOutcome::Unchanged(original)));
            }
            if !event.qa {
                return Ok(Err(fandesk_domain::RuleViolation::InvalidTransition(
                    "this event does not take questions",
                )
                .into()));
            }
            let statement = Statement::new(
                "SELECT (SELECT timed_out_until FROM room_fans WHERE room_id = $1 AND fan_id = $2) \
                 AS timed_out_until, (SELECT MAX(created_at) FROM event_questions \
                 WHERE event_id = $3 AND fan_id = $2) AS last_asked_at",
            )
            .bind(event.room_id.as_str())
            .bind(fan_id.as_str())
            .bind(event_id.as_str());
            let standing = fetch_optional::<D, Standing>(tx, statement).await?;
            let standing = standing.map(|standing| FanStanding {
                last_message_at: standing.last_asked_at,
                timed_out_until: standing.timed_out_until,
            });
            let author = Principal::Fan {
                id: fan_id.clone(),
                name: author_name.clone(),
            };
            let state =
                fandesk_domain::room::effective_state(event.room_state, event.opens_at, *at);
            if let Err(refusal) = fandesk_domain::room::decide_room_post(
                &author,
                state,
                event.slow_mode_secs,
                standing.as_ref(),
                *at,
            ) {
                return Ok(Err(refusal));
            }
            let row = QuestionRow {
                id: question_id.clone(),
                event_id: event_id.clone(),
                fan_id: fan_id.clone(),
                author_name: author_name.clone(),
                client_msg_id: client_msg_id.clone(),
                body: body.clone(),
                state: QuestionState::Open,
                upvotes: 0,
                created_at: *at,
                updated_at: *at,
            };
            let statement = Statement::new(
                "INSERT INTO event_questions (id, event_id, fan_id, author_name, client_msg_id, \
                 body, state, upvotes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
            )
            .bind(row.id.as_str())
            .bind(row.event_id.as_str())
            .bind(row.fan_id.as_str())
            .bind(row.author_name.as_str())
            .bind(row.client_msg_id.as_str())
            .bind(row.body.as_str())
            .bind(row.state.as_str())
            .bind(to_micros(*at));
            execute::<D>(tx, statement).await?;
            let entry = append::<D>(tx, &event, QuestionEntryKind::Created, row, *at).await?;
            Ok(Ok(QuestionOutcome::Changed(entry)))
        }
        QuestionOp::Upvote {
            event_id,
            question_id,
            fan_id,
            at,
        } => {
            let Some(mut row) = question::<D>(tx, event_id, question_id).await? else {
                return Ok(Err(RoomRefusal::Missing("question")));
            };
            // A fan cannot learn that a hidden question exists.
            if !row.state.visible_to(Audience::Fan) {
                return Ok(Err(RoomRefusal::Missing("question")));
            }
            let statement = Statement::new(
                "INSERT INTO event_question_upvotes (question_id, fan_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (question_id, fan_id) DO NOTHING",
            )
            .bind(question_id.as_str())
            .bind(fan_id.as_str())
            .bind(to_micros(*at));
            if execute::<D>(tx, statement).await? == 0 {
                return Ok(Ok(QuestionOutcome::Unchanged(row)));
            }
            let statement = Statement::new(
                "UPDATE event_questions SET upvotes = upvotes + 1, updated_at = $2 WHERE id = $1",
            )
            .bind(question_id.as_str())
            .bind(to_micros(*at));
            execute::<D>(tx, statement).await?;
            row.upvotes += 1;
            row.updated_at = *at;
            Ok(Ok(QuestionOutcome::Counted(row)))
        }
        QuestionOp::Act {
            event_id,
            question_id,
            action,
            at,
            ..
        } => {
            let Some(mut row) = question::<D>(tx, event_id, question_id).await? else {
                return Ok(Err(RoomRefusal::Missing("question")));
            };
            let next = match action.apply(row.state) {
                Ok(next) => next,
                Err(violation) => return Ok(Err(violation.into())),
            };
            if next == row.state {
                return Ok(Ok(QuestionOutcome::Unchanged(row)));
            }
            let statement = Statement::new(
                "UPDATE event_questions SET state = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(question_id.as_str())
            .bind(next.as_str())
            .bind(to_micros(*at));
            execute::<D>(tx, statement).await?;
            row.state = next;
            row.updated_at = *at;
            let entry = append::<D>(tx, &event, QuestionEntryKind::Updated, row, *at).await?;
            Ok(Ok(QuestionOutcome::Changed(entry)))
        }
        QuestionOp::Tally {
            event_id,
            question_id,
            at,
        } => {
            let Some(row) = question::<D>(tx, event_id, question_id).await? else {
                return Ok(Err(RoomRefusal::Missing("question")));
            };
            let entry = append::<D>(tx, &event, QuestionEntryKind::Updated, row, *at).await?;
            Ok(Ok(QuestionOutcome::Changed(entry)))
        }
    }
}

/// Takes the event's next `seq` for an entry about `question`.
async fn append<D: Dialect>(
    tx: &mut D::Connection,
    event: &EventState,
    kind: QuestionEntryKind,
    question: QuestionRow,
    at: Timestamp,
) -> StoreResult<QuestionEntry> {
    // Counted in the row itself: an earlier op of this batch may have appended.
    let statement = Statement::new("UPDATE events SET last_seq = last_seq + 1 WHERE id = $1")
        .bind(question.event_id.as_str());
    execute::<D>(tx, statement).await?;
    let statement = Statement::new("SELECT last_seq AS n FROM events WHERE id = $1")
        .bind(question.event_id.as_str());
    let seq = fetch_optional::<D, CountRow>(tx, statement)
        .await?
        .map_or(event.last_seq + 1, |row| row.0.max(0) as u64);
    let statement = Statement::new(
        "INSERT INTO event_entries (event_id, seq, kind, question_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(question.event_id.as_str())
    .bind(seq as i64)
    .bind(kind.as_str())
    .bind(question.id.as_str())
    .bind(to_micros(at));
    execute::<D>(tx, statement).await?;
    Ok(QuestionEntry {
        event_id: question.event_id.clone(),
        seq,
        kind,
        question,
    })
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
