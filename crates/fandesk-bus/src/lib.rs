//! Fan-out of committed events to subscribers. The in-process [`LocalBus`] serves a single
//! node; a NATS implementation (multi-node) plugs in behind the same [`Bus`] trait. The bus
//! is for delivery only, never durability: everything it carries is already committed.

mod event;
mod local;

pub use event::Event;
pub use local::LocalBus;

use std::sync::Arc;
use tokio::sync::broadcast;

/// A receiver of one topic's events, in publish order.
pub type Receiver = broadcast::Receiver<Arc<Event>>;

/// Publish/subscribe by topic name (`conversation:{id}`, `inbox`, …).
pub trait Bus: Send + Sync + 'static {
    /// Delivers `event` to every current subscriber of `event.topic`. Never blocks; a
    /// subscriber that falls behind observes `RecvError::Lagged` and must resume from the
    /// store.
    fn publish(&self, event: Arc<Event>);

    /// Subscribes to `topic`. Events published after this call returns are delivered, so a
    /// caller subscribes *before* reading history from the store (ARCHITECTURE.md ›
    /// Invariants: subscribe before you replay) and de-duplicates by sequence.
    fn subscribe(&self, topic: &str) -> Receiver;
}
