//! The questions' group-commit batch: asks, upvotes, the team's actions and tallies
//! applied by [`Store::apply_question_batch`] (the event row locked on PostgreSQL; slow
//! mode, timeouts, one upvote per fan and the state rules decided inside the transaction),
//! then each committed entry published on `event:{id}`, encoded once per audience. Every
//! entry takes the event's one sequence; fans get an entry about a hidden question as its
//! removal, so their numbering has no gap and no hidden text. A counted upvote publishes
//! nothing itself: it is handed to the [`Tally`], which later writes one entry for all
//! the upvotes of a question since its last one.

use crate::commit::{Batch, Writer};
use crate::event::tally::{self, Tally};
use crate::live::frame::question_entry_frame;
use crate::live::publish::{Frames, publish_timeline};
use crate::{Config, Metrics, ServiceResult};
use fandesk_bus::Bus;
use fandesk_domain::room::RoomRefusal;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{QuestionEntry, QuestionOp, QuestionOutcome, Store, StoreResult};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The questions' writer and the task that tallies their upvotes.
pub(crate) struct QuestionWriter {
    writer: Arc<Writer<QuestionBatch>>,
    stop: CancellationToken,
    tally: Mutex<Option<JoinHandle<()>>>,
}

impl QuestionWriter {
    pub(crate) fn spawn(
        store: Store,
        bus: Arc<dyn Bus>,
        metrics: &Metrics,
        config: &Config,
    ) -> QuestionWriter {
        let pending = Arc::new(Tally::default());
        let batch = QuestionBatch {
            bus,
            tally: pending.clone(),
        };
        let writer = Arc::new(Writer::spawn(store, batch, metrics, config.writer()));
        let stop = CancellationToken::new();
        let task = tokio::spawn(tally::run(
            pending,
            writer.clone(),
            config.question_tally,
            stop.clone(),
        ));
        QuestionWriter {
            writer,
            stop,
            tally: Mutex::new(Some(task)),
        }
    }

    /// Queues `op` and waits for its committed outcome.
    pub(crate) async fn submit(&self, op: QuestionOp) -> ServiceResult<QuestionOutcome> {
        self.writer.submit(op).await
    }

    /// Tallies what is pending, then stops the writer (which commits what is queued).
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        let task = self
            .tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.writer.shutdown().await;
    }
}

/// Where committed question entries go.
pub(crate) struct QuestionBatch {
    bus: Arc<dyn Bus>,
    tally: Arc<Tally>,
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
        match outcome {
            QuestionOutcome::Changed(entry) => {
                publish(self.bus.as_ref(), entry);
                self.tally.published(&entry.question);
            }
            QuestionOutcome::Counted(question) => self.tally.counted(question),
            QuestionOutcome::Unchanged(_) => {}
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
