//! `apply_batch` sequencing: dense `seq`/`public_seq` in op order, across conversations
//! and batches, and all-or-nothing commits.

use crate::support::{
    add_member, apply, assert_dense, created, internal, open_conversation, public, timeline,
};
use fandesk_domain::{Audience, AuthorKind, ConversationId, Principal, Role, Visibility};
use fandesk_store::{Store, StoreError, WriteOp};

store_test!(
    empty_batch_does_nothing,
    empty_batch_does_nothing_sqlite,
    empty_batch_does_nothing_postgres
);
async fn empty_batch_does_nothing(store: &Store) {
    assert!(store.apply_batch(&[]).await.unwrap().is_empty());
}

store_test!(
    dense_seq_over_mixed_posts,
    dense_seq_over_mixed_posts_sqlite,
    dense_seq_over_mixed_posts_postgres
);
async fn dense_seq_over_mixed_posts(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let first = [
        public(&conversation, &fan, "hello"),
        internal(&conversation, &agent, "note: VIP fan"),
        public(&conversation, &agent, "hi there"),
        internal(&conversation, &supervisor, "whisper: offer a refund"),
        internal(&conversation, &agent, "ok"),
        public(&conversation, &fan, "thanks"),
    ];
    let second = [
        internal(&conversation, &supervisor, "nice"),
        public(&conversation, &agent, "anything else?"),
    ];
    // (seq, public_seq) each op is given; internal entries take no public position.
    let expected = [
        (1, Some(1)),
        (2, None),
        (3, Some(2)),
        (4, None),
        (5, None),
        (6, Some(3)),
        (7, None),
        (8, Some(4)),
    ];

    let mut results = apply(store, &first).await;
    results.extend(apply(store, &second).await);
    let mut returned = Vec::new();
    let mut last_public_seq = 0;
    for (result, (seq, public_seq)) in results.iter().zip(expected) {
        let (message, state) = created(result);
        assert_eq!(
            (message.seq, message.public_seq),
            (seq, public_seq),
            "{message:?}"
        );
        // The conversation as of right after this op, not as of the end of the batch.
        assert_eq!(state.last_seq, seq);
        last_public_seq = public_seq.unwrap_or(last_public_seq);
        assert_eq!(state.last_public_seq, last_public_seq);
        assert_eq!(message.conversation_id, conversation);
        returned.push(message.clone());
    }
    for (message, op) in returned.iter().zip(first.iter().chain(&second)) {
        let WriteOp::Post {
            message_id,
            author,
            body,
            visibility,
            client_msg_id,
            at,
            ..
        } = op
        else {
            unreachable!()
        };
        assert_eq!(&message.id, message_id);
        assert_eq!(message.author_id, author.author_id());
        assert_eq!(message.author_name, author.name());
        assert_eq!(&message.body, body);
        assert_eq!(&message.visibility, visibility);
        assert_eq!(&message.client_msg_id, client_msg_id);
        assert_eq!(&message.created_at, at);
        let kind = if author.is_fan() {
            AuthorKind::Fan
        } else {
            AuthorKind::Member
        };
        assert_eq!(message.author_kind, kind);
        assert!(!message.automated);
    }

    // What was returned is what was stored.
    assert_eq!(
        timeline(store, &conversation, Audience::Team).await,
        returned
    );
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.last_seq, row.last_public_seq), (8, 4));
}

