//! Upvote tallies (docs/api.md › WebSocket, `event:{id}`): an upvote commits and is
//! answered with the exact new count at once, but takes no timeline entry of its own; the
//! questions upvoted since the last tally each get one `question.updated` entry with the
//! count as it is then, at most once every `Config::question_tally`. With 10,000 fans
//! following an event, 1,000 upvotes a second on one question would otherwise be 10
//! million frames a second; tallied every 250 ms they are 40,000.
//!
//! What is pending lives in memory on the node that counted the upvotes: a count committed
//! just before a crash reaches subscribers with the question's next entry (REST lists and
//! every replayed entry always carry the stored count). A shutdown tallies what is pending.

use crate::commit::Writer;
use crate::event::commit::QuestionBatch;
use fandesk_domain::event::EventId;
use fandesk_domain::question::QuestionId;
use fandesk_store::{QuestionOp, QuestionRow};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Questions whose counted upvotes no published entry carries yet.
#[derive(Default)]
pub(crate) struct Tally {
    pending: Mutex<HashMap<(EventId, QuestionId), Pending>>,
    wake: Notify,
}

/// The highest count committed for a question since its last entry, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    upvotes: u64,
    at: Timestamp,
}

impl Tally {
    fn lock(&self) -> MutexGuard<'_, HashMap<(EventId, QuestionId), Pending>> {
        // A map of counts: a panic elsewhere cannot leave it half-updated.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An upvote was counted (called in commit order): `question` has its new count.
    pub(crate) fn counted(&self, question: &QuestionRow) {
        let key = (question.event_id.clone(), question.id.clone());
        let mut pending = self.lock();
        let entry = pending.entry(key).or_insert(Pending {
            upvotes: 0,
            at: question.updated_at,
        });
        if question.upvotes >= entry.upvotes {
            *entry = Pending {
                upvotes: question.upvotes,
                at: question.updated_at,
            };
        }
        drop(pending);
        self.wake.notify_one();
    }

    /// An entry about `question` was published: the counts it carries need no tally.
    pub(crate) fn published(&self, question: &QuestionRow) {
        let key = (question.event_id.clone(), question.id.clone());
        let mut pending = self.lock();
        if pending
            .get(&key)
            .is_some_and(|entry| entry.upvotes <= question.upvotes)
        {
            pending.remove(&key);
        }
    }

    /// The tally ops for everything pending, which is then forgotten (an upvote counted
    /// after this call is pending again). Each entry is dated by its last upvote.
    pub(crate) fn take(&self) -> Vec<QuestionOp> {
        let mut pending: Vec<_> = self.lock().drain().collect();
        // A stable order, so a tally's entries are numbered the same way every time.
        pending.sort_by(|left, right| left.0.cmp(&right.0));
        pending
            .into_iter()
            .map(|((event_id, question_id), pending)| QuestionOp::Tally {
                event_id,
                question_id,
                at: pending.at,
            })
            .collect()
    }
}

/// Tallies pending counts through the questions' writer: after the first upvote counted
/// since the last tally, it waits `every` (so the upvotes of that time share one entry),
/// then submits one tally op per question, all at once (one batch, as a rule). On `stop`
/// it tallies what is pending, twice: upvotes committed ahead of the first pass's ops are
/// published before those ops are answered, so the second pass sees them.
pub(crate) async fn run(
    tally: Arc<Tally>,
    writer: Arc<Writer<QuestionBatch>>,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = tally.wake.notified() => {}
            () = stop.cancelled() => break,
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => break,
        }
        submit(&tally, &writer).await;
    }
    submit(&tally, &writer).await;
    submit(&tally, &writer).await;
}

async fn submit(tally: &Tally, writer: &Writer<QuestionBatch>) {
    let mut queued = Vec::new();
    for op in tally.take() {
        match writer.enqueue(op).await {
            Ok(handle) => queued.push(handle),
            // The writer stopped: nothing can be tallied any more.
            Err(_) => break,
        }
    }
    for handle in queued {
        if let Err(error) = handle.wait().await {
            // A question that went away, or a failed commit: the next entry about the
            // question carries its count.
            tracing::warn!(%error, "a question's upvote tally was not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::FanId;
    use fandesk_domain::question::QuestionState;

    fn row(question: &str, upvotes: u64, secs: i64) -> QuestionRow {
        let at = Timestamp::from_second(1_800_000_000 + secs).expect("time");
        QuestionRow {
            id: QuestionId::from(question),
            event_id: EventId::from("evt_1"),
            fan_id: FanId::from("fan_1"),
            author_name: "Ada".into(),
            client_msg_id: "k".into(),
            body: "Tour?".into(),
            state: QuestionState::Open,
            upvotes,
            created_at: at,
            updated_at: at,
        }
    }

    /// (question, upvotes, date) of each tally op.
    fn tallies(tally: &Tally) -> Vec<(String, i64)> {
        tally
            .take()
            .into_iter()
            .map(|op| match op {
                QuestionOp::Tally {
                    question_id, at, ..
                } => (question_id.0, at.as_second() - 1_800_000_000),
                other => panic!("not a tally: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn upvotes_since_the_last_entry_make_one_tally_per_question() {
        let tally = Tally::default();
        assert!(
            tallies(&tally).is_empty(),
            "nothing counted, nothing to tally"
        );
        for (count, secs) in [(1, 1), (2, 2), (3, 3)] {
            tally.counted(&row("q_b", count, secs));
        }
        tally.counted(&row("q_a", 7, 4));
        // Dated by the last upvote; one op per question, in a stable order.
        assert_eq!(tallies(&tally), vec![("q_a".into(), 4), ("q_b".into(), 3)]);
        assert!(tallies(&tally).is_empty(), "taken once");
    }

    #[test]
    fn an_entry_that_carries_the_count_settles_it() {
        let tally = Tally::default();
        tally.counted(&row("q_a", 5, 1));
        tally.counted(&row("q_b", 5, 1));
        // The team answered q_a after the fifth upvote: that entry carries 5.
        tally.published(&row("q_a", 5, 2));
        // q_b's entry was an older one (4): the fifth upvote still needs a tally.
        tally.published(&row("q_b", 4, 2));
        assert_eq!(tallies(&tally), vec![("q_b".into(), 1)]);
    }

    #[test]
    fn a_count_older_than_the_pending_one_does_not_replace_it() {
        let tally = Tally::default();
        tally.counted(&row("q_a", 9, 5));
        tally.counted(&row("q_a", 8, 4));
        assert_eq!(tallies(&tally), vec![("q_a".into(), 5)]);
    }
}
