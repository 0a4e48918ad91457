//! `apply_batch` rules: each op is judged against the state left by the ops before it, and a
//! refused op leaves the rest of the batch alone.

use crate::support::{
    add_fan, add_member, apply, changed, conversation_row, created, fan_id, internal, member_id,
    new_id, open_conversation, public, refused, timeline, transition,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{
    Audience, AuthorKind, ConversationId, Role, RuleViolation, Status, Visibility,
};
use fandesk_store::{Store, WriteOutcome};

store_test!(
    refused_ops_do_not_affect_others,
    refused_ops_do_not_affect_others_sqlite,
    refused_ops_do_not_affect_others_postgres
);
async fn refused_ops_do_not_affect_others(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let (_, other_fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let unknown = ConversationId(new_id());
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "one"),
            internal(&conversation, &fan, "fans cannot whisper"),
            public(&conversation, &other_fan, "not my conversation"),
            public(&unknown, &fan, "nowhere"),
            public(&unknown, &agent, "nowhere either"),
            transition(&conversation, &agent, Transition::Reopen),
            transition(&conversation, &fan, Transition::Resolve),
            public(&conversation, &fan, "two"),
        ],
    )
    .await;
    assert_eq!(created(&results[0]).0.seq, 1);
    assert!(
        matches!(refused(&results[1]), RuleViolation::Forbidden(_)),
        "{:?}",
        results[1]
    );
    assert_eq!(
        refused(&results[2]),
        &RuleViolation::Hidden,
        "another fan's conversation"
    );
    assert_eq!(
        refused(&results[3]),
        &RuleViolation::Hidden,
        "unknown conversation"
    );
    assert_eq!(
        refused(&results[4]),
        &RuleViolation::Hidden,
        "unknown conversation"
    );
    assert!(
        matches!(refused(&results[5]), RuleViolation::InvalidTransition(_)),
        "{:?}",
        results[5]
    );
    assert!(
        matches!(refused(&results[6]), RuleViolation::Forbidden(_)),
        "{:?}",
        results[6]
    );
    assert_eq!(
        created(&results[7]).0.seq,
        2,
        "refused ops take no position"
    );

    let bodies: Vec<String> = timeline(store, &conversation, Audience::Team)
        .await
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["one", "two"]);
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.last_seq, row.last_public_seq),
        (Status::Open, 2, 2)
    );
}

store_test!(
    batch_of_only_refused_ops_changes_nothing,
    batch_of_only_refused_ops_changes_nothing_sqlite,
    batch_of_only_refused_ops_changes_nothing_postgres
);
async fn batch_of_only_refused_ops_changes_nothing(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let before = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    let results = apply(store, &[internal(&conversation, &fan, "no")]).await;
    refused(&results[0]);
    assert_eq!(
        store
            .find_conversation(&conversation)
            .await
            .unwrap()
            .unwrap(),
        before
    );
    assert!(
        timeline(store, &conversation, Audience::Team)
            .await
            .is_empty()
    );
}

store_test!(
    agent_reply_claims_conversation,
    agent_reply_claims_conversation_sqlite,
    agent_reply_claims_conversation_postgres
);
async fn agent_reply_claims_conversation(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let alice = add_member(store, Role::Agent).await;
    let bob = add_member(store, Role::Agent).await;
    let bot = add_member(store, Role::Bot).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "help"),
            public(&conversation, &bot, "an agent will be with you"),
            internal(&conversation, &bob, "I can take this"),
            public(&conversation, &alice, "I'm on it"),
            public(&conversation, &bob, "me too"),
            internal(&conversation, &bob, "never mind"),
            public(&conversation, &bot, "bots step back once a human owns it"),
            public(&conversation, &supervisor, "supervisors may post anywhere"),
            public(&conversation, &alice, "as I was saying"),
        ],
    )
    .await;
    let changes: Vec<bool> = [0, 1, 2, 3, 7, 8]
        .map(|index| changed(&results[index]))
        .to_vec();
    assert_eq!(
        changes,
        [false, false, false, true, false, false],
        "only the claim changes it"
    );
    assert_eq!(
        created(&results[1]).1.assignee_id,
        None,
        "a bot never claims"
    );
    assert_eq!(
        created(&results[2]).1.assignee_id,
        None,
        "an internal note does not claim"
    );
    assert_eq!(
        created(&results[3]).1.assignee_id,
        Some(member_id(&alice)),
        "a public reply claims"
    );
    // Bob is refused in the same batch: the claim is visible to every later op, so two
    // agents racing for one conversation cannot both win.
    for index in [4, 5, 6] {
        assert!(
            matches!(refused(&results[index]), RuleViolation::Forbidden(_)),
            "{:?}",
            results[index]
        );
    }
    assert_eq!(
        created(&results[7]).1.assignee_id,
        Some(member_id(&alice)),
        "no claim by supervisors"
    );
    assert_eq!(created(&results[8]).0.seq, 6);

    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.assignee_id, Some(member_id(&alice)));
    // And in a later batch too.
    refused(&apply(store, &[public(&conversation, &bob, "still no")]).await[0]);
}

