//! The agent desk's background worker (docs/product.md › Routing, priority and shifts):
//! after a conversation opens or reopens and after each committed fan message, it re-scores
//! the conversation, schedules its first-response SLA timer, runs its scripted flow (which
//! holds routing until its hand-off), assigns it automatically, sends the off-hours reply,
//! and pushes the queue change on `inbox`.
//!
//! It runs off the write path: the send path only hands it an event once the message is
//! committed, so an acknowledgement never waits for routing (docs/product.md: fast by
//! default). Events are handled in arrival order, one batch at a time, with the events of
//! one conversation merged; [`App::settle_desk`] waits until everything handed over earlier
//! is done (tests and graceful shutdown).

use crate::app::error::ServiceResult;
use crate::desk::canned::CannedUse;
use crate::desk::floor::Snapshot;
use crate::desk::priority::Rescored;
use crate::desk::worker_queue::DeskQueue;
use crate::{App, Inner};
use fandesk_domain::ConversationId;
use jiff::Timestamp;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) enum DeskEvent {
    /// Created (or reopened) at `at`: a new opening starts.
    Opened {
        conversation: ConversationId,
        at: Timestamp,
    },
    /// The bot rules handed the conversation to a human at `at`: a new opening whose
    /// first-response clock starts at once (docs/metrics.md › First response time).
    HandedOff {
        conversation: ConversationId,
        at: Timestamp,
    },
    /// A fan message was committed (the later ones of the same conversation merged into
    /// it while it waited: `DeskQueue`). `ticket` tells its queue entry apart.
    FanMessage {
        conversation: ConversationId,
        ticket: u64,
    },
    /// Something the score depends on changed (the fan's profile).
    Rescore {
        conversation: ConversationId,
    },
    /// Capacity or shifts changed: offer queued conversations to agents.
    Rebalance,
    Canned {
        message_id: String,
        at: Timestamp,
        used: CannedUse,
    },
    Flush(oneshot::Sender<()>),
}

impl DeskEvent {
    /// The conversation the event is about, if one.
    pub(crate) fn conversation(&self) -> Option<&ConversationId> {
        match self {
            DeskEvent::Opened { conversation, .. }
            | DeskEvent::HandedOff { conversation, .. }
            | DeskEvent::FanMessage { conversation, .. }
            | DeskEvent::Rescore { conversation } => Some(conversation),
            DeskEvent::Rebalance | DeskEvent::Canned { .. } | DeskEvent::Flush(_) => None,
        }
    }
}

/// What one send hands to the desk once it is committed (see `PendingSend::wait`).
pub(crate) struct AfterSend {
    events: Arc<DeskQueue>,
    fan_message: bool,
    canned: Option<CannedUse>,
}

impl AfterSend {
    pub(crate) fn committed(self, message: &fandesk_store::MessageRow) {
        if self.fan_message {
            self.events.fan_message(&message.conversation_id);
        }
        if let Some(used) = self.canned {
            let event = DeskEvent::Canned {
                message_id: message.id.0.clone(),
                at: message.created_at,
                used,
            };
            self.events.send(event);
        }
    }
}

/// Tells the desk about hand-offs; held by the conversations' writer, which commits them.
#[derive(Clone)]
pub(crate) struct HandoffNotifier {
    events: Arc<DeskQueue>,
}

impl HandoffNotifier {
    pub(crate) fn handed_off(&self, conversation: &ConversationId, at: Timestamp) {
        self.events.send(DeskEvent::HandedOff {
            conversation: conversation.clone(),
            at,
        });
    }
}

