//! Live rooms (docs/product.md › Live rooms; README.md › Live rooms): create, open, close,
//! read, send with slow mode, moderate (delete, time out), replay for resuming
//! subscribers, and viewer counts. Room timeline writes go through their own group-commit
//! writer ([`commit`]); the ephemeral events (`room.updated`, team-only `fan.timed_out`)
//! are published here after the commit, since they take no `seq`. The fan-out hub
//! ([`fanout`]) delivers a room's frames to its viewers.

pub(crate) mod commit;
pub(crate) mod fanout;
pub(crate) mod subscription;
pub(crate) mod view;
pub(crate) mod viewer_reports;
pub(crate) mod viewers;
pub(crate) mod viewing_log;

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::message::SendMessage;
use crate::conversation::{MAX_PAGE, audience_of};
use crate::live::frame::{fan_timed_out_frame, room_event_frame, room_updated_frame};
use crate::live::publish::{Frames, publish_ephemeral};
use crate::room::commit::{RoomBatch, RoomQueued, RoomWriter};
use crate::room::fanout::RoomFanout;
use crate::room::view::{RoomMessageView, RoomView, TimeoutView};
use crate::room::viewers::{RoomViewers, ViewerGuard, spawn_ticker};
use crate::room::viewing_log::{ViewingGuard, ViewingLog};
use crate::{App, Config, Metrics, new_id};
use bytes::Bytes;
use fandesk_bus::Bus;
use fandesk_domain::room::{
    RoomAction, RoomId, RoomRefusal, RoomState, may_manage_rooms, may_moderate,
    validate_slow_mode_secs, validate_timeout_secs, validate_title,
};
use fandesk_domain::{
    Audience, FanId, MessageId, Principal, RuleViolation, Topic, validate_body,
    validate_client_msg_id,
};
use fandesk_store::{RoomEventFilter, RoomOp, RoomOutcome, RoomRow, Store};
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A fan's watching of a room: counted live and recorded, until dropped (boxed: a
/// subscription carries it).
pub(crate) type Watching = Box<(ViewerGuard, ViewingGuard)>;

/// The room machinery an `App` owns: its writer, its fan-out hub, its viewer counts and
/// their ticker.
pub(crate) struct Rooms {
    writer: RoomWriter,
    pub(crate) fanout: RoomFanout,
    viewers: Arc<RoomViewers>,
    /// Who watched which room when, written to the store (event metrics).
    pub(crate) viewings: Arc<ViewingLog>,
    stop: CancellationToken,
    ticker: Mutex<Option<JoinHandle<()>>>,
    viewing_writer: Mutex<Option<JoinHandle<()>>>,
}

impl Rooms {
    pub(crate) fn start(
        store: Store,
        bus: Arc<dyn Bus>,
        metrics: Arc<Metrics>,
        config: &Config,
        clock: Arc<dyn crate::app::clock::Clock>,
    ) -> Rooms {
        let viewings = Arc::new(ViewingLog::new(store.clone(), clock, config.node.clone()));
        let batch = RoomBatch {
            bus: bus.clone(),
            metrics: metrics.clone(),
        };
        let writer = RoomWriter::spawn(store, batch, &metrics, config.writer());
        let fanout = RoomFanout::new(bus.clone(), config.room_fanout.clone());
        let viewers = Arc::new(RoomViewers::default());
        let stop = CancellationToken::new();
        let viewing_writer = viewing_log::spawn_writer(viewings.clone(), stop.clone());
        let ticker = spawn_ticker(
            Arc::downgrade(&viewers),
            bus,
            config.node.clone(),
            stop.clone(),
        );
        Rooms {
            writer,
            fanout,
            viewers,
            viewings,
            stop,
            ticker: Mutex::new(Some(ticker)),
            viewing_writer: Mutex::new(Some(viewing_writer)),
        }
    }

    /// Commits and acknowledges queued room ops, then stops the viewer ticker.
    pub(crate) async fn shutdown(&self) {
        self.writer.shutdown().await;
        self.stop.cancel();
        let ticker = self
            .ticker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(ticker) = ticker {
            let _ = ticker.await;
        }
        let viewing_writer = self
            .viewing_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(viewing_writer) = viewing_writer {
            let _ = viewing_writer.await;
        }
    }
}

