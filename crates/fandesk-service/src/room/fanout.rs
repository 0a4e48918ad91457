//! The room fan-out hub: thousands of viewers per room on
//! a few cores.
//!
//! - A room's viewers are sharded over [`RoomFanoutConfig::workers`] worker tasks (about
//!   one per core). Each worker holds one bus receiver for the room's topic, so the bus
//!   stays the one place events are published; a viewer holds no receiver and no task.
//! - Every event was encoded once per audience at commit time; a worker packs the frames
//!   it delivers in one go into one shared `Arc<[Bytes]>` per audience and pushes that to
//!   each viewer's [`FrameQueue`]: one push per viewer, one wake-up and one flush of its
//!   connection. Fans get only the fan frames (`Event::fan`, built by the fan-safe
//!   serializer, `None` when fans must not see the event).
//! - Coalescing: an event that arrives after the worker's pause since its last delivery
//!   goes out at once (a quiet room waits for nothing); when a room is busy, everything
//!   that comes during the pause goes out together at its end, in order. The pause is
//!   `busy_factor` × the last delivery round's duration, at most one tick: a room whose
//!   deliveries are cheap (few viewers) waits little, a big room waits the full tick.
//! - A viewer whose queue would overflow is closed with 4008 by the queue and resumes
//!   from its last `seq`. A worker that lags on the bus closes all its viewers the same way.
//! - Resume: a viewer that joins with `after_seq` is joined *before* its replay reads the
//!   store; its live frames are held until the replay is done ([`RoomMembership::resume`]),
//!   then released without the seqs the replay already delivered. After receiving bus
//!   events a worker applies every waiting command before delivering them, so a viewer
//!   that joined before an event was published always gets it.

use crate::live::frame_queue::{CLOSE_SLOW_CONSUMER, FrameQueue};
use bytes::Bytes;
use fandesk_bus::{Bus, Event};
use fandesk_domain::Audience;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Settings of the room fan-out.
#[derive(Clone, Debug)]
pub struct RoomFanoutConfig {
    /// Worker tasks one room's viewers are sharded over (about the number of cores).
    pub workers: usize,
    /// The longest a busy room's events wait to go out together (the coalescing tick).
    pub tick: Duration,
    /// How much longer than its last delivery round a worker waits before the next one
    /// when events keep coming: a busy worker spends at most about 1/`busy_factor` of its
    /// time delivering, and a room with few viewers waits less than the full tick.
    pub busy_factor: u32,
    /// Live frames held for a viewer while its replay runs, before it counts as slow.
    pub held_max: usize,
}

impl Default for RoomFanoutConfig {
    fn default() -> Self {
        RoomFanoutConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 16)),
            tick: Duration::from_millis(50),
            busy_factor: 10,
            held_max: 1024,
        }
    }
}

enum Command {
    Join { id: u64, viewer: Viewer },
    Resume { id: u64, last_seq: u64 },
    Leave { id: u64 },
}

struct Viewer {
    queue: FrameQueue,
    audience: Audience,
    /// Last timeline position delivered to this viewer (its audience's numbering).
    last_seq: u64,
    /// While its replay runs: live frames waiting, with their seqs.
    held: Option<Vec<(Option<u64>, Bytes)>>,
}

type Shards = Vec<Option<mpsc::UnboundedSender<Command>>>;

pub(crate) struct RoomFanout {
    inner: Arc<Inner>,
}

struct Inner {
    bus: Arc<dyn Bus>,
    config: RoomFanoutConfig,
    /// Room topic → its workers (a slot is `None` until a viewer lands there).
    rooms: Mutex<HashMap<String, Shards>>,
    next_viewer: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Shards>> {
        // A map of channel handles: a panic elsewhere cannot leave it half-updated.
        self.rooms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A viewer's place in a room's fan-out; dropping it leaves the room.
pub struct RoomMembership {
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
}

impl RoomMembership {
    /// Ends the viewer's replay: live frames held since it joined follow, without those at
    /// or below `last_seq` (the replay sent them).
    pub(crate) fn resume(&self, last_seq: u64) {
        let _ = self.commands.send(Command::Resume {
            id: self.id,
            last_seq,
        });
    }
}

impl Drop for RoomMembership {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Leave { id: self.id });
    }
}

impl RoomFanout {
    pub(crate) fn new(bus: Arc<dyn Bus>, config: RoomFanoutConfig) -> RoomFanout {
        RoomFanout {
            inner: Arc::new(Inner {
                bus,
                config,
                rooms: Mutex::new(HashMap::new()),
                next_viewer: AtomicU64::new(0),
            }),
        }
    }

