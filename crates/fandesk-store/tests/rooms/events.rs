//! Premieres and live events: created with their room in one transaction, read, listed by
//! start, updated together with their room; the event's chat follows the room rules.

use crate::support::{
    TestDb, add_fan, add_member, apply, at, delete, new_id, post, posted, refusal,
};
use fandesk_domain::event::{EventId, EventKind, EventWindow};
use fandesk_domain::room::{RoomId, RoomRefusal, RoomState};
use fandesk_domain::{Principal, Role};
use fandesk_store::{EventRow, EventUpdate, RoomRow, StoreError};

/// An event starting `starts` seconds after the base time, and its room opening 15
/// minutes before, both created by `owner`.
fn event_and_room(owner: &Principal, kind: EventKind, starts: i64) -> (EventRow, RoomRow) {
    let Principal::Member { id, .. } = owner else {
        panic!("events are created by members")
    };
    let window = EventWindow {
        starts_at: at(starts),
        duration_secs: 600,
    };
    let room = RoomRow {
        id: RoomId(new_id()),
        title: "Premiere night".to_owned(),
        state: RoomState::Scheduled,
        opens_at: Some(window.chat_opens_at()),
        slow_mode_secs: 0,
        last_seq: 0,
        created_by: id.clone(),
        created_at: at(0),
        updated_at: at(0),
    };
    let event = EventRow {
        id: EventId(new_id()),
        room_id: room.id.clone(),
        kind,
        title: room.title.clone(),
        starts_at: window.starts_at,
        duration_secs: window.duration_secs,
        media_url: (kind == EventKind::Premiere).then(|| "https://cdn.example/v.webm".to_owned()),
        qa: kind == EventKind::Live,
        created_by: id.clone(),
        created_at: at(0),
        updated_at: at(0),
    };
    (event, room)
}

room_test!(
    events_are_stored_with_their_room,
    events_are_stored_with_their_room_sqlite,
    events_are_stored_with_their_room_postgres
);
async fn events_are_stored_with_their_room(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (premiere, premiere_room) = event_and_room(&owner, EventKind::Premiere, 3_600);
    let (live, live_room) = event_and_room(&owner, EventKind::Live, 7_200);
    db.insert_event(&premiere, &premiere_room)
        .await
        .expect("insert premiere");
    db.insert_event(&live, &live_room)
        .await
        .expect("insert live");

    assert_eq!(
        db.find_event(&premiere.id).await.expect("find"),
        Some(premiere.clone())
    );
    assert_eq!(
        db.find_event(&live.id).await.expect("find"),
        Some(live.clone())
    );
    assert_eq!(
        db.find_event(&EventId::from("nowhere"))
            .await
            .expect("find"),
        None
    );
    let room = db.find_room(&premiere.room_id).await.expect("find room");
    assert_eq!(room, Some(premiere_room.clone()));
    assert_eq!(room.and_then(|room| room.opens_at), Some(at(3_600 - 900)));

    // Latest start first, limited.
    let listed = db.list_events(10).await.expect("list");
    let ids: Vec<&EventId> = listed.iter().map(|event| &event.id).collect();
    assert_eq!(ids, vec![&live.id, &premiere.id]);
    assert_eq!(db.list_events(1).await.expect("list").len(), 1);
}

room_test!(
    a_failed_event_insert_leaves_no_room,
    a_failed_event_insert_leaves_no_room_sqlite,
    a_failed_event_insert_leaves_no_room_postgres
);
async fn a_failed_event_insert_leaves_no_room(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (mut premiere, room) = event_and_room(&owner, EventKind::Premiere, 3_600);
    // The schema refuses a premiere without its video: the room must not stay behind.
    premiere.media_url = None;
    assert!(db.insert_event(&premiere, &room).await.is_err());
    assert_eq!(db.find_room(&room.id).await.expect("find room"), None);
    assert_eq!(db.find_event(&premiere.id).await.expect("find"), None);
}

