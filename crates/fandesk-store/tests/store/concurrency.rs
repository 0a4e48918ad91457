//! Concurrent batches: writers racing on one conversation still produce one dense,
//! duplicate-free sequence (PostgreSQL serialises them with `FOR UPDATE`, SQLite with its
//! single writer connection).

use crate::support::{
    OpResult, add_member, assert_dense, open_conversation, post, public, timeline,
};
use fandesk_domain::{Audience, ConversationId, Principal, Role, Visibility};
use fandesk_store::{Store, WriteOutcome};
use std::collections::{HashMap, HashSet};

const TASKS: usize = 8;
const POSTS_PER_TASK: usize = 50;

store_test!(
    concurrent_batches_keep_seq_dense,
    concurrent_batches_keep_seq_dense_sqlite,
    concurrent_batches_keep_seq_dense_postgres
);
async fn concurrent_batches_keep_seq_dense(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, conversation, fan, supervisor) = (
            store.clone(),
            conversation.clone(),
            fan.clone(),
            supervisor.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..POSTS_PER_TASK {
                // Odd tasks whisper, even tasks are the fan: both sequences are contended.
                let op = if task % 2 == 0 {
                    public(&conversation, &fan, &format!("{task}/{n}"))
                } else {
                    let id = format!("{task}/{n}");
                    post(
                        &conversation,
                        &supervisor,
                        Some(&id),
                        &id,
                        Visibility::Internal,
                    )
                };
                let results = store.apply_batch(&[op]).await.expect("apply batch");
                match &results[0] {
                    Ok(WriteOutcome::Created { message, .. }) => seqs.push(message.seq),
                    other => panic!("expected Created, got {other:?}"),
                }
            }
            seqs
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        let seqs = task.await.expect("task");
        // Each writer sees its own messages in increasing order.
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
        acknowledged.extend(seqs);
    }
    acknowledged.sort_unstable();
    let total = (TASKS * POSTS_PER_TASK) as u64;
    assert_eq!(
        acknowledged,
        (1..=total).collect::<Vec<_>>(),
        "every ack a distinct position"
    );

    let stored = timeline(store, &conversation, Audience::Team).await;
    assert_eq!(stored.len(), TASKS * POSTS_PER_TASK);
    assert_dense(&stored);
    let bodies: HashSet<&str> = stored.iter().map(|message| message.body.as_str()).collect();
    assert_eq!(bodies.len(), stored.len(), "no message stored twice");
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.last_seq, total);
    assert_eq!(row.last_public_seq, (TASKS / 2 * POSTS_PER_TASK) as u64);
}

store_test!(
    concurrent_resends_store_one_message,
    concurrent_resends_store_one_message_sqlite,
    concurrent_resends_store_one_message_postgres
);
async fn concurrent_resends_store_one_message(store: &Store) {
    // Every task sends the same client_msg_ids as the same author, as a client retrying
    // on several connections would: exactly one of them creates each message.
    let (conversation, fan) = open_conversation(store).await;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, conversation, fan) = (store.clone(), conversation.clone(), fan.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for pair in (0..POSTS_PER_TASK).collect::<Vec<_>>().chunks(2) {
                let ops: Vec<_> = pair
                    .iter()
                    .map(|n| {
                        post(
                            &conversation,
                            &fan,
                            Some(&format!("c{n}")),
                            &format!("m{n}"),
                            Visibility::Public,
                        )
                    })
                    .collect();
                outcomes.extend(store.apply_batch(&ops).await.expect("apply batch"));
            }
            outcomes
        }));
    }
    let mut by_client_id: HashMap<String, Vec<OpResult>> = HashMap::new();
    for task in tasks {
        for outcome in task.await.expect("task") {
            let message = match &outcome {
                Ok(WriteOutcome::Created { message, .. } | WriteOutcome::Duplicate { message }) => {
                    message
                }
                Err(violation) => panic!("refused: {violation}"),
            };
            by_client_id
                .entry(message.client_msg_id.clone().unwrap())
                .or_default()
                .push(outcome);
        }
    }
    assert_eq!(by_client_id.len(), POSTS_PER_TASK);
    for (client_id, outcomes) in &by_client_id {
        assert_eq!(outcomes.len(), TASKS);
        let creations = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(WriteOutcome::Created { .. })))
            .count();
        assert_eq!(creations, 1, "{client_id} created {creations} times");
        let ids: HashSet<_> = outcomes
            .iter()
            .map(|outcome| match outcome {
                Ok(WriteOutcome::Created { message, .. } | WriteOutcome::Duplicate { message }) => {
                    message.id.clone()
                }
                Err(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "{client_id}: every resend answers the same message"
        );
    }
    let stored = timeline(store, &conversation, Audience::Team).await;
    assert_eq!(stored.len(), POSTS_PER_TASK);
    assert_dense(&stored);
}

store_test!(
    concurrent_batches_over_shared_conversations,
    concurrent_batches_over_shared_conversations_sqlite,
    concurrent_batches_over_shared_conversations_postgres
);
async fn concurrent_batches_over_shared_conversations(store: &Store) {
    // Batches that touch the same conversations in different orders must neither deadlock
    // (PostgreSQL locks rows in id order) nor interleave a conversation's positions.
    let mut conversations: Vec<(ConversationId, Principal)> = Vec::new();
    for _ in 0..4 {
        conversations.push(open_conversation(store).await);
    }
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let mut order = conversations.clone();
        order.rotate_left(task % 4);
        if task % 2 == 1 {
            order.reverse();
        }
        tasks.push(tokio::spawn(async move {
            for n in 0..POSTS_PER_TASK / 5 {
                let ops: Vec<_> = order
                    .iter()
                    .map(|(conversation, fan)| public(conversation, fan, &format!("{task}/{n}")))
                    .collect();
                for result in store.apply_batch(&ops).await.expect("apply batch") {
                    assert!(
                        matches!(result, Ok(WriteOutcome::Created { .. })),
                        "{result:?}"
                    );
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    for (conversation, _) in &conversations {
        let stored = timeline(store, conversation, Audience::Team).await;
        assert_eq!(stored.len(), TASKS * (POSTS_PER_TASK / 5));
        assert_dense(&stored);
    }
}
