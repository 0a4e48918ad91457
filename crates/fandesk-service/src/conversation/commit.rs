//! Group commit (issue 2 › 6): one writer task per database collects concurrent writes,
//! commits them in one transaction, publishes their events in sequence order, and only
//! then answers each caller. An acknowledgement therefore always follows the commit, and
//! fan-out order equals `seq` order. Publishing runs in its own task, one batch behind:
//! the next batch commits while the previous one's events are rendered and sent.

use crate::Config;
use crate::app::error::{ServiceError, ServiceResult};
use crate::app::metrics::Metrics;
use crate::live::frame::message_frame;
use crate::live::publish::{Frames, publish_conversation, publish_timeline};
use crate::signals::processor::SignalInput;
use fandesk_bus::Bus;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{ConversationRow, MessageRow, Store, WriteOp, WriteOutcome};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<ServiceResult<WriteOutcome>>,
}

/// An op handed to the writer; [`Queued::wait`] yields its committed outcome.
pub(crate) struct Queued(oneshot::Receiver<ServiceResult<WriteOutcome>>);

impl Queued {
    pub(crate) async fn wait(self) -> ServiceResult<WriteOutcome> {
        self.0.await.map_err(|_| ServiceError::Unavailable)?
    }
}

pub(crate) struct Writer {
    sender: mpsc::Sender<Pending>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub(crate) fn spawn(
        store: Store,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        config: &Config,
        signals: mpsc::Sender<SignalInput>,
    ) -> Writer {
        let (sender, receiver) = mpsc::channel(config.write_queue.max(1));
        let stop = CancellationToken::new();
        let batch_max = config.write_batch_max.max(1);
        let sinks = Sinks {
            store,
            bus,
            metrics,
            signals,
        };
        let task = tokio::spawn(run(receiver, stop.clone(), sinks, batch_max));
        Writer {
            sender,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues `op` and waits for its committed outcome.
    pub(crate) async fn submit(&self, op: WriteOp) -> ServiceResult<WriteOutcome> {
        self.enqueue(op).await?.wait().await
    }

    /// Queues `op` and returns without waiting for the commit. Ops are committed in the
    /// order they were queued, so a connection that queues several sends gets their
    /// outcomes in that order.
    pub(crate) async fn enqueue(&self, op: WriteOp) -> ServiceResult<Queued> {
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

    /// Refuses new writes, drains the queue, waits for the last commit.
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

/// Where committed writes go.
struct Sinks {
    store: Store,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
    signals: mpsc::Sender<SignalInput>,
}

/// A committed (or failed) batch on its way to the publisher.
struct Committed {
    replies: Vec<oneshot::Sender<ServiceResult<WriteOutcome>>>,
    outcome: Result<Vec<fandesk_store::OpResult>, fandesk_store::StoreError>,
}

/// Batches handed to the publisher ahead of it: the next commit runs while the previous
/// batch's events are rendered and published, but no further.
const PUBLISH_AHEAD: usize = 2;

async fn run(
    mut receiver: mpsc::Receiver<Pending>,
    stop: CancellationToken,
    sinks: Sinks,
    batch_max: usize,
) {
    let sinks = Arc::new(sinks);
    let (committed, to_publish) = mpsc::channel(PUBLISH_AHEAD);
    let publisher = tokio::spawn(publish_loop(to_publish, sinks.clone()));
    let mut ops: Vec<WriteOp> = Vec::with_capacity(batch_max);
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
        let outcome = commit(&sinks, &ops).await;
        ops.clear();
        let batch = Committed {
            replies: std::mem::replace(&mut replies, Vec::with_capacity(batch_max)),
            outcome,
        };
        if committed.send(batch).await.is_err() {
            break;
        }
    }
    drop(committed);
    let _ = publisher.await;
}

/// Commits one batch; retried once on an idempotency conflict with another node.
async fn commit(
    sinks: &Sinks,
    ops: &[WriteOp],
) -> Result<Vec<fandesk_store::OpResult>, fandesk_store::StoreError> {
    let started = Instant::now();
    let mut outcome = sinks.store.apply_batch(ops).await;
    if let Err(fandesk_store::StoreError::Conflict(_)) = &outcome {
        // Another node committed one of these idempotency keys between our read and our
        // insert; a second pass sees it and answers with the original.
        outcome = sinks.store.apply_batch(ops).await;
    }
    sinks
        .metrics
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    sinks.metrics.batch_size.observe(ops.len() as f64);
    outcome
}

/// Publishes committed batches in commit order (so fan-out order stays `seq` order) and
/// only then answers their callers.
async fn publish_loop(mut batches: mpsc::Receiver<Committed>, sinks: Arc<Sinks>) {
    while let Some(batch) = batches.recv().await {
        publish_batch(&sinks, batch);
    }
}

fn publish_batch(sinks: &Sinks, batch: Committed) {
    let Sinks {
        bus,
        metrics,
        signals,
        ..
    } = sinks;
    let Committed { replies, outcome } = batch;
    match outcome {
        Ok(results) => {
            for (reply_to, result) in replies.into_iter().zip(results) {
                let reply = result.map_err(ServiceError::from);
                if let Ok(WriteOutcome::Created {
                    message,
                    conversation,
                    changed,
                    turned_negative,
                }) = &reply
                {
                    metrics.messages_written.inc();
                    publish(bus.as_ref(), message, conversation, *changed);
                    if SignalInput::wanted(message) {
                        let input = SignalInput {
                            message: message.clone(),
                            conversation: conversation.clone(),
                            turned_negative: *turned_negative,
                        };
                        if signals.try_send(input).is_err() {
                            metrics.signals_dropped.inc();
                        }
                    }
                }
                let _ = reply_to.send(reply);
            }
        }
        Err(error) => {
            tracing::error!(%error, ops = replies.len(), "group commit failed; nothing in the batch was acknowledged");
            for reply_to in replies {
                let _ = reply_to.send(Err(ServiceError::Internal(error.to_string())));
            }
        }
    }
}

/// Fans out a committed timeline entry, and the conversation's new state when the entry
/// changed it (a claim or a status change).
fn publish(bus: &dyn Bus, message: &MessageRow, conversation: &ConversationRow, changed: bool) {
    let topic = Topic::Conversation(conversation.id.clone()).to_string();
    let frames = Frames {
        team: message_frame(&topic, message, Audience::Team).unwrap_or_default(),
        fan: message_frame(&topic, message, Audience::Fan),
    };
    publish_timeline(bus, topic, message.seq, message.public_seq, frames);
    if changed {
        publish_conversation(bus, conversation);
    }
}
