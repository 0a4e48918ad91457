//! What clients see of live rooms: the JSON of rooms and room messages, and the room
//! event frames (PROTOCOL.md › WebSocket, `room:{id}`). Timeline frames are encoded here
//! once per audience at commit time and shared by every viewer. Rooms have no internal
//! messages; what fans must not see is moderation detail (who deleted, timeouts) and the
//! body of a deleted message ([`shows_deleted_body`]).

use crate::view::AuthorView;
use bytes::Bytes;
use fandesk_domain::Audience;
use fandesk_domain::room::{effective_state, shows_deleted_body};
use fandesk_store::{RoomEventKind, RoomEventRow, RoomFanRow, RoomRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Viewer counts of a room, counted in this process (fans only: the team watching its
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

#[derive(Serialize)]
struct EventFrame<'a, E: Serialize> {
    r#type: &'static str,
    topic: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    event: E,
}

#[derive(Serialize)]
#[serde(tag = "kind")]
enum RoomEvent<'a> {
    #[serde(rename = "message.created")]
    MessageCreated { message: &'a RoomMessageView },
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        message_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        deleted_by: Option<&'a str>,
    },
    #[serde(rename = "room.updated")]
    RoomUpdated { room: &'a RoomView },
    #[serde(rename = "fan.timed_out")]
    FanTimedOut {
        fan_id: &'a str,
        until: Timestamp,
        by: Option<&'a str>,
    },
    #[serde(rename = "viewers")]
    Viewers {
        #[serde(flatten)]
        counts: ViewerCounts,
    },
}

fn encode(topic: &str, seq: Option<u64>, event: RoomEvent<'_>) -> Bytes {
    // Serializing these plain structs cannot fail: no maps with non-string keys, no
    // fallible Serialize impls.
    Bytes::from(
        serde_json::to_vec(&EventFrame {
            r#type: "event",
            topic,
            seq,
            event,
        })
        .unwrap_or_default(),
    )
}

/// The timeline frame of a room entry for `audience`: `message.created` (a tombstone for
/// fans once deleted) or `message.deleted` (team frames also name the moderator). Used
/// for live fan-out and for replay alike, so both say the same thing.
pub fn room_event_frame(topic: &str, row: &RoomEventRow, audience: Audience) -> Bytes {
    match row.kind {
        RoomEventKind::Message => {
            let message = RoomMessageView::new(row, audience, None);
            encode(
                topic,
                Some(row.seq),
                RoomEvent::MessageCreated { message: &message },
            )
        }
        RoomEventKind::Deletion => {
            let message_id = row
                .target_id
                .as_ref()
                .map(|id| id.as_str())
                .unwrap_or_default();
            let deleted_by = (audience == Audience::Team).then_some(row.author_id.as_str());
            encode(
                topic,
                Some(row.seq),
                RoomEvent::MessageDeleted {
                    message_id,
                    deleted_by,
                },
            )
        }
    }
}

/// Ephemeral `room.updated` (no `seq`): the same for every audience.
pub fn room_updated_frame(topic: &str, room: &RoomView) -> Bytes {
    encode(topic, None, RoomEvent::RoomUpdated { room })
}

/// Ephemeral, team-only `fan.timed_out`.
pub fn fan_timed_out_frame(topic: &str, fan: &RoomFanRow) -> Bytes {
    let until = fan.timed_out_until.unwrap_or_default();
    let by = fan.timed_out_by.as_ref().map(|id| id.as_str());
    encode(
        topic,
        None,
        RoomEvent::FanTimedOut {
            fan_id: fan.fan_id.as_str(),
            until,
            by,
        },
    )
}

/// Ephemeral `viewers` (no `seq`): the same for every audience.
pub fn viewers_frame(topic: &str, counts: ViewerCounts) -> Bytes {
    encode(topic, None, RoomEvent::Viewers { counts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::room::RoomId;
    use fandesk_domain::{AuthorKind, MemberId, MessageId};
    use serde_json::Value;

    fn message(deleted: bool) -> RoomEventRow {
        RoomEventRow {
            id: MessageId::from("m1"),
            room_id: RoomId::from("r1"),
            seq: 3,
            kind: RoomEventKind::Message,
            author_id: "f1".into(),
            author_kind: AuthorKind::Fan,
            author_name: "Fan".into(),
            client_msg_id: Some("c1".into()),
            body: "secret words".into(),
            automated: false,
            target_id: None,
            deleted_at: deleted.then(Timestamp::now),
            deleted_by: deleted.then(|| MemberId::from("mod1")),
            created_at: Timestamp::now(),
        }
    }

    fn frame(row: &RoomEventRow, audience: Audience) -> (Value, String) {
        let bytes = room_event_frame("room:r1", row, audience);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        (serde_json::from_str(&text).unwrap(), text)
    }

    #[test]
    fn fans_get_tombstones_without_moderation_detail() {
        let (value, text) = frame(&message(true), Audience::Fan);
        assert_eq!(value["seq"], 3);
        assert_eq!(value["event"]["kind"], "message.created");
        assert_eq!(value["event"]["message"]["deleted"], true);
        assert_eq!(value["event"]["message"]["body"], "");
        for hidden in ["secret words", "mod1", "c1"] {
            assert!(!text.contains(hidden), "{hidden} leaked: {text}");
        }
        let (value, _) = frame(&message(true), Audience::Team);
        assert_eq!(value["event"]["message"]["body"], "secret words");
        assert_eq!(value["event"]["message"]["deleted_by"], "mod1");
        let (value, _) = frame(&message(false), Audience::Fan);
        assert_eq!(value["event"]["message"]["body"], "secret words");
    }

    #[test]
    fn deletions_name_the_moderator_to_the_team_only() {
        let mut deletion = message(false);
        deletion.kind = RoomEventKind::Deletion;
        deletion.author_id = "mod1".into();
        deletion.target_id = Some(MessageId::from("m0"));
        let (fan, text) = frame(&deletion, Audience::Fan);
        assert_eq!(
            fan["event"],
            serde_json::json!({"kind": "message.deleted", "message_id": "m0"})
        );
        assert!(!text.contains("mod1"));
        let (team, _) = frame(&deletion, Audience::Team);
        assert_eq!(team["event"]["deleted_by"], "mod1");
    }

    #[test]
    fn viewer_frames_are_flat() {
        let bytes = viewers_frame(
            "room:r1",
            ViewerCounts {
                current: 2,
                peak: 3,
                unique: 4,
            },
        );
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"type": "event", "topic": "room:r1",
                "event": {"kind": "viewers", "current": 2, "peak": 3, "unique": 4}})
        );
    }
}
