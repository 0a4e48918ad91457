//! The conversation state machine (PRODUCT.md › C1): `open` → `pending` / `snoozed` →
//! `resolved`, reopen back to `open`; `escalated` is a flag, not a state.

use crate::error::RuleViolation;
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
    pub const ALL: [Status; 4] = [Status::Open, Status::Pending, Status::Snoozed, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// A fan "continues their open one" (PRODUCT.md › C1) while it is not resolved.
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
}

/// A requested status change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Resolve,
    Reopen,
}

impl Transition {
    /// The state after the transition, or why it is not allowed.
    pub fn apply(self, from: Status) -> Result<Status, RuleViolation> {
        match (self, from) {
            (Transition::Resolve, Status::Resolved) => {
                Err(RuleViolation::InvalidTransition("conversation is already resolved"))
            }
            (Transition::Resolve, _) => Ok(Status::Resolved),
            (Transition::Reopen, Status::Resolved) => Ok(Status::Open),
            (Transition::Reopen, _) => {
                Err(RuleViolation::InvalidTransition("only a resolved conversation can be reopened"))
            }
        }
    }

    /// The team-visible timeline text for this transition (PRODUCT.md › C1: state changes are
    /// events in the conversation's timeline).
    pub fn timeline_text(self, actor_name: &str) -> String {
        match self {
            Transition::Resolve => format!("Resolved by {actor_name}"),
            Transition::Reopen => format!("Reopened by {actor_name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(transition: Transition, from: Status, expected: Option<Status>) {
        let got = transition.apply(from).ok();
        assert_eq!(got, expected, "{transition:?} from {from:?}");
    }

    #[test]
    fn transitions() {
        check(Transition::Resolve, Status::Open, Some(Status::Resolved));
        check(Transition::Resolve, Status::Pending, Some(Status::Resolved));
        check(Transition::Resolve, Status::Snoozed, Some(Status::Resolved));
        check(Transition::Resolve, Status::Resolved, None);
        check(Transition::Reopen, Status::Resolved, Some(Status::Open));
        check(Transition::Reopen, Status::Open, None);
        check(Transition::Reopen, Status::Pending, None);
    }

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("closed"), None);
    }
}
