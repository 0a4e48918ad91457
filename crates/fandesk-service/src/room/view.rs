//! What clients see of live rooms: the JSON of rooms and room messages, per audience.
//! Rooms have no internal messages; what fans must not see is moderation detail (who
//! deleted, timeouts) and the body of a deleted message ([`shows_deleted_body`]). Their
//! event frames (`room:{id}`, docs/api.md › WebSocket) are built in `live::frame`.

use crate::conversation::view::AuthorView;
use fandesk_domain::Audience;
use fandesk_domain::room::{effective_state, shows_deleted_body};
use fandesk_store::{RoomEventRow, RoomFanRow, RoomRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Viewer counts of a room, summed over every node (fans only: the team watching its
/// own premiere is not audience).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ViewerCounts {
    /// Fans watching now (several connections of one fan count once).
    pub current: u64,
    /// Most fans watching at once.
    pub peak: u64,
    /// Distinct fans who ever watched.
    pub unique: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RoomView {
    pub id: String,
    pub title: String,
    /// `scheduled`, `open` or `closed`. A scheduled room whose `opens_at` has passed is
    /// shown (and treated) as `open`.
    pub state: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opens_at: Option<Timestamp>,
    /// Minimum seconds between two messages of one fan; 0 = off. The team is exempt.
    pub slow_mode_secs: u32,
    /// Last position of the room's timeline (messages and deletions).
    pub last_seq: u64,
    pub viewers: ViewerCounts,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl RoomView {
    pub fn new(row: &RoomRow, now: Timestamp, viewers: ViewerCounts) -> RoomView {
        RoomView {
            id: row.id.0.clone(),
            title: row.title.clone(),
            state: effective_state(row.state, row.opens_at, now)
                .as_str()
                .to_owned(),
            opens_at: row.opens_at,
            slow_mode_secs: row.slow_mode_secs,
            last_seq: row.last_seq,
            viewers,
            created_at: row.created_at,
        }
    }
}

/// A room message. A deleted message keeps its place (`seq`) as a tombstone: for fans
/// its body is empty.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RoomMessageView {
    pub id: String,
    pub room_id: String,
    pub seq: u64,
    pub author: AuthorView,
    pub body: String,
    pub automated: bool,
    pub deleted: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The sender's idempotency key: for the team, and for the sender on their own
    /// messages (never in shared fan frames, which every fan receives).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Team only: the moderator who deleted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_by: Option<String>,
}

impl RoomMessageView {
    /// `row` (a message entry) as `audience` sees it; `viewer` is the id of the one
    /// principal the view is for, or `None` for a frame shared by many.
    pub fn new(row: &RoomEventRow, audience: Audience, viewer: Option<&str>) -> RoomMessageView {
        let deleted = row.deleted_at.is_some();
        let team = audience == Audience::Team;
        let own = viewer == Some(row.author_id.as_str());
        RoomMessageView {
            id: row.id.0.clone(),
            room_id: row.room_id.0.clone(),
            seq: row.seq,
            author: AuthorView {
                id: row.author_id.clone(),
                kind: row.author_kind.as_str().to_owned(),
                name: row.author_name.clone(),
            },
            body: if deleted && !shows_deleted_body(audience) {
                String::new()
            } else {
                row.body.clone()
            },
            automated: row.automated,
            deleted,
            created_at: row.created_at,
            client_msg_id: row.client_msg_id.clone().filter(|_| team || own),
            deleted_by: row
                .deleted_by
                .as_ref()
                .filter(|_| team)
                .map(|id| id.0.clone()),
        }
    }
}

/// A fan's timeout, as the moderator who set it sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TimeoutView {
    pub room_id: String,
    pub fan_id: String,
    /// Sends from this fan are refused (`forbidden`) until then.
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

impl From<&RoomFanRow> for TimeoutView {
    fn from(row: &RoomFanRow) -> Self {
        TimeoutView {
            room_id: row.room_id.0.clone(),
            fan_id: row.fan_id.0.clone(),
            until: row.timed_out_until.unwrap_or_default(),
        }
    }
}
