//! What a caller should get from a classified operation, derived from the domain: the
//! capability table (`Role::may`), and for conversations and rooms the rules themselves
//! (`can_read_conversation`, `decide_post`, `Transition::apply_to`, `decide_room_post`)
//! run against the state the server reports for the object.

use super::table::{Change, ConversationRule, Who};
use fandesk_domain::change::Transition;
use fandesk_domain::room::{RoomState, decide_room_post};
use fandesk_domain::{
    Capability, ConversationState, FanId, MemberId, Principal, Role, RuleViolation, Visibility,
    can_read_conversation, decide_post,
};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Member(Role),
    Fan,
    Anonymous,
}

impl Caller {
    pub const ALL: [Caller; 7] = [
        Caller::Member(Role::Owner),
        Caller::Member(Role::Supervisor),
        Caller::Member(Role::EscalationLead),
        Caller::Member(Role::Agent),
        Caller::Member(Role::Bot),
        Caller::Fan,
        Caller::Anonymous,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Caller::Member(role) => role.as_str(),
            Caller::Fan => "fan",
            Caller::Anonymous => "anonymous",
        }
    }
}

/// Which instance of the object the call names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The route names no object.
    None,
    /// The caller's own: their conversation (fans), one assigned to them (humans) or
    /// unassigned (bots, who are never assigned); their own profile (fans).
    Own,
    /// Someone else's: another fan's conversation assigned to another agent; another
    /// fan's profile; for objects nobody owns, one that exists.
    Other,
    /// An id that exists nowhere.
    Missing,
}

/// The answer a cell must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Anything but 401/403 (and never 5xx); 404 when the object is missing.
    Allowed,
    /// 401 (anonymous) or 403; 404 also passes (a refused caller may not learn whether a
    /// missing object exists either).
    Refused,
    /// 404, the answer the protocol gives for another fan's objects.
    Hidden,
}

/// The principal the domain reasons about for `caller` (`id` is theirs).
pub fn principal(caller: Caller, id: &str) -> Option<Principal> {
    match caller {
        Caller::Member(role) => Some(Principal::Member {
            id: MemberId::from(id),
            role,
            name: caller.label().to_owned(),
        }),
        Caller::Fan => Some(Principal::Fan {
            id: FanId::from(id),
            name: "fan".to_owned(),
        }),
        Caller::Anonymous => None,
    }
}

fn from_rule<T>(result: Result<T, RuleViolation>) -> Expect {
    match result {
        Ok(_) => Expect::Allowed,
        Err(RuleViolation::Forbidden(_)) => Expect::Refused,
        Err(RuleViolation::Hidden) => Expect::Hidden,
        // Bad input, a state that does not allow it, a bot rule: the caller was let in.
        Err(_) => Expect::Allowed,
    }
}

/// The facts the expectation depends on, besides the caller.
pub struct Facts<'a> {
    pub principal: Option<&'a Principal>,
    /// The conversation as the server reports it (conversation routes, when it exists).
    pub conversation: Option<&'a ConversationState>,
    /// The room's effective state (room posts).
    pub room: Option<RoomState>,
    /// Whether the object is missing.
    pub missing: bool,
    /// An assignment's target (`member_id` of the body) and their role.
    pub assignee: Option<(&'a str, Role)>,
}

/// The expectation of one cell.
pub fn expect(who: Who, facts: &Facts<'_>) -> Expect {
    let Some(principal) = facts.principal else {
        return match who {
            Who::Public => Expect::Allowed,
            _ => Expect::Refused,
        };
    };
    let holds = |capability: Capability| principal.may(capability);
    let gate = |admitted: bool| {
        if !admitted {
            Expect::Refused
        } else if facts.missing {
            Expect::Hidden
        } else {
            Expect::Allowed
        }
    };
    match who {
        Who::Public => Expect::Allowed,
        Who::MetricsToken => Expect::Refused,
        Who::Signed => gate(true),
        Who::Holds(capability) => gate(holds(capability)),
        Who::FanOnly => gate(principal.is_fan()),
        Who::ScheduledReplyAuthor => {
            if !holds(Capability::ScheduleReplies) {
                Expect::Refused
            } else if facts.missing {
                Expect::Hidden
            } else if principal.role() == Some(Role::Owner)
                || holds(Capability::SuperviseConversations)
            {
                Expect::Allowed
            } else {
                Expect::Refused
            }
        }
        Who::RoomPost => match facts.room {
            None => Expect::Hidden,
            Some(state) => {
                let now = jiff::Timestamp::now();
                match decide_room_post(principal, state, 0, None, now) {
                    Ok(_) => Expect::Allowed,
                    Err(fandesk_domain::room::RoomRefusal::Rule(rule)) => {
                        from_rule::<()>(Err(rule))
                    }
                    Err(_) => Expect::Allowed,
                }
            }
        },
        Who::Conversation(rule) => {
            let Some(state) = facts.conversation else {
                // Missing: a caller the role gate admits learns it is missing.
                let admitted = match rule {
                    ConversationRule::Read | ConversationRule::Post => true,
                    ConversationRule::Change(change) => holds(change.capability()),
                    ConversationRule::Monitor => holds(Capability::Monitor),
                };
                return gate(admitted);
            };
            conversation(rule, principal, state, facts.assignee)
        }
    }
}

fn conversation(
    rule: ConversationRule,
    principal: &Principal,
    state: &ConversationState,
    assignee: Option<(&str, Role)>,
) -> Expect {
    match rule {
        ConversationRule::Read => from_rule(can_read_conversation(principal, state)),
        ConversationRule::Post => from_rule(decide_post(principal, state, Visibility::Public)),
        ConversationRule::Monitor => {
            if !principal.may(Capability::Monitor) {
                return Expect::Refused;
            }
            if let Err(hidden) = can_read_conversation(principal, state) {
                return from_rule::<()>(Err(hidden));
            }
            if principal.role() == Some(Role::EscalationLead) && !state.escalated {
                Expect::Refused
            } else {
                Expect::Allowed
            }
        }
        ConversationRule::Change(change) => {
            // The role gate comes first (as in `apply_to`), so a fan is refused alike
            // whether the conversation is theirs, another's or missing.
            if !principal.may(change.capability()) {
                return Expect::Refused;
            }
            if let Err(hidden) = can_read_conversation(principal, state) {
                return from_rule::<()>(Err(hidden));
            }
            let transition = match change {
                Change::Resolve => Transition::Resolve,
                Change::Reopen => Transition::Reopen,
                Change::Unassign => Transition::Unassign,
                Change::TakeOver => Transition::TakeOver,
                Change::HandBack => Transition::HandBack,
                // The time is checked before the state; the matrix sends a valid one.
                Change::Snooze => Transition::Snooze {
                    until: jiff::Timestamp::now(),
                },
                Change::Assign => {
                    let (member, role) = assignee.expect("an assignment names its target");
                    Transition::Assign {
                        member: MemberId::from(member),
                        name: String::new(),
                        role,
                    }
                }
                Change::Escalate => {
                    return from_rule(Transition::check_escalation(
                        principal,
                        state,
                        super::ESCALATION_REASON,
                    ));
                }
            };
            from_rule(transition.apply_to(principal, &mut state.clone()))
        }
    }
}
