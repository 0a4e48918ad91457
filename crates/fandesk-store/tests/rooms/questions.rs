//! An event's questions: asks idempotent by `client_msg_id` under the room's slow mode
//! and timeouts, one upvote per fan (also under a race of many writers) counted without an
//! entry of its own, the tally's entry with the count as it is, the team's actions, fans
//! never listing a hidden question, and the event's dense `seq`.

use crate::support::{TestDb, add_fan, add_member, apply, at, fan_id, new_id, timeout};
use fandesk_domain::event::{EventId, EventKind};
use fandesk_domain::question::{QuestionAction, QuestionId, QuestionOrder, QuestionState};
use fandesk_domain::room::{RoomId, RoomRefusal, RoomState};
use fandesk_domain::{Audience, Principal, Role};
use fandesk_store::{
    EventRow, QuestionEntryKind, QuestionOp, QuestionOpResult, QuestionOutcome, QuestionRow,
    RoomRow, Store,
};

/// A live event taking questions, started at the base time, its chat open since 15
/// minutes before, with `slow` seconds of slow mode.
async fn add_event(db: &Store, owner: &Principal, slow: u32) -> (EventId, RoomId) {
    let Principal::Member { id, .. } = owner else {
        panic!("events are created by members")
    };
    let room = RoomRow {
        id: RoomId(new_id()),
        title: "Q&A night".to_owned(),
        state: RoomState::Scheduled,
        opens_at: Some(at(-900)),
        slow_mode_secs: slow,
        last_seq: 0,
        created_by: id.clone(),
        created_at: at(-3_600),
        updated_at: at(-3_600),
    };
    let event = EventRow {
        id: EventId(new_id()),
        room_id: room.id.clone(),
        kind: EventKind::Live,
        title: room.title.clone(),
        starts_at: at(0),
        duration_secs: 3_600,
        media_url: None,
        qa: true,
        created_by: id.clone(),
        created_at: at(-3_600),
        updated_at: at(-3_600),
    };
    db.insert_event(&event, &room).await.expect("insert event");
    (event.id, room.id)
}

fn ask(event: &EventId, fan: &Principal, client_msg_id: &str, body: &str, secs: i64) -> QuestionOp {
    QuestionOp::Ask {
        question_id: QuestionId(new_id()),
        event_id: event.clone(),
        fan_id: fan_id(fan),
        author_name: fan.name().to_owned(),
        client_msg_id: client_msg_id.to_owned(),
        body: body.to_owned(),
        at: at(secs),
    }
}

fn upvote(event: &EventId, question: &QuestionId, fan: &Principal, secs: i64) -> QuestionOp {
    QuestionOp::Upvote {
        event_id: event.clone(),
        question_id: question.clone(),
        fan_id: fan_id(fan),
        at: at(secs),
    }
}

fn tally(event: &EventId, question: &QuestionId, secs: i64) -> QuestionOp {
    QuestionOp::Tally {
        event_id: event.clone(),
        question_id: question.clone(),
        at: at(secs),
    }
}

fn act(
    event: &EventId,
    question: &QuestionId,
    actor: &Principal,
    action: QuestionAction,
) -> QuestionOp {
    QuestionOp::Act {
        event_id: event.clone(),
        question_id: question.clone(),
        actor: actor.clone(),
        action,
        at: at(100),
    }
}

async fn run(store: &Store, ops: &[QuestionOp]) -> Vec<QuestionOpResult> {
    let results = store
        .apply_question_batch(ops)
        .await
        .expect("question batch");
    assert_eq!(results.len(), ops.len(), "one result per op");
    results
}

/// The entry's (seq, kind) of a change; panics on anything else.
fn changed(result: &QuestionOpResult) -> (u64, QuestionEntryKind, QuestionRow) {
    match result {
        Ok(QuestionOutcome::Changed(entry)) => (entry.seq, entry.kind, entry.question.clone()),
        other => panic!("expected a change, got {other:?}"),
    }
}

/// The question of a counted upvote; panics on anything else.
fn counted(result: &QuestionOpResult) -> QuestionRow {
    match result {
        Ok(QuestionOutcome::Counted(row)) => row.clone(),
        other => panic!("expected a counted upvote, got {other:?}"),
    }
}

