//! Team channels in the store, on both backends: the limit of active channels (archive and
//! restore counted), dense `seq` and idempotent posts, threads one level deep, the decision
//! row written with its message, the archive's read-only rule, the sweep skipping a
//! channel used since it was read, and the decision log's filters and status.

use crate::support::{add_member, at, new_id};
use fandesk_domain::channel::{
    ChannelId, ChannelKind, ChannelRefusal, DecisionId, DecisionKind, DecisionStatus,
};
use fandesk_domain::{AuthorKind, MessageId, Principal, RuleViolation};
use fandesk_store::{
    ChannelMessageFilter, ChannelMessageRow, ChannelOp, ChannelOpResult, ChannelOutcome,
    ChannelRow, DecisionFilter, NewDecision, Store, SweepStep,
};

fn channel_row(owner: &Principal, name: &str) -> ChannelRow {
    ChannelRow {
        id: ChannelId(new_id()),
        name: name.to_owned(),
        purpose: "testing".to_owned(),
        guideline: String::new(),
        kind: ChannelKind::Open,
        member_ids: Vec::new(),
        created_by: owner.author_id().to_owned(),
        created_at: at(0),
        last_seq: 0,
        last_message_at: None,
        active_at: at(0),
        warned_at: None,
        archived_at: None,
    }
}

fn message(
    channel: &ChannelId,
    author: &Principal,
    key: Option<&str>,
    body: &str,
    seconds: i64,
) -> ChannelMessageRow {
    ChannelMessageRow {
        id: MessageId(new_id()),
        channel_id: channel.clone(),
        seq: 0,
        author_kind: AuthorKind::Member,
        author_id: author.author_id().to_owned(),
        author_name: author.name().to_owned(),
        client_msg_id: key.map(str::to_owned),
        body: body.to_owned(),
        thread_root_id: None,
        summary_of: None,
        tag: None,
        created_at: at(seconds),
    }
}

async fn apply(store: &Store, ops: Vec<ChannelOp>) -> Vec<ChannelOpResult> {
    store.apply_channel_batch(&ops).await.expect("batch")
}

fn posted(result: &ChannelOpResult) -> (&ChannelMessageRow, bool) {
    match result {
        Ok(ChannelOutcome::Message {
            message, created, ..
        }) => (message, *created),
        other => panic!("not a message: {other:?}"),
    }
}

async fn create(store: &Store, row: ChannelRow, limit: u32) -> ChannelOpResult {
    apply(
        store,
        vec![ChannelOp::Create {
            channel: row,
            limit,
        }],
    )
    .await
    .remove(0)
}

/// A channel with a thread, a tagged action and the archive warning, for the export's
/// round trip (every column of the three tables set at least once).
pub async fn build_channels(store: &Store, owner: &Principal, agent: &Principal) {
    let mut row = channel_row(owner, "ops");
    row.member_ids = vec![agent.author_id().to_owned()];
    let id = row.id.clone();
    assert!(create(store, row, 12).await.is_ok());
    let root = message(&id, agent, Some("k1"), "root", 1);
    let mut reply = message(&id, owner, Some("k1"), "reply", 2);
    reply.thread_root_id = Some(root.id.clone());
    let mut summary = message(&id, agent, None, "ACTION: \"quote\", done", 3);
    summary.summary_of = Some(root.id.clone());
    let decision = NewDecision {
        id: DecisionId(new_id()),
        kind: DecisionKind::Action,
        text: "\"quote\", done".to_owned(),
        owner_id: Some(agent.author_id().to_owned()),
    };
    let mut warning = message(&id, owner, None, "archive soon", 4);
    warning.author_kind = AuthorKind::System;
    warning.author_id = "system".to_owned();
    let ops = vec![
        ChannelOp::Post {
            message: root,
            decision: None,
        },
        ChannelOp::Post {
            message: reply,
            decision: None,
        },
        ChannelOp::Post {
            message: summary,
            decision: Some(decision),
        },
        ChannelOp::Sweep {
            channel_id: id.clone(),
            active_at: at(3),
            step: SweepStep::Warn(Box::new(warning)),
            at: at(4),
        },
        ChannelOp::SetArchived {
            channel_id: id,
            archived: true,
            limit: 12,
            at: at(5),
        },
    ];
    for result in apply(store, ops).await {
        assert!(result.is_ok(), "{result:?}");
    }
}

store_test!(
    racing_creations_stop_at_the_limit,
    racing_creations_stop_at_the_limit_sqlite,
    racing_creations_stop_at_the_limit_postgres
);
/// Eight creations at once under a limit of three: exactly three pass. On PostgreSQL each
/// batch runs in its own pooled transaction, as on separate nodes, so the count must be
/// taken under the lock or several would pass it.
async fn racing_creations_stop_at_the_limit(store: &Store) {
    let owner = add_member(store, fandesk_domain::Role::Owner).await;
    let creations = (0..8).map(|n| {
        let row = channel_row(&owner, &format!("race {n}"));
        async move { create(store, row, 3).await }
    });
    let results = futures_util::future::join_all(creations).await;
    let created = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(created, 3, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|result| result.as_ref().err())
            .all(|refusal| *refusal == ChannelRefusal::Limit(3))
    );
}

