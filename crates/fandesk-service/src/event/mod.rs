//! Premieres and live events (docs/product.md › Events; README.md › Events): create
//! (with the event's chat room, which opens 15 minutes before the start), read, list and
//! update. Status and playback position come from the clock at every read
//! ([`fandesk_domain::event::EventWindow`]); the chat is the room's, under the rooms'
//! rules (slow mode, timeouts, deletions); its replay by video time is read here. Questions: [`question`], written by their own
//! group-commit writer ([`commit`]) and live on `event:{id}`. Its figures: [`metrics`].

pub(crate) mod commit;
pub(crate) mod metrics;
pub(crate) mod question;
pub(crate) mod tally;
#[cfg(test)]
mod tally_tests;
pub(crate) mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::MAX_PAGE;
use crate::conversation::audience_of;
use crate::event::view::{EventView, ReplayMessageView};
use crate::room::view::RoomMessageView;
use crate::{App, new_id};
use fandesk_domain::Principal;
use fandesk_domain::event::{
    EventId, EventKind, EventStatus, EventWindow, MAX_REPLAY_MESSAGES, may_reschedule,
    media_origin, offset_secs, replay_window, validate_duration_secs, validate_media_url,
    validate_new_window,
};
use fandesk_domain::room::{
    RoomId, RoomState, effective_state, may_manage_rooms, validate_slow_mode_secs, validate_title,
};
use fandesk_store::{EventRow, EventUpdate, RoomRow};
use jiff::Timestamp;

/// `POST /events`.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub title: String,
    pub kind: EventKind,
    pub starts_at: Timestamp,
    pub duration_secs: u32,
    pub media_url: Option<String>,
    pub qa: Option<bool>,
    /// The chat room's slow mode; 0 or absent: off.
    pub slow_mode_secs: Option<u32>,
}

/// `PATCH /events/{id}`: absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct EventPatch {
    pub title: Option<String>,
    pub starts_at: Option<Timestamp>,
    pub duration_secs: Option<u32>,
    pub media_url: Option<String>,
    pub qa: Option<bool>,
}

