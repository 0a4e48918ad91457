//! In-process bus: one `tokio::sync::broadcast` channel per topic with live subscribers.

use crate::{Bus, Event, Receiver};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Per-topic buffer. A subscriber more than this many events behind is lagged and resumes
/// from the store (docs/api.md › WebSocket: close code 4008).
const TOPIC_CAPACITY: usize = 1024;

#[derive(Default)]
pub struct LocalBus {
    topics: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of topics with a channel (for tests and gauges).
    pub fn topic_count(&self) -> usize {
        self.lock().len()
    }

    /// Whether `topic` has a live subscriber on this node.
    pub fn has_subscribers(&self, topic: &str) -> bool {
        self.lock()
            .get(topic)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Arc<Event>>>> {
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
        if let Some(sender) = topics.get(&event.topic) {
            if sender.receiver_count() == 0 {
                // Last subscriber left: drop the channel so idle topics hold no memory.
                topics.remove(&event.topic);
            } else {
                let _ = sender.send(event);
            }
        }
    }

    fn subscribe(&self, topic: &str) -> Receiver {
        let mut topics = self.lock();
        if let Some(sender) = topics.get(topic) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(TOPIC_CAPACITY);
        topics.insert(topic.to_owned(), sender);
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

    #[tokio::test]
    async fn idle_topics_are_dropped() {
        let bus = LocalBus::new();
        drop(bus.subscribe("t1"));
        assert_eq!(bus.topic_count(), 1);
        bus.publish(event("t1", 1));
        assert_eq!(bus.topic_count(), 0);
    }
}