/// The desk worker, owned by the `App`.
pub(crate) struct DeskRuntime {
    events: Arc<DeskQueue>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<DeskEvent>>>,
    stop: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// How long shutdown waits for the desk to finish what it was handed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Events handled in one pass at most, so a flood still yields to the runtime.
const BATCH_MAX: usize = 256;

impl DeskRuntime {
    /// `waiting` counts the events queued and not yet taken (`/metrics`).
    pub(crate) fn new(waiting: Gauge) -> DeskRuntime {
        let (events, receiver) = DeskQueue::new(waiting);
        DeskRuntime {
            events: Arc::new(events),
            receiver: Mutex::new(Some(receiver)),
            stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Spawns the worker. It holds the `App` weakly, so dropping the last `App` ends it.
    pub(crate) fn start(app: &App) {
        let runtime = &app.inner.desk;
        let receiver = runtime
            .receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(receiver) = receiver else { return };
        let weak = Arc::downgrade(&app.inner);
        let worker = tokio::spawn(run_worker(
            weak,
            Arc::clone(&runtime.events),
            receiver,
            runtime.stop.clone(),
        ));
        runtime
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(worker);
    }

    pub(crate) fn handoffs(&self) -> HandoffNotifier {
        HandoffNotifier {
            events: Arc::clone(&self.events),
        }
    }

    pub(crate) fn notify(&self, event: DeskEvent) {
        self.events.send(event);
    }

    /// Handles what was handed over (so the last fan messages still get their SLA timers;
    /// requests have stopped by now), then stops the worker after its current pass.
    pub(crate) async fn shutdown(&self) {
        let (done, handled) = oneshot::channel();
        self.notify(DeskEvent::Flush(done));
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, handled).await;
        self.stop.cancel();
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .drain(..)
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    }
}

async fn run_worker(
    weak: Weak<Inner>,
    queue: Arc<DeskQueue>,
    mut receiver: mpsc::UnboundedReceiver<DeskEvent>,
    stop: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            event = receiver.recv() => event,
        };
        let Some(first) = first else { break };
        queue.taken(&first);
        let mut events = vec![first];
        while events.len() < BATCH_MAX {
            match receiver.try_recv() {
                Ok(event) => {
                    queue.taken(&event);
                    events.push(event);
                }
                Err(_) => break,
            }
        }
        let Some(inner) = weak.upgrade() else { break };
        App { inner }.handle_desk_events(events).await;
    }
}

/// One conversation's merged events of a batch.
#[derive(Default)]
struct Work {
    opened_at: Option<Timestamp>,
    fan_message: bool,
    /// A bot hand-off: a new opening whose clock started at the hand-off.
    handed_off: bool,
}

impl App {
    /// The hand-off after a committed send: fan messages and canned uses reach the desk.
    pub(crate) fn after_send(
        &self,
        fan_message: bool,
        canned: Option<CannedUse>,
    ) -> Option<AfterSend> {
        (fan_message || canned.is_some()).then(|| AfterSend {
            events: Arc::clone(&self.inner.desk.events),
            fan_message,
            canned,
        })
    }

    /// A conversation was created or reopened at `at` (a new opening, docs/metrics.md ›
    /// Openings).
    pub(crate) fn desk_opened(&self, conversation: &ConversationId, at: Timestamp) {
        self.inner.desk.notify(DeskEvent::Opened {
            conversation: conversation.clone(),
            at,
        });
    }

    /// Capacity may have freed up (a resolve, a clock-in, a new ceiling).
    pub(crate) fn desk_rebalance(&self) {
        self.inner.desk.notify(DeskEvent::Rebalance);
    }

    pub(crate) fn desk_rescore(&self, conversation: &ConversationId) {
        self.inner.desk.notify(DeskEvent::Rescore {
            conversation: conversation.clone(),
        });
    }

    /// Waits until the desk has handled every event handed to it before this call
    /// (priority, assignment, SLA timer, off-hours reply). For tests and operations; the
    /// API never waits for the desk.
    pub async fn settle_desk(&self) {
        let (done, wait) = oneshot::channel();
        self.inner.desk.notify(DeskEvent::Flush(done));
        let _ = wait.await;
    }

