//! Live viewer counts of rooms (current, peak, unique, as live events at most once per
//! second). Counted in this process only: a fan's room subscription holds a
//! [`ViewerGuard`], and one ticker per `App` publishes the counts of the rooms whose
//! numbers changed since its last tick. With several nodes each counts its own viewers;
//! summing them is left to the multi-node bus.

use crate::live::frame::viewers_frame;
use crate::live::publish::{Frames, publish_ephemeral};
use crate::room::view::ViewerCounts;
use fandesk_bus::Bus;
use fandesk_domain::room::RoomId;
use fandesk_domain::{FanId, Topic};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often changed counts are published: the "at most once per second".
pub(crate) const VIEWER_TICK: Duration = Duration::from_secs(1);

#[derive(Default)]
struct RoomAudience {
    /// Open subscriptions per fan, so a fan with two tabs counts once.
    connections: HashMap<FanId, u32>,
    peak: u64,
    unique: HashSet<FanId>,
    /// What the last `viewers` event said, so a leave-and-return within a tick is silent.
    published: ViewerCounts,
}

impl RoomAudience {
    fn counts(&self) -> ViewerCounts {
        ViewerCounts {
            current: self.connections.len() as u64,
            peak: self.peak,
            unique: self.unique.len() as u64,
        }
    }
}

#[derive(Default)]
pub(crate) struct RoomViewers {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    rooms: HashMap<RoomId, RoomAudience>,
    /// Rooms touched since the last tick; only these are compared and published.
    touched: HashSet<RoomId>,
}

impl RoomViewers {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the counts half-updated in a way worth refusing.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts `fan` as watching `room` until the guard is dropped.
    pub(crate) fn join(self: &Arc<Self>, room: &RoomId, fan: &FanId) -> ViewerGuard {
        let mut state = self.lock();
        let audience = state.rooms.entry(room.clone()).or_default();
        *audience.connections.entry(fan.clone()).or_default() += 1;
        audience.unique.insert(fan.clone());
        audience.peak = audience.peak.max(audience.connections.len() as u64);
        state.touched.insert(room.clone());
        ViewerGuard {
            viewers: Arc::downgrade(self),
            room: room.clone(),
            fan: fan.clone(),
        }
    }

    fn leave(&self, room: &RoomId, fan: &FanId) {
        let mut state = self.lock();
        let Some(audience) = state.rooms.get_mut(room) else {
            return;
        };
        if let Some(count) = audience.connections.get_mut(fan) {
            *count -= 1;
            if *count == 0 {
                audience.connections.remove(fan);
            }
        }
        state.touched.insert(room.clone());
    }

    pub(crate) fn counts(&self, room: &RoomId) -> ViewerCounts {
        self.lock()
            .rooms
            .get(room)
            .map(RoomAudience::counts)
            .unwrap_or_default()
    }

    /// The rooms whose counts differ from what was last published, marked as published.
    pub(crate) fn take_changed(&self) -> Vec<(RoomId, ViewerCounts)> {
        let mut state = self.lock();
        let touched: Vec<RoomId> = state.touched.drain().collect();
        let mut changed = Vec::new();
        for room in touched {
            let Some(audience) = state.rooms.get_mut(&room) else {
                continue;
            };
            let counts = audience.counts();
            if counts != audience.published {
                audience.published = counts;
                changed.push((room, counts));
            }
        }
        changed
    }
}

/// One fan's subscription to one room; dropping it (unsubscribe, disconnect) stops
/// counting. Holds the registry weakly so a forgotten guard keeps nothing alive.
pub(crate) struct ViewerGuard {
    viewers: Weak<RoomViewers>,
    room: RoomId,
    fan: FanId,
}

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        if let Some(viewers) = self.viewers.upgrade() {
            viewers.leave(&self.room, &self.fan);
        }
    }
}

/// Publishes changed counts every [`VIEWER_TICK`] until `stop` or until the `App` (the
/// registry's owner) is gone. One frame per room, encoded once and shared by both
/// audiences; the event is ephemeral (no `seq`, never replayed).
pub(crate) fn spawn_ticker(
    viewers: Weak<RoomViewers>,
    bus: Arc<dyn Bus>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(VIEWER_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(viewers) = viewers.upgrade() else {
                return;
            };
            for (room, counts) in viewers.take_changed() {
                let topic = Topic::Room(room.0).to_string();
                let frames = Frames::shared(viewers_frame(&topic, counts));
                publish_ephemeral(bus.as_ref(), topic, frames);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(current: u64, peak: u64, unique: u64) -> ViewerCounts {
        ViewerCounts {
            current,
            peak,
            unique,
        }
    }

    #[test]
    fn counts_fans_once_and_remembers_peak_and_unique() {
        let viewers = Arc::new(RoomViewers::default());
        let (room, other) = (RoomId::from("r1"), RoomId::from("r2"));
        let (ann, bob) = (FanId::from("ann"), FanId::from("bob"));
        let first = viewers.join(&room, &ann);
        let second_tab = viewers.join(&room, &ann);
        let bob_watching = viewers.join(&room, &bob);
        assert_eq!(viewers.counts(&room), counts(2, 2, 2));
        assert_eq!(
            viewers.take_changed(),
            vec![(room.clone(), counts(2, 2, 2))]
        );
        assert!(viewers.take_changed().is_empty(), "nothing changed since");
        drop(first);
        assert!(
            viewers.take_changed().is_empty(),
            "ann still watches in another tab"
        );
        drop(bob_watching);
        drop(second_tab);
        assert_eq!(
            viewers.take_changed(),
            vec![(room.clone(), counts(0, 2, 2))]
        );
        // Leaving and coming back within one tick publishes nothing.
        let again = viewers.join(&room, &bob);
        assert_eq!(
            viewers.take_changed(),
            vec![(room.clone(), counts(1, 2, 2))]
        );
        drop(again);
        let back = viewers.join(&room, &bob);
        assert!(viewers.take_changed().is_empty());
        assert_eq!(viewers.counts(&other), counts(0, 0, 0));
        drop(back);
    }
}
