//! Every event the server sends on a topic (docs/api.md › WebSocket), as one enum tagged
//! by `kind`. A new kind is added here, and the compiler then shows every place that
//! builds or frames it; no event is written as loose JSON.
//!
//! **Timeline** events (`message.created`, `message.deleted`) take the next `seq` of their
//! topic and are replayed on resume; all others are **ephemeral**: no `seq`, never
//! replayed. The `seq` is the envelope's (`live::frame`), not the event's.

use crate::channel::view::ChannelMessageView;
use crate::conversation::view::{AuthorView, ConversationView, MessageView};
use crate::desk::queue::QueueEntryView;
use crate::event::question::QuestionView;
use crate::room::view::{RoomMessageView, RoomView, ViewerCounts};
use crate::signals::alerts::AlertView;
use jiff::Timestamp;
use serde::Serialize;

/// What a presence event says of a team member in a conversation (the collision view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// A team member opened the conversation (subscribed to it).
    Viewing,
    /// A team member left it (unsubscribed or disconnected).
    Left,
    /// A supervisor joined it silently (`monitor`); the fan is never told.
    Monitoring,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind")]
pub(crate) enum ServerEvent<'a> {
    /// Timeline: a message of a conversation, a room or a team channel, as its audience
    /// sees it.
    #[serde(rename = "message.created")]
    MessageCreated { message: TimelineMessage<'a> },
    /// Timeline (rooms): a moderator deleted a message. Only team frames name the
    /// moderator.
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        message_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        deleted_by: Option<&'a str>,
    },
    /// A conversation's status, assignee, escalation or priority changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated { conversation: &'a ConversationView },
    /// Team-only, on `inbox`: a conversation's queue entry, or `null` when it left the
    /// queue.
    #[serde(rename = "queue.updated")]
    QueueUpdated {
        conversation_id: &'a str,
        entry: Option<&'a QueueEntryView>,
    },
    /// Team-only: a team member viewing, leaving or monitoring a conversation.
    #[serde(rename = "presence")]
    Presence {
        member_id: &'a str,
        name: &'a str,
        state: PresenceState,
    },
    /// Team-only: someone (a team member, or the conversation's fan) is typing. The
    /// typist's id is `member_id` or `fan_id`, whichever they are.
    #[serde(rename = "typing")]
    Typing {
        name: &'a str,
        author: AuthorView,
        #[serde(skip_serializing_if = "Option::is_none")]
        member_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        fan_id: Option<&'a str>,
    },
    /// Team-only, on `alerts`: an alert was raised.
    #[serde(rename = "alert.raised")]
    AlertRaised { alert: &'a AlertView },
    /// Team-only, on `alerts`: an alert was acknowledged or dismissed (the whole alert).
    #[serde(rename = "alert.updated")]
    AlertUpdated { alert: &'a AlertView },
    /// A room's state, title or slow mode changed; the same for every audience.
    #[serde(rename = "room.updated")]
    RoomUpdated { room: &'a RoomView },
    /// Team-only: a moderator timed a fan out of a room (or lifted it).
    #[serde(rename = "fan.timed_out")]
    FanTimedOut {
        fan_id: &'a str,
        until: Timestamp,
        by: Option<&'a str>,
    },
    /// Team-only, on `charter`: a new version of the charter is in force.
    #[serde(rename = "charter.updated")]
    CharterUpdated {
        version: i64,
        updated_by: &'a str,
        updated_at: Timestamp,
    },
    /// Timeline (`event:{id}`): a fan asked a question.
    #[serde(rename = "question.created")]
    QuestionCreated { question: &'a QuestionView },
    /// Timeline (`event:{id}`): a question's upvotes or state changed.
    #[serde(rename = "question.updated")]
    QuestionUpdated { question: &'a QuestionView },
    /// Timeline (`event:{id}`), fans only: a question the team hid; it names nothing but
    /// the question, and takes the place of every entry about it on replay.
    #[serde(rename = "question.removed")]
    QuestionRemoved { question_id: &'a str },
    /// A room's viewer counts, at most once a second; the same for every audience.
    #[serde(rename = "viewers")]
    Viewers {
        #[serde(flatten)]
        counts: ViewerCounts,
    },
}

/// The `message` of a `message.created` event.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum TimelineMessage<'a> {
    Conversation(&'a MessageView),
    Room(&'a RoomMessageView),
    Channel(&'a ChannelMessageView),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn check(event: ServerEvent<'_>, expected: Value) {
        assert_eq!(serde_json::to_value(&event).unwrap(), expected, "{event:?}");
    }

    /// The shapes clients read (docs/api.md › WebSocket; the console's `live.js`).
    #[test]
    fn wire_shapes() {
        check(
            ServerEvent::Presence {
                member_id: "mem_1",
                name: "Sam",
                state: PresenceState::Monitoring,
            },
            json!({"kind": "presence", "member_id": "mem_1", "name": "Sam", "state": "monitoring"}),
        );
        check(
            ServerEvent::Typing {
                name: "Ann",
                author: AuthorView {
                    id: "fan_1".into(),
                    kind: "fan".into(),
                    name: "Ann".into(),
                },
                member_id: None,
                fan_id: Some("fan_1"),
            },
            json!({"kind": "typing", "name": "Ann", "fan_id": "fan_1",
                "author": {"id": "fan_1", "kind": "fan", "name": "Ann"}}),
        );
        check(
            ServerEvent::QueueUpdated {
                conversation_id: "cnv_1",
                entry: None,
            },
            json!({"kind": "queue.updated", "conversation_id": "cnv_1", "entry": null}),
        );
        check(
            ServerEvent::MessageDeleted {
                message_id: "m0",
                deleted_by: None,
            },
            json!({"kind": "message.deleted", "message_id": "m0"}),
        );
        check(
            ServerEvent::Viewers {
                counts: ViewerCounts {
                    current: 1,
                    peak: 2,
                    unique: 3,
                },
            },
            json!({"kind": "viewers", "current": 1, "peak": 2, "unique": 3}),
        );
    }
}