store_test!(
    limits_archives_and_restores,
    limits_archives_and_restores_sqlite,
    limits_archives_and_restores_postgres
);
async fn limits_archives_and_restores(store: &Store) {
    let owner = add_member(store, fandesk_domain::Role::Owner).await;
    let first = channel_row(&owner, "a");
    let first_id = first.id.clone();
    assert!(create(store, first, 2).await.is_ok());
    assert!(create(store, channel_row(&owner, "b"), 2).await.is_ok());
    let over = create(store, channel_row(&owner, "c"), 2).await;
    assert_eq!(over.err(), Some(ChannelRefusal::Limit(2)));

    let archive = |archived: bool, seconds: i64| ChannelOp::SetArchived {
        channel_id: first_id.clone(),
        archived,
        limit: 2,
        at: at(seconds),
    };
    let results = apply(store, vec![archive(true, 5), archive(true, 6)]).await;
    assert!(matches!(
        results[0],
        Ok(ChannelOutcome::Channel { changed: true, .. })
    ));
    assert!(matches!(
        results[1],
        Ok(ChannelOutcome::Channel { changed: false, .. })
    ));
    assert_eq!(store.list_channels(true).await.expect("archived").len(), 1);
    assert_eq!(store.list_channels(false).await.expect("active").len(), 1);
    // Read-only while archived.
    let refused = apply(
        store,
        vec![ChannelOp::Post {
            message: message(&first_id, &owner, Some("k"), "hi", 7),
            decision: None,
        }],
    )
    .await;
    assert!(matches!(
        refused[0],
        Err(ChannelRefusal::Rule(RuleViolation::InvalidTransition(_)))
    ));
    let third = channel_row(&owner, "c");
    let third_id = third.id.clone();
    assert!(create(store, third, 2).await.is_ok());
    let full = apply(store, vec![archive(false, 8)]).await;
    assert_eq!(full[0].clone().err(), Some(ChannelRefusal::Limit(2)));
    let archive_third = ChannelOp::SetArchived {
        channel_id: third_id,
        archived: true,
        limit: 2,
        at: at(9),
    };
    let restored = apply(store, vec![archive_third, archive(false, 10)]).await;
    let Ok(ChannelOutcome::Channel { channel, changed }) = &restored[1] else {
        panic!("not restored: {:?}", restored[1]);
    };
    assert!(changed);
    // A restored channel starts a new idle spell.
    assert_eq!(
        (channel.archived_at, channel.active_at, channel.warned_at),
        (None, at(10), None)
    );
}