    /// Joins `queue` to the fan-out of `topic`: every event published after this returns
    /// reaches it, in order. With `after_seq` the viewer's live frames are held until
    /// [`RoomMembership::resume`].
    pub(crate) fn join(
        &self,
        topic: &str,
        queue: FrameQueue,
        audience: Audience,
        after_seq: Option<u64>,
    ) -> RoomMembership {
        let inner = &self.inner;
        let id = inner.next_viewer.fetch_add(1, Ordering::Relaxed);
        let workers = inner.config.workers.max(1);
        let shard = (id % workers as u64) as usize;
        let mut rooms = inner.lock();
        let shards = rooms
            .entry(topic.to_owned())
            .or_insert_with(|| vec![None; workers]);
        let commands = match &shards[shard] {
            Some(commands) if !commands.is_closed() => commands.clone(),
            _ => {
                // Subscribed here, under the lock, before the join is queued: the worker
                // sees every event published from now on.
                let live = inner.bus.subscribe(topic);
                let (commands, receiver) = mpsc::unbounded_channel();
                let worker = Worker {
                    fanout: Arc::downgrade(inner),
                    topic: topic.to_owned(),
                    shard,
                    config: inner.config.clone(),
                    viewers: HashMap::new(),
                };
                tokio::spawn(worker.run(live, receiver));
                shards[shard] = Some(commands.clone());
                commands
            }
        };
        let viewer = Viewer {
            queue,
            audience,
            last_seq: after_seq.unwrap_or(0),
            held: after_seq.map(|_| Vec::new()),
        };
        let _ = commands.send(Command::Join { id, viewer });
        drop(rooms);
        RoomMembership { id, commands }
    }

    /// Rooms with at least one worker (for tests and gauges).
    #[cfg(test)]
    fn room_count(&self) -> usize {
        self.inner.lock().len()
    }
}

/// The frames of one delivery for one audience, shared by all its viewers.
struct Batch {
    frames: Arc<[Bytes]>,
    seqs: Vec<Option<u64>>,
    /// The first and last timeline positions in the batch (ephemeral events have none).
    first_seq: Option<u64>,
    last_seq: Option<u64>,
}

impl Batch {
    fn new(events: &[Arc<Event>], audience: Audience) -> Batch {
        let mut frames = Vec::with_capacity(events.len());
        let mut seqs = Vec::with_capacity(events.len());
        for event in events {
            let (frame, seq) = match audience {
                Audience::Team => (Some(event.team.clone()), event.seq),
                // A timeline event without a public position is not the fan's (its fan
                // frame is None anyway); 0 marks it, as in `Subscription::next`.
                Audience::Fan => (event.fan.clone(), event.public_seq.or(event.seq.map(|_| 0))),
            };
            match (frame, seq) {
                (None, _) | (_, Some(0)) => {}
                (Some(frame), seq) => {
                    frames.push(frame);
                    seqs.push(seq);
                }
            }
        }
        Batch {
            first_seq: seqs.iter().flatten().copied().next(),
            last_seq: seqs.iter().flatten().copied().next_back(),
            frames: frames.into(),
            seqs,
        }
    }
}

impl Viewer {
    /// Hands the viewer a delivery; false when it is gone (closed, or too far behind).
    fn offer(&mut self, batch: &Batch, held_max: usize) -> bool {
        if batch.frames.is_empty() {
            return !self.queue.is_closed();
        }
        if let Some(held) = &mut self.held {
            if held.len() + batch.frames.len() > held_max {
                self.queue
                    .close(CLOSE_SLOW_CONSUMER, "slow consumer: resume with after_seq");
                return false;
            }
            held.extend(batch.seqs.iter().copied().zip(batch.frames.iter().cloned()));
            return true;
        }
        let delivered = if batch.first_seq.is_none_or(|first| first > self.last_seq) {
            self.queue.push_batch(batch.frames.clone())
        } else {
            // Only right after a resume: drop what the replay already sent.
            let last = self.last_seq;
            let fresh: Vec<Bytes> = batch
                .seqs
                .iter()
                .zip(batch.frames.iter())
                .filter(|(seq, _)| seq.is_none_or(|seq| seq > last))
                .map(|(_, frame)| frame.clone())
                .collect();
            self.queue.push_batch(fresh.into())
        };
        if let Some(seq) = batch.last_seq {
            self.last_seq = self.last_seq.max(seq);
        }
        delivered
    }