fn unchanged(result: &QuestionOpResult) -> QuestionRow {
    match result {
        Ok(QuestionOutcome::Unchanged(row)) => row.clone(),
        other => panic!("expected no change, got {other:?}"),
    }
}

room_test!(
    questions_asked_upvoted_and_moderated,
    questions_asked_upvoted_and_moderated_sqlite,
    questions_asked_upvoted_and_moderated_postgres
);
async fn questions_asked_upvoted_and_moderated(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (event, _) = add_event(db, &owner, 0).await;
    let ada = add_fan(db).await;
    let bo = add_fan(db).await;
    // One batch: two asks, a retry of the first, upvotes (one repeated), actions.
    let first = run(db, &[ask(&event, &ada, "a1", "First?", 10)]).await;
    let (seq, kind, q1) = changed(&first[0]);
    assert_eq!(
        (seq, kind, q1.upvotes, q1.state),
        (1, QuestionEntryKind::Created, 0, QuestionState::Open)
    );
    // Upvotes are counted without an entry; the tally after them takes one, with the
    // count as it is.
    let results = run(
        db,
        &[
            ask(&event, &bo, "b1", "Second?", 11),
            ask(&event, &ada, "a1", "First, retried?", 12),
            upvote(&event, &q1.id, &bo, 13),
            upvote(&event, &q1.id, &bo, 14),
            upvote(&event, &q1.id, &ada, 15),
            tally(&event, &q1.id, 15),
        ],
    )
    .await;
    let (seq, _, q2) = changed(&results[0]);
    assert_eq!(seq, 2);
    let retried = unchanged(&results[1]);
    assert_eq!(
        (retried.id.clone(), retried.body.as_str()),
        (q1.id.clone(), "First?")
    );
    assert_eq!(counted(&results[2]).upvotes, 1);
    assert_eq!(
        unchanged(&results[3]).upvotes,
        1,
        "a repeated upvote changes nothing"
    );
    assert_eq!(counted(&results[4]).upvotes, 2);
    let (seq, kind, tallied) = changed(&results[5]);
    assert_eq!(
        (seq, kind, tallied.upvotes),
        (3, QuestionEntryKind::Updated, 2)
    );
    assert_eq!(db.event_last_seq(&event).await.expect("last"), Some(3));

    // The team's actions: a repeat changes nothing; a hidden question stays hidden.
    let results = run(
        db,
        &[
            act(&event, &q1.id, &owner, QuestionAction::Answer),
            act(&event, &q1.id, &owner, QuestionAction::Answer),
            act(&event, &q2.id, &owner, QuestionAction::Hide),
            act(&event, &q2.id, &owner, QuestionAction::Pin),
            upvote(&event, &q2.id, &ada, 101),
            act(
                &event,
                &QuestionId::from("nowhere"),
                &owner,
                QuestionAction::Pin,
            ),
        ],
    )
    .await;
    assert_eq!(changed(&results[0]).2.state, QuestionState::Answered);
    assert_eq!(unchanged(&results[1]).state, QuestionState::Answered);
    assert_eq!(changed(&results[2]).0, 5);
    assert!(
        matches!(results[3], Err(RoomRefusal::Rule(_))),
        "{:?}",
        results[3]
    );
    assert_eq!(
        results[4].as_ref().err(),
        Some(&RoomRefusal::Missing("question"))
    );
    assert_eq!(
        results[5].as_ref().err(),
        Some(&RoomRefusal::Missing("question"))
    );

    // Fans never list the hidden question; the team does.
    let fans = db
        .list_questions(&event, Audience::Fan, QuestionOrder::Top, 50)
        .await
        .expect("list");
    assert_eq!(
        fans.iter().map(|q| q.id.clone()).collect::<Vec<_>>(),
        vec![q1.id.clone()]
    );
    let team = db
        .list_questions(&event, Audience::Team, QuestionOrder::New, 50)
        .await
        .expect("list");
    assert_eq!(
        team.iter().map(|q| q.id.clone()).collect::<Vec<_>>(),
        vec![q2.id.clone(), q1.id.clone()]
    );
    assert_eq!(
        db.upvoted_by(&fan_id(&bo), &event).await.expect("upvoted"),
        vec![q1.id.clone()]
    );

    // The timeline: dense, each entry with its question as it is now.
    let entries = db
        .list_question_entries(&event, 0, 100)
        .await
        .expect("entries");
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, (1..=5).collect::<Vec<_>>());
    assert_eq!(entries[1].question.state, QuestionState::Hidden);
    assert_eq!(
        db.list_question_entries(&event, 3, 1).await.expect("page")[0].seq,
        4
    );
    assert_eq!(db.event_last_seq(&event).await.expect("last"), Some(5));
    // A tally of a question that is not there is refused like any op about it.
    let missing = run(db, &[tally(&event, &QuestionId::from("nowhere"), 200)]).await;
    assert_eq!(
        missing[0].as_ref().err(),
        Some(&RoomRefusal::Missing("question"))
    );
}

