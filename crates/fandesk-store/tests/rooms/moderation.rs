//! Moderation and fan limits: slow mode, timeouts, deletions.

use crate::support::{
    TestDb, add_fan, add_member, add_room, apply, at, delete, events, fan_id, new_id, post,
    post_with, posted, refusal, seqs, timeout,
};
use fandesk_domain::room::{RoomRefusal, RoomState};
use fandesk_domain::{MessageId, Principal, Role, RuleViolation};
use fandesk_store::{RoomEventFilter, RoomEventKind, RoomOp, RoomOutcome};

room_test!(
    slow_mode_limits_fans,
    slow_mode_limits_fans_sqlite,
    slow_mode_limits_fans_postgres
);
async fn slow_mode_limits_fans(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let agent = add_member(db, Role::Agent).await;
    let room = add_room(db, &owner, RoomState::Open, None, 10).await;
    let (fan, other_fan) = (add_fan(db).await, add_fan(db).await);
    // Two quick sends in one batch are judged in order, like two batches.
    let results = apply(
        db,
        &[
            post(&room, &fan, 0),
            post(&room, &fan, 1),
            post(&room, &other_fan, 1),
            post(&room, &agent, 1),
            post(&room, &agent, 1),
        ],
    )
    .await;
    assert_eq!(posted(&results[0]).seq, 1);
    assert_eq!(
        refusal(&results[1]),
        &RoomRefusal::SlowMode {
            retry_after_secs: 9
        }
    );
    assert_eq!(
        posted(&results[2]).seq,
        2,
        "each fan has their own interval"
    );
    assert_eq!(
        (posted(&results[3]).seq, posted(&results[4]).seq),
        (3, 4),
        "the team is exempt"
    );
    let results = apply(db, &[post(&room, &fan, 5), post(&room, &fan, 10)]).await;
    assert_eq!(
        refusal(&results[0]),
        &RoomRefusal::SlowMode {
            retry_after_secs: 5
        }
    );
    assert_eq!(posted(&results[1]).seq, 5, "a refused send takes no seq");
    let record = db
        .find_room_fan(&room, &fan_id(&fan))
        .await
        .unwrap()
        .expect("fan record");
    assert_eq!(record.last_message_at, Some(at(10)));
}

room_test!(
    timeouts_silence_a_fan,
    timeouts_silence_a_fan_sqlite,
    timeouts_silence_a_fan_postgres
);
async fn timeouts_silence_a_fan(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let agent = add_member(db, Role::Agent).await;
    let bot = add_member(db, Role::Bot).await;
    let room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let (fan, other_fan) = (add_fan(db).await, add_fan(db).await);
    let results = apply(
        db,
        &[
            post(&room, &fan, 0),
            timeout(&room, &agent, &fan, 60, 1),
            post(&room, &fan, 2),
            post(&room, &other_fan, 2),
            timeout(&room, &other_fan, &fan, 0, 3),
            timeout(&room, &bot, &fan, 0, 3),
        ],
    )
    .await;
    assert!(
        matches!(&results[1], Ok(RoomOutcome::TimedOut { fan: record }) if record.timed_out_until == Some(at(60)))
    );
    assert_eq!(
        refusal(&results[2]),
        &RoomRefusal::TimedOut { until: at(60) }
    );
    assert_eq!(posted(&results[3]).seq, 2);
    assert!(
        matches!(
            refusal(&results[4]),
            RoomRefusal::Rule(RuleViolation::Forbidden(_))
        ),
        "fans cannot moderate"
    );
    assert!(
        matches!(
            refusal(&results[5]),
            RoomRefusal::Rule(RuleViolation::Forbidden(_))
        ),
        "bots cannot moderate"
    );
    let record = db
        .find_room_fan(&room, &fan_id(&fan))
        .await
        .unwrap()
        .expect("fan record");
    assert_eq!(
        record.timed_out_by,
        match &agent {
            Principal::Member { id, .. } => Some(id.clone()),
            _ => None,
        }
    );
    // The timeout ends on time, and a moderator can lift it early.
    assert!(posted(&apply(db, &[post(&room, &fan, 60)]).await[0]).seq == 3);
    apply(db, &[timeout(&room, &agent, &fan, 500, 61)]).await;
    let results = apply(
        db,
        &[
            post(&room, &fan, 62),
            timeout(&room, &owner, &fan, 63, 63),
            post(&room, &fan, 63),
        ],
    )
    .await;
    assert!(matches!(refusal(&results[0]), RoomRefusal::TimedOut { .. }));
    assert_eq!(posted(&results[2]).seq, 4);
}

