//! WebSocket topics (docs/api.md › WebSocket): `conversation:{id}`, `inbox`, `alerts`,
//! `room:{id}`, `charter`.

use crate::error::RuleViolation;
use crate::ids::ConversationId;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    Inbox,
    Alerts,
    Room(String),
    /// Team-only: `charter.updated` when a new version is saved.
    Charter,
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
            Topic::Charter => f.write_str("charter"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_parse_and_print() {
        for text in ["inbox", "alerts", "conversation:c_1", "room:r9", "charter"] {
            assert_eq!(Topic::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "conversation:",
            "room",
            "nope:1",
            "conversation:a b",
            "INBOX",
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad:?}");
        }
    }
}
