//! The agent desk's store (docs/product.md › Routing, priority and shifts): fan profiles
//! and team search, the queue order, member loads, shifts and clock state, canned responses
//! and their usage, durable jobs (claimed once, surviving a restart), and a conversation
//! never assigned twice by racing claims.

use crate::support::{
    TestDb, add_member, apply, at, created, fan_id, member_id, open_conversation, public, refused,
    transition,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{ConversationId, Role};
use fandesk_store::{
    CannedRow, ConversationFilter, FanProfileUpdate, NewJob, ShiftRow, Store, StoreError,
};
use jiff::SignedDuration;
use std::collections::BTreeMap;

store_test!(
    fan_profiles_and_search,
    fan_profiles_and_search_sqlite,
    fan_profiles_and_search_postgres
);
async fn fan_profiles_and_search(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let (other, _) = open_conversation(store).await;
    let id = fan_id(&fan);
    let profile = store.find_fan_profile(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            profile.tags.len(),
            profile.lifetime_spend_cents,
            profile.notes.as_str()
        ),
        (0, 0, "")
    );
    let attributes: BTreeMap<String, String> = [("tier".to_owned(), "gold".to_owned())].into();
    let update = FanProfileUpdate {
        tags: Some(vec!["vip".into(), "whale_1".into()]),
        lifetime_spend_cents: Some(123_456),
        notes: Some("prefers mornings".into()),
        attributes: Some(attributes.clone()),
        timezone: Some("Europe/Paris".into()),
    };
    store.update_fan_profile(&id, &update).await.unwrap();
    let profile = store.find_fan_profile(&id).await.unwrap().unwrap();
    assert_eq!(profile.tags, ["vip", "whale_1"]);
    assert_eq!(profile.lifetime_spend_cents, 123_456);
    assert_eq!(profile.attributes, attributes);
    assert_eq!(profile.fan.timezone.as_deref(), Some("Europe/Paris"));
    // A partial update leaves the rest alone.
    let notes_only = FanProfileUpdate {
        notes: Some("".into()),
        ..Default::default()
    };
    store.update_fan_profile(&id, &notes_only).await.unwrap();
    let profile = store.find_fan_profile(&id).await.unwrap().unwrap();
    assert_eq!((profile.notes.as_str(), profile.tags.len()), ("", 2));
    let missing = store
        .update_fan_profile(&"nobody".into(), &notes_only)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("fan"))),
        "{missing:?}"
    );

    store.set_priority(&conversation, 450, "[]").await.unwrap();
    let search = |filter: ConversationFilter| async move {
        let filter = ConversationFilter {
            limit: 50,
            ..filter
        };
        let rows = store.list_conversations(&filter).await.unwrap();
        rows.into_iter()
            .map(|row| row.id)
            .collect::<Vec<ConversationId>>()
    };
    let name = profile.fan.display_name.to_uppercase();
    let by_name = search(ConversationFilter {
        fan_name: Some(name[name.len() - 4..].to_owned()),
        ..Default::default()
    });
    assert_eq!(by_name.await, std::slice::from_ref(&conversation));
    let by_tag = search(ConversationFilter {
        tag: Some("VIP".into()),
        ..Default::default()
    });
    assert_eq!(by_tag.await, std::slice::from_ref(&conversation));
    // `_` is literal, not a LIKE wildcard; a tag prefix is not the tag.
    for tag in ["whale1", "whale_", "vi"] {
        let none = search(ConversationFilter {
            tag: Some(tag.into()),
            ..Default::default()
        });
        assert!(none.await.is_empty(), "{tag}");
    }
    let by_priority = search(ConversationFilter {
        min_priority: Some(100),
        ..Default::default()
    });
    assert_eq!(by_priority.await, std::slice::from_ref(&conversation));
    let everyone = search(ConversationFilter::default()).await;
    assert!(everyone.contains(&other) && everyone.contains(&conversation));
}