room_test!(
    deletions_take_a_seq,
    deletions_take_a_seq_sqlite,
    deletions_take_a_seq_postgres
);
async fn deletions_take_a_seq(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let agent = add_member(db, Role::Agent).await;
    let room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let other_room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let fan = add_fan(db).await;
    let results = apply(
        db,
        &[
            post_with(&room, &fan, "c1", 0),
            post(&room, &fan, 1),
            post(&room, &agent, 2),
        ],
    )
    .await;
    let target = posted(&results[0]).id.clone();
    let results = apply(
        db,
        &[
            delete(&room, &agent, &target, 3),
            delete(&room, &owner, &target, 3),
            delete(&other_room, &agent, &target, 3),
            delete(&room, &fan, &posted(&results[1]).id, 3),
            delete(&room, &agent, &MessageId("missing".into()), 3),
        ],
    )
    .await;
    let (deletion, message) = match &results[0] {
        Ok(RoomOutcome::Deleted { deletion, message }) => (deletion, message),
        other => panic!("expected Deleted, got {other:?}"),
    };
    assert_eq!(
        (deletion.seq, deletion.kind, deletion.target_id.as_ref()),
        (4, RoomEventKind::Deletion, Some(&target))
    );
    assert!(deletion.body.is_empty());
    assert_eq!(message.deleted_at, Some(at(3)));
    assert!(
        matches!(&results[1], Ok(RoomOutcome::AlreadyDeleted { .. })),
        "a second deletion writes nothing"
    );
    assert_eq!(
        refusal(&results[2]),
        &RoomRefusal::Missing("message"),
        "the message is in another room"
    );
    assert!(matches!(
        refusal(&results[3]),
        RoomRefusal::Rule(RuleViolation::Forbidden(_))
    ));
    assert_eq!(refusal(&results[4]), &RoomRefusal::Missing("message"));
    // A deletion entry is not a message and cannot be deleted.
    let results = apply(db, &[delete(&room, &agent, &deletion.id, 4)]).await;
    assert_eq!(refusal(&results[0]), &RoomRefusal::Missing("message"));

    let all = events(db, &room, RoomEventFilter::All).await;
    assert_eq!(seqs(&all), [1, 2, 3, 4]);
    assert_eq!(
        all[0].deleted_at,
        Some(at(3)),
        "the stored message is marked"
    );
    let messages = events(db, &room, RoomEventFilter::Messages).await;
    assert_eq!(seqs(&messages), [1, 2, 3]);
    // A resend of a deleted message answers with the original, as it is now.
    let results = apply(db, &[post_with(&room, &fan, "c1", 9)]).await;
    assert!(
        matches!(&results[0], Ok(RoomOutcome::Duplicate { event }) if event.deleted_at.is_some())
    );
    // In one batch: delete a message committed earlier (updated in place) and one posted
    // in the same batch (inserted already marked).
    let earlier = posted(&apply(db, &[post(&room, &fan, 10)]).await[0])
        .id
        .clone();
    let late = MessageId(new_id());
    let posted_late = RoomOp::Post {
        message_id: late.clone(),
        room_id: room.clone(),
        author: fan.clone(),
        client_msg_id: new_id(),
        body: "oops".into(),
        at: at(11),
    };
    let results = apply(
        db,
        &[
            posted_late,
            delete(&room, &owner, &earlier, 11),
            delete(&room, &owner, &late, 11),
        ],
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stored = events(db, &room, RoomEventFilter::All).await;
    assert_eq!(seqs(&stored), (1..=8).collect::<Vec<_>>());
    for id in [&earlier, &late] {
        assert!(
            stored
                .iter()
                .find(|event| &event.id == id)
                .expect("stored")
                .deleted_at
                .is_some(),
            "{id:?}"
        );
    }
}

room_test!(
    slow_mode_changes_in_commit_order,
    slow_mode_changes_in_commit_order_sqlite,
    slow_mode_changes_in_commit_order_postgres
);
async fn slow_mode_changes_in_commit_order(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let agent = add_member(db, Role::Agent).await;
    let bot = add_member(db, Role::Bot).await;
    let room = add_room(db, &owner, RoomState::Open, None, 0).await;
    let fan = add_fan(db).await;
    let slow = |actor: &Principal, secs: u32, seconds: i64| RoomOp::SlowMode {
        room_id: room.clone(),
        actor: actor.clone(),
        secs,
        at: at(seconds),
    };
    // One batch: a post, the change, a post decided with the new interval.
    let results = apply(
        db,
        &[
            post(&room, &fan, 0),
            slow(&agent, 30, 1),
            post(&room, &fan, 2),
            slow(&fan, 0, 3),
            slow(&bot, 0, 3),
        ],
    )
    .await;
    assert_eq!(posted(&results[0]).seq, 1);
    match &results[1] {
        Ok(RoomOutcome::Changed { room }) => assert_eq!(room.slow_mode_secs, 30),
        other => panic!("expected Changed, got {other:?}"),
    }
    assert_eq!(
        refusal(&results[2]),
        &RoomRefusal::SlowMode {
            retry_after_secs: 28
        }
    );
    for refused in &results[3..] {
        assert!(
            matches!(
                refusal(refused),
                RoomRefusal::Rule(RuleViolation::Forbidden(_))
            ),
            "{refused:?}"
        );
    }
    let stored = db.find_room(&room).await.expect("read").expect("room");
    assert_eq!(stored.slow_mode_secs, 30, "the change is stored");
    assert_eq!(stored.last_seq, 1, "a change takes no seq");
    let results = apply(db, &[slow(&agent, 0, 4), post(&room, &fan, 5)]).await;
    assert_eq!(
        posted(&results[1]).seq,
        2,
        "off again: the fan posts at once"
    );
}