impl From<RoomRefusal> for ServiceError {
    fn from(refusal: RoomRefusal) -> Self {
        match refusal {
            RoomRefusal::Rule(RuleViolation::Hidden) | RoomRefusal::Missing("room") => {
                ServiceError::NotFound("room")
            }
            RoomRefusal::Rule(violation) => violation.into(),
            RoomRefusal::SlowMode { .. } => ServiceError::RateLimited(refusal.to_string()),
            RoomRefusal::TimedOut { .. } => ServiceError::Forbidden(refusal.to_string()),
            RoomRefusal::Missing(what) => ServiceError::NotFound(what),
        }
    }
}

/// `POST /rooms`.
#[derive(Clone, Debug)]
pub struct NewRoom {
    pub title: String,
    /// When the room opens by itself; without it the team opens it explicitly.
    pub opens_at: Option<Timestamp>,
    /// 0 or absent: no slow mode.
    pub slow_mode_secs: Option<u32>,
}

/// The acknowledged room message, as the sender sees it.
#[derive(Clone, Debug)]
pub struct RoomSent {
    pub message: RoomMessageView,
    /// False when this `client_msg_id` had been sent before (the original is returned).
    pub created: bool,
}

/// A room send queued for commit; [`PendingRoomSend::wait`] yields the acknowledgement.
pub struct PendingRoomSend {
    queued: RoomQueued,
    actor: Principal,
    metrics: Arc<Metrics>,
}

impl PendingRoomSend {
    /// Waits for the commit. Resolves only after the message is durable.
    pub async fn wait(self) -> ServiceResult<RoomSent> {
        let (row, created) = match self.queued.wait().await? {
            RoomOutcome::Posted { event } => (event, true),
            RoomOutcome::Duplicate { event } => (event, false),
            other => {
                return Err(ServiceError::Internal(format!(
                    "room send answered with {other:?}"
                )));
            }
        };
        self.metrics.acks.inc();
        let message =
            RoomMessageView::new(&row, audience_of(&self.actor), Some(self.actor.author_id()));
        Ok(RoomSent { message, created })
    }
}

