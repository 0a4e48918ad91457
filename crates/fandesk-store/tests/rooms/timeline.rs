//! Sequencing: rooms round-trip, dense `seq` per room, idempotent sends, room states, and
//! two writers on one room.

use crate::support::{
    TestDb, add_fan, add_member, add_room, apply, at, change, events, post, post_with, posted,
    refusal, seqs,
};
use fandesk_domain::room::{RoomAction, RoomId, RoomRefusal, RoomState};
use fandesk_domain::{Role, RuleViolation};
use fandesk_store::{RoomEventFilter, RoomOp, RoomOutcome};

room_test!(
    rooms_round_trip,
    rooms_round_trip_sqlite,
    rooms_round_trip_postgres
);
async fn rooms_round_trip(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let first = add_room(db, &owner, RoomState::Scheduled, Some(600), 15).await;
    let second = add_room(db, &owner, RoomState::Open, None, 0).await;
    let found = db.find_room(&first).await.unwrap().expect("room");
    assert_eq!(
        (
            found.state,
            found.opens_at,
            found.slow_mode_secs,
            found.last_seq
        ),
        (RoomState::Scheduled, Some(at(600)), 15, 0)
    );
    assert!(
        db.find_room(&RoomId("nope".into()))
            .await
            .unwrap()
            .is_none()
    );
    let listed: Vec<RoomId> = db
        .list_rooms(10)
        .await
        .unwrap()
        .into_iter()
        .map(|room| room.id)
        .collect();
    assert_eq!(listed, [second, first], "newest first");
}

