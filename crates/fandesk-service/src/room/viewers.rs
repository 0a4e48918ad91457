//! Live viewer counts of rooms (current, peak, unique, as live events at most once per
//! second), across every node. A fan's room subscription holds a [`ViewerGuard`]; one
//! ticker per `App` tells the other nodes what changed here ([`super::viewer_reports`]),
//! and delivers to this node's viewers the counts of the rooms whose numbers changed since
//! its last tick. `current` is the sum of every node's fans watching (a fan watching
//! through two nodes at once counts twice), `unique` the union of the fans every node has
//! seen, `peak` the highest `current` any node saw.

use crate::live::frame::viewers_frame;
use crate::live::publish::{Frames, publish_ephemeral_here};
use crate::room::view::ViewerCounts;
use crate::room::viewer_reports::{self, Report};
use fandesk_bus::Bus;
use fandesk_domain::room::RoomId;
use fandesk_domain::{FanId, Topic};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often changed counts are published: the "at most once per second".
pub(crate) const VIEWER_TICK: Duration = Duration::from_secs(1);

/// A node's reports are trusted this long after the last one (it repeats them every
/// [`viewer_reports::REPEAT`] while it has viewers, so a node that died stops counting).
const REMOTE_TTL: Duration = Duration::from_secs(15);

/// What another node last said about one room.
struct Remote {
    current: u64,
    seen: Instant,
}

#[derive(Default)]
struct RoomAudience {
    /// Open subscriptions per fan on this node, so a fan with two tabs counts once.
    connections: HashMap<FanId, u32>,
    peak: u64,
    /// Fans who ever watched, on any node.
    unique: HashSet<FanId>,
    /// Fans first seen here and not yet told to the other nodes.
    unreported: Vec<FanId>,
    /// The other nodes' current counts, by node name.
    remote: HashMap<String, Remote>,
    /// What this node last reported: its current count, and when.
    reported: Option<(u64, Instant)>,
    /// What the last `viewers` event said, so a leave-and-return within a tick is silent.
    published: ViewerCounts,
}

impl RoomAudience {
    fn current(&self) -> u64 {
        self.connections.len() as u64
            + self
                .remote
                .values()
                .map(|remote| remote.current)
                .sum::<u64>()
    }

    fn note_peak(&mut self) {
        self.peak = self.peak.max(self.current());
    }

