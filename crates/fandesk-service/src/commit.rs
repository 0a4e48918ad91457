//! Group commit (ARCHITECTURE.md › Invariants: an ack follows the commit, fan-out order
//! is `seq` order): one writer task per kind of timeline gathers whatever ops are waiting,
//! applies them in one transaction, publishes the committed events in commit order, and
//! only then answers each caller.
//!
//! The loop is the same for every timeline; what differs is the [`Batch`]: which store
//! transaction applies the ops and what a committed outcome publishes. Conversations and
//! rooms each have one (`conversation::commit`, `room::commit`), so a busy premiere never
//! queues behind direct messages nor the other way round (on SQLite both still share the
//! one writer connection).
//!
//! Publishing runs in a task of its own, at most [`PUBLISH_AHEAD`] batches behind: the
//! next batch commits while the previous one's events are rendered and sent. Commit time
//! and batch size are observed per writer (`writer="conversation"|"room"`).

use crate::app::error::{ServiceError, ServiceResult};
use crate::app::metrics::{Metrics, WriterMetrics};
use fandesk_store::{Store, StoreError, StoreResult};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What one writer commits: its ops, the transaction that applies them, and what a
/// committed outcome publishes.
pub(crate) trait Batch: Send + Sync + 'static {
    type Op: Send + Sync + 'static;
    type Outcome: Send + 'static;
    /// Why the transaction refused one op (the others still commit).
    type Refusal: Into<ServiceError> + Send + 'static;

    /// The writer's name: its task, its log lines and its metrics' `writer` label.
    const NAME: &'static str;

    /// Applies `ops` in one transaction: one result per op, in order, or the error that
    /// rolled the whole batch back.
    fn apply<'a>(
        store: &'a Store,
        ops: &'a [Self::Op],
    ) -> impl Future<Output = StoreResult<Vec<Result<Self::Outcome, Self::Refusal>>>> + Send + 'a;

    /// Publishes what one committed op produced, before its caller is answered.
    fn publish(&self, outcome: &Self::Outcome);
}

struct Pending<B: Batch> {
    op: B::Op,
    reply: oneshot::Sender<ServiceResult<B::Outcome>>,
}

/// An op handed to a writer; [`Queued::wait`] yields its committed outcome.
pub(crate) struct Queued<O>(oneshot::Receiver<ServiceResult<O>>);

impl<O> Queued<O> {
    pub(crate) async fn wait(self) -> ServiceResult<O> {
        self.0.await.map_err(|_| ServiceError::Unavailable)?
    }
}

/// Settings of one writer.
pub(crate) struct WriterConfig {
    /// Most ops in one transaction.
    pub batch_max: usize,
    /// Ops waiting before senders wait (backpressure).
    pub queue: usize,
}

