//! A run of upvotes in one batch, set-based (a burst on one question is hundreds of them):
//! each event row locked once, in id order; each question read once; one multi-row insert
//! of the upvotes (a fan's repeat, in this run or from before, inserts nothing); one count
//! update per question. Every op still gets its own outcome, in order, as if applied one
//! by one: a counted upvote carries the count it made.

use super::commit::{event_state, question};
use super::{QuestionOp, QuestionOpResult, QuestionOutcome, QuestionRow};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_all, placeholders};
use crate::{StoreResult, to_micros};
use fandesk_domain::event::EventId;
use fandesk_domain::question::QuestionId;
use fandesk_domain::room::RoomRefusal;
use fandesk_domain::{Audience, FanId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Rows per insert statement (3 parameters each, well under either backend's limit).
const INSERT_ROWS: usize = 500;

/// One upvote of the run.
struct Upvote<'a> {
    event_id: &'a EventId,
    question_id: &'a QuestionId,
    fan_id: &'a FanId,
    at: Timestamp,
}

/// A row the insert returned: an upvote that was not there yet.
struct Inserted(String, String);

impl<'r, R: Columns> FromRow<'r, R> for Inserted {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Inserted(row.text("question_id")?, row.text("fan_id")?))
    }
}

/// Applies `ops`, every one an upvote, inside the batch's transaction.
pub(super) async fn apply_run<D: Dialect>(
    tx: &mut D::Connection,
    ops: &[QuestionOp],
) -> StoreResult<Vec<QuestionOpResult>> {
    let upvotes: Vec<Upvote<'_>> = ops
        .iter()
        .filter_map(|op| match op {
            QuestionOp::Upvote {
                event_id,
                question_id,
                fan_id,
                at,
            } => Some(Upvote {
                event_id,
                question_id,
                fan_id,
                at: *at,
            }),
            _ => None,
        })
        .collect();
    // Locked in id order, so two nodes' batches cannot wait on each other.
    let mut events: BTreeMap<&EventId, bool> = upvotes
        .iter()
        .map(|upvote| (upvote.event_id, false))
        .collect();
    for (event_id, exists) in &mut events {
        *exists = event_state::<D>(tx, event_id).await?.is_some();
    }
    // By event and id: a question named under another event is missing there. A fan
    // cannot learn that a hidden question exists: it is missing for them too.
    let mut questions: HashMap<(&EventId, &QuestionId), Option<QuestionRow>> = HashMap::new();
    for upvote in &upvotes {
        let key = (upvote.event_id, upvote.question_id);
        if events[upvote.event_id] && !questions.contains_key(&key) {
            let row = question::<D>(tx, upvote.event_id, upvote.question_id)
                .await?
                .filter(|row| row.state.visible_to(Audience::Fan));
            questions.insert(key, row);
        }
    }
    // Each (question, fan) once: the first op of the run may count, later ones repeat it.
    let mut pairs = HashSet::new();
    let candidates: Vec<usize> = (0..upvotes.len())
        .filter(|&index| {
            let upvote = &upvotes[index];
            questions
                .get(&(upvote.event_id, upvote.question_id))
                .is_some_and(Option::is_some)
                && pairs.insert((upvote.question_id, upvote.fan_id))
        })
        .collect();
    let inserted = insert::<D>(tx, &upvotes, &candidates).await?;
    // Each question's new upvotes, the last one's time.
    let mut added: HashMap<&QuestionId, (i64, Timestamp)> = HashMap::new();
    for &index in &candidates {
        let upvote = &upvotes[index];
        if inserted.contains(&index) {
            let entry = added.entry(upvote.question_id).or_insert((0, upvote.at));
            *entry = (entry.0 + 1, upvote.at);
        }
    }
    for (question_id, (count, at)) in &added {
        let statement = Statement::new(
            "UPDATE event_questions SET upvotes = upvotes + $2, updated_at = $3 WHERE id = $1",
        )
        .bind(question_id.as_str())
        .bind(*count)
        .bind(to_micros(*at));
        execute::<D>(tx, statement).await?;
    }
    let mut results = Vec::with_capacity(upvotes.len());
    for (index, upvote) in upvotes.iter().enumerate() {
        if !events[upvote.event_id] {
            results.push(Err(RoomRefusal::Missing("event")));
            continue;
        }
        let Some(Some(row)) = questions.get_mut(&(upvote.event_id, upvote.question_id)) else {
            results.push(Err(RoomRefusal::Missing("question")));
            continue;
        };
        if inserted.contains(&index) {
            row.upvotes += 1;
            row.updated_at = upvote.at;
            results.push(Ok(QuestionOutcome::Counted(row.clone())));
        } else {
            results.push(Ok(QuestionOutcome::Unchanged(row.clone())));
        }
    }
    Ok(results)
}

/// Inserts the candidates' upvotes; the indexes of those that were new.
async fn insert<D: Dialect>(
    tx: &mut D::Connection,
    upvotes: &[Upvote<'_>],
    candidates: &[usize],
) -> StoreResult<HashSet<usize>> {
    let mut new = HashSet::with_capacity(candidates.len());
    for chunk in candidates.chunks(INSERT_ROWS) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|row| format!("({})", placeholders(1 + row * 3, 3)))
            .collect();
        let sql = format!(
            "INSERT INTO event_question_upvotes (question_id, fan_id, created_at) VALUES {} \
             ON CONFLICT (question_id, fan_id) DO NOTHING RETURNING question_id, fan_id",
            tuples.join(", ")
        );
        let mut statement = Statement::new(AssertSqlSafe(sql));
        for &index in chunk {
            let upvote = &upvotes[index];
            statement = statement
                .bind(upvote.question_id.as_str())
                .bind(upvote.fan_id.as_str())
                .bind(to_micros(upvote.at));
        }
        let returned: Vec<Inserted> = fetch_all::<D, Inserted>(tx, statement).await?;
        // RETURNING keeps no order: match the rows back to their ops by key.
        let returned: HashSet<(String, String)> = returned
            .into_iter()
            .map(|Inserted(question, fan)| (question, fan))
            .collect();
        for &index in chunk {
            let upvote = &upvotes[index];
            let key = (upvote.question_id.0.clone(), upvote.fan_id.0.clone());
            if returned.contains(&key) {
                new.insert(index);
            }
        }
    }
    Ok(new)
}