room_test!(
    asking_follows_slow_mode_timeouts_and_the_chat_opening,
    asking_follows_slow_mode_timeouts_and_the_chat_opening_sqlite,
    asking_follows_slow_mode_timeouts_and_the_chat_opening_postgres
);
async fn asking_follows_slow_mode_timeouts_and_the_chat_opening(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (event, room) = add_event(db, &owner, 30).await;
    let ada = add_fan(db).await;
    let bo = add_fan(db).await;
    let results = run(
        db,
        &[
            // Before the chat opens (15 minutes before the start).
            ask(&event, &ada, "early", "Too early?", -901),
            ask(&event, &ada, "a1", "One?", 0),
            ask(&event, &ada, "a2", "Two, too soon?", 10),
            ask(&event, &ada, "a3", "Three?", 30),
        ],
    )
    .await;
    assert!(
        matches!(results[0], Err(RoomRefusal::Rule(_))),
        "{:?}",
        results[0]
    );
    changed(&results[1]);
    assert_eq!(
        results[2].as_ref().err(),
        Some(&RoomRefusal::SlowMode {
            retry_after_secs: 20
        })
    );
    changed(&results[3]);
    // A fan timed out of the event's room cannot ask either.
    apply(db, &[timeout(&room, &owner, &bo, 600, 40)]).await;
    let results = run(
        db,
        &[
            ask(&event, &bo, "b1", "Me?", 50),
            ask(&event, &bo, "b2", "Now?", 601),
        ],
    )
    .await;
    assert_eq!(
        results[0].as_ref().err(),
        Some(&RoomRefusal::TimedOut {
            until: crate::support::at(600)
        })
    );
    changed(&results[1]);
    let missing = run(
        db,
        &[ask(&EventId::from("nowhere"), &ada, "x", "Where?", 700)],
    )
    .await;
    assert_eq!(
        missing[0].as_ref().err(),
        Some(&RoomRefusal::Missing("event"))
    );
}

room_test!(
    concurrent_upvotes_count_each_fan_once,
    concurrent_upvotes_count_each_fan_once_sqlite,
    concurrent_upvotes_count_each_fan_once_postgres
);
async fn concurrent_upvotes_count_each_fan_once(db: &TestDb) {
    const FANS: usize = 24;
    let owner = add_member(db, Role::Owner).await;
    let (event, _) = add_event(db, &owner, 0).await;
    let asker = add_fan(db).await;
    let (_, _, question) = changed(&run(db, &[ask(&event, &asker, "q", "Race?", 1)]).await[0]);
    let mut fans = Vec::new();
    for _ in 0..FANS {
        fans.push(add_fan(db).await);
    }
    // Two stores (two nodes on PostgreSQL), every fan upvoting twice from separate tasks,
    // some pairs in one batch, some batches with a tally, all at once.
    let stores = [db.store.clone(), db.another_node().await];
    let mut tasks = Vec::new();
    for (index, fan) in fans.iter().enumerate() {
        for round in 0..2 {
            let store = stores[(index + round) % 2].clone();
            let op = upvote(&event, &question.id, fan, 2);
            let mut ops = if index % 3 == 0 {
                vec![op.clone(), op]
            } else {
                vec![op]
            };
            if index % 4 == round {
                ops.push(tally(&event, &question.id, 2));
            }
            tasks.push(tokio::spawn(async move {
                store
                    .apply_question_batch(&ops)
                    .await
                    .expect("upvote batch")
            }));
        }
    }
    let mut counted = 0;
    let mut tallies = 0;
    for task in tasks {
        for result in task.await.expect("task") {
            match result.expect("no refusal") {
                QuestionOutcome::Counted(_) => counted += 1,
                QuestionOutcome::Changed(_) => tallies += 1,
                QuestionOutcome::Unchanged(_) => {}
            }
        }
    }
    assert_eq!(counted, FANS, "each fan counted once");
    assert_eq!(tallies, FANS / 2, "every tally takes an entry");
    // The last tally, after every upvote, carries the final count.
    let last = run(db, &[tally(&event, &question.id, 3)]).await;
    assert_eq!(changed(&last[0]).2.upvotes, FANS as u64);
    let stored = db
        .find_question(&event, &question.id)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(stored.upvotes, FANS as u64);
    let entries = db
        .list_question_entries(&event, 0, 1_000)
        .await
        .expect("entries");
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    // The ask, the racing tallies and the last one.
    let expected = 1 + FANS as u64 / 2 + 1;
    assert_eq!(seqs, (1..=expected).collect::<Vec<_>>(), "dense seq");
    let upvotes: Vec<u64> = entries[1..]
        .iter()
        .map(|entry| entry.question.upvotes)
        .collect();
    assert!(
        upvotes.iter().all(|&n| n == FANS as u64),
        "replay reads the question as it is now"
    );
}