impl App {
    /// Creates the event and its chat room (same title; opens at
    /// [`EventWindow::chat_opens_at`]) in one transaction.
    pub async fn create_event(
        &self,
        actor: &Principal,
        input: NewEvent,
    ) -> ServiceResult<EventView> {
        may_manage_rooms(actor)?;
        let Principal::Member { id, .. } = actor else {
            return Err(ServiceError::Forbidden(
                "only the owner and supervisors manage events".into(),
            ));
        };
        let title = validate_title(&input.title)?;
        validate_duration_secs(input.duration_secs)?;
        let media_url = validate_media_url(input.kind, input.media_url.as_deref())?;
        let slow_mode_secs = input.slow_mode_secs.unwrap_or(0);
        validate_slow_mode_secs(slow_mode_secs)?;
        let now = self.now();
        let window = EventWindow {
            starts_at: input.starts_at,
            duration_secs: input.duration_secs,
        };
        validate_new_window(window, now)?;
        let room = RoomRow {
            id: RoomId(new_id("room")),
            title: title.clone(),
            state: RoomState::Scheduled,
            opens_at: Some(window.chat_opens_at()),
            slow_mode_secs,
            last_seq: 0,
            created_by: id.clone(),
            created_at: now,
            updated_at: now,
        };
        let event = EventRow {
            id: EventId(new_id("evt")),
            room_id: room.id.clone(),
            kind: input.kind,
            title,
            starts_at: input.starts_at,
            duration_secs: input.duration_secs,
            media_url,
            qa: input.qa.unwrap_or(false),
            created_by: id.clone(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_event(&event, &room).await?;
        Ok(EventView::new(&event, now))
    }

    /// Latest start first. Events are public: every session may read them.
    pub async fn list_events(
        &self,
        _actor: &Principal,
        limit: u32,
    ) -> ServiceResult<Vec<EventView>> {
        let rows = self.store().list_events(limit.clamp(1, MAX_PAGE)).await?;
        let now = self.now();
        Ok(rows.iter().map(|row| EventView::new(row, now)).collect())
    }

    pub async fn get_event(&self, _actor: &Principal, id: &str) -> ServiceResult<EventView> {
        let row = self.existing_event(id).await?;
        Ok(EventView::new(&row, self.now()))
    }

    /// Changes an event. The start, the duration and the video change only while it is
    /// scheduled; moving the start moves the room's opening with it unless the chat is
    /// already open.
    pub async fn update_event(
        &self,
        actor: &Principal,
        id: &str,
        patch: EventPatch,
    ) -> ServiceResult<EventView> {
        may_manage_rooms(actor)?;
        let row = self.existing_event(id).await?;
        let now = self.now();
        let reschedules = patch.starts_at.is_some_and(|at| at != row.starts_at)
            || patch
                .duration_secs
                .is_some_and(|secs| secs != row.duration_secs)
            || patch.media_url.is_some();
        if reschedules {
            may_reschedule(row.window().status(now))?;
        }
        let title = match &patch.title {
            Some(title) => validate_title(title)?,
            None => row.title.clone(),
        };
        let duration_secs = patch.duration_secs.unwrap_or(row.duration_secs);
        validate_duration_secs(duration_secs)?;
        let media_url = match patch.media_url.as_deref() {
            Some(url) => validate_media_url(row.kind, Some(url))?,
            None => row.media_url.clone(),
        };
        let window = EventWindow {
            starts_at: patch.starts_at.unwrap_or(row.starts_at),
            duration_secs,
        };
        let room_opens_at = if window.starts_at == row.starts_at {
            None
        } else {
            validate_new_window(window, now)?;
            if window.status(now) != EventStatus::Scheduled {
                return Err(ServiceError::invalid(
                    "starts_at",
                    "a scheduled event cannot be moved to a start that has passed",
                ));
            }
            let room = self.existing_room(row.room_id.as_str()).await?;
            let chat_open = effective_state(room.state, room.opens_at, now) != RoomState::Scheduled;
            (!chat_open).then(|| window.chat_opens_at())
        };
        let update = EventUpdate {
            title,
            starts_at: window.starts_at,
            duration_secs,
            media_url,
            qa: patch.qa.unwrap_or(row.qa),
            room_opens_at,
            at: now,
        };
        self.store().update_event(&row.id, &update).await?;
        self.get_event(actor, id).await
    }

    /// `GET /events/{id}/replay`: the chat as it happened, by video time — the room's
    /// messages sent in `[from_secs, to_secs)` of video time (open bounds when absent),
    /// deleted ones left out, in the order they were sent, each with its `offset_secs`.
    pub async fn event_replay(
        &self,
        actor: &Principal,
        id: &str,
        from_secs: Option<i64>,
        to_secs: Option<i64>,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<ReplayMessageView>> {
        let event = self.existing_event(id).await?;
        let (from, to) = replay_window(event.starts_at, from_secs, to_secs)?;
        if from >= to {
            return Ok(Vec::new());
        }
        let limit = limit
            .unwrap_or(MAX_REPLAY_MESSAGES)
            .clamp(1, MAX_REPLAY_MESSAGES);
        let rows = self
            .store()
            .list_replay_messages(&event.room_id, from, to, limit)
            .await?;
        let audience = audience_of(actor);
        Ok(rows
            .iter()
            .map(|row| ReplayMessageView {
                message: RoomMessageView::new(row, audience, Some(actor.author_id())),
                offset_secs: offset_secs(event.starts_at, row.created_at),
            })
            .collect())
    }

    /// The origin the fan's event page may load this event's video from (its
    /// Content-Security-Policy's `media-src`). The page itself holds no event data and is
    /// served to anyone; `None` when there is no such event or no video.
    pub async fn event_media_origin(&self, id: &str) -> ServiceResult<Option<String>> {
        let Some(row) = self.store().find_event(&EventId::from(id)).await? else {
            return Ok(None);
        };
        Ok(row.media_url.as_deref().and_then(media_origin))
    }

    pub(crate) async fn existing_event(&self, id: &str) -> ServiceResult<EventRow> {
        self.store()
            .find_event(&EventId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("event"))
    }
}