store_test!(
    resolve_refuses_posts_until_reopened,
    resolve_refuses_posts_until_reopened_sqlite,
    resolve_refuses_posts_until_reopened_postgres
);
async fn resolve_refuses_posts_until_reopened(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let owner = add_member(store, Role::Owner).await;
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "thanks, bye"),
            transition(&conversation, &agent, Transition::Resolve),
            public(&conversation, &fan, "one more thing"),
            internal(&conversation, &owner, "late note"),
            transition(&conversation, &agent, Transition::Resolve),
        ],
    )
    .await;
    assert_eq!(created(&results[1]).1.status, Status::Resolved);
    for index in [2, 3, 4] {
        assert!(
            matches!(
                refused(&results[index]),
                RuleViolation::InvalidTransition(_)
            ),
            "{:?}",
            results[index]
        );
    }
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.last_seq), (Status::Resolved, 2));
    assert_eq!(
        store.find_active_conversation(&fan_id(&fan)).await.unwrap(),
        None
    );

    // Still refused in a later batch; reopening lets messages in again.
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "hello?"),
            transition(&conversation, &agent, Transition::Reopen),
            public(&conversation, &fan, "one more thing"),
        ],
    )
    .await;
    assert!(matches!(
        refused(&results[0]),
        RuleViolation::InvalidTransition(_)
    ));
    assert_eq!(created(&results[1]).1.status, Status::Open);
    assert_eq!(created(&results[2]).0.seq, 4);
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.last_seq, row.last_public_seq),
        (Status::Open, 4, 2)
    );
    assert_eq!(
        store
            .find_active_conversation(&fan_id(&fan))
            .await
            .unwrap()
            .map(|c| c.id),
        Some(conversation)
    );
}

store_test!(
    transition_entry_is_internal_system,
    transition_entry_is_internal_system_sqlite,
    transition_entry_is_internal_system_postgres
);
async fn transition_entry_is_internal_system(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "hi"),
            transition(&conversation, &agent, Transition::Resolve),
        ],
    )
    .await;
    let (entry, state) = created(&results[1]);
    assert_eq!(entry.author_kind, AuthorKind::System);
    assert_eq!(entry.visibility, Visibility::Internal);
    assert_eq!((entry.seq, entry.public_seq), (2, None));
    assert_eq!(entry.author_id, agent.author_id());
    assert_eq!(entry.author_name, agent.name());
    assert_eq!(entry.body, format!("Resolved by {}", agent.name()));
    assert_eq!(entry.client_msg_id, None);
    assert!(!entry.automated);
    assert_eq!((state.last_seq, state.last_public_seq), (2, 1));
    assert!(changed(&results[1]), "a status change is announced");
    assert!(!changed(&results[0]));

    assert_eq!(
        timeline(store, &conversation, Audience::Team).await[1],
        *entry
    );
    let seen_by_fan = timeline(store, &conversation, Audience::Fan).await;
    assert_eq!(
        seen_by_fan.len(),
        1,
        "fans never see timeline events: {seen_by_fan:?}"
    );
}

store_test!(
    resolve_then_reopen_in_one_batch,
    resolve_then_reopen_in_one_batch_sqlite,
    resolve_then_reopen_in_one_batch_postgres
);
async fn resolve_then_reopen_in_one_batch(store: &Store) {
    // The fan's only unresolved conversation is this one: resolving and reopening it in
    // the same group commit must both succeed.
    let (conversation, _fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Supervisor).await;
    let results = apply(
        store,
        &[
            transition(&conversation, &agent, Transition::Resolve),
            transition(&conversation, &agent, Transition::Reopen),
        ],
    )
    .await;
    assert_eq!(created(&results[0]).1.status, Status::Resolved);
    assert_eq!(created(&results[1]).1.status, Status::Open);
}

store_test!(
    reopen_conflict_is_refused_per_op,
    reopen_conflict_is_refused_per_op_sqlite,
    reopen_conflict_is_refused_per_op_postgres
);
async fn reopen_conflict_is_refused_per_op(store: &Store) {
    // A fan whose old conversation was resolved has opened a new one; reopening the old one
    // would give them two unresolved conversations (docs/product.md › Conversations). That
    // op must be refused on its own: the batch carries other clients' messages, which must
    // commit.
    let (old, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    created(&apply(store, &[transition(&old, &agent, Transition::Resolve)]).await[0]);
    let new = conversation_row(&fan_id(&fan));
    store.insert_conversation(&new).await.unwrap();
    let (elsewhere, other_fan) = open_conversation(store).await;

    let results = store
        .apply_batch(&[
            public(&elsewhere, &other_fan, "an unrelated message"),
            transition(&old, &agent, Transition::Reopen),
        ])
        .await
        .expect("a conflicting reopen must not fail the whole batch");
    assert!(
        matches!(results[0], Ok(WriteOutcome::Created { .. })),
        "{:?}",
        results[0]
    );
    assert!(results[1].is_err(), "{:?}", results[1]);
    let active = store.find_active_conversation(&fan_id(&fan)).await.unwrap();
    assert_eq!(active.map(|c| c.id), Some(new.id));
}

store_test!(
    fan_posts_into_pending_and_snoozed,
    fan_posts_into_pending_and_snoozed_sqlite,
    fan_posts_into_pending_and_snoozed_postgres
);
async fn fan_posts_into_pending_and_snoozed(store: &Store) {
    for status in [Status::Pending, Status::Snoozed] {
        let fan = add_fan(store).await;
        let conversation = fandesk_store::ConversationRow {
            status,
            ..conversation_row(&fan_id(&fan))
        };
        store.insert_conversation(&conversation).await.unwrap();
        let results = apply(store, &[public(&conversation.id, &fan, "still there?")]).await;
        let (_, state) = created(&results[0]);
        // A pending conversation stays pending (queued by the desk once the fan writes);
        // the fan writing wakes a snoozed one.
        let expected = if status == Status::Snoozed {
            Status::Open
        } else {
            status
        };
        assert_eq!(state.status, expected);
    }
}
