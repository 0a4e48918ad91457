//! Conversations: round trips, the one-unresolved-conversation-per-fan rule, listing filters.

use crate::support::{
    add_fan, add_member, apply, at, conversation_row, created, fan_id, member_id, new_id,
    open_conversation, public, transition,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{ConversationId, FanId, MemberId, Principal, Role, Status};
use fandesk_store::{ConversationFilter, ConversationRow, Store, StoreError};

store_test!(
    conversation_round_trip,
    conversation_round_trip_sqlite,
    conversation_round_trip_postgres
);
async fn conversation_round_trip(store: &Store) {
    let fan = add_fan(store).await;
    let agent = add_member(store, Role::Agent).await;
    let conversation = ConversationRow {
        assignee_id: Some(member_id(&agent)),
        escalated: true,
        priority: 7,
        status: Status::Pending,
        created_at: at(10),
        updated_at: at(20),
        ..conversation_row(&fan_id(&fan))
    };
    store.insert_conversation(&conversation).await.unwrap();

    assert_eq!(
        store.find_conversation(&conversation.id).await.unwrap(),
        Some(conversation.clone())
    );
    assert_eq!(
        store.find_active_conversation(&fan_id(&fan)).await.unwrap(),
        Some(conversation.clone())
    );
    assert_eq!(
        store
            .find_conversation(&ConversationId(new_id()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_active_conversation(&FanId(new_id()))
            .await
            .unwrap(),
        None
    );
}

store_test!(
    conversation_of_unknown_fan_is_refused,
    conversation_of_unknown_fan_is_refused_sqlite,
    conversation_of_unknown_fan_is_refused_postgres
);
async fn conversation_of_unknown_fan_is_refused(store: &Store) {
    let conversation = conversation_row(&FanId(new_id()));
    let error = store.insert_conversation(&conversation).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(
        store.find_conversation(&conversation.id).await.unwrap(),
        None
    );
}

store_test!(
    one_unresolved_conversation_per_fan,
    one_unresolved_conversation_per_fan_sqlite,
    one_unresolved_conversation_per_fan_postgres
);
async fn one_unresolved_conversation_per_fan(store: &Store) {
    let (first, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;

    // docs/product.md › Conversations: a fan continues their open conversation; a second
    // insert conflicts and the caller finds the existing one.
    let second = conversation_row(&fan_id(&fan));
    let error = store.insert_conversation(&second).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_conversation(&second.id).await.unwrap(), None);
    let active = store
        .find_active_conversation(&fan_id(&fan))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.id, first);

    // Pending and snoozed conversations are still unresolved.
    for status in [Status::Pending, Status::Snoozed] {
        let error = store
            .insert_conversation(&ConversationRow {
                status,
                ..conversation_row(&fan_id(&fan))
            })
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Conflict(_)),
            "{status:?}: {error:?}"
        );
    }

    // Other fans are unaffected.
    open_conversation(store).await;

    // Once resolved, the fan may open a new one, which becomes the active one.
    created(&apply(store, &[transition(&first, &agent, Transition::Resolve)]).await[0]);
    assert_eq!(
        store.find_active_conversation(&fan_id(&fan)).await.unwrap(),
        None
    );
    let third = conversation_row(&fan_id(&fan));
    store.insert_conversation(&third).await.unwrap();
    let active = store
        .find_active_conversation(&fan_id(&fan))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.id, third.id);

    // Any number of resolved ones may exist beside it.
    let resolved = ConversationRow {
        status: Status::Resolved,
        ..conversation_row(&fan_id(&fan))
    };
    store.insert_conversation(&resolved).await.unwrap();
    let listed = store
        .list_conversations(&ConversationFilter {
            fan_id: Some(fan_id(&fan)),
            limit: 10,
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
}

/// Inserts a conversation for a new fan with the given status, assignee and update time.
async fn seed(
    store: &Store,
    status: Status,
    assignee: Option<&MemberId>,
    updated: i64,
) -> ConversationRow {
    let fan = add_fan(store).await;
    let conversation = ConversationRow {
        status,
        assignee_id: assignee.cloned(),
        updated_at: at(updated),
        ..conversation_row(&fan_id(&fan))
    };
    store.insert_conversation(&conversation).await.unwrap();
    conversation
}

fn ids(conversations: &[ConversationRow]) -> Vec<ConversationId> {
    conversations
        .iter()
        .map(|conversation| conversation.id.clone())
        .collect()
}

/// Lists with `filter` and compares the names of what came back with `expected`.
async fn check_listing(
    store: &Store,
    seeded: &[(&str, ConversationRow)],
    filter: ConversationFilter,
    expected: &[&str],
) {
    let listed = store.list_conversations(&filter).await.unwrap();
    let names: Vec<&str> = ids(&listed)
        .iter()
        .map(|id| {
            seeded
                .iter()
                .find(|(_, row)| row.id == *id)
                .expect("a seeded row")
                .0
        })
        .collect();
    assert_eq!(names, expected, "{filter:?}");
}

store_test!(
    list_conversations_filters,
    list_conversations_filters_sqlite,
    list_conversations_filters_postgres
);
async fn list_conversations_filters(store: &Store) {
    let alice = member_id(&add_member(store, Role::Agent).await);
    let bob = member_id(&add_member(store, Role::Agent).await);
    // Named conversations, seeded in order of `updated_at`.
    let seeded = [
        ("open", seed(store, Status::Open, None, 10).await),
        (
            "open_alice",
            seed(store, Status::Open, Some(&alice), 20).await,
        ),
        (
            "pending_alice",
            seed(store, Status::Pending, Some(&alice), 30).await,
        ),
        (
            "snoozed_bob",
            seed(store, Status::Snoozed, Some(&bob), 40).await,
        ),
        ("resolved", seed(store, Status::Resolved, None, 50).await),
    ];
    let fan_of = |name: &str| {
        let (_, row) = seeded
            .iter()
            .find(|(seeded_name, _)| *seeded_name == name)
            .unwrap();
        Some(row.fan_id.clone())
    };
    let check = |filter: ConversationFilter, expected: &'static [&'static str]| {
        check_listing(store, &seeded, filter, expected)
    };
    let all = ConversationFilter {
        limit: 100,
        ..ConversationFilter::default()
    };

    // Most recently updated first.
    check(
        all.clone(),
        &[
            "resolved",
            "snoozed_bob",
            "pending_alice",
            "open_alice",
            "open",
        ],
    )
    .await;
    check(
        ConversationFilter {
            limit: 2,
            ..all.clone()
        },
        &["resolved", "snoozed_bob"],
    )
    .await;
    for (status, expected) in [
        (Status::Open, &["open_alice", "open"][..]),
        (Status::Pending, &["pending_alice"]),
        (Status::Snoozed, &["snoozed_bob"]),
        (Status::Resolved, &["resolved"]),
    ] {
        check(
            ConversationFilter {
                status: Some(status),
                ..all.clone()
            },
            expected,
        )
        .await;
    }
    let alice_filter = ConversationFilter {
        assignee_id: Some(alice.clone()),
        ..all.clone()
    };
    check(alice_filter.clone(), &["pending_alice", "open_alice"]).await;
    let stranger = ConversationFilter {
        assignee_id: Some(MemberId(new_id())),
        ..all.clone()
    };
    check(stranger, &[]).await;
    check(
        ConversationFilter {
            unassigned: true,
            ..all.clone()
        },
        &["resolved", "open"],
    )
    .await;
    check(
        ConversationFilter {
            fan_id: fan_of("snoozed_bob"),
            ..all.clone()
        },
        &["snoozed_bob"],
    )
    .await;
    check(
        ConversationFilter {
            fan_id: Some(FanId(new_id())),
            ..all.clone()
        },
        &[],
    )
    .await;

    // Filters combine.
    let open_alice = ConversationFilter {
        status: Some(Status::Open),
        ..alice_filter
    };
    check(open_alice, &["open_alice"]).await;
    let open_unassigned = ConversationFilter {
        status: Some(Status::Open),
        unassigned: true,
        fan_id: fan_of("open"),
        ..all.clone()
    };
    check(open_unassigned, &["open"]).await;
    let resolved_bob = ConversationFilter {
        status: Some(Status::Resolved),
        assignee_id: Some(bob),
        ..all
    };
    check(resolved_bob, &[]).await;
}

