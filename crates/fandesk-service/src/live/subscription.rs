//! Topic subscriptions for the WebSocket (docs/api.md › WebSocket): authorize, subscribe
//! to the bus, replay stored history after `after_seq`, then follow live events with no
//! gap and no duplicate. The bus is subscribed *before* the store is read, so an event
//! committed in between is seen twice at most, and the second copy is dropped by `seq`.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::{MAX_PAGE, audience_of};
use crate::live::frame::message_frame;
use crate::room::Watching;
use bytes::Bytes;
use fandesk_domain::room::RoomId;
use fandesk_domain::{Audience, Capability, ConversationId, Principal, Topic};
use std::collections::VecDeque;
use tokio::sync::broadcast::error::RecvError;

/// Why a subscription stopped producing frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEnd {
    /// The subscriber fell too far behind the live stream; it must resume with
    /// `after_seq` (WebSocket close 4008).
    Lagged,
    /// The bus closed (server shutting down).
    Closed,
}

pub struct Subscription {
    topic: String,
    audience: Audience,
    live: fandesk_bus::Receiver,
    /// Replay state: the conversation being replayed and frames fetched but not yet
    /// returned. `None` once replay is complete.
    replay: Option<Replay>,
    /// Last sequence number delivered (in the audience's numbering).
    last_seq: u64,
    app: App,
    /// Held while a fan watches a room: dropping the subscription stops counting them.
    _viewer: Option<Watching>,
}

/// Where replayed history comes from.
enum ReplaySource {
    Conversation(ConversationId),
    Room(RoomId),
    /// An event's questions.
    Event(fandesk_domain::event::EventId),
    /// A team channel's messages.
    Channel(fandesk_domain::channel::ChannelId),
}

struct Replay {
    source: ReplaySource,
    buffered: VecDeque<(u64, Bytes)>,
    exhausted: bool,
}

impl Subscription {
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Whether stored history is still being replayed (the caller paces replay by the
    /// client's speed; live events must not wait).
    pub fn is_replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// The next frame to send: replayed history first, then live events.
    pub async fn next(&mut self) -> Result<Bytes, SubscriptionEnd> {
        loop {
            if let Some(replay) = &mut self.replay {
                if let Some((seq, frame)) = replay.buffered.pop_front() {
                    self.last_seq = seq;
                    return Ok(frame);
                }
                if replay.exhausted {
                    self.replay = None;
                    continue;
                }
                let conversation = match &replay.source {
                    ReplaySource::Conversation(conversation) => conversation,
                    ReplaySource::Event(event) => {
                        let page = self
                            .app
                            .event_replay_page(event, &self.topic, self.audience, self.last_seq)
                            .await;
                        let Ok((frames, exhausted)) = page else {
                            return Err(SubscriptionEnd::Lagged);
                        };
                        replay.exhausted = exhausted;
                        replay.buffered.extend(frames);
                        continue;
                    }
                    ReplaySource::Channel(channel) => {
                        let page = self
                            .app
                            .channel_replay_page(channel, &self.topic, self.last_seq)
                            .await;
                        let Ok((frames, exhausted)) = page else {
                            return Err(SubscriptionEnd::Lagged);
                        };
                        replay.exhausted = exhausted;
                        replay.buffered.extend(frames);
                        continue;
                    }
                    ReplaySource::Room(room) => {
                        let page = self
                            .app
                            .room_replay_page(room, &self.topic, self.audience, self.last_seq)
                            .await;
                        let Ok((frames, exhausted)) = page else {
                            return Err(SubscriptionEnd::Lagged);
                        };
                        replay.exhausted = exhausted;
                        replay.buffered.extend(frames);
                        continue;
                    }
                };
                let page = self
                    .app
                    .store()
                    .list_messages(conversation, self.audience, self.last_seq, MAX_PAGE)
                    .await;
                let Ok(page) = page else {
                    // A failed read cannot be skipped without a gap: make the client resume.
                    return Err(SubscriptionEnd::Lagged);
                };
                replay.exhausted = page.len() < MAX_PAGE as usize;
                for row in &page {
                    if let Some(frame) = message_frame(&self.topic, row, self.audience) {
                        let seq = match self.audience {
                            Audience::Team => row.seq,
                            Audience::Fan => row.public_seq.unwrap_or(0),
                        };
                        replay.buffered.push_back((seq, frame));
                    }
                }
                continue;
            }
            let event = match self.live.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => return Err(SubscriptionEnd::Lagged),
                Err(RecvError::Closed) => return Err(SubscriptionEnd::Closed),
            };
            let (frame, seq) = match self.audience {
                Audience::Team => (Some(event.team.clone()), event.seq),
                Audience::Fan => (event.fan.clone(), event.public_seq.or(event.seq.map(|_| 0))),
            };
            let Some(frame) = frame else { continue };
            match seq {
                // Ephemeral events carry no seq and are never replayed.
                None => return Ok(frame),
                // A timeline event the fan must not see has no public position at all
                // (its fan frame is None, handled above); 0 never occurs for fans.
                Some(0) => continue,
                Some(seq) if seq <= self.last_seq => continue,
                Some(seq) => {
                    self.last_seq = seq;
                    return Ok(frame);
                }
            }
        }
    }
}

