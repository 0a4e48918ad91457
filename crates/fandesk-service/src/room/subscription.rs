//! A room subscription (docs/api.md › WebSocket, `room:{id}`) served by the fan-out hub
//! (`room::fanout`): the viewer is joined before the store is read, its stored history
//! after `after_seq` is replayed into the connection's queue, and the live frames held
//! meanwhile follow, de-duplicated by `seq`.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::audience_of;
use crate::live::frame_queue::{CLOSE_SLOW_CONSUMER, FrameQueue};
use crate::room::Watching;
use crate::room::fanout::RoomMembership;
use fandesk_domain::room::RoomId;
use fandesk_domain::{Audience, Principal, Topic};
use std::sync::Arc;

/// A room subscription served by the fan-out hub (`room::fanout`): live frames go
/// straight from the room's worker into the connection's [`FrameQueue`], with no task or
/// receiver per viewer. Dropping it leaves the room (and stops counting the fan).
pub struct RoomSubscription {
    topic: String,
    membership: Arc<RoomMembership>,
    replay: Option<RoomReplay>,
    _viewer: Option<Watching>,
}

impl RoomSubscription {
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Starts delivery, once the caller has queued its `subscribed` frame (live frames
    /// wait in the hub until then). With `after_seq`, returns the stored history to send
    /// first: the caller runs it ([`RoomReplay::run`]) and live frames follow it.
    pub fn start(&mut self) -> Option<RoomReplay> {
        let replay = self.replay.take();
        if replay.is_none() {
            // Live only: accept whatever comes next.
            self.membership.resume(0);
        }
        replay
    }
}

/// Replays a room's stored events after `after_seq` into the queue, then lets the held
/// live frames follow (de-duplicated by `seq`).
pub struct RoomReplay {
    app: App,
    room: RoomId,
    topic: String,
    audience: Audience,
    last_seq: u64,
    queue: FrameQueue,
    membership: Arc<RoomMembership>,
}

impl RoomReplay {
    /// Sends every stored page (waiting for room in the queue: the client paces replay),
    /// then ends the replay. A failed read cannot be skipped without a gap: the client is
    /// closed with 4008 and resumes.
    pub async fn run(mut self) {
        loop {
            let page = self
                .app
                .room_replay_page(&self.room, &self.topic, self.audience, self.last_seq)
                .await;
            let Ok((frames, exhausted)) = page else {
                self.queue
                    .close(CLOSE_SLOW_CONSUMER, "replay failed: resume with after_seq");
                return;
            };
            for (seq, frame) in frames {
                if !self.queue.push_waiting(frame).await {
                    return;
                }
                self.last_seq = seq;
            }
            if exhausted {
                self.membership.resume(self.last_seq);
                return;
            }
        }
    }
}

impl App {
    /// Subscribes `actor` to a `room:{id}` topic through the fan-out hub, delivering into
    /// `queue`. With `after_seq`, the stored events after it come first
    /// ([`RoomSubscription::start`]); the hub joins the viewer before the store is read, so
    /// nothing committed in between is missed.
    pub async fn subscribe_room(
        &self,
        actor: &Principal,
        topic: &str,
        after_seq: Option<u64>,
        queue: &FrameQueue,
    ) -> ServiceResult<RoomSubscription> {
        let Topic::Room(id) = Topic::parse(topic)? else {
            return Err(ServiceError::invalid("topic", "is not a room:{id} topic"));
        };
        // Rooms are public events: anyone signed in may watch one that exists.
        let room = self.existing_room(&id).await?.id;
        let audience = audience_of(actor);
        let topic = Topic::Room(room.0.clone()).to_string();
        // Joined holding its frames until `start` (and the replay, if any) let them go.
        let membership = Arc::new(self.inner.rooms.fanout.join(
            &topic,
            queue.clone(),
            audience,
            Some(after_seq.unwrap_or(0)),
        ));
        let replay = after_seq.map(|after| RoomReplay {
            app: self.clone(),
            room: room.clone(),
            topic: topic.clone(),
            audience,
            last_seq: after,
            queue: queue.clone(),
            membership: membership.clone(),
        });
        Ok(RoomSubscription {
            topic,
            membership,
            replay,
            _viewer: self.watch_room(&room, actor),
        })
    }
}