store_test!(queue_order, queue_order_sqlite, queue_order_postgres);
async fn queue_order(store: &Store) {
    // Waiting since 0 s, 30 s and 60 s (awaiting_since follows the fan's first message).
    let mut ids = Vec::new();
    for (seconds, priority) in [(0, 0), (30, 0), (60, 300)] {
        let (conversation, fan) = open_conversation(store).await;
        let mut op = public(&conversation, &fan, "hello");
        if let fandesk_store::WriteOp::Post { at: when, .. } = &mut op {
            *when = at(seconds);
        }
        apply(store, &[op]).await;
        store
            .set_priority(&conversation, priority, "[]")
            .await
            .unwrap();
        ids.push(conversation);
    }
    let (assigned, _) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let assign = Transition::Assign {
        member: member_id(&agent),
        name: "A".into(),
        role: Role::Agent,
    };
    apply(store, &[transition(&assigned, &agent, assign)]).await;
    let queue: Vec<ConversationId> = store
        .list_queue(false, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.conversation.id)
        .collect();
    // 300 points outweigh 60 s of waiting: the vip-like fan comes first although they
    // wrote last; then the longest wait first.
    assert_eq!(queue[0], ids[2]);
    assert!(
        !queue.contains(&assigned),
        "assigned conversations are not queued"
    );
    let waiting: Vec<&ConversationId> = queue.iter().filter(|id| ids.contains(id)).collect();
    assert_eq!(waiting, [&ids[2], &ids[0], &ids[1]]);
    let loads = store.list_member_loads(at(0)).await.unwrap();
    let load = loads
        .iter()
        .find(|row| row.id == member_id(&agent))
        .unwrap();
    assert_eq!((load.active, load.max_concurrent), (1, 5));
    store
        .set_max_concurrent(&member_id(&agent), 2)
        .await
        .unwrap();
    let loads = store.list_member_loads(at(0)).await.unwrap();
    assert_eq!(
        loads
            .iter()
            .find(|row| row.id == member_id(&agent))
            .unwrap()
            .max_concurrent,
        2
    );
}

store_test!(
    racing_claims_assign_once,
    racing_claims_assign_once_sqlite,
    racing_claims_assign_once_postgres
);
/// Automatic assignment is an agent's own pick (`Transition::Assign` by that agent), so
/// whichever of several racing picks commits first wins and the others are refused
/// inside their transactions (never assigned twice concurrently).
async fn racing_claims_assign_once(store: &Store) {
    let mut agents = Vec::new();
    for _ in 0..6 {
        agents.push(add_member(store, Role::Agent).await);
    }
    for _ in 0..10 {
        let (conversation, _) = open_conversation(store).await;
        let mut tasks = Vec::new();
        for agent in &agents {
            let (store, conversation, agent) = (store.clone(), conversation.clone(), agent.clone());
            tasks.push(tokio::spawn(async move {
                let pick = Transition::Assign {
                    member: member_id(&agent),
                    name: agent.name().to_owned(),
                    role: Role::Agent,
                };
                let results = store
                    .apply_batch(&[transition(&conversation, &agent, pick)])
                    .await
                    .expect("apply batch");
                results.into_iter().next().expect("one result").is_ok()
            }));
        }
        let mut won = 0;
        for task in tasks {
            won += usize::from(task.await.unwrap());
        }
        assert_eq!(won, 1, "exactly one racing pick wins");
        let row = store
            .find_conversation(&conversation)
            .await
            .unwrap()
            .unwrap();
        let assignments =
            crate::support::timeline(store, &conversation, fandesk_domain::Audience::Team)
                .await
                .iter()
                .filter(|message| message.body.starts_with("Assigned to"))
                .count();
        assert_eq!(assignments, 1);
        assert!(row.assignee_id.is_some());
    }
}