impl App {
    pub async fn create_room(&self, actor: &Principal, input: NewRoom) -> ServiceResult<RoomView> {
        may_manage_rooms(actor)?;
        let title = validate_title(&input.title)?;
        let slow_mode_secs = input.slow_mode_secs.unwrap_or(0);
        validate_slow_mode_secs(slow_mode_secs)?;
        let Principal::Member { id, .. } = actor else {
            unreachable!("may_manage_rooms admits members only")
        };
        let now = self.now();
        // Every room starts scheduled: it opens at `opens_at` by itself (already open when
        // that has passed) or when the team opens it.
        let row = RoomRow {
            id: RoomId(new_id("room")),
            title,
            state: RoomState::Scheduled,
            opens_at: input.opens_at,
            slow_mode_secs,
            last_seq: 0,
            created_by: id.clone(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_room(&row).await?;
        Ok(self.room_view(&row))
    }

    /// Every room, newest first. Rooms are public events: every fan may see them.
    pub async fn list_rooms(&self, _actor: &Principal, limit: u32) -> ServiceResult<Vec<RoomView>> {
        let rows = self.store().list_rooms(limit.clamp(1, MAX_PAGE)).await?;
        Ok(rows.iter().map(|row| self.room_view(row)).collect())
    }

    pub async fn get_room(&self, _actor: &Principal, id: &str) -> ServiceResult<RoomView> {
        Ok(self.room_view(&self.existing_room(id).await?))
    }

    pub async fn open_room(&self, actor: &Principal, id: &str) -> ServiceResult<RoomView> {
        self.change_room(actor, id, RoomAction::Open).await
    }

    pub async fn close_room(&self, actor: &Principal, id: &str) -> ServiceResult<RoomView> {
        self.change_room(actor, id, RoomAction::Close).await
    }

    async fn change_room(
        &self,
        actor: &Principal,
        id: &str,
        action: RoomAction,
    ) -> ServiceResult<RoomView> {
        may_manage_rooms(actor)?;
        let room = self.existing_room(id).await?;
        let op = RoomOp::Change {
            room_id: room.id,
            actor: actor.clone(),
            action,
            at: self.now(),
        };
        self.submit_room_change(op).await
    }

    /// `POST /rooms/{id}/slow-mode` (human team members): the room's new interval between
    /// one fan's messages (0: off), decided in commit order with the room's posts.
    pub async fn set_slow_mode(
        &self,
        actor: &Principal,
        id: &str,
        secs: u32,
    ) -> ServiceResult<RoomView> {
        may_moderate(actor)?;
        validate_slow_mode_secs(secs)?;
        let room = self.existing_room(id).await?;
        let op = RoomOp::SlowMode {
            room_id: room.id,
            actor: actor.clone(),
            secs,
            at: self.now(),
        };
        self.submit_room_change(op).await
    }

    /// Commits a change of the room itself and tells its subscribers (`room.updated`).
    async fn submit_room_change(&self, op: RoomOp) -> ServiceResult<RoomView> {
        let RoomOutcome::Changed { room } = self.inner.rooms.writer.submit(op).await? else {
            return Err(ServiceError::Internal(
                "room change answered with another outcome".into(),
            ));
        };
        let view = self.room_view(&room);
        let topic = Topic::Room(room.id.0.clone()).to_string();
        let frames = Frames::shared(room_updated_frame(&topic, &view));
        publish_ephemeral(self.bus().as_ref(), topic, frames);
        Ok(view)
    }

    /// Validates and queues a room send without waiting for its commit (WebSocket sends
    /// pipeline; acks keep the send order). Room existence, state, slow mode and timeouts
    /// are all decided inside the commit, so a send costs no read of its own.
    pub async fn begin_room_send(
        &self,
        actor: &Principal,
        room_id: &str,
        input: SendMessage,
    ) -> ServiceResult<PendingRoomSend> {
        validate_client_msg_id(&input.client_msg_id)?;
        let body = validate_body(&input.body)?;
        if input
            .visibility
            .as_deref()
            .is_some_and(|visibility| visibility != "public")
        {
            return Err(ServiceError::invalid(
                "visibility",
                "room messages are always public",
            ));
        }
        if input.template_id.is_some() {
            return Err(ServiceError::invalid(
                "template_id",
                "canned responses are not used in rooms",
            ));
        }
        if input.to.is_some() {
            return Err(ServiceError::invalid("to", "rooms have no whispers"));
        }
        let op = RoomOp::Post {
            message_id: MessageId(new_id("msg")),
            room_id: RoomId::from(room_id),
            author: actor.clone(),
            client_msg_id: input.client_msg_id,
            body,
            at: self.now(),
        };
        let queued = self.inner.rooms.writer.enqueue(op).await?;
        Ok(PendingRoomSend {
            queued,
            actor: actor.clone(),
            metrics: self.inner.metrics.clone(),
        })
    }

    /// Sends and waits for the acknowledgement (REST).
    pub async fn send_room_message(
        &self,
        actor: &Principal,
        room_id: &str,
        input: SendMessage,
    ) -> ServiceResult<RoomSent> {
        self.begin_room_send(actor, room_id, input)
            .await?
            .wait()
            .await
    }

    /// `GET /rooms/{id}/messages`: the room's messages after `after_seq` (deleted ones as
    /// tombstones for fans). Deletion entries are left out — a REST reader wants the
    /// messages as they are now; the WebSocket replay carries the `message.deleted` events.
    pub async fn list_room_messages(
        &self,
        actor: &Principal,
        room_id: &str,
        after_seq: u64,
        limit: u32,
    ) -> ServiceResult<Vec<RoomMessageView>> {
        let room = self.existing_room(room_id).await?;
        let rows = self
            .store()
            .list_room_events(
                &room.id,
                RoomEventFilter::Messages,
                after_seq,
                limit.clamp(1, MAX_PAGE),
            )
            .await?;
        let audience = audience_of(actor);
        Ok(rows
            .iter()
            .map(|row| RoomMessageView::new(row, audience, Some(actor.author_id())))
            .collect())
    }

    /// Deletes a message: a `message.deleted` event takes the room's next `seq`. Deleting
    /// an already deleted message succeeds and changes nothing.
    pub async fn delete_room_message(
        &self,
        actor: &Principal,
        room_id: &str,
        message_id: &str,
    ) -> ServiceResult<RoomMessageView> {
        may_moderate(actor)?;
        let room = self.existing_room(room_id).await?;
        let op = RoomOp::Delete {
            event_id: MessageId(new_id("evt")),
            room_id: room.id,
            actor: actor.clone(),
            message_id: MessageId::from(message_id),
            at: self.now(),
        };
        match self.inner.rooms.writer.submit(op).await? {
            RoomOutcome::Deleted { message, .. } => {
                Ok(RoomMessageView::new(&message, Audience::Team, None))
            }
            RoomOutcome::AlreadyDeleted { message } => {
                Ok(RoomMessageView::new(&message, Audience::Team, None))
            }
            other => Err(ServiceError::Internal(format!(
                "room delete answered with {other:?}"
            ))),
        }
    }

    /// Times a fan out of a room for `seconds` (0 lifts a timeout). Announced to the team
    /// only: fans learn nothing of moderation beyond `message.deleted`.
    pub async fn time_out_fan(
        &self,
        actor: &Principal,
        room_id: &str,
        fan_id: &str,
        seconds: u64,
    ) -> ServiceResult<TimeoutView> {
        may_moderate(actor)?;
        validate_timeout_secs(seconds)?;
        let room = self.existing_room(room_id).await?;
        let fan_id = FanId::from(fan_id);
        // Checked before queueing: the fan's room record references the fan, and a failed
        // reference would fail every op of the batch.
        self.store()
            .find_fan(&fan_id)
            .await?
            .ok_or(ServiceError::NotFound("fan"))?;
        let now = self.now();
        let until = now
            .checked_add(jiff::SignedDuration::from_secs(seconds as i64))
            .map_err(|_| ServiceError::invalid("seconds", "too far in the future"))?;
        let op = RoomOp::Timeout {
            room_id: room.id.clone(),
            actor: actor.clone(),
            fan_id,
            until,
            at: now,
        };
        let RoomOutcome::TimedOut { fan } = self.inner.rooms.writer.submit(op).await? else {
            return Err(ServiceError::Internal(
                "room timeout answered with another outcome".into(),
            ));
        };
        let topic = Topic::Room(room.id.0).to_string();
        let frames = Frames::team_only(fan_timed_out_frame(&topic, &fan));
        publish_ephemeral(self.bus().as_ref(), topic, frames);
        Ok(TimeoutView::from(&fan))
    }

    /// The room, or `not_found`.
    pub(crate) async fn existing_room(&self, id: &str) -> ServiceResult<RoomRow> {
        self.store()
            .find_room(&RoomId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("room"))
    }

    /// Counts a fan as a viewer of `room`, and records the viewing, while the returned
    /// guards live (team members are not counted).
    pub(crate) fn watch_room(&self, room: &RoomId, actor: &Principal) -> Option<Watching> {
        match actor {
            Principal::Fan { id, .. } => Some(Box::new((
                self.inner.rooms.viewers.join(room, id),
                self.inner.rooms.viewings.join(room, id),
            ))),
            Principal::Member { .. } => None,
        }
    }

    /// Fans watching `room` now, on every node.
    pub(crate) fn current_viewers(&self, room: &RoomId) -> u64 {
        self.inner.rooms.viewers.counts(room).current
    }

    /// One page of replay for a room subscription: `(seq, frame)` after `after_seq`, and
    /// whether this was the last page. Frames are built by the same function as live ones.
    pub(crate) async fn room_replay_page(
        &self,
        room: &RoomId,
        topic: &str,
        audience: Audience,
        after_seq: u64,
    ) -> ServiceResult<(Vec<(u64, Bytes)>, bool)> {
        let rows = self
            .store()
            .list_room_events(room, RoomEventFilter::All, after_seq, MAX_PAGE)
            .await?;
        let exhausted = rows.len() < MAX_PAGE as usize;
        Ok((
            rows.iter()
                .map(|row| (row.seq, room_event_frame(topic, row, audience)))
                .collect(),
            exhausted,
        ))
    }

    fn room_view(&self, row: &RoomRow) -> RoomView {
        RoomView::new(row, self.now(), self.inner.rooms.viewers.counts(&row.id))
    }
}
