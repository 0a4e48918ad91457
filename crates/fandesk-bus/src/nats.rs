//! [`NatsBus`]: events between nodes over NATS, never for durability. The node that
//! commits an event delivers it to its own subscribers and publishes it on the topic's
//! subject; every other node receives it and delivers it in `seq` order: an event that
//! arrives ahead of one it follows (two nodes writing one conversation) or after a lost
//! message makes the node read the missing events from the database first ([`GapFill`]),
//! and after a reconnect to NATS every topic followed on this node is read forward from the
//! database. A lost *last* event of a topic has no later one to reveal it, so a topic that
//! received events from other nodes is read forward once more when it has been quiet for
//! [`SETTLE`]. A client therefore sees no gap, duplicate or reorder, whichever node it is
//! on.

use crate::sequencer::{Sequencer, Step};
use crate::{Bus, Event, GapFill, LocalBus, Receiver, wire};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Events waiting to be published to NATS. A full queue drops the newest (other nodes fill
/// the gap from the database when the next event of the topic reaches them).
const OUTBOX: usize = 65_536;

/// How long a topic stays quiet after an event from another node before this node reads
/// it forward from the database once (an event lost on the way — a full outbox, a slow
/// consumer, a publish cut by a disconnect — that was the topic's last).
const SETTLE: Duration = Duration::from_secs(1);

/// An event for this node's delivery task, and whether it came from another node.
struct Inbound {
    event: Arc<Event>,
    remote: bool,
}

/// Why the bus could not start.
#[derive(Debug)]
pub struct NatsError(String);

impl std::fmt::Display for NatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NatsError {}

pub struct NatsBus {
    local: Arc<LocalBus>,
    /// Every event for this node's subscribers (its own and other nodes'), in arrival
    /// order, to the task that delivers them in `seq` order.
    inbound: mpsc::UnboundedSender<Inbound>,
    outbound: mpsc::Sender<Arc<Event>>,
    fill: Arc<OnceLock<Arc<dyn GapFill>>>,
    unpublished: Arc<AtomicU64>,
}

impl NatsBus {
    /// Connects to the NATS server at `url` as `node` (a name unique in the cluster) and
    /// starts following every other node's events. The client reconnects by itself with
    /// backoff; a first connection that fails is an error.
    pub async fn connect(url: &str, node: &str) -> Result<NatsBus, NatsError> {
        let (reconnects, reconnected) = watch::channel(0u64);
        let client = async_nats::ConnectOptions::new()
            .name(format!("fandesk {node}"))
            .event_callback(move |event| {
                let reconnects = reconnects.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("connected to NATS");
                            reconnects.send_modify(|count| *count += 1);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("disconnected from NATS; reconnecting");
                        }
                        // Messages were dropped on the way to this node: what they
                        // carried is read back from the database like after a reconnect
                        // (a lost last event of a topic has no later one to reveal it).
                        async_nats::Event::SlowConsumer(_) => {
                            tracing::warn!("NATS dropped messages for this node; resynchronising");
                            reconnects.send_modify(|count| *count += 1);
                        }
                        other => tracing::debug!(event = %other, "NATS"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|error| NatsError(format!("connecting to NATS at {url}: {error}")))?;
        let mut subscriber = client
            .subscribe(format!("{}.>", wire::PREFIX))
            .await
            .map_err(|error| NatsError(format!("subscribing on NATS: {error}")))?;

        let local = Arc::new(LocalBus::new());
        let fill: Arc<OnceLock<Arc<dyn GapFill>>> = Arc::new(OnceLock::new());
        let (inbound, inbound_rx) = mpsc::unbounded_channel();
        let (outbound, mut outbound_rx) = mpsc::channel::<Arc<Event>>(OUTBOX);

        let me = node.to_owned();
        let received = inbound.clone();
        tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                match wire::decode(message.headers.as_ref(), message.payload) {
                    Ok((from, _)) if from == me => {}
                    Ok((_, event)) => {
                        let event = Arc::new(event);
                        if received
                            .send(Inbound {
                                event,
                                remote: true,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                    Err(why) => {
                        tracing::warn!(subject = %message.subject, why, "malformed bus message")
                    }
                }
            }
        });

        let me = node.to_owned();
        tokio::spawn(async move {
            while let Some(event) = outbound_rx.recv().await {
                let (headers, payload) = wire::encode(&me, &event);
                let subject = wire::subject(&event.topic);
                if let Err(error) = client.publish_with_headers(subject, headers, payload).await {
                    tracing::warn!(topic = %event.topic, %error, "publishing to NATS failed");
                }
            }
        });

        tokio::spawn(deliver_in_order(
            local.clone(),
            fill.clone(),
            inbound_rx,
            reconnected,
        ));

        Ok(NatsBus {
            local,
            inbound,
            outbound,
            fill,
            unpublished: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Where gaps are read from. Set once, when the service that owns the database starts;
    /// until then a gap is delivered as it is (and logged).
    pub fn set_gap_fill(&self, fill: Arc<dyn GapFill>) {
        let _ = self.fill.set(fill);
    }

    /// Events this node could not hand to NATS because the outbox was full.
    pub fn unpublished(&self) -> u64 {
        self.unpublished.load(Ordering::Relaxed)
    }
}

impl Bus for NatsBus {
    fn publish(&self, event: Arc<Event>) {
        let own = Inbound {
            event: event.clone(),
            remote: false,
        };
        let _ = self.inbound.send(own);
        if self.outbound.try_send(event).is_err() {
            self.unpublished.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn subscribe(&self, topic: &str) -> Receiver {
        self.local.subscribe(topic)
    }

    fn publish_local(&self, event: Arc<Event>) {
        let _ = self.inbound.send(Inbound {
            event,
            remote: false,
        });
    }

    fn kind(&self) -> &'static str {
        "nats"
    }
}

/// Delivers every event to this node's subscribers in `seq` order per topic, reading
/// what is missing from the database; after each reconnect to NATS, reads every followed
/// topic forward from its last delivered event.
async fn deliver_in_order(
    local: Arc<LocalBus>,
    fill: Arc<OnceLock<Arc<dyn GapFill>>>,
    mut inbound: mpsc::UnboundedReceiver<Inbound>,
    mut reconnected: watch::Receiver<u64>,
) {
    let mut delivery = Delivery {
        local,
        fill,
        sequencer: Sequencer::default(),
        unsettled: HashMap::new(),
    };
    let mut connection_open = true;
    let mut settle = tokio::time::interval(SETTLE / 4);
    settle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            inbound = inbound.recv() => match inbound {
                Some(Inbound { event, remote }) => delivery.offer(event, remote).await,
                None => break,
            },
            _ = settle.tick() => delivery.settle().await,
            changed = reconnected.changed(), if connection_open => match changed {
                Ok(()) => delivery.resync().await,
                Err(_) => connection_open = false,
            },
        }
    }
}

struct Delivery {
    local: Arc<LocalBus>,
    fill: Arc<OnceLock<Arc<dyn GapFill>>>,
    sequencer: Sequencer,
    /// Topics that delivered an event from another node, with when the last one came.
    unsettled: HashMap<String, Instant>,
}

impl Delivery {
    async fn offer(&mut self, event: Arc<Event>, remote: bool) {
        if !self.local.has_subscribers(&event.topic) {
            self.sequencer.forget(&event.topic);
            self.unsettled.remove(&event.topic);
            return;
        }
        let step = self.sequencer.offer(&event.topic, event.seq);
        if remote && step != Step::Drop && event.seq.is_some() {
            self.unsettled.insert(event.topic.clone(), Instant::now());
        }
        match step {
            Step::Drop => {}
            Step::Deliver => self.deliver(event),
            Step::Fill { after, before } => {
                self.fill(&event.topic, after, before).await;
                self.deliver(event);
            }
        }
    }

    /// Reads forward once every topic quiet for [`SETTLE`] since its last event from
    /// another node (nothing newer in the database: nothing delivered).
    async fn settle(&mut self) {
        let now = Instant::now();
        let quiet: Vec<String> = self
            .unsettled
            .iter()
            .filter(|(_, at)| now.duration_since(**at) >= SETTLE)
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in quiet {
            self.unsettled.remove(&topic);
            if !self.local.has_subscribers(&topic) {
                self.sequencer.forget(&topic);
            } else if let Some(last) = self.sequencer.last(&topic) {
                self.fill(&topic, last, u64::MAX).await;
            }
        }
    }

    /// Reads every followed topic forward from the database (after a reconnect, events
    /// published while this node was away are not coming).
    async fn resync(&mut self) {
        for (topic, last) in self.sequencer.tracked() {
            if self.local.has_subscribers(&topic) {
                self.fill(&topic, last, u64::MAX).await;
            } else {
                self.sequencer.forget(&topic);
            }
        }
    }

    async fn fill(&mut self, topic: &str, after: u64, before: u64) {
        let Some(fill) = self.fill.get().cloned() else {
            tracing::warn!(
                topic,
                after,
                before,
                "a gap with no database to fill it from"
            );
            return;
        };
        match fill.fill(topic, after, before).await {
            Ok(events) => {
                for event in events {
                    // Anything newer than what was delivered, in order (a hole the database
                    // does not fill either is not waited for).
                    if self.sequencer.offer(topic, event.seq) != Step::Drop
                        && event.seq.is_some_and(|seq| seq < before)
                    {
                        self.deliver(event);
                    }
                }
            }
            Err(error) => tracing::warn!(topic, after, before, error, "filling a gap failed"),
        }
    }

    fn deliver(&mut self, event: Arc<Event>) {
        self.sequencer.delivered(&event.topic, event.seq);
        self.local.publish(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FillResult;
    use bytes::Bytes;
    use std::future::Future;
    use std::pin::Pin;

    fn event(topic: &str, seq: u64) -> Arc<Event> {
        Arc::new(Event {
            topic: topic.to_owned(),
            seq: Some(seq),
            public_seq: Some(seq),
            team: Bytes::from(seq.to_string()),
            fan: None,
        })
    }

    /// A database holding events 1..=`last` of every topic.
    struct Stored {
        last: u64,
    }

    impl GapFill for Stored {
        fn fill<'a>(
            &'a self,
            topic: &'a str,
            after: u64,
            before: u64,
        ) -> Pin<Box<dyn Future<Output = FillResult> + Send + 'a>> {
            let events = (after + 1..=self.last.min(before.saturating_sub(1)))
                .map(|seq| event(topic, seq))
                .collect();
            Box::pin(async move { Ok(events) })
        }
    }

    fn delivery(stored: u64) -> Delivery {
        let fill: Arc<OnceLock<Arc<dyn GapFill>>> = Arc::new(OnceLock::new());
        let _ = fill.set(Arc::new(Stored { last: stored }));
        Delivery {
            local: Arc::new(LocalBus::new()),
            fill,
            sequencer: Sequencer::default(),
            unsettled: HashMap::new(),
        }
    }

    fn received(receiver: &mut Receiver) -> Vec<u64> {
        std::iter::from_fn(|| receiver.try_recv().ok())
            .filter_map(|event| event.seq)
            .collect()
    }

    #[tokio::test]
    async fn gaps_and_overtaken_events_are_delivered_in_order_once() {
        let mut delivery = delivery(10);
        let mut receiver = delivery.local.subscribe("t");
        for seq in [1, 2, 5, 3, 4, 6, 6, 9] {
            delivery.offer(event("t", seq), true).await;
        }
        assert_eq!(received(&mut receiver), vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[tokio::test]
    async fn a_reconnect_reads_every_followed_topic_forward() {
        let mut delivery = delivery(7);
        let mut followed = delivery.local.subscribe("t");
        let abandoned = delivery.local.subscribe("u");
        delivery.offer(event("t", 1), true).await;
        delivery.offer(event("u", 1), true).await;
        drop(abandoned);
        // Events 2..=7 were published while this node was away from NATS.
        delivery.resync().await;
        assert_eq!(received(&mut followed), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(delivery.sequencer.tracked(), vec![("t".to_owned(), 7)]);
    }

    #[tokio::test]
    async fn topics_nobody_follows_here_are_not_tracked() {
        let mut delivery = delivery(3);
        delivery.offer(event("t", 1), true).await;
        assert!(delivery.sequencer.tracked().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_last_event_is_read_once_the_topic_is_quiet() {
        // The database holds 1..=5; events 4 and 5 never arrived over NATS.
        let mut delivery = delivery(5);
        let mut receiver = delivery.local.subscribe("t");
        for seq in 1..=3 {
            delivery.offer(event("t", seq), true).await;
        }
        tokio::time::advance(SETTLE / 2).await;
        delivery.settle().await;
        assert_eq!(
            received(&mut receiver),
            vec![1, 2, 3],
            "not quiet long enough yet"
        );
        tokio::time::advance(SETTLE / 2).await;
        delivery.settle().await;
        assert_eq!(received(&mut receiver), vec![4, 5]);
        // Read once: nothing is left to settle.
        assert!(delivery.unsettled.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn this_nodes_own_events_need_no_settling() {
        let mut delivery = delivery(5);
        let mut receiver = delivery.local.subscribe("t");
        delivery.offer(event("t", 1), false).await;
        tokio::time::advance(SETTLE * 2).await;
        delivery.settle().await;
        assert_eq!(received(&mut receiver), vec![1]);
    }
}
