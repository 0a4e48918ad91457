//! Table tests of the conversation transitions (`change.rs`).

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