    /// Ends the replay: the held frames after `last_seq` follow.
    fn resume(&mut self, last_seq: u64) -> bool {
        let held = self.held.take().unwrap_or_default();
        self.last_seq = self.last_seq.max(last_seq);
        let last = self.last_seq;
        let mut fresh = Vec::with_capacity(held.len());
        for (seq, frame) in held {
            match seq {
                Some(seq) if seq <= last => {}
                Some(seq) => {
                    self.last_seq = self.last_seq.max(seq);
                    fresh.push(frame);
                }
                None => fresh.push(frame),
            }
        }
        self.queue.push_batch(fresh.into())
    }
}

struct Worker {
    fanout: Weak<Inner>,
    topic: String,
    shard: usize,
    config: RoomFanoutConfig,
    viewers: HashMap<u64, Viewer>,
}

impl Worker {
    async fn run(
        mut self,
        mut live: fandesk_bus::Receiver,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        // When the next delivery may start (busy: events arriving before wait for it).
        let mut next_delivery: Option<Instant> = None;
        let mut events: Vec<Arc<Event>> = Vec::new();
        loop {
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(command) => self.apply(command),
                    None => return,
                },
                received = live.recv() => {
                    match received {
                        Ok(event) => events.push(event),
                        Err(RecvError::Lagged(_)) => self.lagged(),
                        Err(RecvError::Closed) => return self.close_all(),
                    }
                    // Busy: the previous delivery was too recent, so this one waits for
                    // the pause's end and takes everything that came meanwhile.
                    if let Some(due) = next_delivery
                        && Instant::now() < due
                    {
                        tokio::time::sleep_until(due).await;
                    }
                    loop {
                        match live.try_recv() {
                            Ok(event) => events.push(event),
                            Err(TryRecvError::Lagged(_)) => self.lagged(),
                            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                        }
                    }
                    // Viewers that joined before these events were published get them.
                    while let Ok(command) = commands.try_recv() {
                        self.apply(command);
                    }
                    if !events.is_empty() {
                        let started = Instant::now();
                        self.deliver(&events);
                        events.clear();
                        let now = Instant::now();
                        let pause = (now - started)
                            .saturating_mul(self.config.busy_factor)
                            .min(self.config.tick);
                        next_delivery = Some(now + pause);
                    }
                }
            }
            if self.viewers.is_empty() && self.try_exit(&mut commands) {
                return;
            }
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Join { id, viewer } => {
                self.viewers.insert(id, viewer);
            }
            Command::Resume { id, last_seq } => {
                if let Some(viewer) = self.viewers.get_mut(&id)
                    && !viewer.resume(last_seq)
                {
                    self.viewers.remove(&id);
                }
            }
            Command::Leave { id } => {
                self.viewers.remove(&id);
            }
        }
    }

    fn deliver(&mut self, events: &[Arc<Event>]) {
        let team = Batch::new(events, Audience::Team);
        let fan = Batch::new(events, Audience::Fan);
        let held_max = self.config.held_max;
        self.viewers.retain(|_, viewer| {
            let batch = match viewer.audience {
                Audience::Team => &team,
                Audience::Fan => &fan,
            };
            viewer.offer(batch, held_max)
        });
    }

    /// Events were lost on the bus: every viewer of this worker must resume.
    fn lagged(&mut self) {
        self.close_all();
    }

    fn close_all(&mut self) {
        for (_, viewer) in self.viewers.drain() {
            viewer
                .queue
                .close(CLOSE_SLOW_CONSUMER, "slow consumer: resume with after_seq");
        }
    }

    /// Leaves the room's map when nobody is left. Under the map's lock no viewer can
    /// join this worker, so a join queued before is seen here and keeps it running.
    fn try_exit(&mut self, commands: &mut mpsc::UnboundedReceiver<Command>) -> bool {
        let Some(fanout) = self.fanout.upgrade() else {
            return true;
        };
        let mut rooms = fanout.lock();
        while let Ok(command) = commands.try_recv() {
            self.apply(command);
        }
        if !self.viewers.is_empty() {
            return false;
        }
        if let Some(shards) = rooms.get_mut(&self.topic) {
            shards[self.shard] = None;
            if shards.iter().all(Option::is_none) {
                rooms.remove(&self.topic);
            }
        }
        true
    }
}

#[cfg(test)]
#[path = "fanout_tests.rs"]
mod tests;
