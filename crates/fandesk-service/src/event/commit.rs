//! The questions' group-commit batch: asks, upvotes and the team's actions applied by
//! [`Store::apply_question_batch`] (the event row locked on PostgreSQL; slow mode,
//! timeouts, one upvote per fan and the state rules decided inside the transaction), then
//! each committed entry published on `event:{id}`, encoded once per audience. Every entry
//! takes the event's one sequence; fans get an entry about a hidden question as its
//! removal, so their numbering has no gap and no hidden text.

use crate::commit::{Batch, Writer};
use crate::live::frame::question_entry_frame;
use crate::live::publish::{Frames, publish_timeline};
use fandesk_bus::Bus;
use fandesk_domain::room::RoomRefusal;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{QuestionEntry, QuestionOp, QuestionOutcome, Store, StoreResult};
use std::future::Future;
use std::sync::Arc;

/// The questions' writer.
pub(crate) type QuestionWriter = Writer<QuestionBatch>;

/// Where committed question entries go.
pub(crate) struct QuestionBatch {
    pub bus: Arc<dyn Bus>,
}

impl Batch for QuestionBatch {
    type Op = QuestionOp;
    type Outcome = QuestionOutcome;
    type Refusal = RoomRefusal;
    const NAME: &'static str = "question";

    fn apply<'a>(
        store: &'a Store,
        ops: &'a [QuestionOp],
    ) -> impl Future<Output = StoreResult<Vec<Result<QuestionOutcome, RoomRefusal>>>> + Send + 'a
    {
        store.apply_question_batch(ops)
    }

    fn publish(&self, outcome: &QuestionOutcome) {
        if let QuestionOutcome::Changed(entry) = outcome {
            publish(self.bus.as_ref(), entry);
        }
    }
}

/// The frames of an entry, as published live and as the multi-node gap fill rebuilds them.
pub(crate) fn entry_frames(topic: &str, entry: &QuestionEntry) -> Frames {
    Frames {
        team: question_entry_frame(topic, entry, Audience::Team),
        fan: Some(question_entry_frame(topic, entry, Audience::Fan)),
    }
}

fn publish(bus: &dyn Bus, entry: &QuestionEntry) {
    let topic = Topic::Event(entry.event_id.0.clone()).to_string();
    let frames = entry_frames(&topic, entry);
    publish_timeline(bus, topic, entry.seq, Some(entry.seq), frames);
}
