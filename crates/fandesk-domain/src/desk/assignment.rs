//! Who gets a conversation (docs/product.md › Routing, priority and shifts): an on-shift
//! agent with free capacity, sticky to the fan's previous agent, otherwise the least
//! loaded; and which escalation lead receives an escalation.
//!
//! Pure choice over loads the service has read in the same transaction; making sure a
//! conversation is never assigned twice concurrently is the store's job.

use crate::ids::MemberId;
use serde::Serialize;
use std::cmp::Ordering;

/// One member's current load, as the service sees it at assignment time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentLoad {
    pub id: MemberId,
    /// Inside one of their shifts and clocked in (the service decides both).
    pub on_shift: bool,
    /// Open conversations assigned to them (for leads: escalations they own).
    pub active_conversations: u32,
    /// The per-agent ceiling; 0 means "takes no automatic assignments".
    pub max_concurrent: u32,
    /// Conversations assigned to them today: spreads work across equally loaded agents.
    pub assigned_today: u32,
}

impl AgentLoad {
    pub fn has_capacity(&self) -> bool {
        self.active_conversations < self.max_concurrent
    }

    fn is_candidate(&self) -> bool {
        self.on_shift && self.has_capacity()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentReason {
    /// The fan's previous agent, on shift with capacity.
    Sticky,
    /// The candidate with the lowest load.
    LeastLoaded,
    /// Every lead on shift is at capacity; an escalation still needs an owner.
    LeadOverCapacity,
}

impl AssignmentReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentReason::Sticky => "sticky",
            AssignmentReason::LeastLoaded => "least_loaded",
            AssignmentReason::LeadOverCapacity => "lead_over_capacity",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub member_id: MemberId,
    pub reason: AssignmentReason,
}

/// Chooses the agent for a new or reopened conversation, or `None` when nobody on shift
/// has capacity (the conversation stays in the queue).
///
/// Candidates are on shift with `active < max`. The fan's previous agent wins when they
/// are a candidate, so the fan keeps talking to the same person. Otherwise the lowest
/// *utilisation* (`active / max`) wins, so an agent configured for 8 conversations takes
/// proportionally more than one configured for 3; ties go to fewer active conversations,
/// then fewer assigned today, then the smaller id, so the choice is deterministic.
pub fn choose_agent(agents: &[AgentLoad], previous_agent: Option<&MemberId>) -> Option<Assignment> {
    if let Some(previous) = previous_agent
        && let Some(agent) = agents
            .iter()
            .find(|agent| agent.id == *previous && agent.is_candidate())
    {
        return Some(Assignment {
            member_id: agent.id.clone(),
            reason: AssignmentReason::Sticky,
        });
    }
    agents
        .iter()
        .filter(|agent| agent.is_candidate())
        .min_by(|a, b| by_utilisation(a, b))
        .map(|agent| Assignment {
            member_id: agent.id.clone(),
            reason: AssignmentReason::LeastLoaded,
        })
}

/// Chooses the escalation lead among leads on shift, never the member who escalates.
///
/// Leads with capacity are chosen like agents (least utilised first). When all of them are
/// full the escalation still goes to the lead with the fewest active conversations: an
/// escalation is "a flag with the lead who owns it" (docs/product.md › Conversations) and
/// must not wait in a queue. `None` only when no lead is on shift; the service then alerts
/// supervisors.
pub fn choose_escalation_lead(
    leads: &[AgentLoad],
    escalating_member: Option<&MemberId>,
) -> Option<Assignment> {
    let on_shift = || {
        leads
            .iter()
            .filter(|lead| lead.on_shift && Some(&lead.id) != escalating_member)
    };
    if let Some(lead) = on_shift()
        .filter(|lead| lead.has_capacity())
        .min_by(|a, b| by_utilisation(a, b))
    {
        return Some(Assignment {
            member_id: lead.id.clone(),
            reason: AssignmentReason::LeastLoaded,
        });
    }
    on_shift()
        .min_by(|a, b| by_count(a, b))
        .map(|lead| Assignment {
            member_id: lead.id.clone(),
            reason: AssignmentReason::LeadOverCapacity,
        })
}

/// `a.active / a.max` against `b.active / b.max` without floating point; both maxima are
/// non-zero for candidates with capacity.
fn by_utilisation(a: &AgentLoad, b: &AgentLoad) -> Ordering {
    let left = u64::from(a.active_conversations) * u64::from(b.max_concurrent);
    let right = u64::from(b.active_conversations) * u64::from(a.max_concurrent);
    left.cmp(&right).then_with(|| by_count(a, b))
}

fn by_count(a: &AgentLoad, b: &AgentLoad) -> Ordering {
    a.active_conversations
        .cmp(&b.active_conversations)
        .then(a.assigned_today.cmp(&b.assigned_today))
        .then_with(|| a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(id, on_shift, active, max, assigned_today)`.
    type Row = (&'static str, bool, u32, u32, u32);

    fn loads(rows: &[Row]) -> Vec<AgentLoad> {
        rows.iter()
            .map(|&(id, on_shift, active, max, today)| AgentLoad {
                id: MemberId::from(id),
                on_shift,
                active_conversations: active,
                max_concurrent: max,
                assigned_today: today,
            })
            .collect()
    }

    /// `expected`: `"id reason"` or `"none"`.
    fn check(rows: &[Row], previous: Option<&str>, expected: &str) {
        let previous = previous.map(MemberId::from);
        let got = choose_agent(&loads(rows), previous.as_ref());
        assert_eq!(render(got), expected, "{rows:?} previous {previous:?}");
    }

    fn check_lead(rows: &[Row], escalating: Option<&str>, expected: &str) {
        let escalating = escalating.map(MemberId::from);
        let got = choose_escalation_lead(&loads(rows), escalating.as_ref());
        assert_eq!(render(got), expected, "{rows:?} escalating {escalating:?}");
    }

    fn render(choice: Option<Assignment>) -> String {
        match choice {
            Some(choice) => format!("{} {}", choice.member_id, choice.reason.as_str()),
            None => "none".into(),
        }
    }

    #[test]
    fn agent_choice() {
        // Least loaded first.
        check(
            &[("a", true, 2, 5, 0), ("b", true, 1, 5, 9)],
            None,
            "b least_loaded",
        );
        // Sticky beats least loaded when the previous agent is on shift with capacity.
        check(
            &[("a", true, 4, 5, 0), ("b", true, 0, 5, 0)],
            Some("a"),
            "a sticky",
        );
        // ...but not when they are full,
        check(
            &[("a", true, 5, 5, 0), ("b", true, 3, 5, 0)],
            Some("a"),
            "b least_loaded",
        );
        // ...or off shift,
        check(
            &[("a", false, 0, 5, 0), ("b", true, 3, 5, 0)],
            Some("a"),
            "b least_loaded",
        );
        // ...or gone from the team.
        check(&[("b", true, 3, 5, 0)], Some("gone"), "b least_loaded");
        // Off-shift and full agents are never chosen; nobody left → stays queued.
        check(&[("a", false, 0, 5, 0), ("b", true, 5, 5, 0)], None, "none");
        check(&[("a", true, 0, 0, 0)], None, "none");
        check(&[], Some("a"), "none");
        // Load is utilisation: 3 of 8 is lighter than 2 of 3.
        check(
            &[("small", true, 2, 3, 0), ("big", true, 3, 8, 0)],
            None,
            "big least_loaded",
        );
        // Equal utilisation: fewer active, then fewer today, then the smaller id.
        check(
            &[("a", true, 2, 4, 0), ("b", true, 1, 2, 0)],
            None,
            "b least_loaded",
        );
        check(
            &[("a", true, 1, 4, 7), ("b", true, 1, 4, 3)],
            None,
            "b least_loaded",
        );
        check(
            &[("b", true, 1, 4, 3), ("a", true, 1, 4, 3)],
            None,
            "a least_loaded",
        );
    }

    #[test]
    fn escalation_lead_choice() {
        check_lead(
            &[("l1", true, 2, 4, 0), ("l2", true, 1, 4, 0)],
            None,
            "l2 least_loaded",
        );
        check_lead(
            &[("l1", false, 0, 4, 0), ("l2", true, 3, 4, 0)],
            None,
            "l2 least_loaded",
        );
        // Never back to the lead who escalates.
        check_lead(
            &[("l1", true, 0, 4, 0), ("l2", true, 3, 4, 0)],
            Some("l1"),
            "l2 least_loaded",
        );
        // All full: still lands on the least busy lead on shift.
        check_lead(
            &[("l1", true, 6, 4, 0), ("l2", true, 5, 5, 0)],
            None,
            "l2 lead_over_capacity",
        );
        check_lead(&[("l1", false, 0, 4, 0)], None, "none");
        check_lead(&[("l1", true, 0, 4, 0)], Some("l1"), "none");
    }
}