store_test!(
    one_batch_spans_conversations,
    one_batch_spans_conversations_sqlite,
    one_batch_spans_conversations_postgres
);
async fn one_batch_spans_conversations(store: &Store) {
    let (left, left_fan) = open_conversation(store).await;
    let (right, right_fan) = open_conversation(store).await;
    let results = apply(
        store,
        &[
            public(&right, &right_fan, "r1"),
            public(&left, &left_fan, "l1"),
            public(&right, &right_fan, "r2"),
            public(&left, &left_fan, "l2"),
            public(&left, &left_fan, "l3"),
        ],
    )
    .await;
    let seqs: Vec<(ConversationId, u64)> = results
        .iter()
        .map(|result| {
            let (message, _) = created(result);
            (message.conversation_id.clone(), message.seq)
        })
        .collect();
    assert_eq!(
        seqs,
        [
            (right.clone(), 1),
            (left.clone(), 1),
            (right.clone(), 2),
            (left.clone(), 2),
            (left.clone(), 3)
        ]
    );
    assert_eq!(
        store
            .find_conversation(&left)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        3
    );
    assert_eq!(
        store
            .find_conversation(&right)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        2
    );
}
store_test!(
    bot_posts_are_labelled_automated,
    bot_posts_are_labelled_automated_sqlite,
    bot_posts_are_labelled_automated_postgres
);
async fn bot_posts_are_labelled_automated(store: &Store) {
    // docs/product.md › Principles, 3: every automated message carries `automated: true`,
    // and a bot reply does not claim the conversation.
    let (conversation, fan) = open_conversation(store).await;
    let bot = add_member(store, Role::Bot).await;
    let results = apply(
        store,
        &[
            public(&conversation, &fan, "hi"),
            public(&conversation, &bot, "Hello! How can I help?"),
        ],
    )
    .await;
    let (message, state) = created(&results[1]);
    assert!(message.automated);
    assert_eq!(message.author_kind, AuthorKind::Bot);
    assert_eq!(state.assignee_id, None);
    let stored = timeline(store, &conversation, Audience::Fan).await;
    assert_eq!(stored[1], *message);
}

store_test!(
    large_batch_across_conversations,
    large_batch_across_conversations_sqlite,
    large_batch_across_conversations_postgres
);
async fn large_batch_across_conversations(store: &Store) {
    // 1000 posts interleaved over 50 conversations: more rows than one multi-row INSERT
    // chunk holds, with every conversation's sequence still dense and in op order.
    let supervisor = add_member(store, Role::Supervisor).await;
    let mut conversations: Vec<(ConversationId, Principal)> = Vec::new();
    for _ in 0..50 {
        conversations.push(open_conversation(store).await);
    }
    let mut ops = Vec::new();
    for round in 0..20 {
        for (conversation, fan) in &conversations {
            ops.push(if round % 3 == 2 {
                internal(conversation, &supervisor, &format!("note {round}"))
            } else {
                public(conversation, fan, &format!("message {round}"))
            });
        }
    }
    assert_eq!(ops.len(), 1000);
    for result in apply(store, &ops).await {
        created(&result);
    }
    for (conversation, _) in &conversations {
        let stored = timeline(store, conversation, Audience::Team).await;
        assert_dense(&stored);
        let bodies: Vec<String> = stored.iter().map(|message| message.body.clone()).collect();
        let expected: Vec<String> = (0..20)
            .map(|round| {
                if round % 3 == 2 {
                    format!("note {round}")
                } else {
                    format!("message {round}")
                }
            })
            .collect();
        assert_eq!(bodies, expected);
        let row = store
            .find_conversation(conversation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.last_seq, row.last_public_seq), (20, 14));
    }
}

store_test!(
    database_failure_commits_nothing,
    database_failure_commits_nothing_sqlite,
    database_failure_commits_nothing_postgres
);
async fn database_failure_commits_nothing(store: &Store) {
    // A message id that already exists fails the INSERT: the whole batch is rolled back,
    // including the ops that were fine and the sequence counters.
    let (conversation, fan) = open_conversation(store).await;
    let existing = created(&apply(store, &[public(&conversation, &fan, "one")]).await[0])
        .0
        .clone();
    let clashing = WriteOp::Post {
        message_id: existing.id.clone(),
        conversation_id: conversation.clone(),
        author: fan.clone(),
        client_msg_id: Some("fresh".to_owned()),
        body: "clash".to_owned(),
        visibility: Visibility::Public,
        at: existing.created_at,
        extras: Default::default(),
    };
    let error = store
        .apply_batch(&[public(&conversation, &fan, "two"), clashing])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(
        timeline(store, &conversation, Audience::Team).await,
        vec![existing]
    );
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.last_seq, row.last_public_seq), (1, 1));
    // The store is still usable, and the next message takes the next position.
    assert_eq!(
        created(&apply(store, &[public(&conversation, &fan, "two")]).await[0])
            .0
            .seq,
        2
    );
}