store_test!(
    posting_reorders_the_listing,
    posting_reorders_the_listing_sqlite,
    posting_reorders_the_listing_postgres
);
async fn posting_reorders_the_listing(store: &Store) {
    // A new message bumps `updated_at`, and with it the conversation's place in the inbox;
    // an agent's public reply also shows up under the assignee filter.
    let (quiet, _) = open_conversation(store).await;
    let (busy, fan) = open_conversation(store).await;
    let agent: Principal = add_member(store, Role::Agent).await;
    apply(
        store,
        &[
            public(&busy, &fan, "hello"),
            public(&busy, &agent, "hi, how can I help?"),
        ],
    )
    .await;

    let listed = store
        .list_conversations(&ConversationFilter {
            limit: 10,
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&listed), vec![busy.clone(), quiet.clone()]);
    let filter = ConversationFilter {
        assignee_id: Some(member_id(&agent)),
        limit: 10,
        ..ConversationFilter::default()
    };
    assert_eq!(
        ids(&store.list_conversations(&filter).await.unwrap()),
        vec![busy]
    );
    let filter = ConversationFilter {
        unassigned: true,
        limit: 10,
        ..ConversationFilter::default()
    };
    assert_eq!(
        ids(&store.list_conversations(&filter).await.unwrap()),
        vec![quiet]
    );
}
