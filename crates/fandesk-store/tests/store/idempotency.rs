//! Idempotent sends: the same author and `client_msg_id` again is the original message
//! (docs/api.md › Conversations and messages: "200 with the original message"), never a
//! second row.

use crate::support::{
    add_fan, add_member, apply, conversation_row, created, duplicate, fan_id, new_id,
    open_conversation, post, refused, timeline,
};
use fandesk_domain::{
    Audience, ConversationId, MessageId, Principal, Role, RuleViolation, Visibility,
};
use fandesk_store::{Store, WriteOp};
use jiff::Timestamp;

/// A public post with a chosen `client_msg_id`.
fn send(
    conversation: &ConversationId,
    author: &Principal,
    client_msg_id: &str,
    body: &str,
) -> WriteOp {
    post(
        conversation,
        author,
        Some(client_msg_id),
        body,
        Visibility::Public,
    )
}

store_test!(
    resend_returns_the_original,
    resend_returns_the_original_sqlite,
    resend_returns_the_original_postgres
);
async fn resend_returns_the_original(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let first = send(&conversation, &fan, "msg-1", "first");
    let original = created(&apply(store, &[first]).await[0]).0.clone();

    // A later batch: the same author and client_msg_id, even with another body, is the
    // same message (docs/api.md: "200 with the original message").
    let results = apply(
        store,
        &[
            send(&conversation, &fan, "msg-1", "edited on retry"),
            send(&conversation, &fan, "msg-2", "second"),
        ],
    )
    .await;
    assert_eq!(duplicate(&results[0]), &original);
    assert_eq!(
        created(&results[1]).0.seq,
        2,
        "a duplicate takes no position"
    );

    // Within one batch: the second op is a resend of the first.
    let results = apply(
        store,
        &[
            send(&conversation, &fan, "msg-3", "third"),
            send(&conversation, &fan, "msg-3", "third, again"),
            send(&conversation, &fan, "msg-1", "first, once more"),
        ],
    )
    .await;
    let third = created(&results[0]).0.clone();
    assert_eq!(third.seq, 3);
    assert_eq!(duplicate(&results[1]), &third);
    assert_eq!(duplicate(&results[2]), &original);

    let stored = timeline(store, &conversation, Audience::Team).await;
    let bodies: Vec<&str> = stored.iter().map(|message| message.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["first", "second", "third"],
        "no new row for a resend"
    );
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.last_seq, row.last_public_seq), (3, 3));
}

store_test!(
    refused_op_reserves_no_client_msg_id,
    refused_op_reserves_no_client_msg_id_sqlite,
    refused_op_reserves_no_client_msg_id_postgres
);
async fn refused_op_reserves_no_client_msg_id(store: &Store) {
    // A refused send stored nothing, so the client may retry the same id correctly.
    let (conversation, fan) = open_conversation(store).await;
    let results = apply(
        store,
        &[
            post(
                &conversation,
                &fan,
                Some("retry-me"),
                "secret?",
                Visibility::Internal,
            ),
            send(&conversation, &fan, "retry-me", "hello"),
        ],
    )
    .await;
    assert!(matches!(refused(&results[0]), RuleViolation::Forbidden(_)));
    assert_eq!(created(&results[1]).0.body, "hello");
}

store_test!(
    client_msg_id_is_per_conversation,
    client_msg_id_is_per_conversation_sqlite,
    client_msg_id_is_per_conversation_postgres
);
async fn client_msg_id_is_per_conversation(store: &Store) {
    // A supervisor reusing a key in another conversation gets a new message there, never
    // the first conversation's message.
    let (first, _) = open_conversation(store).await;
    let (second, _) = open_conversation(store).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let one = apply(store, &[send(&first, &supervisor, "k-1", "to one")]).await;
    let two = apply(store, &[send(&second, &supervisor, "k-1", "to two")]).await;
    let (one, two) = (created(&one[0]).0, created(&two[0]).0);
    assert_ne!(one.id, two.id);
    assert_eq!(
        (two.conversation_id.clone(), two.body.as_str()),
        (second.clone(), "to two")
    );
    let again = apply(store, &[send(&second, &supervisor, "k-1", "retry")]).await;
    assert_eq!(duplicate(&again[0]).id, two.id);
}

store_test!(
    client_msg_id_is_per_author,
    client_msg_id_is_per_author_sqlite,
    client_msg_id_is_per_author_postgres
);
async fn client_msg_id_is_per_author(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let (other_conversation, other_fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let results = apply(
        store,
        &[
            send(&conversation, &fan, "1", "from the fan"),
            send(&conversation, &agent, "1", "from the agent"),
        ],
    )
    .await;
    assert_ne!(created(&results[0]).0.id, created(&results[1]).0.id);
    let results = apply(
        store,
        &[
            post(
                &conversation,
                &supervisor,
                Some("1"),
                "from the supervisor",
                Visibility::Internal,
            ),
            send(&other_conversation, &other_fan, "1", "another fan"),
            send(&conversation, &agent, "1", "agent retry"),
        ],
    )
    .await;
    assert_eq!(created(&results[0]).0.seq, 3);
    assert_eq!(created(&results[1]).0.seq, 1);
    assert_eq!(duplicate(&results[2]).body, "from the agent");
    assert_eq!(
        timeline(store, &conversation, Audience::Team).await.len(),
        3
    );
}

store_test!(
    messages_without_client_msg_id_are_never_duplicates,
    messages_without_client_msg_id_are_never_duplicates_sqlite,
    messages_without_client_msg_id_are_never_duplicates_postgres
);
async fn messages_without_client_msg_id_are_never_duplicates(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let op = || post(&conversation, &fan, None, "same text", Visibility::Public);
    let results = apply(store, &[op(), op()]).await;
    created(&results[0]);
    created(&results[1]);
    created(&apply(store, &[op()]).await[0]);
    let stored = timeline(store, &conversation, Audience::Team).await;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|message| message.client_msg_id.is_none()));
}

store_test!(
    resend_returns_the_message_as_first_acknowledged,
    resend_returns_the_message_as_first_acknowledged_sqlite,
    resend_returns_the_message_as_first_acknowledged_postgres
);
async fn resend_returns_the_message_as_first_acknowledged(store: &Store) {
    // Callers pass the clock's time, which has nanoseconds; the store keeps microseconds.
    // The message acknowledged first must equal the one a resend or a history read returns.
    let fan = add_fan(store).await;
    let conversation = conversation_row(&fan_id(&fan));
    store.insert_conversation(&conversation).await.unwrap();
    let op = WriteOp::Post {
        message_id: MessageId(new_id()),
        conversation_id: conversation.id.clone(),
        author: fan.clone(),
        client_msg_id: Some("precise".to_owned()),
        body: "hello".to_owned(),
        visibility: Visibility::Public,
        at: Timestamp::new(1_700_000_000, 123_456_789).unwrap(),
        extras: Default::default(),
    };
    let acknowledged = created(&apply(store, std::slice::from_ref(&op)).await[0])
        .0
        .clone();
    let resent = duplicate(&apply(store, &[op]).await[0]).clone();
    assert_eq!(resent, acknowledged);
    assert_eq!(
        timeline(store, &conversation.id, Audience::Team).await,
        vec![acknowledged]
    );
}
