//! Who may read and post where (docs/product.md › Roles). Handlers never
//! check roles themselves; they ask these functions and the capability table.

use crate::capability::Capability;
use crate::conversation::ConversationState;
use crate::error::RuleViolation;
use crate::role::{Principal, Role};
use crate::visibility::Visibility;

/// What posting does besides appending the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostDecision {
    /// An agent's public reply in an unassigned conversation makes them the assignee.
    pub claims: bool,
    /// Bot messages are always labelled automated (docs/product.md › Principles, 3).
    pub automated: bool,
}

const PLAIN: PostDecision = PostDecision {
    claims: false,
    automated: false,
};

/// Every team member can read every conversation; a fan only their own, and any other
/// conversation does not exist for them (404, never 403).
pub fn can_read_conversation(
    principal: &Principal,
    conversation: &ConversationState,
) -> Result<(), RuleViolation> {
    match principal {
        Principal::Member { .. } => Ok(()),
        Principal::Fan { id, .. } if *id == conversation.fan_id => Ok(()),
        Principal::Fan { .. } => Err(RuleViolation::Hidden),
    }
}

/// Decides whether `principal` may post a message of `visibility` in `conversation`.
pub fn decide_post(
    principal: &Principal,
    conversation: &ConversationState,
    visibility: Visibility,
) -> Result<PostDecision, RuleViolation> {
    can_read_conversation(principal, conversation)?;
    if !conversation.status.is_active() {
        return Err(RuleViolation::InvalidTransition(
            "conversation is resolved; reopen it (team) or open a new one (fan)",
        ));
    }
    let (member_id, role) = match principal {
        Principal::Fan { .. } => {
            return if visibility == Visibility::Public {
                Ok(PLAIN)
            } else {
                Err(RuleViolation::Forbidden(
                    "fans may only send public messages",
                ))
            };
        }
        Principal::Member { id, role, .. } => (id, *role),
    };
    let assigned_to_self = conversation.assignee_id.as_ref() == Some(member_id);
    let unassigned = conversation.assignee_id.is_none();
    let as_agent = || {
        if assigned_to_self {
            Ok(PLAIN)
        } else if unassigned {
            Ok(PostDecision {
                claims: visibility == Visibility::Public,
                automated: false,
            })
        } else {
            Err(RuleViolation::Forbidden(
                "this conversation is assigned to another member",
            ))
        }
    };
    match role {
        _ if role.may(Capability::SuperviseConversations) => Ok(PLAIN),
        Role::EscalationLead if conversation.escalated => Ok(PLAIN),
        Role::Bot if unassigned => Ok(PostDecision {
            claims: false,
            automated: true,
        }),
        Role::Bot => Err(RuleViolation::Forbidden(
            "bots may only post in conversations no human is assigned to",
        )),
        Role::Owner | Role::Supervisor | Role::EscalationLead | Role::Agent => as_agent(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Status;
    use crate::ids::{FanId, MemberId};

    fn member(id: &str, role: Role) -> Principal {
        Principal::Member {
            id: MemberId::from(id),
            role,
            name: id.to_owned(),
        }
    }

    fn fan(id: &str) -> Principal {
        Principal::Fan {
            id: FanId::from(id),
            name: id.to_owned(),
        }
    }

    fn conversation(assignee: Option<&str>, escalated: bool, status: Status) -> ConversationState {
        ConversationState {
            fan_id: FanId::from("fan1"),
            status,
            assignee_id: assignee.map(MemberId::from),
            escalated,
            escalated_to: None,
            observer_id: None,
        }
    }

    /// `expected`: None = refused, Some((claims, automated)).
    fn check(
        principal: Principal,
        state: ConversationState,
        visibility: Visibility,
        expected: Option<(bool, bool)>,
    ) {
        let got = decide_post(&principal, &state, visibility)
            .ok()
            .map(|decision| (decision.claims, decision.automated));
        assert_eq!(
            got, expected,
            "{principal:?} in {state:?} posting {visibility:?}"
        );
    }

    #[test]
    fn posting_rules() {
        use Status::*;
        use Visibility::*;
        let open = |assignee| conversation(assignee, false, Open);
        // Fans: own conversation, public only.
        check(fan("fan1"), open(None), Public, Some((false, false)));
        check(fan("fan1"), open(None), Internal, None);
        check(fan("fan2"), open(None), Public, None);
        // Agents: unassigned (public reply claims) or their own.
        check(
            member("a1", Role::Agent),
            open(None),
            Public,
            Some((true, false)),
        );
        check(
            member("a1", Role::Agent),
            open(None),
            Internal,
            Some((false, false)),
        );
        check(
            member("a1", Role::Agent),
            open(Some("a1")),
            Public,
            Some((false, false)),
        );
        check(member("a1", Role::Agent), open(Some("a2")), Public, None);
        check(member("a1", Role::Agent), open(Some("a2")), Internal, None);
        // Supervisors and the owner: anywhere, never claiming.
        check(
            member("s", Role::Supervisor),
            open(Some("a2")),
            Public,
            Some((false, false)),
        );
        check(
            member("s", Role::Supervisor),
            open(None),
            Internal,
            Some((false, false)),
        );
        check(
            member("o", Role::Owner),
            open(Some("a2")),
            Public,
            Some((false, false)),
        );
        // Escalation leads: escalated conversations, and wherever an agent may.
        check(
            member("l", Role::EscalationLead),
            conversation(Some("a2"), true, Open),
            Public,
            Some((false, false)),
        );
        check(
            member("l", Role::EscalationLead),
            open(Some("a2")),
            Public,
            None,
        );
        check(
            member("l", Role::EscalationLead),
            open(None),
            Public,
            Some((true, false)),
        );
        // Bots: only where no human is assigned, always automated, never claiming.
        check(
            member("b", Role::Bot),
            open(None),
            Public,
            Some((false, true)),
        );
        check(member("b", Role::Bot), open(Some("a1")), Public, None);
        // Nobody posts in a resolved conversation.
        check(
            fan("fan1"),
            conversation(None, false, Resolved),
            Public,
            None,
        );
        check(
            member("o", Role::Owner),
            conversation(None, false, Resolved),
            Public,
            None,
        );
        // Pending and snoozed conversations still take messages.
        check(
            fan("fan1"),
            conversation(None, false, Pending),
            Public,
            Some((false, false)),
        );
        check(
            fan("fan1"),
            conversation(None, false, Snoozed),
            Public,
            Some((false, false)),
        );
    }

    #[test]
    fn another_fans_conversation_is_hidden_not_forbidden() {
        let state = conversation(None, false, Status::Open);
        assert_eq!(
            can_read_conversation(&fan("fan2"), &state),
            Err(RuleViolation::Hidden)
        );
        assert_eq!(can_read_conversation(&fan("fan1"), &state), Ok(()));
        assert_eq!(
            can_read_conversation(&member("b", Role::Bot), &state),
            Ok(())
        );
    }
}
