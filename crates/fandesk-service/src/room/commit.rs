//! Group commit for live rooms, a second writer beside the conversations' one (`writer.rs`):
//! it gathers waiting room ops, applies them in one transaction
//! ([`Store::apply_room_batch`]), publishes the committed timeline events in `seq` order —
//! each encoded once per audience and shared by every viewer — and only then answers each
//! caller. A separate task keeps a busy premiere from queueing behind direct messages and
//! the other way round; on SQLite both still share the one writer connection.

use crate::Config;
use crate::app::error::{ServiceError, ServiceResult};
use crate::app::metrics::Metrics;
use crate::live::frame::room_event_frame;
use crate::live::publish::{Frames, publish_timeline};
use fandesk_bus::Bus;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{RoomEventRow, RoomOp, RoomOutcome, Store, StoreError};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Pending {
    op: RoomOp,
    reply: oneshot::Sender<ServiceResult<RoomOutcome>>,
}

/// A room op handed to the writer; [`RoomQueued::wait`] yields its committed outcome.
pub(crate) struct RoomQueued(oneshot::Receiver<ServiceResult<RoomOutcome>>);

impl RoomQueued {
    pub(crate) async fn wait(self) -> ServiceResult<RoomOutcome> {
        self.0.await.map_err(|_| ServiceError::Unavailable)?
    }
}

pub(crate) struct RoomWriter {
    sender: mpsc::Sender<Pending>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl RoomWriter {
    pub(crate) fn spawn(
        store: Store,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        config: &Config,
    ) -> RoomWriter {
        let (sender, receiver) = mpsc::channel(config.write_queue.max(1));
        let stop = CancellationToken::new();
        let batch_max = config.write_batch_max.max(1);
        let task = tokio::spawn(run(receiver, stop.clone(), store, bus, metrics, batch_max));
        RoomWriter {
            sender,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues `op` and waits for its committed outcome.
    pub(crate) async fn submit(&self, op: RoomOp) -> ServiceResult<RoomOutcome> {
        self.enqueue(op).await?.wait().await
    }

    /// Queues `op` without waiting for the commit. Ops commit in queue order, so a
    /// connection that queues several sends gets their outcomes in that order.
    pub(crate) async fn enqueue(&self, op: RoomOp) -> ServiceResult<RoomQueued> {
        if self.stop.is_cancelled() {
            return Err(ServiceError::Unavailable);
        }
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { op, reply })
            .await
            .map_err(|_| ServiceError::Unavailable)?;
        Ok(RoomQueued(answer))
    }

    /// Refuses new ops, drains the queue, waits for the last commit.
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

async fn run(
    mut receiver: mpsc::Receiver<Pending>,
    stop: CancellationToken,
    store: Store,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
    batch_max: usize,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(batch_max);
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
        batch.push(first);
        while batch.len() < batch_max {
            match receiver.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        commit(&store, bus.as_ref(), &metrics, &mut batch).await;
    }
}

async fn commit(store: &Store, bus: &dyn Bus, metrics: &Metrics, batch: &mut Vec<Pending>) {
    let ops: Vec<RoomOp> = batch.iter().map(|pending| pending.op.clone()).collect();
    let started = Instant::now();
    let mut outcome = store.apply_room_batch(&ops).await;
    if let Err(StoreError::Conflict(_)) = &outcome {
        // Another node committed one of these idempotency keys (or deleted one of these
        // messages) between our read and our write; a second pass sees it.
        outcome = store.apply_room_batch(&ops).await;
    }
    metrics
        .commit_seconds
        .observe(started.elapsed().as_secs_f64());
    metrics.batch_size.observe(ops.len() as f64);
    match outcome {
        Ok(results) => {
            for (pending, result) in batch.drain(..).zip(results) {
                let reply = result.map_err(ServiceError::from);
                match &reply {
                    Ok(RoomOutcome::Posted { event }) => {
                        metrics.messages_written.inc();
                        publish(bus, event);
                    }
                    Ok(RoomOutcome::Deleted { deletion, .. }) => publish(bus, deletion),
                    _ => {}
                }
                let _ = pending.reply.send(reply);
            }
        }
        Err(error) => {
            tracing::error!(%error, ops = ops.len(), "room group commit failed; nothing in the batch was acknowledged");
            for pending in batch.drain(..) {
                let _ = pending
                    .reply
                    .send(Err(ServiceError::Internal(error.to_string())));
            }
        }
    }
}

/// Fans out a committed room timeline entry. Every room entry is public, so fans number
/// it with the room's one sequence (`public_seq` = `seq`).
fn publish(bus: &dyn Bus, event: &RoomEventRow) {
    let topic = Topic::Room(event.room_id.0.clone()).to_string();
    let frames = Frames {
        team: room_event_frame(&topic, event, Audience::Team),
        fan: Some(room_event_frame(&topic, event, Audience::Fan)),
    };
    publish_timeline(bus, topic, event.seq, Some(event.seq), frames);
}
