//! Team actions that change a conversation (docs/product.md › Conversations, Supervision):
//! resolve, reopen, assign, unassign, escalate, take over, hand back, snooze and its
//! wake-up. Each is decided here
//! against the current state and becomes a team-only timeline entry; supervisory ones are
//! audited.

use crate::capability::Capability;
use crate::conversation::{ConversationState, Status};
use crate::error::RuleViolation;
use crate::ids::MemberId;
use crate::role::{Principal, Role};

/// Longest escalation reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A requested change. Member names are carried so the timeline text reads well.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    Resolve,
    Reopen,
    /// Give the conversation to `member` (an agent picking from the queue assigns
    /// themselves).
    Assign {
        member: MemberId,
        name: String,
        role: Role,
    },
    Unassign,
    /// Hand to an escalation lead; the current assignee stays as observer.
    Escalate {
        lead: MemberId,
        name: String,
        reason: String,
    },
    /// The acting supervisor becomes the assignee; the agent stays as observer.
    TakeOver,
    /// Give the conversation back to the observer.
    HandBack,
    /// Set the conversation aside until `until` (checked against the clock by
    /// `snooze::check_until` before it is submitted).
    Snooze {
        until: jiff::Timestamp,
    },
    /// The snooze ending at its time (`snooze::wake`); the store checks `until` is the
    /// conversation's current wake-up time.
    Wake {
        until: jiff::Timestamp,
    },
}

/// What a decided change produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeOutcome {
    /// Team-only timeline text.
    pub text: String,
    /// The audit-log action name, when this is a supervisory action (docs/product.md ›
    /// Supervision: every supervisory action is audit-logged).
    pub audit: Option<&'static str>,
}

/// Works every conversation whoever it is assigned to (the capability table).
fn is_supervisor(role: Role) -> bool {
    role.may(Capability::SuperviseConversations)
}