store_test!(
    posts_threads_and_decisions,
    posts_threads_and_decisions_sqlite,
    posts_threads_and_decisions_postgres
);
async fn posts_threads_and_decisions(store: &Store) {
    let owner = add_member(store, fandesk_domain::Role::Owner).await;
    let agent = add_member(store, fandesk_domain::Role::Agent).await;
    let row = channel_row(&owner, "ops");
    let id = row.id.clone();
    assert!(create(store, row, 12).await.is_ok());

    let root = message(&id, &agent, Some("k1"), "root", 1);
    let mut reply = message(&id, &owner, Some("k1"), "reply", 2);
    reply.thread_root_id = Some(root.id.clone());
    let mut nested = message(&id, &agent, Some("k2"), "nested", 3);
    nested.thread_root_id = Some(reply.id.clone());
    let decision = NewDecision {
        id: DecisionId(new_id()),
        kind: DecisionKind::Action,
        text: "book it".to_owned(),
        owner_id: Some(owner.author_id().to_owned()),
    };
    let post = |message: ChannelMessageRow, decision: Option<NewDecision>| ChannelOp::Post {
        message,
        decision,
    };
    let results = apply(
        store,
        vec![
            post(root.clone(), None),
            post(reply.clone(), None),
            post(message(&id, &agent, Some("k1"), "again", 4), None),
            post(nested, None),
            post(
                message(&id, &agent, Some("k3"), "ACTION: book it", 5),
                Some(decision.clone()),
            ),
        ],
    )
    .await;
    assert_eq!(
        posted(&results[0]),
        (
            &ChannelMessageRow {
                seq: 1,
                ..root.clone()
            },
            true
        )
    );
    assert_eq!(posted(&results[1]).0.seq, 2);
    // The same author and key: the original, in the same batch.
    assert_eq!(
        posted(&results[2]),
        (
            &ChannelMessageRow {
                seq: 1,
                ..root.clone()
            },
            false
        )
    );
    assert!(matches!(
        results[3],
        Err(ChannelRefusal::Rule(RuleViolation::Invalid {
            field: "thread_root_id",
            ..
        }))
    ));
    let (tagged, _) = posted(&results[4]);
    assert_eq!((tagged.seq, tagged.tag), (3, Some(DecisionKind::Action)));

    let all = store
        .list_channel_messages(&id, &ChannelMessageFilter::default(), 100)
        .await
        .expect("messages");
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let thread = ChannelMessageFilter {
        after_seq: 0,
        thread_root_id: Some(root.id.clone()),
    };
    let thread = store
        .list_channel_messages(&id, &thread, 100)
        .await
        .expect("thread");
    assert_eq!(thread.len(), 2);
    let channel = store
        .find_channel(&id)
        .await
        .expect("read")
        .expect("channel");
    assert_eq!((channel.last_seq, channel.active_at), (3, at(5)));

    // The decision log.
    let logged = store
        .list_decisions(&DecisionFilter::default(), 10)
        .await
        .expect("log");
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].message_id, tagged.id);
    assert_eq!(logged[0].channel_name, "ops");
    assert_eq!(logged[0].owner_name.as_deref(), Some(owner.name()));
    let filters = [
        (
            DecisionFilter {
                kind: Some(DecisionKind::Decision),
                ..DecisionFilter::default()
            },
            0,
        ),
        (
            DecisionFilter {
                owner_id: Some(owner.author_id().to_owned()),
                ..DecisionFilter::default()
            },
            1,
        ),
        (
            DecisionFilter {
                from: Some(at(6)),
                ..DecisionFilter::default()
            },
            0,
        ),
        (
            DecisionFilter {
                from: Some(at(5)),
                to: Some(at(6)),
                channel_id: Some(id.clone()),
                ..DecisionFilter::default()
            },
            1,
        ),
    ];
    for (filter, expected) in filters {
        let found = store.list_decisions(&filter, 10).await.expect("log");
        assert_eq!(found.len(), expected, "{filter:?}");
    }
    let done = store
        .update_decision_status(&decision.id, DecisionStatus::Done, at(9))
        .await
        .expect("update")
        .expect("found");
    assert_eq!(
        (done.status, done.updated_at),
        (DecisionStatus::Done, at(9))
    );
    let missing = store
        .update_decision_status(&DecisionId(new_id()), DecisionStatus::Done, at(9))
        .await
        .expect("update");
    assert!(missing.is_none());
}

store_test!(
    the_sweep_skips_a_channel_used_since,
    the_sweep_skips_a_channel_used_since_sqlite,
    the_sweep_skips_a_channel_used_since_postgres
);
async fn the_sweep_skips_a_channel_used_since(store: &Store) {
    let owner = add_member(store, fandesk_domain::Role::Owner).await;
    let row = channel_row(&owner, "ops");
    let id = row.id.clone();
    assert!(create(store, row, 12).await.is_ok());
    let mut warning = message(&id, &owner, None, "this channel will be archived", 100);
    warning.author_kind = AuthorKind::System;
    warning.author_id = "system".to_owned();
    let sweep = |step: SweepStep, active_seconds: i64| ChannelOp::Sweep {
        channel_id: id.clone(),
        active_at: at(active_seconds),
        step,
        at: at(100),
    };
    let results = apply(
        store,
        vec![
            sweep(SweepStep::Warn(Box::new(warning.clone())), 0),
            // Warned already: the second warning is skipped.
            sweep(
                SweepStep::Warn(Box::new(ChannelMessageRow {
                    id: MessageId(new_id()),
                    ..warning.clone()
                })),
                0,
            ),
        ],
    )
    .await;
    assert_eq!(posted(&results[0]).0.seq, 1);
    assert!(matches!(results[1], Ok(ChannelOutcome::Skipped)));
    let channel = store
        .find_channel(&id)
        .await
        .expect("read")
        .expect("channel");
    // The warning does not count as use.
    assert_eq!(
        (channel.active_at, channel.warned_at),
        (at(0), Some(at(100)))
    );
    assert_eq!(channel.last_message_at, None);

    // A member posts after the sweep read the channel: the archive is skipped.
    let results = apply(
        store,
        vec![
            ChannelOp::Post {
                message: message(&id, &owner, Some("k"), "still here", 101),
                decision: None,
            },
            sweep(SweepStep::Archive, 0),
        ],
    )
    .await;
    assert!(matches!(results[1], Ok(ChannelOutcome::Skipped)));
    let channel = store
        .find_channel(&id)
        .await
        .expect("read")
        .expect("channel");
    assert_eq!(
        (channel.active_at, channel.warned_at, channel.archived_at),
        (at(101), None, None)
    );
    let results = apply(store, vec![sweep(SweepStep::Archive, 101)]).await;
    assert!(matches!(
        results[0],
        Ok(ChannelOutcome::Channel { changed: true, .. })
    ));
    assert_eq!(store.list_channels(true).await.expect("archived").len(), 1);
}