store_test!(
    one_update_keeps_each_conversations_state,
    one_update_keeps_each_conversations_state_sqlite,
    one_update_keeps_each_conversations_state_postgres
);
async fn one_update_keeps_each_conversations_state(store: &Store) {
    // A batch writes every touched conversation with one set-based UPDATE and its audit
    // rows with one INSERT: each conversation must get its own values, not a neighbour's.
    let (first, first_fan) = open_conversation(store).await;
    let (second, _) = open_conversation(store).await;
    let (third, third_fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let mut negative = public(&first, &first_fan, "this is awful");
    if let WriteOp::Post { extras, .. } = &mut negative {
        extras.sentiment = Some(-0.9);
    }
    let ops = [
        negative,
        public(&second, &agent, "hi, I can help"),
        public(&third, &third_fan, "hello"),
        internal(&first, &supervisor, "note one"),
        public(&third, &third_fan, "anyone?"),
        internal(&third, &supervisor, "note three"),
    ];
    for result in apply(store, &ops).await {
        created(&result);
    }
    let row =
        |id: ConversationId| async move { store.find_conversation(&id).await.unwrap().unwrap() };
    let (one, two, three) = (
        row(first.clone()).await,
        row(second.clone()).await,
        row(third.clone()).await,
    );
    assert_eq!((one.last_seq, one.last_public_seq), (2, 1));
    assert_eq!((two.last_seq, two.last_public_seq), (1, 1));
    assert_eq!((three.last_seq, three.last_public_seq), (3, 2));
    assert_eq!(one.sentiment.messages, 1);
    assert!(one.sentiment.score < 0.0, "{:?}", one.sentiment);
    assert_eq!(three.sentiment.messages, 0);
    assert!(one.awaiting_since.is_some() && three.awaiting_since.is_some());
    assert_eq!(two.awaiting_since, None);
    let Principal::Member { id: agent_id, .. } = agent.clone() else {
        panic!("an agent is a member");
    };
    assert_eq!(two.assignee_id, Some(agent_id));
    assert_eq!((one.assignee_id, three.assignee_id), (None, None));
    let mut audited: Vec<Option<ConversationId>> = store
        .list_audit(&fandesk_store::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.conversation_id)
        .collect();
    audited.sort();
    let mut expected = vec![Some(first), Some(third)];
    expected.sort();
    assert_eq!(audited, expected);
}

store_test!(
    text_with_u0000_is_refused_alone,
    text_with_u0000_is_refused_alone_sqlite,
    text_with_u0000_is_refused_alone_postgres
);
async fn text_with_u0000_is_refused_alone(store: &Store) {
    // The last guard: whatever path an op came by, U+0000 (which PostgreSQL cannot store)
    // never reaches the transaction, so the ops beside it commit on both backends alike.
    let (conversation, fan) = open_conversation(store).await;
    let mut nul_key = public(&conversation, &fan, "fine");
    if let WriteOp::Post { client_msg_id, .. } = &mut nul_key {
        *client_msg_id = Some("key\0".to_owned());
    }
    let ops = [
        public(&conversation, &fan, "one"),
        public(&conversation, &fan, "t\0wo"),
        public(&conversation, &fan, "three"),
        nul_key,
    ];
    let results = apply(store, &ops).await;
    for (index, field) in [(1, "body"), (3, "client_msg_id")] {
        match crate::support::refused(&results[index]) {
            fandesk_domain::RuleViolation::Invalid { field: named, .. } => {
                assert_eq!(*named, field)
            }
            other => panic!("{other:?}"),
        }
    }
    let bodies: Vec<(u64, String)> = timeline(store, &conversation, Audience::Team)
        .await
        .into_iter()
        .map(|message| (message.seq, message.body))
        .collect();
    assert_eq!(bodies, vec![(1, "one".to_owned()), (2, "three".to_owned())]);
}
