//! In-process bus: one `tokio::sync::broadcast` channel per topic with live subscribers.

use crate::{Bus, Event, Receiver};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Per-topic buffer. A subscriber more than this many events behind is lagged and resumes
/// from the store (docs/api.md › WebSocket: close code 4008).
const TOPIC_CAPACITY: usize = 1024;

/// Topics kept at least before a subscribe sweeps away the channels nobody follows. Small:
/// each unfollowed channel left in the map keeps its whole ring (≈ 32 KiB), and with 1,024
/// here a thousand finished conversations held 31 MiB in the heap profile of the memory
/// soak (BENCHMARKS.md › memory).
const MIN_SWEEP: usize = 64;

#[derive(Default)]
pub struct LocalBus {
    topics: Mutex<Topics>,
}

/// The channels, and the size at which the next new topic sweeps them first.
///
/// A channel holds its ring of [`TOPIC_CAPACITY`] slots (≈ 32 KiB) for as long as it is in
/// the map. `publish` drops a channel whose subscribers have all left, but a conversation
/// that is never written again (the usual end of one) gets no further publish: without
/// the sweep every conversation ever followed would keep its ring for the life of the
/// process. Sweeping when the map has doubled since the last sweep keeps it within twice
/// the followed topics (or [`MIN_SWEEP`]) at an amortized O(1) per subscribe.
#[derive(Default)]
struct Topics {
    map: HashMap<String, broadcast::Sender<Arc<Event>>>,
    sweep_at: usize,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of topics with a channel (for tests and gauges).
    pub fn topic_count(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether `topic` has a live subscriber on this node.
    pub fn has_subscribers(&self, topic: &str) -> bool {
        self.lock()
            .map
            .get(topic)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Topics> {
        // A poisoned map is still a valid map: the panic that poisoned it cannot have left a
        // half-inserted entry, so keep serving.
        self.topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: Arc<Event>) {
        let mut topics = self.lock();
        if let Some(sender) = topics.map.get(&event.topic) {
            if sender.receiver_count() == 0 {
                // Last subscriber left: drop the channel so idle topics hold no memory.
                topics.map.remove(&event.topic);
            } else {
                let _ = sender.send(event);
            }
        }
    }

    fn subscribe(&self, topic: &str) -> Receiver {
        let mut topics = self.lock();
        if let Some(sender) = topics.map.get(topic) {
            return sender.subscribe();
        }
        if topics.map.len() >= topics.sweep_at {
            topics.map.retain(|_, sender| sender.receiver_count() > 0);
            topics.sweep_at = (topics.map.len() * 2).max(MIN_SWEEP);
        }
        let (sender, receiver) = broadcast::channel(TOPIC_CAPACITY);
        topics.map.insert(topic.to_owned(), sender);
        receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn event(topic: &str, seq: u64) -> Arc<Event> {
        Arc::new(Event {
            topic: topic.to_owned(),
            seq: Some(seq),
            public_seq: None,
            team: Bytes::from(format!("{seq}")),
            fan: None,
        })
    }

    #[tokio::test]
    async fn delivers_in_order_to_subscribers_of_the_topic_only() {
        let bus = LocalBus::new();
        let mut a = bus.subscribe("t1");
        let mut b = bus.subscribe("t2");
        bus.publish(event("t1", 1));
        bus.publish(event("t2", 7));
        bus.publish(event("t1", 2));
        assert_eq!(a.recv().await.unwrap().seq, Some(1));
        assert_eq!(a.recv().await.unwrap().seq, Some(2));
        assert_eq!(b.recv().await.unwrap().seq, Some(7));
        assert!(a.try_recv().is_err());
    }

    #[test]
    fn topics_nobody_follows_are_swept_even_without_a_publish() {
        let bus = LocalBus::new();
        // Conversations followed once and never written again, while 10 stay followed.
        let kept: Vec<Receiver> = (0..10)
            .map(|i| bus.subscribe(&format!("kept{i}")))
            .collect();
        for i in 0..50_000 {
            drop(bus.subscribe(&format!("gone{i}")));
            assert!(
                bus.topic_count() <= 2 * MIN_SWEEP,
                "{} topics",
                bus.topic_count()
            );
        }
        // The followed topics survive every sweep.
        for i in 0..10 {
            assert!(bus.has_subscribers(&format!("kept{i}")));
        }
        assert_eq!(kept.len(), 10);
    }

    #[test]
    fn finished_conversations_leave_few_channels_behind() {
        // The memory soak: rounds of 100 conversations, each followed by its fan and its
        // agent while the round lasts and never written again after. The channels left
        // behind are bounded by the conversations followed at once, not by the rounds.
        let bus = LocalBus::new();
        for round in 0..10 {
            let followed: Vec<Receiver> = (0..100)
                .flat_map(|i| {
                    let topic = format!("conversation:{round}-{i}");
                    [bus.subscribe(&topic), bus.subscribe(&topic)]
                })
                .collect();
            drop(followed);
        }
        assert!(bus.topic_count() <= 300, "{} topics", bus.topic_count());
    }

    #[tokio::test]
    async fn idle_topics_are_dropped() {
        let bus = LocalBus::new();
        drop(bus.subscribe("t1"));
        assert_eq!(bus.topic_count(), 1);
        bus.publish(event("t1", 1));
        assert_eq!(bus.topic_count(), 0);
    }
}