store_test!(
    jobs_run_once_and_survive,
    jobs_run_once_and_survive_sqlite,
    jobs_run_once_and_survive_postgres
);
async fn jobs_run_once_and_survive(db: &mut TestDb) {
    let job = |key: &str, due: i64| NewJob {
        id: crate::support::new_id(),
        kind: "test".into(),
        key: key.into(),
        payload: "{}".into(),
        due_at: at(due),
    };
    assert!(db.insert_job(&job("a", 10), at(0)).await.unwrap());
    assert!(
        !db.insert_job(&job("a", 99), at(0)).await.unwrap(),
        "one job per key"
    );
    assert!(db.insert_job(&job("b", 20), at(0)).await.unwrap());
    let lease = SignedDuration::from_secs(60);
    assert!(
        db.claim_due_jobs(at(5), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    db.reopen().await;
    let claimed = db.claim_due_jobs(at(25), lease, 10).await.unwrap();
    let keys: Vec<&str> = claimed.iter().map(|job| job.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"], "due jobs survive a restart, oldest first");
    assert_eq!(claimed[0].attempts, 1);
    // Leased: nobody else gets them until the lease ends.
    assert!(
        db.claim_due_jobs(at(26), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    db.complete_job(&claimed[0].id, at(27)).await.unwrap();
    db.release_job(&claimed[1].id, at(100)).await.unwrap();
    assert!(
        db.claim_due_jobs(at(99), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = db.claim_due_jobs(at(100), lease, 10).await.unwrap();
    assert_eq!(
        (again.len(), again[0].key.as_str(), again[0].attempts),
        (1, "b", 2)
    );
    // A lease that ran out (its worker died) hands the job out again; done jobs never.
    let expired = db.claim_due_jobs(at(161), lease, 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(db.count_pending_jobs().await.unwrap(), 1);
}

store_test!(
    concurrent_claims_are_disjoint,
    concurrent_claims_are_disjoint_sqlite,
    concurrent_claims_are_disjoint_postgres
);
async fn concurrent_claims_are_disjoint(store: &Store) {
    for n in 0..40 {
        let job = NewJob {
            id: crate::support::new_id(),
            kind: "test".into(),
            key: format!("k{n}"),
            payload: "{}".into(),
            due_at: at(n),
        };
        store.insert_job(&job, at(0)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .claim_due_jobs(at(100), SignedDuration::from_secs(60), 3)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|job| job.key));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(
        (before, all.len()),
        (40, 40),
        "every job claimed exactly once"
    );
}

store_test!(
    shifts_and_clock,
    shifts_and_clock_sqlite,
    shifts_and_clock_postgres
);
async fn shifts_and_clock(store: &Store) {
    let agent = member_id(&add_member(store, Role::Agent).await);
    let shift = ShiftRow {
        id: "shf_1".into(),
        name: "Nights".into(),
        weekdays: vec!["fri".into(), "sat".into()],
        start_time: "22:00".into(),
        end_time: "06:00".into(),
        member_ids: Vec::new(),
        created_at: at(0),
        updated_at: at(0),
    };
    store.insert_shift(&shift).await.unwrap();
    let taken = store
        .insert_shift(&ShiftRow {
            id: "shf_2".into(),
            ..shift.clone()
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    store
        .set_shift_members("shf_1", std::slice::from_ref(&agent))
        .await
        .unwrap();
    let listed = store.list_shifts().await.unwrap();
    assert_eq!(
        listed,
        [ShiftRow {
            member_ids: vec![agent.clone()],
            ..shift.clone()
        }]
    );
    let renamed = ShiftRow {
        name: "Late".into(),
        updated_at: at(5),
        ..shift.clone()
    };
    store.update_shift(&renamed).await.unwrap();
    assert_eq!(store.list_shifts().await.unwrap()[0].name, "Late");
    store.set_clock(&agent, true, at(1)).await.unwrap();
    store.set_clock(&agent, false, at(2)).await.unwrap();
    let clocks = store.list_clocks().await.unwrap();
    assert_eq!(
        (clocks.len(), clocks[0].clocked_in, clocks[0].at),
        (1, false, at(2))
    );
    store.delete_shift("shf_1").await.unwrap();
    assert!(store.list_shifts().await.unwrap().is_empty());
    assert!(matches!(
        store.delete_shift("shf_1").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_shift_members("shf_1", &[agent]).await,
        Err(StoreError::NotFound(_))
    ));
}

store_test!(
    canned_library_and_usage,
    canned_library_and_usage_sqlite,
    canned_library_and_usage_postgres
);
async fn canned_library_and_usage(store: &Store) {
    let supervisor = member_id(&add_member(store, Role::Supervisor).await);
    let agent = add_member(store, Role::Agent).await;
    let row = CannedRow {
        id: "cr_1".into(),
        shortcut: "thanks".into(),
        title: "Thanks".into(),
        body: "Hi {{ fan.first_name }}!\nThanks.".into(),
        created_by: supervisor.clone(),
        created_at: at(0),
        updated_at: at(0),
    };
    store.insert_canned(&row).await.unwrap();
    let taken = store
        .insert_canned(&CannedRow {
            id: "cr_2".into(),
            ..row.clone()
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    let edited = CannedRow {
        title: "Thank you".into(),
        updated_at: at(9),
        ..row.clone()
    };
    store.update_canned(&edited).await.unwrap();
    assert_eq!(
        store.find_canned("cr_1").await.unwrap(),
        Some(edited.clone())
    );
    assert_eq!(store.list_canned().await.unwrap(), [edited]);
    // A use counts only once its message is committed.
    let (conversation, _) = open_conversation(store).await;
    let results = apply(store, &[public(&conversation, &agent, "Hi there!")]).await;
    let message = created(&results[0]).0.id.clone();
    store
        .insert_canned_use(&message.0, "cr_1", &member_id(&agent), true, at(60))
        .await
        .unwrap();
    store
        .insert_canned_use(&message.0, "cr_1", &member_id(&agent), true, at(60))
        .await
        .unwrap();
    store
        .insert_canned_use(
            "msg_never_committed",
            "cr_1",
            &member_id(&agent),
            false,
            at(61),
        )
        .await
        .unwrap();
    let usage = store.list_canned_usage().await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].uses, usage[0].unedited, usage[0].last_used_at),
        (1, 1, Some(at(60)))
    );
    let per_member = store.list_canned_member_uses(at(0)).await.unwrap();
    assert_eq!((per_member.len(), per_member[0].uses), (1, 1));
    let sent = store.count_member_public_messages(at(0)).await.unwrap();
    assert_eq!(sent, [(member_id(&agent), 1)]);
    store.delete_canned("cr_1").await.unwrap();
    assert!(store.list_canned_usage().await.unwrap().is_empty());
    assert!(matches!(
        store.delete_canned("cr_1").await,
        Err(StoreError::NotFound(_))
    ));
}

store_test!(desk_columns, desk_columns_sqlite, desk_columns_postgres);
async fn desk_columns(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    store.set_opened_at(&conversation, at(30)).await.unwrap();
    store
        .set_priority(&conversation, 250, r#"[{"name":"intent"}]"#)
        .await
        .unwrap();
    let desk = store
        .find_desk_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((desk.opening(), desk.conversation.priority), (at(30), 250));
    assert_eq!(desk.priority_inputs, r#"[{"name":"intent"}]"#);
    // The off-hours reply is claimed once per opening.
    assert!(
        store
            .claim_off_hours_reply(&conversation, at(30), at(31))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_off_hours_reply(&conversation, at(30), at(32))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_off_hours_reply(&conversation, at(40), at(41))
            .await
            .unwrap()
    );
    // Fan messages since the opening, oldest first; the previous agent of the fan.
    apply(
        store,
        &[
            public(&conversation, &fan, "one"),
            public(&conversation, &agent, "hi"),
        ],
    )
    .await;
    let messages = store
        .list_fan_messages(&conversation, at(0), 10)
        .await
        .unwrap();
    assert_eq!(
        messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["one"]
    );
    assert!(
        store
            .list_fan_messages(&conversation, at(61), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .find_previous_agent(&fan_id(&fan), &conversation)
            .await
            .unwrap(),
        None
    );
    let previous = store
        .find_previous_agent(&fan_id(&fan), &ConversationId::from("another"))
        .await
        .unwrap();
    assert_eq!(previous, Some(member_id(&agent)));
    // The public reply claimed it: another agent's pick is refused inside the commit.
    let other = add_member(store, Role::Agent).await;
    let pick = Transition::Assign {
        member: member_id(&other),
        name: other.name().to_owned(),
        role: Role::Agent,
    };
    let results = apply(store, &[transition(&conversation, &other, pick)]).await;
    refused(&results[0]);
}