    async fn handle_desk_events(&self, events: Vec<DeskEvent>) {
        let mut order: Vec<(ConversationId, Work)> = Vec::new();
        let mut rebalance = false;
        let mut flushes = Vec::new();
        for event in events {
            let handed_off = matches!(event, DeskEvent::HandedOff { .. });
            let (conversation, opened_at, fan_message) = match event {
                DeskEvent::Opened { conversation, at }
                | DeskEvent::HandedOff { conversation, at } => (conversation, Some(at), false),
                DeskEvent::FanMessage { conversation, .. } => (conversation, None, true),
                DeskEvent::Rescore { conversation } => (conversation, None, false),
                DeskEvent::Rebalance => {
                    rebalance = true;
                    continue;
                }
                DeskEvent::Canned {
                    message_id,
                    at,
                    used,
                } => {
                    let stored = self
                        .store()
                        .insert_canned_use(
                            &message_id,
                            &used.template_id,
                            &used.member_id,
                            used.unedited,
                            at,
                        )
                        .await;
                    if let Err(error) = stored {
                        tracing::warn!(%error, "could not record a canned-response use");
                    }
                    continue;
                }
                DeskEvent::Flush(done) => {
                    flushes.push(done);
                    continue;
                }
            };
            let index = match order.iter().position(|(id, _)| *id == conversation) {
                Some(index) => index,
                None => {
                    order.push((conversation, Work::default()));
                    order.len() - 1
                }
            };
            let work = &mut order[index].1;
            work.opened_at = opened_at.or(work.opened_at);
            work.fan_message |= fan_message;
            work.handed_off |= handed_off;
        }
        let mut snapshot = None;
        for (conversation, work) in order {
            if let Err(error) = self.refresh(&conversation, work, &mut snapshot).await {
                tracing::warn!(%error, conversation = %conversation, "desk could not route a conversation");
            }
        }
        if rebalance && let Err(error) = self.rebalance(&mut snapshot).await {
            tracing::warn!(%error, "desk could not offer queued conversations");
        }
        for done in flushes {
            let _ = done.send(());
        }
    }

    /// Scores, times, assigns and (off hours) answers one conversation.
    async fn refresh(
        &self,
        id: &ConversationId,
        work: Work,
        snapshot: &mut Option<Snapshot>,
    ) -> ServiceResult<()> {
        if let Some(at) = work.opened_at {
            self.store().set_opened_at(id, at).await?;
        }
        let Some(desk) = self.store().find_desk_conversation(id).await? else {
            return Ok(());
        };
        if !desk.conversation.status.is_active() {
            self.publish_queue_entry(id, None);
            return Ok(());
        }
        let Rescored {
            desk,
            profile,
            first_message_at,
        } = self.rescore(desk).await?;
        if desk.conversation.bot.handed_off && (work.handed_off || work.fan_message) {
            // Routed like any opening, but its clock started at the hand-off (the opening
            // itself), not at a fan message after it (docs/metrics.md › First response time).
            self.schedule_first_response(&desk, Some(desk.opening()))
                .await?;
        } else if work.fan_message {
            self.schedule_first_response(&desk, first_message_at)
                .await?;
        }
        // A new conversation starts the active flow; while a flow speaks in the
        // conversation, routing and the away message wait for its hand-off. A flow that
        // fails never strands the conversation: it is routed as if it had none.
        let created = !work.handed_off
            && work.opened_at.map(Timestamp::as_microsecond)
                == Some(desk.conversation.created_at.as_microsecond());
        let flow_running = match self.step_flow(&desk, created, snapshot).await {
            Ok(running) => running,
            Err(error) => {
                tracing::warn!(%error, conversation = %id, "the conversation's flow failed");
                false
            }
        };
        let mut assigned = desk.conversation.assignee_id.is_some() || desk.conversation.escalated;
        if flow_running {
            self.publish_queue_entry(id, None);
            return Ok(());
        }
        if !assigned {
            let snapshot = Snapshot::ensure(self, snapshot).await?;
            assigned = self.auto_assign(&desk, snapshot).await?;
        }
        if work.fan_message && !assigned {
            let snapshot = Snapshot::ensure(self, snapshot).await?;
            self.off_hours_reply(&desk, profile.as_ref(), snapshot)
                .await?;
        }
        if assigned {
            // Someone holds it: it leaves the queue whatever a second read would say, so
            // the common case (a fan writing to their agent) costs no second read.
            self.publish_queue_entry(id, None);
            return Ok(());
        }
        match self.store().find_desk_conversation(id).await? {
            Some(current) if current.conversation.assignee_id.is_none() => {
                let entry = self.queue_entry(&current).await?;
                self.publish_queue_entry(id, Some(entry));
            }
            _ => self.publish_queue_entry(id, None),
        }
        Ok(())
    }
}
