//! The conversation state machine (docs/product.md › Conversations): `open` → `pending` /
//! `snoozed` → `resolved`, reopen back to `open`; `escalated` is a flag, not a state.

use crate::ids::{FanId, MemberId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Pending,
        Status::Snoozed,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// A fan "continues their unresolved one" (docs/product.md › Conversations) while it is
    /// not resolved.
    pub fn is_active(self) -> bool {
        self != Status::Resolved
    }
}

/// The parts of a conversation that rules depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationState {
    pub fan_id: FanId,
    pub status: Status,
    pub assignee_id: Option<MemberId>,
    pub escalated: bool,
    /// The escalation lead who owns an escalated conversation.
    pub escalated_to: Option<MemberId>,
    /// The previous assignee after a takeover or an escalation, who keeps watching and can
    /// be handed the conversation back (docs/product.md › Supervision: take over).
    pub observer_id: Option<MemberId>,
}

pub use crate::change::Transition;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("closed"), None);
    }
}
