//! What clients see of an event: its fields, its label, and — computed at the instant of
//! the read — its status, the server's time and, while live, the playback position.

use crate::room::view::RoomMessageView;
use fandesk_domain::event::EventStatus;
use fandesk_store::EventRow;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// The event's chat: subscribe to `room:{room_id}`, post with the room routes.
    pub room_id: String,
    /// `premiere` or `live`.
    pub kind: String,
    pub title: String,
    /// `scheduled` before `starts_at`, `live` until `ends_at`, then `ended`.
    pub status: String,
    /// `"Premiere · pre-recorded"` for a premiere, `"Live"` for a live event; shown
    /// wherever fans see the event.
    pub label: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub duration_secs: u32,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    /// When the chat room opens (the countdown room): 15 minutes before `starts_at`.
    #[schema(value_type = String, format = DateTime)]
    pub chat_opens_at: Timestamp,
    /// The premiere's video (a live event's stream link, if any).
    pub media_url: Option<String>,
    /// Whether the event takes questions.
    pub qa: bool,
    /// The server's clock when this answer was made: clients count down and seek against
    /// it, not against their own clock.
    #[schema(value_type = String, format = DateTime)]
    pub server_time: Timestamp,
    /// While `live`: seconds since `starts_at` at `server_time` (to the millisecond), the
    /// point every viewer plays from. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position_secs: Option<f64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl EventView {
    pub fn new(row: &EventRow, now: Timestamp) -> EventView {
        let window = row.window();
        let status: EventStatus = window.status(now);
        EventView {
            id: row.id.0.clone(),
            room_id: row.room_id.0.clone(),
            kind: row.kind.as_str().to_owned(),
            title: row.title.clone(),
            status: status.as_str().to_owned(),
            label: row.kind.label().to_owned(),
            starts_at: row.starts_at,
            duration_secs: row.duration_secs,
            ends_at: window.ends_at(),
            chat_opens_at: window.chat_opens_at(),
            media_url: row.media_url.clone(),
            qa: row.qa,
            server_time: now,
            position_secs: window.position_secs(now),
            created_at: row.created_at,
        }
    }
}

/// A message of an event's chat replay: the room message, and where it falls in the
/// video.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReplayMessageView {
    #[serde(flatten)]
    pub message: RoomMessageView,
    /// Seconds from `starts_at` to when the message was sent, to the millisecond;
    /// negative in the countdown chat.
    pub offset_secs: f64,
}