impl App {
    /// Subscribes `actor` to `topic`. With `after_seq`, stored events after it are
    /// replayed first (conversation and room topics).
    pub async fn subscribe(
        &self,
        actor: &Principal,
        topic: &str,
        after_seq: Option<u64>,
    ) -> ServiceResult<Subscription> {
        let parsed = Topic::parse(topic)?;
        let audience = audience_of(actor);
        let mut viewer = None;
        let source = match &parsed {
            Topic::Conversation(id) => {
                let row = self.readable_conversation(actor, id.as_str()).await?;
                // A position past the end would silently skip the next events: the client
                // has state from another conversation or a corrupted cursor.
                let last = if audience.uses_public_seq() {
                    row.last_public_seq
                } else {
                    row.last_seq
                };
                if after_seq.is_some_and(|after| after > last) {
                    return Err(ServiceError::invalid(
                        "after_seq",
                        format!("is past the end of this timeline (last seq is {last})"),
                    ));
                }
                Some(ReplaySource::Conversation(row.id))
            }
            Topic::Inbox => {
                actor.require(Capability::WatchInbox)?;
                None
            }
            Topic::Alerts => {
                actor.require(Capability::WatchAlerts)?;
                None
            }
            Topic::Charter => {
                crate::charter::team_only(actor)?;
                actor.require(Capability::ReadCharter)?;
                None
            }
            // Rooms are public events: anyone signed in may watch one that exists.
            Topic::Room(id) => {
                let room = self.existing_room(id).await?.id;
                viewer = self.watch_room(&room, actor);
                Some(ReplaySource::Room(room))
            }
            // An event's questions, like its room, are public: any session may follow them
            // (fans get hidden questions as their removal only).
            Topic::Event(id) => {
                let event = self.existing_event(id).await?.id;
                let last = self.event_last_seq(&event).await?;
                if after_seq.is_some_and(|after| after > last) {
                    return Err(ServiceError::invalid(
                        "after_seq",
                        format!("is past the end of this timeline (last seq is {last})"),
                    ));
                }
                Some(ReplaySource::Event(event))
            }
            // Team members who belong to the channel; fans learn nothing (not found).
            Topic::Channel(id) => {
                let channel = self.channel_for_subscription(actor, id, after_seq).await?;
                Some(ReplaySource::Channel(channel))
            }
        };
        let topic = parsed.to_string();
        // Subscribe before reading the store (see the module comment).
        let live = self.bus().subscribe(&topic);
        let replay = match (source, after_seq) {
            (Some(source), Some(_)) => Some(Replay {
                source,
                buffered: VecDeque::new(),
                exhausted: false,
            }),
            _ => None,
        };
        let last_seq = match (after_seq, &replay) {
            (Some(after), _) => after,
            // Live only: no replay, so accept whatever comes next.
            (None, _) => 0,
        };
        Ok(Subscription {
            topic,
            audience,
            live,
            replay,
            last_seq,
            app: self.clone(),
            _viewer: viewer,
        })
    }
}