impl Transition {
    /// The audit/action name.
    pub fn name(&self) -> &'static str {
        match self {
            Transition::Resolve => "resolve",
            Transition::Reopen => "reopen",
            Transition::Assign { .. } => "assign",
            Transition::Unassign => "unassign",
            Transition::Escalate { .. } => "escalate",
            Transition::TakeOver => "takeover",
            Transition::HandBack => "handback",
            Transition::Snooze { .. } => "snooze",
            Transition::Wake { .. } => "wake",
        }
    }

    /// Whether `actor` may escalate a conversation in `state` for `reason`, decided before a
    /// lead is chosen: choosing one reads the roster and may alert supervisors, which a
    /// refused caller must never cause. Every refusal of `apply_to` holds whoever the lead
    /// turns out to be, so the check runs it on a copy with the lead left blank; the commit
    /// decides again against the state it commits on.
    pub fn check_escalation(
        actor: &Principal,
        state: &ConversationState,
        reason: &str,
    ) -> Result<(), RuleViolation> {
        let probe = Transition::Escalate {
            lead: MemberId::from(""),
            name: String::new(),
            reason: reason.to_owned(),
        };
        probe.apply_to(actor, &mut state.clone()).map(drop)
    }

    /// Decides the change for `actor` and applies it to `state`.
    pub fn apply_to(
        &self,
        actor: &Principal,
        state: &mut ConversationState,
    ) -> Result<ChangeOutcome, RuleViolation> {
        actor.require(Capability::ChangeConversations)?;
        let Principal::Member {
            id: actor_id,
            role,
            name: actor_name,
        } = actor
        else {
            return Err(RuleViolation::Forbidden(
                Capability::ChangeConversations.refusal(actor),
            ));
        };
        let role = *role;
        let own = state.assignee_id.as_ref() == Some(actor_id);
        let unassigned = state.assignee_id.is_none();
        let lead_here = role == Role::EscalationLead && state.escalated;
        let may_work = is_supervisor(role) || own || unassigned || lead_here;
        if !matches!(self, Transition::Reopen) && state.status == Status::Resolved {
            return Err(RuleViolation::InvalidTransition(
                "conversation is resolved; reopen it first",
            ));
        }
        let plain = |text: String| Ok(ChangeOutcome { text, audit: None });
        let audited = |text: String, action| {
            Ok(ChangeOutcome {
                text,
                audit: Some(action),
            })
        };
        match self {
            Transition::Resolve => {
                if !may_work {
                    return Err(RuleViolation::Forbidden(
                        "this conversation is assigned to another member",
                    ));
                }
                state.status = Status::Resolved;
                plain(format!("Resolved by {actor_name}"))
            }
            Transition::Reopen => {
                if state.status != Status::Resolved {
                    return Err(RuleViolation::InvalidTransition(
                        "only a resolved conversation can be reopened",
                    ));
                }
                state.status = Status::Open;
                plain(format!("Reopened by {actor_name}"))
            }
            Transition::Assign {
                member,
                name,
                role: target_role,
            } => {
                if !target_role.is_human() {
                    return Err(RuleViolation::invalid(
                        "member_id",
                        "bots cannot be assigned",
                    ));
                }
                let self_pick = member == actor_id && unassigned;
                if !(is_supervisor(role) || lead_here || self_pick) {
                    return Err(RuleViolation::Forbidden(
                        "agents may only pick unassigned conversations for themselves",
                    ));
                }
                if state.assignee_id.as_ref() == Some(member) {
                    return Err(RuleViolation::InvalidTransition(
                        "already assigned to this member",
                    ));
                }
                let reassign = state.assignee_id.is_some();
                state.assignee_id = Some(member.clone());
                let text = format!("Assigned to {name} by {actor_name}");
                if reassign && member != actor_id {
                    audited(text, "reassign")
                } else {
                    plain(text)
                }
            }
            Transition::Unassign => {
                if !(is_supervisor(role) || own) {
                    return Err(RuleViolation::Forbidden(
                        "only the assignee or a supervisor can unassign",
                    ));
                }
                if unassigned {
                    return Err(RuleViolation::InvalidTransition(
                        "conversation is not assigned",
                    ));
                }
                state.assignee_id = None;
                plain(format!("Unassigned by {actor_name}"))
            }
            Transition::Escalate { lead, name, reason } => {
                crate::text::refuse_nul("reason", reason)?;
                let chars = reason.trim().chars().count();
                if chars == 0 || chars > MAX_REASON_CHARS {
                    return Err(RuleViolation::invalid(
                        "reason",
                        format!("must be 1 to {MAX_REASON_CHARS} characters"),
                    ));
                }
                if !(is_supervisor(role) || own || unassigned) {
                    return Err(RuleViolation::Forbidden(
                        "this conversation is assigned to another member",
                    ));
                }
                if state.escalated {
                    return Err(RuleViolation::InvalidTransition(
                        "conversation is already escalated",
                    ));
                }
                state.escalated = true;
                state.escalated_to = Some(lead.clone());
                if state.assignee_id.as_ref() != Some(lead) {
                    state.observer_id = state.assignee_id.take();
                }
                state.assignee_id = Some(lead.clone());
                audited(
                    format!("Escalated to {name} by {actor_name}: {}", reason.trim()),
                    "escalate",
                )
            }
            Transition::TakeOver => {
                if !(is_supervisor(role) || lead_here) {
                    return Err(RuleViolation::Forbidden(
                        "only supervisors, the owner or the escalation lead take over",
                    ));
                }
                if own {
                    return Err(RuleViolation::InvalidTransition(
                        "you are already the assignee",
                    ));
                }
                state.observer_id = state.assignee_id.take();
                state.assignee_id = Some(actor_id.clone());
                audited(format!("Taken over by {actor_name}"), "takeover")
            }
            Transition::HandBack => {
                if !(own || is_supervisor(role)) {
                    return Err(RuleViolation::Forbidden(
                        "only the assignee or a supervisor hands back",
                    ));
                }
                let Some(observer) = state.observer_id.take() else {
                    return Err(RuleViolation::InvalidTransition("nobody to hand back to"));
                };
                state.assignee_id = Some(observer);
                audited(format!("Handed back by {actor_name}"), "handback")
            }
            Transition::Snooze { until } => {
                if !(is_supervisor(role) || own || lead_here) {
                    return Err(RuleViolation::Forbidden(
                        "only the assignee or a supervisor snoozes a conversation",
                    ));
                }
                state.status = Status::Snoozed;
                plain(format!(
                    "Snoozed by {actor_name} until {}",
                    until.strftime("%Y-%m-%d %H:%M UTC")
                ))
            }
            Transition::Wake { .. } => {
                if state.status != Status::Snoozed {
                    return Err(RuleViolation::InvalidTransition(
                        "conversation is not snoozed",
                    ));
                }
                state.status = Status::Open;
                plain("Snooze ended: its time came".to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FanId;

    fn member(id: &str, role: Role) -> Principal {
        Principal::Member {
            id: MemberId::from(id),
            role,
            name: id.to_uppercase(),
        }
    }

    fn state(assignee: Option<&str>, status: Status) -> ConversationState {
        ConversationState {
            fan_id: FanId::from("f"),
            status,
            assignee_id: assignee.map(MemberId::from),
            escalated: false,
            escalated_to: None,
            observer_id: None,
        }
    }

    /// Expected (assignee, observer, status, audit action), or None if refused.
    type Expected<'a> = Option<(Option<&'a str>, Option<&'a str>, Status, Option<&'a str>)>;

    fn check(
        actor: Principal,
        mut before: ConversationState,
        change: Transition,
        expected: Expected<'_>,
    ) {
        let got = change.apply_to(&actor, &mut before).ok().map(|outcome| {
            (
                before.assignee_id.as_ref().map(|id| id.0.clone()),
                before.observer_id.as_ref().map(|id| id.0.clone()),
                before.status,
                outcome.audit.map(str::to_owned),
            )
        });
        let expected = expected.map(|(a, o, s, audit)| {
            (
                a.map(str::to_owned),
                o.map(str::to_owned),
                s,
                audit.map(str::to_owned),
            )
        });
        assert_eq!(got, expected, "{actor:?} {change:?}");
    }

    fn assign(id: &str, role: Role) -> Transition {
        Transition::Assign {
            member: MemberId::from(id),
            name: id.into(),
            role,
        }
    }

    #[test]
    fn snooze_and_wake() {
        use Status::*;
        let until = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let snooze = || Transition::Snooze { until };
        let wake = || Transition::Wake { until };
        let sup = || member("s", Role::Supervisor);
        let agent = |id: &str| member(id, Role::Agent);
        let lead = member("l", Role::EscalationLead);
        let mut escalated = state(Some("l"), Open);
        escalated.escalated = true;
        // (actor, before, change, expected)
        let cases: Vec<(Principal, ConversationState, Transition, Expected<'_>)> = vec![
            // The assignee, supervisors and the lead of an escalated one snooze.
            (
                agent("a"),
                state(Some("a"), Open),
                snooze(),
                Some((Some("a"), None, Snoozed, None)),
            ),
            (
                agent("a"),
                state(Some("a"), Pending),
                snooze(),
                Some((Some("a"), None, Snoozed, None)),
            ),
            (
                sup(),
                state(Some("b"), Open),
                snooze(),
                Some((Some("b"), None, Snoozed, None)),
            ),
            (
                sup(),
                state(None, Open),
                snooze(),
                Some((None, None, Snoozed, None)),
            ),
            (
                lead.clone(),
                escalated.clone(),
                snooze(),
                Some((Some("l"), None, Snoozed, None)),
            ),
            // A new time for a snoozed one.
            (
                agent("a"),
                state(Some("a"), Snoozed),
                snooze(),
                Some((Some("a"), None, Snoozed, None)),
            ),
            // Another agent's, or an unassigned one for an agent: refused.
            (agent("a"), state(Some("b"), Open), snooze(), None),
            (agent("a"), state(None, Open), snooze(), None),
            // Resolved: refused (409).
            (sup(), state(Some("a"), Resolved), snooze(), None),
            // The wake-up: only from snoozed, to open, assignee kept.
            (
                agent("a"),
                state(Some("a"), Snoozed),
                wake(),
                Some((Some("a"), None, Open, None)),
            ),
            (
                sup(),
                state(None, Snoozed),
                wake(),
                Some((None, None, Open, None)),
            ),
            (agent("a"), state(Some("a"), Open), wake(), None),
            (agent("a"), state(Some("a"), Resolved), wake(), None),
        ];
        for (actor, before, change, expected) in cases {
            check(actor, before, change, expected);
        }
        let refused = snooze().apply_to(&sup(), &mut state(None, Resolved));
        assert!(matches!(refused, Err(RuleViolation::InvalidTransition(_))));
        let fan = Principal::Fan {
            id: FanId::from("f"),
            name: "F".into(),
        };
        assert!(snooze().apply_to(&fan, &mut state(None, Open)).is_err());
    }

    #[test]
    fn changes() {
        use Status::*;
        let sup = || member("s", Role::Supervisor);
        let agent = |id: &str| member(id, Role::Agent);
        // Resolve / reopen.
        check(
            agent("a"),
            state(Some("a"), Open),
            Transition::Resolve,
            Some((Some("a"), None, Resolved, None)),
        );
        check(
            agent("a"),
            state(Some("b"), Open),
            Transition::Resolve,
            None,
        );
        check(
            sup(),
            state(Some("b"), Open),
            Transition::Resolve,
            Some((Some("b"), None, Resolved, None)),
        );
        check(sup(), state(None, Resolved), Transition::Resolve, None);
        check(
            agent("a"),
            state(None, Resolved),
            Transition::Reopen,
            Some((None, None, Open, None)),
        );
        check(agent("a"), state(None, Open), Transition::Reopen, None);
        check(
            member("bot", Role::Bot),
            state(None, Open),
            Transition::Resolve,
            None,
        );
        // Assign: agents pick for themselves; supervisors reassign (audited).
        check(
            agent("a"),
            state(None, Open),
            assign("a", Role::Agent),
            Some((Some("a"), None, Open, None)),
        );
        check(
            agent("a"),
            state(None, Open),
            assign("b", Role::Agent),
            None,
        );
        check(
            agent("a"),
            state(Some("b"), Open),
            assign("a", Role::Agent),
            None,
        );
        check(
            sup(),
            state(Some("b"), Open),
            assign("c", Role::Agent),
            Some((Some("c"), None, Open, Some("reassign"))),
        );
        check(
            sup(),
            state(None, Open),
            assign("c", Role::Agent),
            Some((Some("c"), None, Open, None)),
        );
        check(sup(), state(None, Open), assign("bot", Role::Bot), None);
        check(
            sup(),
            state(Some("c"), Open),
            assign("c", Role::Agent),
            None,
        );
        // Unassign.
        check(
            agent("a"),
            state(Some("a"), Open),
            Transition::Unassign,
            Some((None, None, Open, None)),
        );
        check(
            agent("a"),
            state(Some("b"), Open),
            Transition::Unassign,
            None,
        );
        // Take over keeps the agent as observer; hand back restores them.
        check(
            sup(),
            state(Some("a"), Open),
            Transition::TakeOver,
            Some((Some("s"), Some("a"), Open, Some("takeover"))),
        );
        check(
            agent("b"),
            state(Some("a"), Open),
            Transition::TakeOver,
            None,
        );
        check(sup(), state(Some("s"), Open), Transition::TakeOver, None);
        let mut taken = state(Some("s"), Open);
        taken.observer_id = Some(MemberId::from("a"));
        check(
            sup(),
            taken.clone(),
            Transition::HandBack,
            Some((Some("a"), None, Open, Some("handback"))),
        );
        check(agent("b"), taken, Transition::HandBack, None);
        check(sup(), state(Some("s"), Open), Transition::HandBack, None);
    }

    #[test]
    fn escalation_is_refused_before_a_lead_is_chosen() {
        let sup = || member("s", Role::Supervisor);
        let agent = |id: &str| member(id, Role::Agent);
        let fan = Principal::Fan {
            id: FanId::from("f"),
            name: "F".into(),
        };
        let mut escalated = state(Some("l"), Status::Open);
        escalated.escalated = true;
        let table: [(Principal, ConversationState, &str, bool); 9] = [
            (fan, state(None, Status::Open), "help", false),
            (
                member("bot", Role::Bot),
                state(None, Status::Open),
                "help",
                false,
            ),
            (agent("b"), state(Some("a"), Status::Open), "help", false),
            (
                agent("a"),
                state(Some("a"), Status::Resolved),
                "help",
                false,
            ),
            (agent("a"), state(Some("a"), Status::Open), "   ", false),
            (sup(), escalated, "again", false),
            (agent("a"), state(Some("a"), Status::Open), "refund", true),
            (agent("b"), state(None, Status::Open), "refund", true),
            (sup(), state(Some("a"), Status::Open), "refund", true),
        ];
        for (actor, before, reason, allowed) in table {
            let got = Transition::check_escalation(&actor, &before, reason);
            assert_eq!(got.is_ok(), allowed, "{actor:?} on {before:?}: {got:?}");
        }
    }

    #[test]
    fn escalation_hands_to_the_lead_and_keeps_the_agent_watching() {
        let escalate = |reason: &str| Transition::Escalate {
            lead: MemberId::from("l"),
            name: "L".into(),
            reason: reason.into(),
        };
        let mut conversation = state(Some("a"), Status::Open);
        let outcome = escalate("chargeback threat")
            .apply_to(&member("a", Role::Agent), &mut conversation)
            .unwrap();
        assert_eq!(outcome.audit, Some("escalate"));
        assert!(conversation.escalated);
        assert_eq!(conversation.assignee_id, Some(MemberId::from("l")));
        assert_eq!(conversation.escalated_to, Some(MemberId::from("l")));
        assert_eq!(conversation.observer_id, Some(MemberId::from("a")));
        // Twice is a conflict; an empty reason is invalid; another agent may not.
        assert!(
            escalate("again")
                .apply_to(&member("s", Role::Supervisor), &mut conversation)
                .is_err()
        );
        let mut fresh = state(Some("a"), Status::Open);
        assert!(
            escalate("  ")
                .apply_to(&member("a", Role::Agent), &mut fresh)
                .is_err()
        );
        assert!(
            escalate("x")
                .apply_to(&member("b", Role::Agent), &mut fresh)
                .is_err()
        );
        // The lead now works it, and may take it over from nobody else.
        let lead = member("l", Role::EscalationLead);
        assert!(
            Transition::Resolve
                .apply_to(&lead, &mut conversation)
                .is_ok()
        );
    }
}