    fn counts(&self) -> ViewerCounts {
        ViewerCounts {
            current: self.current(),
            peak: self.peak.max(self.current()),
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
        if audience.unique.insert(fan.clone()) {
            audience.unreported.push(fan.clone());
        }
        audience.note_peak();
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

    /// What this node has to tell the others at `now`: for each room whose count here
    /// changed, which has fans not yet reported, or which has viewers here and was last
    /// reported [`viewer_reports::REPEAT`] ago. Also forgets other nodes silent for longer
    /// than [`REMOTE_TTL`].
    pub(crate) fn take_reports(&self, node: &str, now: Instant) -> Vec<Report> {
        let mut state = self.lock();
        let State { rooms, touched } = &mut *state;
        let mut reports = Vec::new();
        for (room, audience) in rooms.iter_mut() {
            let before = audience.remote.len();
            audience
                .remote
                .retain(|_, remote| now.duration_since(remote.seen) < REMOTE_TTL);
            if audience.remote.len() != before {
                touched.insert(room.clone());
            }
            let here = audience.connections.len() as u64;
            let due = match audience.reported {
                None => here > 0 || !audience.unreported.is_empty(),
                Some((said, at)) => {
                    said != here
                        || !audience.unreported.is_empty()
                        || (here > 0 && now.duration_since(at) >= viewer_reports::REPEAT)
                }
            };
            if !due {
                continue;
            }
            let take = audience.unreported.len().min(viewer_reports::MAX_JOINED);
            let joined = audience.unreported.drain(..take).collect();
            audience.reported = Some((here, now));
            reports.push(Report {
                node: node.to_owned(),
                room: room.clone(),
                current: here,
                peak: audience.peak,
                joined,
            });
        }
        reports
    }

    /// Takes in another node's report (reports of `node` itself are ignored).
    pub(crate) fn merge(&self, node: &str, report: Report, now: Instant) {
        if report.node == node {
            return;
        }
        let mut state = self.lock();
        let audience = state.rooms.entry(report.room.clone()).or_default();
        audience.remote.insert(
            report.node,
            Remote {
                current: report.current,
                seen: now,
            },
        );
        audience.unique.extend(report.joined);
        audience.peak = audience.peak.max(report.peak);
        audience.note_peak();
        state.touched.insert(report.room);
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

/// Every [`VIEWER_TICK`] until `stop` or until the `App` (the registry's owner) is gone:
/// tells the other nodes what changed here, then delivers changed counts to this node's
/// viewers. One frame per room, encoded once and shared by both audiences; the event is
/// ephemeral (no `seq`, never replayed) and local: every node delivers its own copy of the
/// cluster-wide counts.
pub(crate) fn spawn_ticker(
    viewers: Weak<RoomViewers>,
    bus: Arc<dyn Bus>,
    node: String,
    stop: CancellationToken,
) -> JoinHandle<()> {
    viewer_reports::listen(viewers.clone(), bus.as_ref(), node.clone(), stop.clone());
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
            for report in viewers.take_reports(&node, Instant::now()) {
                viewer_reports::publish(bus.as_ref(), &report);
            }
            for (room, counts) in viewers.take_changed() {
                let topic = Topic::Room(room.0).to_string();
                let frames = Frames::shared(viewers_frame(&topic, counts));
                publish_ephemeral_here(bus.as_ref(), topic, frames);
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

    /// Delivers every report `from` has now to `to`.
    fn exchange(
        from: &RoomViewers,
        from_node: &str,
        to: &RoomViewers,
        to_node: &str,
        now: Instant,
    ) {
        for report in from.take_reports(from_node, now) {
            to.merge(to_node, report, now);
        }
    }

    #[test]
    fn nodes_sum_their_viewers_and_share_unique_fans() {
        let (a, b) = (
            Arc::new(RoomViewers::default()),
            Arc::new(RoomViewers::default()),
        );
        let room = RoomId::from("r1");
        let (ann, bob, cy) = (FanId::from("ann"), FanId::from("bob"), FanId::from("cy"));
        let now = Instant::now();
        let _ann_on_a = a.join(&room, &ann);
        let bob_on_b = b.join(&room, &bob);
        let _cy_on_b = b.join(&room, &cy);
        exchange(&a, "a", &b, "b", now);
        exchange(&b, "b", &a, "a", now);
        assert_eq!(a.counts(&room), counts(3, 3, 3));
        assert_eq!(b.counts(&room), counts(3, 3, 3));
        // Its own reports are ignored by a node.
        let echo = a.take_reports("a", now + REPEAT_PLUS);
        for report in echo {
            a.merge("a", report, now);
        }
        assert_eq!(a.counts(&room), counts(3, 3, 3));

        // Bob leaves B and watches through A: still three unique, two then three watching.
        drop(bob_on_b);
        exchange(&b, "b", &a, "a", now);
        assert_eq!(a.counts(&room), counts(2, 3, 3));
        let _bob_on_a = a.join(&room, &bob);
        exchange(&a, "a", &b, "b", now);
        assert_eq!(b.counts(&room), counts(3, 3, 3));
    }

    const REPEAT_PLUS: Duration = Duration::from_secs(6);

    #[test]
    fn a_silent_node_stops_counting_and_reports_repeat_while_watched() {
        let (a, b) = (
            Arc::new(RoomViewers::default()),
            Arc::new(RoomViewers::default()),
        );
        let room = RoomId::from("r1");
        let start = Instant::now();
        let _ann = a.join(&room, &FanId::from("ann"));
        let _bob = b.join(&room, &FanId::from("bob"));
        exchange(&b, "b", &a, "a", start);
        assert_eq!(a.take_reports("a", start).len(), 1, "the first report");
        assert!(a.take_reports("a", start).is_empty(), "nothing new to say");
        let later = start + REPEAT_PLUS;
        assert_eq!(
            a.take_reports("a", later).len(),
            1,
            "repeated while watched"
        );
        assert_eq!(a.counts(&room).current, 2);
        // B says nothing more (it died): after the TTL A counts only its own.
        a.take_reports("a", start + REMOTE_TTL + REPEAT_PLUS);
        assert_eq!(a.counts(&room), counts(1, 2, 2));
    }

    #[test]
    fn fans_are_named_in_bounded_batches() {
        let viewers = Arc::new(RoomViewers::default());
        let room = RoomId::from("r1");
        let now = Instant::now();
        let guards: Vec<ViewerGuard> = (0..viewer_reports::MAX_JOINED + 10)
            .map(|n| viewers.join(&room, &FanId::from(format!("f{n}").as_str())))
            .collect();
        let first = viewers.take_reports("a", now);
        assert_eq!(first[0].joined.len(), viewer_reports::MAX_JOINED);
        let second = viewers.take_reports("a", now);
        assert_eq!(second[0].joined.len(), 10, "the rest in the next tick");
        drop(guards);
    }
}
