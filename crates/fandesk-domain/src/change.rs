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
#[path = "change_tests.rs"]
mod tests;
