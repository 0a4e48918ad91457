//! The desk worker's inbox: events handed over after commits, in order, with a fan
//! message merged into the one already waiting for the same conversation.
//!
//! Why merge here: the worker treats a conversation's fan messages alike (it re-reads the
//! conversation and scores, times and routes it once for all of them), so a second
//! `FanMessage` for a conversation whose first one the worker has not taken yet adds
//! nothing but memory. Without the merge, a busy server whose desk fell behind kept one
//! event per fan message, ≈ 100 bytes each, for as long as it stayed behind
//! (BENCHMARKS.md › memory). With it the backlog is bounded by the conversations, not by
//! the messages.
//!
//! Order is kept: a fan message is merged only while nothing else for its conversation
//! (an opening, a hand-off, a re-score) was queued after the waiting one, so the worker
//! sees each conversation's events in the order they happened, merged as it would merge
//! them within one pass. The waiting event is taken after the merged message was
//! committed, so the worker's fresh read of the conversation includes it, and a
//! `Flush` queued later still waits for it.

use crate::desk::worker::DeskEvent;
use fandesk_domain::ConversationId;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;

pub(crate) struct DeskQueue {
    sender: mpsc::UnboundedSender<DeskEvent>,
    /// Conversations whose queued `FanMessage` (by ticket) the worker has not taken yet.
    fan_waiting: Mutex<FanWaiting>,
    /// Events queued and not yet taken (`fandesk_desk_events_waiting`).
    waiting: Gauge,
}

#[derive(Default)]
struct FanWaiting {
    tickets: HashMap<ConversationId, u64>,
    next: u64,
}

impl DeskQueue {
    pub(crate) fn new(waiting: Gauge) -> (DeskQueue, mpsc::UnboundedReceiver<DeskEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue = DeskQueue {
            sender,
            fan_waiting: Mutex::new(FanWaiting::default()),
            waiting,
        };
        (queue, receiver)
    }

    fn lock(&self) -> MutexGuard<'_, FanWaiting> {
        self.fan_waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a committed fan message of `conversation`, or merges it into the one
    /// already waiting.
    pub(crate) fn fan_message(&self, conversation: &ConversationId) {
        let mut waiting = self.lock();
        if waiting.tickets.contains_key(conversation) {
            return;
        }
        let ticket = waiting.next;
        waiting.next += 1;
        waiting.tickets.insert(conversation.clone(), ticket);
        // Sent under the lock: the map and the channel agree on the order.
        self.queue(DeskEvent::FanMessage {
            conversation: conversation.clone(),
            ticket,
        });
    }

    /// Queues any other event. One about a conversation ends the merging of its waiting
    /// fan message: a later fan message queues after this event.
    pub(crate) fn send(&self, event: DeskEvent) {
        let mut waiting = self.lock();
        if let Some(conversation) = event.conversation() {
            waiting.tickets.remove(conversation);
        }
        self.queue(event);
    }

    fn queue(&self, event: DeskEvent) {
        if self.sender.send(event).is_ok() {
            self.waiting.inc();
        }
    }

    /// The worker took `event` from the channel.
    pub(crate) fn taken(&self, event: &DeskEvent) {
        self.waiting.dec();
        if let DeskEvent::FanMessage {
            conversation,
            ticket,
        } = event
        {
            let mut waiting = self.lock();
            if waiting.tickets.get(conversation) == Some(ticket) {
                waiting.tickets.remove(conversation);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn id(text: &str) -> ConversationId {
        ConversationId(text.to_owned())
    }

    /// What the worker would receive: (kind, conversation).
    fn drain(
        queue: &DeskQueue,
        receiver: &mut mpsc::UnboundedReceiver<DeskEvent>,
    ) -> Vec<(&'static str, String)> {
        let mut seen = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            queue.taken(&event);
            let kind = match &event {
                DeskEvent::FanMessage { .. } => "fan",
                DeskEvent::Opened { .. } => "opened",
                DeskEvent::Rescore { .. } => "rescore",
                DeskEvent::Rebalance => "rebalance",
                _ => "other",
            };
            let conversation = event
                .conversation()
                .map(|c| c.0.clone())
                .unwrap_or_default();
            seen.push((kind, conversation));
        }
        seen
    }

    #[test]
    fn fan_messages_of_a_conversation_merge_until_the_worker_takes_them() {
        let gauge = Gauge::default();
        let (queue, mut receiver) = DeskQueue::new(gauge.clone());
        for _ in 0..1_000 {
            queue.fan_message(&id("a"));
            queue.fan_message(&id("b"));
        }
        assert_eq!(
            gauge.get(),
            2,
            "one waiting event per conversation, not per message"
        );
        assert_eq!(
            drain(&queue, &mut receiver),
            [("fan", "a".to_owned()), ("fan", "b".to_owned())]
        );
        assert_eq!(gauge.get(), 0);
        // Taken: the next fan message queues again.
        queue.fan_message(&id("a"));
        assert_eq!(drain(&queue, &mut receiver), [("fan", "a".to_owned())]);
    }

    #[test]
    fn another_event_of_the_conversation_keeps_the_order() {
        let (queue, mut receiver) = DeskQueue::new(Gauge::default());
        let at = Timestamp::UNIX_EPOCH;
        queue.fan_message(&id("a"));
        queue.send(DeskEvent::Rebalance);
        // Other conversations and events without one do not end the merge.
        queue.fan_message(&id("a"));
        queue.send(DeskEvent::Opened {
            conversation: id("a"),
            at,
        });
        queue.fan_message(&id("a"));
        queue.fan_message(&id("a"));
        queue.send(DeskEvent::Rescore {
            conversation: id("b"),
        });
        queue.fan_message(&id("a"));
        assert_eq!(
            drain(&queue, &mut receiver),
            [
                ("fan", "a".to_owned()),
                ("rebalance", String::new()),
                ("opened", "a".to_owned()),
                ("fan", "a".to_owned()),
                ("rescore", "b".to_owned()),
            ]
        );
    }

    #[test]
    fn a_fan_message_after_the_worker_took_the_waiting_one_is_queued() {
        let gauge = Gauge::default();
        let (queue, mut receiver) = DeskQueue::new(gauge.clone());
        queue.fan_message(&id("a"));
        let taken = receiver.try_recv().expect("queued");
        queue.taken(&taken);
        // Committed while the worker handles the first: it needs a pass of its own.
        queue.fan_message(&id("a"));
        assert_eq!(gauge.get(), 1);
        assert_eq!(drain(&queue, &mut receiver), [("fan", "a".to_owned())]);
    }
}
