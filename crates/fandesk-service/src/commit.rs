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
//! next batch commits while the previous one's events are rendered and sent. On SQLite
//! both run on a thread of the writer's own (`writer_thread`). Commit time
//! and batch size are observed per writer (`writer="conversation"|"room"|"question"`).

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
            store: store.clone(),
            metrics: metrics.writer(B::NAME),
            batch_max: config.batch_max.max(1),
        };
        let task = crate::writer_thread::spawn_writer_task(
            &store,
            &format!("commit-{}", B::NAME),
            run(receiver, stop.clone(), committer, Arc::new(batch)),
        );
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

/// One answer per op of a batch, in order.
type Answers<B> = Vec<ServiceResult<<B as Batch>::Outcome>>;

/// A committed (or failed) batch on its way to the publisher.
struct Committed<B: Batch> {
    replies: Vec<oneshot::Sender<ServiceResult<B::Outcome>>>,
    answers: Answers<B>,
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
        let answers = committer.commit::<B>(&ops).await;
        ops.clear();
        let done = Committed::<B> {
            replies: std::mem::replace(&mut replies, Vec::with_capacity(batch_max)),
            answers,
        };
        if committed.send(done).await.is_err() {
            break;
        }
    }
    drop(committed);
    let _ = publisher.await;
}

impl Committer {
    /// Commits one batch and answers each op. A transaction that failed and certainly
    /// rolled back is split in halves, each applied on its own, down to single ops, so an
    /// op the database refuses fails alone and the others commit (ARCHITECTURE.md ›
    /// Invariants: no batch fails for another op's fault). Halves commit in queue order,
    /// so the ops keep their order. A failure whose outcome is unknown (the connection,
    /// or the `COMMIT` itself) is never retried: its ops are answered with the error.
    async fn commit<B: Batch>(&self, ops: &[B::Op]) -> Answers<B> {
        let started = Instant::now();
        let mut answers = Vec::with_capacity(ops.len());
        // Ranges still to apply, the next on top.
        let mut pending: Vec<std::ops::Range<usize>> = Vec::with_capacity(8);
        pending.push(0..ops.len());
        let mut transactions = 0u32;
        while let Some(range) = pending.pop() {
            transactions += 1;
            match self.apply::<B>(&ops[range.clone()]).await {
                Ok(results) => answers.extend(results.into_iter().map(|r| r.map_err(Into::into))),
                Err(error) if range.len() > 1 && error.rolled_back() => {
                    let middle = range.start + range.len() / 2;
                    pending.push(middle..range.end);
                    pending.push(range.start..middle);
                }
                Err(error) => {
                    tracing::error!(%error, writer = B::NAME, ops = range.len(), "group commit failed; these ops were not acknowledged");
                    answers.extend(range.map(|_| Err(ServiceError::Internal(error.to_string()))));
                }
            }
        }
        if transactions > 1 {
            tracing::warn!(
                writer = B::NAME,
                ops = ops.len(),
                transactions,
                "a failed batch was applied apart"
            );
        }
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.batch_size.observe(ops.len() as f64);
        answers
    }

    /// Applies `ops` in one transaction; retried once on a conflict with another node (it
    /// committed one of these idempotency keys, or changed one of these rows, between our
    /// read and our write: a second pass sees it and answers with the original).
    async fn apply<B: Batch>(&self, ops: &[B::Op]) -> Outcomes<B> {
        let outcome = B::apply(&self.store, ops).await;
        if let Err(StoreError::Conflict(_)) = &outcome {
            return B::apply(&self.store, ops).await;
        }
        outcome
    }
}

type Outcomes<B> = StoreResult<Vec<Result<<B as Batch>::Outcome, <B as Batch>::Refusal>>>;

