//! The durable record of who watched a room and when (docs/metrics.md › Events): a
//! fan's viewing on this node starts with their first subscription to the room and ends
//! when the last one closes. Changes are kept in memory and written once a second in one
//! transaction ([`Store::record_viewings`]), which also marks this node's open viewings
//! as seen; a node that dies leaves viewings ending at its last write, and closes them
//! itself when it starts again. Times come from the `App`'s clock.

use crate::app::clock::Clock;
use fandesk_domain::FanId;
use fandesk_domain::room::RoomId;
use fandesk_store::{Store, StoreResult, ViewingChange};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often pending changes are written (and open viewings marked seen).
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct State {
    /// Open viewings on this node: their id and how many subscriptions hold them.
    open: HashMap<(RoomId, FanId), (String, u32)>,
    /// Changes not yet written, in order.
    pending: Vec<ViewingChange>,
}

pub(crate) struct ViewingLog {
    store: Store,
    clock: Arc<dyn Clock>,
    node: String,
    state: Mutex<State>,
    /// Held while a batch is written, so a leave is never written before its join; holds
    /// whether the viewings this node left open when it last stopped are closed yet.
    writing: tokio::sync::Mutex<bool>,
}

impl ViewingLog {
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>, node: String) -> ViewingLog {
        ViewingLog {
            store,
            clock,
            node,
            state: Mutex::new(State::default()),
            writing: tokio::sync::Mutex::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `fan` as watching `room` until the guard (and every other guard of the same
    /// fan and room) is dropped.
    pub(crate) fn join(self: &Arc<Self>, room: &RoomId, fan: &FanId) -> ViewingGuard {
        let mut state = self.lock();
        let key = (room.clone(), fan.clone());
        let now = self.clock.now();
        let State { open, pending } = &mut *state;
        let entry = open.entry(key).or_insert_with(|| {
            let id = crate::new_id("view");
            pending.push(ViewingChange::Joined {
                id: id.clone(),
                room: room.clone(),
                fan: fan.clone(),
                at: now,
            });
            (id, 0)
        });
        entry.1 += 1;
        ViewingGuard {
            log: Arc::downgrade(self),
            room: room.clone(),
            fan: fan.clone(),
        }
    }

    fn leave(&self, room: &RoomId, fan: &FanId) {
        let mut state = self.lock();
        let key = (room.clone(), fan.clone());
        let Some(entry) = state.open.get_mut(&key) else {
            return;
        };
        entry.1 = entry.1.saturating_sub(1);
        if entry.1 == 0 {
            let id = entry.0.clone();
            state.open.remove(&key);
            let at = self.clock.now();
            state.pending.push(ViewingChange::Left { id, at });
        }
    }

    /// Writes the pending changes (and marks the open viewings seen now). On a failure the
    /// changes stay pending for the next attempt.
    pub(crate) async fn flush(&self) -> StoreResult<()> {
        let mut stale_closed = self.writing.lock().await;
        if !*stale_closed {
            // Before this node's first write: what it left open when it last stopped
            // ends where it was last seen.
            self.store.close_stale_viewings(&self.node).await?;
            *stale_closed = true;
        }
        let (changes, any_open) = {
            let mut state = self.lock();
            (std::mem::take(&mut state.pending), !state.open.is_empty())
        };
        if changes.is_empty() && !any_open {
            return Ok(());
        }
        let result = self
            .store
            .record_viewings(&self.node, &changes, self.clock.now())
            .await;
        if result.is_err() {
            let mut state = self.lock();
            let newer = std::mem::replace(&mut state.pending, changes);
            state.pending.extend(newer);
        }
        result
    }

    /// Ends every open viewing now (the node is stopping) and writes it.
    pub(crate) async fn close_all(&self) -> StoreResult<()> {
        {
            let mut state = self.lock();
            let at = self.clock.now();
            let closed: Vec<ViewingChange> = state
                .open
                .drain()
                .map(|(_, (id, _))| ViewingChange::Left { id, at })
                .collect();
            state.pending.extend(closed);
        }
        self.flush().await
    }
}

/// One subscription's share of a viewing; dropping it may end the viewing.
pub(crate) struct ViewingGuard {
    log: Weak<ViewingLog>,
    room: RoomId,
    fan: FanId,
}

impl Drop for ViewingGuard {
    fn drop(&mut self) {
        if let Some(log) = self.log.upgrade() {
            log.leave(&self.room, &self.fan);
        }
    }
}

/// Writes every [`FLUSH_EVERY`] until `stop`, when it ends every open viewing and writes
/// a last time. On SQLite on a thread of its own (`writer_thread`): the write connection
/// it holds for its transaction is everyone's.
pub(crate) fn spawn_writer(log: Arc<ViewingLog>, stop: CancellationToken) -> JoinHandle<()> {
    let store = log.store.clone();
    crate::writer_thread::spawn_writer_task(&store, "viewing-log", async move {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(error) = log.flush().await {
                tracing::warn!(%error, "could not write viewings; retrying");
            }
        }
        if let Err(error) = log.close_all().await {
            tracing::warn!(%error, "could not close the open viewings at shutdown");
        }
    })
}