room_test!(
    dense_seq_per_room,
    dense_seq_per_room_sqlite,
    dense_seq_per_room_postgres
);
async fn dense_seq_per_room(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (a, b) = (
        add_room(db, &owner, RoomState::Open, None, 0).await,
        add_room(db, &owner, RoomState::Open, None, 0).await,
    );
    let fans = [add_fan(db).await, add_fan(db).await, add_fan(db).await];
    let mut ops = Vec::new();
    for (number, fan) in fans.iter().cycle().take(9).enumerate() {
        let room = if number % 3 == 2 { &b } else { &a };
        ops.push(post(room, fan, number as i64));
    }
    let results = apply(db, &ops).await;
    let seq_of = |range: std::ops::Range<usize>| {
        results[range]
            .iter()
            .map(|result| posted(result).seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(seq_of(0..3), [1, 2, 1], "each room counts on its own");
    apply(db, &[post(&a, &owner, 20), post(&b, &owner, 20)]).await;
    let in_a = events(db, &a, RoomEventFilter::All).await;
    assert_eq!(seqs(&in_a), (1..=7).collect::<Vec<_>>());
    assert_eq!(
        seqs(&events(db, &b, RoomEventFilter::All).await),
        [1, 2, 3, 4]
    );
    assert_eq!(db.find_room(&a).await.unwrap().unwrap().last_seq, 7);
    // Paging with after_seq picks up exactly where the previous page ended.
    let page = db
        .list_room_events(&a, RoomEventFilter::All, 3, 2)
        .await
        .unwrap();
    assert_eq!(seqs(&page), [4, 5]);
}

room_test!(
    sends_are_idempotent,
    sends_are_idempotent_sqlite,
    sends_are_idempotent_postgres
);
async fn sends_are_idempotent(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (room, other_room) = (
        add_room(db, &owner, RoomState::Open, None, 0).await,
        add_room(db, &owner, RoomState::Open, None, 0).await,
    );
    let (fan, other_fan) = (add_fan(db).await, add_fan(db).await);
    let results = apply(
        db,
        &[
            post_with(&room, &fan, "c1", 0),
            post_with(&room, &fan, "c1", 0),
            post_with(&room, &other_fan, "c1", 0),
        ],
    )
    .await;
    let original = posted(&results[0]).clone();
    assert!(
        matches!(&results[1], Ok(RoomOutcome::Duplicate { event }) if *event == original),
        "{:?}",
        results[1]
    );
    assert_eq!(posted(&results[2]).seq, 2, "another author's key is theirs");
    let results = apply(
        db,
        &[
            post_with(&room, &fan, "c1", 30),
            post_with(&other_room, &fan, "c1", 30),
        ],
    )
    .await;
    assert!(
        matches!(&results[0], Ok(RoomOutcome::Duplicate { event }) if *event == original),
        "{:?}",
        results[0]
    );
    assert_eq!(posted(&results[1]).seq, 1, "keys are per room");
    assert_eq!(seqs(&events(db, &room, RoomEventFilter::All).await), [1, 2]);
}

room_test!(
    room_states_gate_posting,
    room_states_gate_posting_sqlite,
    room_states_gate_posting_postgres
);
async fn room_states_gate_posting(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let agent = add_member(db, Role::Agent).await;
    let fan = add_fan(db).await;
    let scheduled = add_room(db, &owner, RoomState::Scheduled, None, 0).await;
    let due = add_room(db, &owner, RoomState::Scheduled, Some(5), 0).await;
    let results = apply(
        db,
        &[
            post(&scheduled, &fan, 10),
            post(&scheduled, &agent, 10),
            post(&due, &fan, 4),
            post(&due, &fan, 10),
            change(&due, &owner, RoomAction::Open, 10),
            change(&scheduled, &agent, RoomAction::Open, 10),
            post(&RoomId("missing".into()), &fan, 10),
        ],
    )
    .await;
    assert!(matches!(
        refusal(&results[0]),
        RoomRefusal::Rule(RuleViolation::InvalidTransition(_))
    ));
    assert_eq!(
        posted(&results[1]).seq,
        1,
        "the team posts in the countdown room"
    );
    assert!(
        matches!(
            refusal(&results[2]),
            RoomRefusal::Rule(RuleViolation::InvalidTransition(_))
        ),
        "not open yet"
    );
    assert_eq!(posted(&results[3]).seq, 1, "opens_at passed: open");
    assert!(
        matches!(
            refusal(&results[4]),
            RoomRefusal::Rule(RuleViolation::InvalidTransition(_))
        ),
        "already open"
    );
    assert!(
        matches!(
            refusal(&results[5]),
            RoomRefusal::Rule(RuleViolation::Forbidden(_))
        ),
        "agents do not manage rooms"
    );
    assert_eq!(refusal(&results[6]), &RoomRefusal::Missing("room"));

    let results = apply(
        db,
        &[
            change(&scheduled, &owner, RoomAction::Open, 20),
            post(&scheduled, &fan, 21),
            change(&scheduled, &owner, RoomAction::Close, 22),
            post(&scheduled, &fan, 23),
            post(&scheduled, &owner, 23),
        ],
    )
    .await;
    assert!(
        matches!(&results[0], Ok(RoomOutcome::Changed { room }) if room.state == RoomState::Open)
    );
    assert_eq!(posted(&results[1]).seq, 2);
    assert!(
        matches!(
            refusal(&results[3]),
            RoomRefusal::Rule(RuleViolation::InvalidTransition(_))
        ),
        "closed"
    );
    assert!(
        matches!(
            refusal(&results[4]),
            RoomRefusal::Rule(RuleViolation::InvalidTransition(_))
        ),
        "closed for all"
    );
    let stored = db.find_room(&scheduled).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.last_seq), (RoomState::Closed, 2));
}

room_test!(
    concurrent_writers_keep_seq_dense,
    concurrent_writers_keep_seq_dense_sqlite,
    concurrent_writers_keep_seq_dense_postgres
);
/// Two independent stores (two nodes) write one room at once: the room row lock (SQLite:
/// the single writer) keeps the sequence dense with no duplicate.
async fn concurrent_writers_keep_seq_dense(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let nodes = [db.store.clone(), db.another_node().await];
    let mut tasks = Vec::new();
    for (number, node) in nodes.iter().cycle().take(6).enumerate() {
        let (node, room, owner) = (node.clone(), room.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            for batch in 0..10 {
                let ops: Vec<RoomOp> = (0..5)
                    .map(|_| post(&room, &owner, (number * 100 + batch) as i64))
                    .collect();
                let results = node.apply_room_batch(&ops).await.expect("batch");
                assert!(results.iter().all(Result::is_ok));
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let stored = events(db, &room, RoomEventFilter::All).await;
    assert_eq!(seqs(&stored), (1..=300).collect::<Vec<_>>());
    assert_eq!(db.find_room(&room).await.unwrap().unwrap().last_seq, 300);
    // Closing a clone of the SQLite store closes the shared pools, which the test ends with anyway.
    nodes[1].close().await;
}