/// Publishes committed batches in commit order (so fan-out order stays `seq` order) and
/// only then answers their callers.
async fn publish_loop<B: Batch>(mut batches: mpsc::Receiver<Committed<B>>, batch: Arc<B>) {
    while let Some(committed) = batches.recv().await {
        let Committed { replies, answers } = committed;
        for (reply_to, answer) in replies.into_iter().zip(answers) {
            if let Ok(outcome) = &answer {
                batch.publish(outcome);
            }
            let _ = reply_to.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::RuleViolation;

    /// An in-memory "table" written by [`TableBatch`].
    #[derive(Default)]
    struct Table {
        rows: Mutex<Vec<u32>>,
        transactions: Mutex<u32>,
    }

    /// A transaction holding a `Bad` op fails whole and rolls back (as a database refusing
    /// one row fails its transaction); `Refused` is refused on its own, as a rule would;
    /// `Lost` fails the connection (outcome unknown).
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Kind {
        Good(u32),
        Bad,
        Refused,
        Lost,
    }

    /// An op carries the table it writes (`Batch::apply` has no `self`).
    struct Op(Arc<Table>, Kind);

    struct TableBatch(Arc<Table>);

    impl Batch for TableBatch {
        type Op = Op;
        type Outcome = u32;
        type Refusal = RuleViolation;
        const NAME: &'static str = "test";

        async fn apply(_store: &Store, ops: &[Op]) -> StoreResult<Vec<Result<u32, RuleViolation>>> {
            let Some(Op(table, _)) = ops.first() else {
                return Ok(Vec::new());
            };
            *table.transactions.lock().unwrap() += 1;
            let kinds: Vec<Kind> = ops.iter().map(|op| op.1).collect();
            if kinds.contains(&Kind::Lost) {
                return Err(StoreError::Connection("gone".into()));
            }
            if kinds.contains(&Kind::Bad) {
                return Err(StoreError::Database("refused row".into()));
            }
            let mut rows = table.rows.lock().unwrap();
            Ok(kinds
                .iter()
                .map(|kind| match kind {
                    Kind::Good(value) => {
                        rows.push(*value);
                        Ok(*value)
                    }
                    _ => Err(RuleViolation::Forbidden("no")),
                })
                .collect())
        }

        fn publish(&self, outcome: &u32) {
            assert!(
                self.0.rows.lock().unwrap().contains(outcome),
                "published before commit"
            );
        }
    }

    /// Queues `kinds` as one batch (all queued before the writer starts, so the first
    /// transaction holds them all) and returns each op's answer and the table.
    async fn run(kinds: &[Kind]) -> (Vec<ServiceResult<u32>>, Arc<Table>) {
        let table = Arc::new(Table::default());
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("store");
        let (sender, receiver) = mpsc::channel(kinds.len());
        let mut answers = Vec::new();
        for kind in kinds {
            let (reply, answer) = oneshot::channel();
            let op = Op(table.clone(), *kind);
            assert!(sender.try_send(Pending { op, reply }).is_ok(), "queued");
            answers.push(answer);
        }
        drop(sender);
        let committer = Committer {
            store: store.clone(),
            metrics: Metrics::new().writer("test"),
            batch_max: kinds.len(),
        };
        let batch = Arc::new(TableBatch(table.clone()));
        super::run(receiver, CancellationToken::new(), committer, batch).await;
        let mut results = Vec::new();
        for answer in answers {
            results.push(Queued(answer).wait().await);
        }
        store.close().await;
        (results, table)
    }

    fn codes(results: &[ServiceResult<u32>]) -> Vec<Result<u32, &'static str>> {
        results
            .iter()
            .map(|result| result.as_ref().copied().map_err(ServiceError::code))
            .collect()
    }

    #[tokio::test]
    async fn a_failing_op_fails_alone_and_the_others_commit_once() {
        let mut kinds: Vec<Kind> = (0..20).map(Kind::Good).collect();
        kinds.insert(7, Kind::Bad);
        kinds.insert(15, Kind::Refused);
        let (results, table) = run(&kinds).await;
        let expected: Vec<Result<u32, &str>> = kinds
            .iter()
            .map(|kind| match kind {
                Kind::Good(value) => Ok(*value),
                Kind::Bad => Err("internal"),
                _ => Err("forbidden"),
            })
            .collect();
        assert_eq!(codes(&results), expected);
        // Every good op stored exactly once, in queue order.
        assert_eq!(*table.rows.lock().unwrap(), (0..20).collect::<Vec<_>>());
        // Bisection: about 2·log2(22) transactions, not one per op.
        assert!(*table.transactions.lock().unwrap() <= 12);
    }

    #[tokio::test]
    async fn two_failing_ops_in_different_halves_each_fail_alone() {
        use Kind::*;
        let kinds = [Bad, Good(1), Good(2), Good(3), Good(4), Bad];
        let (results, table) = run(&kinds).await;
        assert_eq!(
            codes(&results),
            vec![Err("internal"), Ok(1), Ok(2), Ok(3), Ok(4), Err("internal")]
        );
        assert_eq!(*table.rows.lock().unwrap(), vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_lost_connection_is_not_retried() {
        use Kind::*;
        let (results, table) = run(&[Good(1), Lost, Good(2)]).await;
        assert_eq!(
            codes(&results),
            vec![Err("internal"), Err("internal"), Err("internal")]
        );
        assert_eq!(*table.transactions.lock().unwrap(), 1);
        assert!(table.rows.lock().unwrap().is_empty());
    }
}
