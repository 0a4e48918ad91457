//! The one place a wire event becomes bytes: the envelope
//! `{"type":"event","topic","seq"?,"event":{"kind",…}}` around a [`ServerEvent`], and the
//! frames of each event per audience. Frames are encoded once, at commit time, and shared
//! by every subscriber of that audience; replay uses the same functions, so a replayed
//! frame says exactly what the live one said.

use crate::channel::view::ChannelMessageView;
use crate::conversation::view::{ConversationView, MessageView};
use crate::event::question::QuestionView;
use crate::live::event::{ServerEvent, TimelineMessage};
use crate::room::view::{RoomMessageView, RoomView, ViewerCounts};
use bytes::Bytes;
use fandesk_domain::Audience;
use fandesk_store::{
    ChannelMessageRow, ConversationRow, MessageRow, QuestionEntry, QuestionEntryKind,
    RoomEventKind, RoomEventRow, RoomFanRow,
};
use serde::Serialize;

#[derive(Serialize)]
struct Envelope<'a> {
    r#type: &'static str,
    topic: &'a str,
    /// Timeline events only: the position in the audience's numbering of the topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    event: &'a ServerEvent<'a>,
}

/// The frame of `event` on `topic`; `seq` for timeline events, `None` for ephemeral ones.
pub(crate) fn encode(topic: &str, seq: Option<u64>, event: &ServerEvent<'_>) -> Bytes {
    let envelope = Envelope {
        r#type: "event",
        topic,
        seq,
        event,
    };
    // Serializing these plain structs cannot fail: no maps with non-string keys, no
    // fallible Serialize impls.
    Bytes::from(serde_json::to_vec(&envelope).unwrap_or_default())
}

/// The `message.created` timeline frame of a conversation message for `audience`, or
/// `None` if it may not see it (the message view decides).
pub fn message_frame(topic: &str, row: &MessageRow, audience: Audience) -> Option<Bytes> {
    let view = MessageView::new(row, audience)?;
    let event = ServerEvent::MessageCreated {
        message: TimelineMessage::Conversation(&view),
    };
    Some(encode(topic, Some(view.seq), &event))
}

/// The ephemeral `conversation.updated` frame (fans get the fan-safe view).
pub fn conversation_frame(topic: &str, row: &ConversationRow, audience: Audience) -> Bytes {
    let conversation = ConversationView::new(row, audience);
    encode(
        topic,
        None,
        &ServerEvent::ConversationUpdated {
            conversation: &conversation,
        },
    )
}

/// The timeline frame of a room entry for `audience`: `message.created` (a tombstone for
/// fans once deleted) or `message.deleted` (team frames also name the moderator). Used
/// for live fan-out and for replay alike, so both say the same thing.
pub fn room_event_frame(topic: &str, row: &RoomEventRow, audience: Audience) -> Bytes {
    match row.kind {
        RoomEventKind::Message => {
            let message = RoomMessageView::new(row, audience, None);
            let event = ServerEvent::MessageCreated {
                message: TimelineMessage::Room(&message),
            };
            encode(topic, Some(row.seq), &event)
        }
        RoomEventKind::Deletion => {
            let message_id = row
                .target_id
                .as_ref()
                .map(|id| id.as_str())
                .unwrap_or_default();
            let deleted_by = (audience == Audience::Team).then_some(row.author_id.as_str());
            let event = ServerEvent::MessageDeleted {
                message_id,
                deleted_by,
            };
            encode(topic, Some(row.seq), &event)
        }
    }
}

/// The timeline frame of an event's entry for `audience`: `question.created` or
/// `question.updated` with the question as the entry carries it; for fans, an entry about
/// a hidden question is `question.removed` naming only its id (live and replayed alike, so
/// no position disappears and no hidden text is sent).
pub fn question_entry_frame(topic: &str, entry: &QuestionEntry, audience: Audience) -> Bytes {
    let Some(question) = QuestionView::new(&entry.question, audience) else {
        let event = ServerEvent::QuestionRemoved {
            question_id: entry.question.id.as_str(),
        };
        return encode(topic, Some(entry.seq), &event);
    };
    let event = match entry.kind {
        QuestionEntryKind::Created => ServerEvent::QuestionCreated {
            question: &question,
        },
        QuestionEntryKind::Updated => ServerEvent::QuestionUpdated {
            question: &question,
        },
    };
    encode(topic, Some(entry.seq), &event)
}

/// The `message.created` timeline frame of a team channel's message. Channels are
/// team-only: there is no fan frame to make.
pub fn channel_message_frame(topic: &str, row: &ChannelMessageRow) -> Bytes {
    let message = ChannelMessageView::new(row);
    let event = ServerEvent::MessageCreated {
        message: TimelineMessage::Channel(&message),
    };
    encode(topic, Some(row.seq), &event)
}

/// Ephemeral `room.updated`: the same for every audience.
pub fn room_updated_frame(topic: &str, room: &RoomView) -> Bytes {
    encode(topic, None, &ServerEvent::RoomUpdated { room })
}

/// Ephemeral, team-only `fan.timed_out`.
pub fn fan_timed_out_frame(topic: &str, fan: &RoomFanRow) -> Bytes {
    let event = ServerEvent::FanTimedOut {
        fan_id: fan.fan_id.as_str(),
        until: fan.timed_out_until.unwrap_or_default(),
        by: fan.timed_out_by.as_ref().map(|id| id.as_str()),
    };
    encode(topic, None, &event)
}

/// Ephemeral `viewers`: the same for every audience.
pub fn viewers_frame(topic: &str, counts: ViewerCounts) -> Bytes {
    encode(topic, None, &ServerEvent::Viewers { counts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::room::RoomId;
    use fandesk_domain::{AuthorKind, MemberId, MessageId};
    use jiff::Timestamp;
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