room_test!(
    a_run_of_upvotes_gets_one_outcome_each_in_order,
    a_run_of_upvotes_gets_one_outcome_each_in_order_sqlite,
    a_run_of_upvotes_gets_one_outcome_each_in_order_postgres
);
/// A batch of upvotes is applied set-based; each op's outcome is still what it would be
/// one at a time: counts in order, repeats (in the run or from before) unchanged, a hidden
/// or missing question and a missing event refused, two questions counted apart.
async fn a_run_of_upvotes_gets_one_outcome_each_in_order(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (event, _) = add_event(db, &owner, 0).await;
    let asker = add_fan(db).await;
    let results = run(
        db,
        &[
            ask(&event, &asker, "a", "Tour?", 1),
            ask(&event, &asker, "b", "Album?", 2),
            ask(&event, &asker, "c", "Rude", 3),
        ],
    )
    .await;
    let (tour, album, rude) = (
        changed(&results[0]).2.id,
        changed(&results[1]).2.id,
        changed(&results[2]).2.id,
    );
    let mut fans = Vec::new();
    for _ in 0..4 {
        fans.push(add_fan(db).await);
    }
    counted(&run(db, &[upvote(&event, &tour, &fans[0], 4)]).await[0]);
    run(db, &[act(&event, &rude, &owner, QuestionAction::Hide)]).await;
    let nowhere = EventId::from("nowhere");
    let results = run(
        db,
        &[
            upvote(&event, &tour, &fans[0], 10),
            upvote(&event, &tour, &fans[1], 11),
            upvote(&event, &album, &fans[1], 12),
            upvote(&event, &tour, &fans[1], 13),
            upvote(&event, &rude, &fans[2], 14),
            upvote(&event, &QuestionId::from("gone"), &fans[2], 15),
            upvote(&nowhere, &tour, &fans[2], 16),
            upvote(&event, &tour, &fans[3], 17),
            upvote(&event, &album, &fans[3], 18),
        ],
    )
    .await;
    assert_eq!(unchanged(&results[0]).upvotes, 1, "upvoted before");
    assert_eq!(counted(&results[1]).upvotes, 2);
    assert_eq!(counted(&results[2]).upvotes, 1);
    assert_eq!(unchanged(&results[3]).upvotes, 2, "a repeat in the run");
    for (index, missing) in [(4, "question"), (5, "question"), (6, "event")] {
        assert_eq!(
            results[index].as_ref().err(),
            Some(&RoomRefusal::Missing(missing)),
            "op {index}"
        );
    }
    let last = counted(&results[7]);
    assert_eq!((last.upvotes, last.updated_at), (3, at(17)));
    assert_eq!(counted(&results[8]).upvotes, 2);
    // Stored as counted; upvotes take no seq (3 asks and the hide only).
    for (question, count) in [(&tour, 3), (&album, 2), (&rude, 0)] {
        let stored = db.find_question(&event, question).await.expect("find");
        assert_eq!(stored.expect("exists").upvotes, count);
    }
    assert_eq!(db.event_last_seq(&event).await.expect("last"), Some(4));
    assert_eq!(
        db.upvoted_by(&fan_id(&fans[1]), &event)
            .await
            .expect("upvoted")
            .len(),
        2
    );
}
