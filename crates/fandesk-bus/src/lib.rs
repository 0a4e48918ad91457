//! Fan-out of committed events to subscribers. The in-process [`LocalBus`] serves a single
//! node; [`NatsBus`] carries the same events between nodes over NATS, behind the same
//! [`Bus`] trait. The bus is for delivery only, never durability: everything it carries is
//! already committed, and a node that misses an event fills the gap from the database
//! ([`GapFill`]) before delivering what follows it.

mod event;
mod local;
mod nats;
mod sequencer;
mod wire;

pub use event::Event;
pub use local::LocalBus;
pub use nats::{NatsBus, NatsError};

use std::future::Future;
use std::pin::Pin;
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

    /// Delivers `event` to this node's subscribers only, never to other nodes: for
    /// ephemeral events each node derives for itself. The same as `publish` on a bus
    /// without other nodes.
    fn publish_local(&self, event: Arc<Event>) {
        self.publish(event);
    }

    /// Which bus this is, as `/healthz` reports it: `local` or `nats`.
    fn kind(&self) -> &'static str {
        "local"
    }
}

/// What a gap fill returns: the topic's committed timeline events, framed exactly as the
/// node that committed them published them, in `seq` order.
pub type FillResult = Result<Vec<Arc<Event>>, String>;

/// Reads committed timeline events back from the database, so a node that missed some
/// (a NATS message lost, or events from two nodes arriving out of order) delivers every
/// event of a topic in `seq` order with no gap.
pub trait GapFill: Send + Sync + 'static {
    /// The timeline events of `topic` with `after < seq < before`, in `seq` order (at most
    /// a few thousand; `before = u64::MAX` asks for everything committed after `after`).
    /// Topics without a stored timeline answer with nothing.
    fn fill<'a>(
        &'a self,
        topic: &'a str,
        after: u64,
        before: u64,
    ) -> Pin<Box<dyn Future<Output = FillResult> + Send + 'a>>;
}
