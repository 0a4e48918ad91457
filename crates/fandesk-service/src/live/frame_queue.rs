//! A connection's bounded outbound queue of pre-encoded frames, and its close signal.
//! Producers never block on a slow client: a push that would exceed the capacity closes
//! the connection with 4008 and the client resumes from its last `seq` (docs/api.md ›
//! WebSocket). The room fan-out pushes a whole tick's frames as one shared batch, so a
//! viewer costs one push (and its connection one wake-up and one flush) per tick.
//!
//! Idle connections must stay small: nothing is allocated until the first push (the
//! `VecDeque` grows on demand), and the one consumer (the connection) waits on a `Notify`.

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Close code of a subscriber that fell too far behind (docs/api.md › WebSocket).
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;

/// What the connection writes: one frame, or several shared by many viewers.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Frame(Bytes),
    Batch(Arc<[Bytes]>),
}

impl Outgoing {
    fn frames(&self) -> usize {
        match self {
            Outgoing::Frame(_) => 1,
            Outgoing::Batch(frames) => frames.len(),
        }
    }
}

#[derive(Clone)]
pub struct FrameQueue {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// The consumer (the connection) waits here for frames or the close.
    ready: Notify,
    /// Producers waiting for room (replay) and watchers of the close wait here.
    changed: Notify,
}

struct State {
    items: VecDeque<Outgoing>,
    /// Frames queued (a batch counts each of its frames).
    frames: usize,
    closed: Option<(u16, &'static str)>,
}

impl FrameQueue {
    /// A queue holding at most `capacity` frames before the connection counts as slow.
    pub fn new(capacity: usize) -> FrameQueue {
        FrameQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    frames: 0,
                    closed: None,
                }),
                capacity: capacity.max(1),
                ready: Notify::new(),
                changed: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a queue and a flag: a panic elsewhere cannot leave it invalid.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a frame without waiting; a full queue closes the connection with 4008.
    /// Returns false if the frame was not queued.
    pub fn push(&self, frame: Bytes) -> bool {
        self.push_item(Outgoing::Frame(frame))
    }

    /// Queues several frames as one item (written with one flush); same rules as
    /// [`FrameQueue::push`].
    pub fn push_batch(&self, frames: Arc<[Bytes]>) -> bool {
        if frames.is_empty() {
            return !self.is_closed();
        }
        self.push_item(Outgoing::Batch(frames))
    }

    fn push_item(&self, item: Outgoing) -> bool {
        let mut state = self.lock();
        if state.closed.is_some() {
            return false;
        }
        if state.frames + item.frames() > self.shared.capacity {
            drop(state);
            self.close(CLOSE_SLOW_CONSUMER, "slow consumer: resume with after_seq");
            return false;
        }
        state.frames += item.frames();
        state.items.push_back(item);
        drop(state);
        self.shared.ready.notify_one();
        true
    }

    /// Queues a frame, waiting for room (replay, which the client paces).
    pub async fn push_waiting(&self, frame: Bytes) -> bool {
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed.is_some() {
                    return false;
                }
                if state.frames < self.shared.capacity {
                    state.frames += 1;
                    state.items.push_back(Outgoing::Frame(frame));
                    drop(state);
                    self.shared.ready.notify_one();
                    return true;
                }
            }
            changed.await;
        }
    }

    /// Moves everything queued into `out` (the consumer's side).
    pub fn take(&self, out: &mut Vec<Outgoing>) {
        let mut state = self.lock();
        if state.items.is_empty() {
            return;
        }
        out.extend(state.items.drain(..));
        state.frames = 0;
        // An emptied queue gives its memory back: a viewer of a room that went quiet
        // should not keep its busiest moment's buffer.
        if state.items.capacity() > 64 {
            state.items = VecDeque::new();
        }
        drop(state);
        self.shared.changed.notify_waiters();
    }

    /// Waits until something is queued or the queue is closed (the consumer's side; one
    /// consumer).
    pub async fn ready(&self) {
        {
            let state = self.lock();
            if !state.items.is_empty() || state.closed.is_some() {
                return;
            }
        }
        self.shared.ready.notified().await;
    }

    /// Closes the connection; the first reason wins and everything watching stops.
    pub fn close(&self, code: u16, reason: &'static str) {
        let mut state = self.lock();
        if state.closed.is_none() {
            state.closed = Some((code, reason));
        }
        drop(state);
        self.shared.ready.notify_one();
        self.shared.changed.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    pub fn reason(&self) -> Option<(u16, &'static str)> {
        self.lock().closed
    }

    /// Resolves once the queue is closed.
    pub async fn closed(&self) {
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_closed() {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn frames(out: &[Outgoing]) -> Vec<Bytes> {
        out.iter()
            .flat_map(|item| match item {
                Outgoing::Frame(frame) => vec![frame.clone()],
                Outgoing::Batch(frames) => frames.to_vec(),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_full_queue_closes_with_4008_and_keeps_the_order() {
        let queue = FrameQueue::new(3);
        assert!(queue.push(Bytes::from_static(b"1")));
        let batch: Arc<[Bytes]> = vec![Bytes::from_static(b"2"), Bytes::from_static(b"3")].into();
        assert!(queue.push_batch(batch.clone()));
        assert!(!queue.is_closed());
        assert!(!queue.push(Bytes::from_static(b"4")));
        assert_eq!(queue.reason().map(|r| r.0), Some(CLOSE_SLOW_CONSUMER));
        let mut out = Vec::new();
        queue.ready().await;
        queue.take(&mut out);
        assert_eq!(frames(&out), vec!["1", "2", "3"]);
        assert!(!queue.push_batch(batch), "closed queues take nothing");
    }

    #[tokio::test]
    async fn the_first_reason_wins_and_wakes_the_watchers() {
        let queue = FrameQueue::new(4);
        let watcher = tokio::spawn({
            let queue = queue.clone();
            async move { queue.closed().await }
        });
        queue.close(4001, "revoked");
        queue.close(1001, "shutdown");
        assert_eq!(queue.reason(), Some((4001, "revoked")));
        tokio::time::timeout(Duration::from_secs(5), watcher)
            .await
            .expect("the watcher saw the close")
            .expect("watcher");
        queue.ready().await;
    }

    #[tokio::test]
    async fn replay_waits_for_room_instead_of_closing() {
        let queue = FrameQueue::new(1);
        assert!(queue.push_waiting(Bytes::from_static(b"a")).await);
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.push_waiting(Bytes::from_static(b"b")).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "no room yet");
        let mut out = Vec::new();
        queue.take(&mut out);
        assert!(waiting.await.expect("push"));
        queue.take(&mut out);
        assert_eq!(frames(&out), vec!["a", "b"]);
        assert!(!queue.is_closed());
    }
}