room_test!(
    updates_reach_the_room,
    updates_reach_the_room_sqlite,
    updates_reach_the_room_postgres
);
async fn updates_reach_the_room(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (event, room) = event_and_room(&owner, EventKind::Premiere, 3_600);
    db.insert_event(&event, &room).await.expect("insert");
    let update = EventUpdate {
        title: "Moved premiere".to_owned(),
        starts_at: at(7_200),
        duration_secs: 1_200,
        media_url: Some("https://cdn.example/w.webm".to_owned()),
        qa: true,
        room_opens_at: Some(at(7_200 - 900)),
        at: at(10),
    };
    db.update_event(&event.id, &update).await.expect("update");
    let stored = db
        .find_event(&event.id)
        .await
        .expect("find")
        .expect("event");
    assert_eq!(
        (
            stored.title.as_str(),
            stored.starts_at,
            stored.duration_secs,
            stored.qa
        ),
        ("Moved premiere", at(7_200), 1_200, true)
    );
    assert_eq!(
        stored.media_url.as_deref(),
        Some("https://cdn.example/w.webm")
    );
    assert_eq!(stored.updated_at, at(10));
    let room_now = db
        .find_room(&room.id)
        .await
        .expect("find room")
        .expect("room");
    assert_eq!(room_now.title, "Moved premiere");
    assert_eq!(room_now.opens_at, Some(at(7_200 - 900)));

    // No new opening: the room's stays.
    let keep = EventUpdate {
        title: "Renamed".to_owned(),
        room_opens_at: None,
        at: at(20),
        ..update.clone()
    };
    db.update_event(&event.id, &keep).await.expect("update");
    let room_now = db
        .find_room(&room.id)
        .await
        .expect("find room")
        .expect("room");
    assert_eq!(
        (room_now.title.as_str(), room_now.opens_at),
        ("Renamed", Some(at(7_200 - 900)))
    );

    let missing = db.update_event(&EventId::from("nowhere"), &keep).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("event"))),
        "{missing:?}"
    );
}

room_test!(
    the_event_chat_opens_before_the_start,
    the_event_chat_opens_before_the_start_sqlite,
    the_event_chat_opens_before_the_start_postgres
);
async fn the_event_chat_opens_before_the_start(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let (event, room) = event_and_room(&owner, EventKind::Premiere, 3_600);
    db.insert_event(&event, &room).await.expect("insert");
    let fan = add_fan(db).await;
    // Before the chat opens fans wait; from 15 minutes before the start they chat.
    let results = apply(
        db,
        &[
            post(&event.room_id, &fan, 3_600 - 901),
            post(&event.room_id, &fan, 3_600 - 900),
        ],
    )
    .await;
    assert!(
        matches!(refusal(&results[0]), RoomRefusal::Rule(_)),
        "{:?}",
        results[0]
    );
    assert_eq!(posted(&results[1]).seq, 1);
}

room_test!(
    the_replay_reads_undeleted_messages_by_time,
    the_replay_reads_undeleted_messages_by_time_sqlite,
    the_replay_reads_undeleted_messages_by_time_postgres
);
async fn the_replay_reads_undeleted_messages_by_time(db: &TestDb) {
    let owner = add_member(db, Role::Owner).await;
    let fan = add_fan(db).await;
    // Starts at 1000 s; the chat opens at 100 s.
    let (event, room) = event_and_room(&owner, EventKind::Live, 1_000);
    db.insert_event(&event, &room).await.expect("insert");
    let room = room.id;
    let sent = apply(
        db,
        &[
            post(&room, &fan, 200),
            post(&room, &fan, 1_000),
            post(&room, &owner, 1_010),
            post(&room, &fan, 1_020),
        ],
    )
    .await;
    let ids: Vec<_> = sent
        .iter()
        .map(|result| posted(result).id.clone())
        .collect();
    apply(db, &[delete(&room, &owner, &ids[2], 1_030)]).await;
    let read = |from: i64, to: i64, limit: u32| {
        let store = db.store.clone();
        let room = room.clone();
        async move {
            store
                .list_replay_messages(&room, at(from), at(to), limit)
                .await
                .expect("replay")
                .into_iter()
                .map(|row| row.id)
                .collect::<Vec<_>>()
        }
    };
    // The deleted message (and the deletion entry) are left out; order is send order.
    assert_eq!(
        read(0, 2_000, 100).await,
        vec![ids[0].clone(), ids[1].clone(), ids[3].clone()]
    );
    // From inclusive, to exclusive; the limit keeps the earliest.
    assert_eq!(read(1_000, 1_020, 100).await, vec![ids[1].clone()]);
    assert_eq!(read(0, 2_000, 1).await, vec![ids[0].clone()]);
    assert!(read(1_021, 2_000, 100).await.is_empty());
}
