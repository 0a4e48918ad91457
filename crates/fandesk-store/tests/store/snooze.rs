//! Snoozing in the group commit on both backends: the wake-up time stored and read back,
//! the timer's wake-up only for the current snooze once due, the fan's message waking it,
//! a resolved conversation refused, and fans never sent an update for any of it.

use crate::support::{
    add_member, apply, at, changed, created, new_id, open_conversation, public, refused, transition,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{ConversationId, MessageId, Principal, Role, RuleViolation, Status};
use fandesk_store::{Store, WriteOp, WriteOutcome};
use jiff::Timestamp;

fn at_time(
    conversation: &ConversationId,
    actor: &Principal,
    change: Transition,
    when: Timestamp,
) -> WriteOp {
    WriteOp::Transition {
        message_id: MessageId(new_id()),
        conversation_id: conversation.clone(),
        actor: actor.clone(),
        transition: change,
        at: when,
    }
}

fn status_changed(result: &fandesk_store::OpResult) -> bool {
    match result {
        Ok(WriteOutcome::Created { status_changed, .. }) => *status_changed,
        other => panic!("expected Created, got {other:?}"),
    }
}

async fn stored(store: &Store, id: &ConversationId) -> (Status, Option<Timestamp>) {
    let row = store.find_conversation(id).await.unwrap().expect("stored");
    (row.status, row.snoozed_until)
}

store_test!(
    snooze_and_wake_by_time,
    snooze_and_wake_by_time_sqlite,
    snooze_and_wake_by_time_postgres
);
async fn snooze_and_wake_by_time(store: &Store) {
    let (id, _fan) = open_conversation(store).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let first = at(600);
    let later = at(900);

    let results = apply(
        store,
        &[transition(
            &id,
            &supervisor,
            Transition::Snooze { until: first },
        )],
    )
    .await;
    let (entry, state) = created(&results[0]);
    assert_eq!(
        (state.status, state.snoozed_until),
        (Status::Snoozed, Some(first))
    );
    assert!(changed(&results[0]), "the team is told");
    assert!(!status_changed(&results[0]), "fans are not told");
    assert!(entry.body.starts_with("Snoozed by"), "{}", entry.body);
    assert_eq!(entry.public_seq, None, "internal");
    assert_eq!(stored(store, &id).await, (Status::Snoozed, Some(first)));

    // A new time replaces the first.
    apply(
        store,
        &[transition(
            &id,
            &supervisor,
            Transition::Snooze { until: later },
        )],
    )
    .await;
    assert_eq!(stored(store, &id).await, (Status::Snoozed, Some(later)));

    // The first snooze's timer, and the current one before it is due: nothing happens.
    let results = apply(
        store,
        &[
            at_time(&id, &supervisor, Transition::Wake { until: first }, at(650)),
            at_time(&id, &supervisor, Transition::Wake { until: later }, at(899)),
        ],
    )
    .await;
    for result in &results {
        assert!(matches!(
            refused(result),
            RuleViolation::InvalidTransition(_)
        ));
    }
    assert_eq!(stored(store, &id).await, (Status::Snoozed, Some(later)));

    // The current one, due: open again, the time cleared, fans not told.
    let results = apply(
        store,
        &[at_time(
            &id,
            &supervisor,
            Transition::Wake { until: later },
            at(901),
        )],
    )
    .await;
    let (entry, state) = created(&results[0]);
    assert_eq!((state.status, state.snoozed_until), (Status::Open, None));
    assert!(!status_changed(&results[0]));
    assert!(entry.body.starts_with("Snooze ended"), "{}", entry.body);
    assert_eq!(stored(store, &id).await, (Status::Open, None));
    // Twice (a job run again after a crash): refused, nothing changes.
    let again = apply(
        store,
        &[at_time(
            &id,
            &supervisor,
            Transition::Wake { until: later },
            at(902),
        )],
    )
    .await;
    refused(&again[0]);
}

store_test!(
    the_fan_writing_wakes_a_snooze,
    the_fan_writing_wakes_a_snooze_sqlite,
    the_fan_writing_wakes_a_snooze_postgres
);
async fn the_fan_writing_wakes_a_snooze(store: &Store) {
    let (id, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    // An agent may not snooze an unassigned conversation; a supervisor may.
    let results = apply(
        store,
        &[
            transition(&id, &agent, Transition::Snooze { until: at(600) }),
            transition(&id, &supervisor, Transition::Snooze { until: at(600) }),
        ],
    )
    .await;
    assert!(matches!(refused(&results[0]), RuleViolation::Forbidden(_)));
    assert_eq!(created(&results[1]).1.status, Status::Snoozed);

    let results = apply(store, &[public(&id, &fan, "hello again")]).await;
    let (_, state) = created(&results[0]);
    assert_eq!((state.status, state.snoozed_until), (Status::Open, None));
    assert!(changed(&results[0]), "the team is told it woke");
    assert!(!status_changed(&results[0]), "the fan saw `open` all along");
    assert_eq!(stored(store, &id).await, (Status::Open, None));
    // Its timer later finds nothing to do.
    let late = apply(
        store,
        &[at_time(
            &id,
            &supervisor,
            Transition::Wake { until: at(600) },
            at(700),
        )],
    )
    .await;
    refused(&late[0]);

    // Resolved: no snooze.
    apply(store, &[transition(&id, &supervisor, Transition::Resolve)]).await;
    let results = apply(
        store,
        &[transition(
            &id,
            &supervisor,
            Transition::Snooze { until: at(600) },
        )],
    )
    .await;
    assert!(matches!(
        refused(&results[0]),
        RuleViolation::InvalidTransition(_)
    ));
    assert_eq!(stored(store, &id).await, (Status::Resolved, None));
}
