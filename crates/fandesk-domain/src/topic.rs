//! WebSocket topics (docs/api.md › WebSocket): `conversation:{id}`, `inbox`, `alerts`,
//! `room:{id}`, `event:{id}` (an event's questions), `charter`, `channel:{id}` (a team
//! channel).

use crate::error::RuleViolation;
use crate::ids::ConversationId;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    Inbox,
    Alerts,
    Room(String),
    /// An event's questions (`event:{id}`): timeline events, seen by every session.
    Event(String),
    /// Team-only: `charter.updated` when a new version is saved.
    Charter,
    /// A team channel (`channel:{id}`): its messages, team members only.
    Channel(String),
}

impl Topic {
    pub fn parse(text: &str) -> Result<Topic, RuleViolation> {
        let bad = || RuleViolation::invalid("topic", format!("unknown topic {text:?}"));
        match text {
            "inbox" => Ok(Topic::Inbox),
            "alerts" => Ok(Topic::Alerts),
            "charter" => Ok(Topic::Charter),
            _ => {
                let (kind, id) = text.split_once(':').ok_or_else(bad)?;
                if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(bad());
                }
                match kind {
                    "conversation" => Ok(Topic::Conversation(ConversationId::from(id))),
                    "room" => Ok(Topic::Room(id.to_owned())),
                    "event" => Ok(Topic::Event(id.to_owned())),
                    "channel" => Ok(Topic::Channel(id.to_owned())),
                    _ => Err(bad()),
                }
            }
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Conversation(id) => write!(f, "conversation:{id}"),
            Topic::Inbox => f.write_str("inbox"),
            Topic::Alerts => f.write_str("alerts"),
            Topic::Room(id) => write!(f, "room:{id}"),
            Topic::Event(id) => write!(f, "event:{id}"),
            Topic::Charter => f.write_str("charter"),
            Topic::Channel(id) => write!(f, "channel:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_and_print() {
        for text in [
            "inbox",
            "alerts",
            "conversation:c_1",
            "room:r9",
            "event:evt_1",
            "charter",
            "channel:chn_1",
        ] {
            assert_eq!(Topic::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "conversation:",
            "room",
            "event:",
            "channel:",
            "nope:1",
            "conversation:a b",
            "INBOX",
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad:?}");
        }
    }
}