pub(crate) struct Writer<B: Batch> {
    sender: mpsc::Sender<Pending<B>>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl<B: Batch> Writer<B> {
    pub(crate) fn spawn(
        store: Store,
        batch: B,
        metrics: &Metrics,
        config: WriterConfig,
    ) -> Writer<B> {
        let (sender, receiver) = mpsc::channel(config.queue.max(1));
        let stop = CancellationToken::new();
        let committer = Committer {
            store,
            metrics: metrics.writer(B::NAME),
            batch_max: config.batch_max.max(1),
        };
        let task = tokio::spawn(run(receiver, stop.clone(), committer, Arc::new(batch)));
        Writer {
            sender,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues `op` and waits for its committed outcome.
    pub(crate) async fn submit(&self, op: B::Op) -> ServiceResult<B::Outcome> {
        self.enqueue(op).await?.wait().await
    }

    /// Queues `op` and returns without waiting for the commit. Ops are committed in the
    /// order they were queued, so a connection that queues several sends gets their
    /// outcomes in that order.
    pub(crate) async fn enqueue(&self, op: B::Op) -> ServiceResult<Queued<B::Outcome>> {
        if self.stop.is_cancelled() {
            return Err(ServiceError::Unavailable);
        }
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { op, reply })
            .await
            .map_err(|_| ServiceError::Unavailable)?;
        Ok(Queued(answer))
    }

    /// Refuses new writes, commits and answers what is queued, waits for the last commit.
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Batches handed to the publisher ahead of it: the next commit runs while the previous
/// batch's events are rendered and published, but no further.
const PUBLISH_AHEAD: usize = 2;

/// The writer task's own state.
struct Committer {
    store: Store,
    metrics: WriterMetrics,
    batch_max: usize,
}

type Outcomes<B> = StoreResult<Vec<Result<<B as Batch>::Outcome, <B as Batch>::Refusal>>>;

/// A committed (or failed) batch on its way to the publisher.
struct Committed<B: Batch> {
    replies: Vec<oneshot::Sender<ServiceResult<B::Outcome>>>,
    outcome: Outcomes<B>,
}

async fn run<B: Batch>(
    mut receiver: mpsc::Receiver<Pending<B>>,
    stop: CancellationToken,
    committer: Committer,
    batch: Arc<B>,
) {
    let (committed, to_publish) = mpsc::channel(PUBLISH_AHEAD);
    let publisher = tokio::spawn(publish_loop(to_publish, batch));
    let batch_max = committer.batch_max;
    let mut ops: Vec<B::Op> = Vec::with_capacity(batch_max);
    let mut replies = Vec::with_capacity(batch_max);
    loop {
        let first = tokio::select! {
            biased;
            item = receiver.recv() => item,
            () = stop.cancelled() => {
                // Take nothing new, but commit what callers already handed over.
                receiver.close();
                receiver.recv().await
            }
        };
        let Some(first) = first else { break };
        ops.push(first.op);
        replies.push(first.reply);
        while ops.len() < batch_max {
            match receiver.try_recv() {
                Ok(item) => {
                    ops.push(item.op);
                    replies.push(item.reply);
                }
                Err(_) => break,
            }
        }
        let outcome = committer.commit::<B>(&ops).await;
        ops.clear();
        let done = Committed::<B> {
            replies: std::mem::replace(&mut replies, Vec::with_capacity(batch_max)),
            outcome,
        };
        if committed.send(done).await.is_err() {
            break;
        }
    }
    drop(committed);
    let _ = publisher.await;
}

impl Committer {
    /// Commits one batch; retried once on a conflict with another node (it committed one
    /// of these idempotency keys, or changed one of these rows, between our read and our
    /// write: a second pass sees it and answers with the original).
    async fn commit<B: Batch>(&self, ops: &[B::Op]) -> Outcomes<B> {
        let started = Instant::now();
        let mut outcome = B::apply(&self.store, ops).await;
        if let Err(StoreError::Conflict(_)) = &outcome {
            outcome = B::apply(&self.store, ops).await;
        }
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.batch_size.observe(ops.len() as f64);
        outcome
    }
}

/// Publishes committed batches in commit order (so fan-out order stays `seq` order) and
/// only then answers their callers.
async fn publish_loop<B: Batch>(mut batches: mpsc::Receiver<Committed<B>>, batch: Arc<B>) {
    while let Some(committed) = batches.recv().await {
        let Committed { replies, outcome } = committed;
        match outcome {
            Ok(results) => {
                for (reply_to, result) in replies.into_iter().zip(results) {
                    let reply = result.map_err(Into::into);
                    if let Ok(outcome) = &reply {
                        batch.publish(outcome);
                    }
                    let _ = reply_to.send(reply);
                }
            }
            Err(error) => {
                tracing::error!(%error, writer = B::NAME, ops = replies.len(), "group commit failed; nothing in the batch was acknowledged");
                for reply_to in replies {
                    let _ = reply_to.send(Err(ServiceError::Internal(error.to_string())));
                }
            }
        }
    }
}
