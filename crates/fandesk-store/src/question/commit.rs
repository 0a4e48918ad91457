//! The questions' group commit: one transaction per batch, the event row locked on
//! PostgreSQL (so several nodes can write one event), each op decided against the state
//! the preceding op left. A run of upvotes is applied set-based ([`super::upvote`]).

use super::{
    CountRow, QUESTION_COLUMNS, QuestionEntry, QuestionEntryKind, QuestionOp, QuestionOpResult,
    QuestionOutcome, QuestionRow, upvote,
};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_optional};
use crate::{StoreError, StoreResult, to_micros};
use fandesk_domain::event::EventId;
use fandesk_domain::question::{QuestionId, QuestionState};
use fandesk_domain::room::{FanStanding, RoomId, RoomRefusal, RoomState};
use fandesk_domain::{Audience, Principal};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

/// The event's row as a batch sees it.
pub(super) struct EventState {
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

pub(super) async fn commit<D: Dialect>(
    pool: &sqlx::Pool<D>,
    ops: &[QuestionOp],
) -> StoreResult<Vec<QuestionOpResult>> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(ops.len());
    let mut index = 0;
    while index < ops.len() {
        // A run of upvotes (a burst on one question) is a handful of statements in all.
        let run = ops[index..]
            .iter()
            .take_while(|op| matches!(op, QuestionOp::Upvote { .. }))
            .count();
        if run > 1 {
            results.extend(upvote::apply_run::<D>(&mut tx, &ops[index..index + run]).await?);
            index += run;
        } else {
            results.push(apply::<D>(&mut tx, &ops[index]).await?);
            index += 1;
        }
    }
    tx.commit().await.map_err(StoreError::at_commit)?;
    Ok(results)
}

/// Loads (and on PostgreSQL locks) the event row with its room.
pub(super) async fn event_state<D: Dialect>(
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

pub(super) async fn question<D: Dialect>(
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
