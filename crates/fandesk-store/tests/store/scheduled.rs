//! Scheduled messages in the store (docs/api.md › Scheduled messages), on both backends:
//! a segment by tags (the JSON tag list matched as quoted elements, `vip` not `vip2`), the
//! recipients' conversations chosen once — a fan's unresolved one, else a new `pending`
//! one — and kept on a second call, outcomes that mark sent (a cancellation that came
//! after the commit included) and end repeated refusals `failed`, and cancelling.

use crate::support::{add_fan, at, conversation_row, fan_id, member_row, new_id};
use fandesk_domain::{ConversationId, FanId, MessageId, Status};
use fandesk_store::{
    FanProfileUpdate, MemberRow, NewJob, NewScheduledDelivery, ScheduledMessageRow, ScheduledSent,
    Store,
};
use jiff::Timestamp;

store_test!(
    recipients_are_chosen_once_and_sent_once,
    recipients_are_chosen_once_and_sent_once_sqlite,
    recipients_are_chosen_once_and_sent_once_postgres
);

async fn tag(store: &Store, fan: &FanId, tags: &[&str]) {
    let update = FanProfileUpdate {
        tags: Some(tags.iter().map(|tag| (*tag).to_owned()).collect()),
        ..FanProfileUpdate::default()
    };
    store.update_fan_profile(fan, &update).await.expect("tags");
}

/// A message being prepared by `member`, due at `due` for everyone.
fn message_row(
    id: &str,
    member: &MemberRow,
    body: &str,
    audience: &str,
    due: Timestamp,
) -> ScheduledMessageRow {
    ScheduledMessageRow {
        id: id.to_owned(),
        body: body.into(),
        audience: audience.into(),
        at: Some(due),
        local_date: None,
        local_time: None,
        quiet_start: None,
        quiet_end: None,
        default_time_zone: "UTC".into(),
        recipients: 0,
        state: "preparing".into(),
        created_by: member.id.clone(),
        author_name: member.name.clone(),
        author_role: member.role,
        first_due_at: Some(due),
        last_due_at: Some(due),
        created_at: at(0),
        cancelled_at: None,
    }
}

async fn recipients_are_chosen_once_and_sent_once(store: &Store) {
    let member = member_row(fandesk_domain::Role::Supervisor);
    store.insert_member(&member).await.expect("member");
    let mut fans = Vec::new();
    for _ in 0..4 {
        fans.push(fan_id(&add_fan(store).await));
    }
    tag(store, &fans[0], &["vip", "tour"]).await;
    tag(store, &fans[1], &["tour"]).await;
    tag(store, &fans[2], &["vip2"]).await;
    // The segment: `vip` matches the first fan only (not `vip2`); with `tour` two fans.
    let vip = store
        .list_segment_fans(&[], &["vip".to_owned()], false)
        .await
        .expect("segment");
    assert_eq!(
        vip.iter().map(|row| &row.fan_id).collect::<Vec<_>>(),
        [&fans[0]]
    );
    let mut segment: Vec<FanId> = store
        .list_segment_fans(&[fans[3].clone()], &["tour".to_owned()], false)
        .await
        .expect("segment")
        .into_iter()
        .map(|row| row.fan_id)
        .collect();
    let mut expected = vec![fans[0].clone(), fans[1].clone(), fans[3].clone()];
    expected.sort();
    segment.sort();
    assert_eq!(segment, expected);

    // The second fan already has an open conversation.
    let existing = conversation_row(&fans[1]);
    store
        .insert_conversation(&existing)
        .await
        .expect("conversation");
    let id = format!("smsg_{}", new_id());
    let row = message_row(&id, &member, "Hello", r#"{"tags":["tour"]}"#, at(10));
    store.insert_scheduled_message(&row).await.expect("message");
    let deliveries: Vec<NewScheduledDelivery> = segment
        .iter()
        .map(|fan| NewScheduledDelivery {
            fan_id: fan.clone(),
            time_zone: "UTC".into(),
            due_at: at(10),
        })
        .collect();
    store
        .insert_scheduled_deliveries(&id, &deliveries)
        .await
        .expect("deliveries");
    let job = NewJob {
        id: new_id(),
        kind: "scheduled_message".into(),
        key: format!("scheduled:{id}:0"),
        payload: "{}".into(),
        due_at: at(10),
    };
    assert!(
        store
            .activate_scheduled_message(&id, &job, at(0))
            .await
            .expect("activate")
    );
    assert!(
        !store
            .activate_scheduled_message(&id, &job, at(0))
            .await
            .expect("again")
    );
    assert!(
        store
            .due_scheduled_deliveries(&id, at(9), 10)
            .await
            .expect("due")
            .is_empty()
    );
    let due: Vec<FanId> = store
        .due_scheduled_deliveries(&id, at(10), 10)
        .await
        .expect("due")
        .into_iter()
        .map(|row| row.fan_id)
        .collect();
    assert_eq!(due.len(), 3);

    // Chosen once: the existing conversation, and new pending ones for the others.
    let new_ids: Vec<ConversationId> = due.iter().map(|_| ConversationId(new_id())).collect();
    let (chosen, opened) = store
        .assign_scheduled_conversations(&id, &due, &new_ids, at(10))
        .await
        .expect("assign");
    assert_eq!(chosen[&fans[1]], existing.id);
    assert_eq!(opened.len(), 2);
    assert!(opened.iter().all(|row| row.status == Status::Pending));
    let other_ids: Vec<ConversationId> = due.iter().map(|_| ConversationId(new_id())).collect();
    let (again, reopened) = store
        .assign_scheduled_conversations(&id, &due, &other_ids, at(11))
        .await
        .expect("assign again");
    assert_eq!(again, chosen, "a second call keeps the first choice");
    assert!(reopened.is_empty());

    // The first fan is sent to; the third is cancelled after its message committed (it
    // still counts as sent); the fourth is refused until it fails.
    let cancelled = store
        .cancel_scheduled_message(&id, at(12))
        .await
        .expect("cancel");
    assert!(cancelled);
    assert!(
        !store
            .cancel_scheduled_message(&id, at(13))
            .await
            .expect("cancel again")
    );
    let sent: Vec<ScheduledSent> = [&fans[0], &fans[3]]
        .into_iter()
        .map(|fan| ScheduledSent {
            fan_id: fan.clone(),
            message_id: MessageId(new_id()),
            at: at(12),
        })
        .collect();
    store
        .record_scheduled_outcomes(&id, &sent, &[], 5)
        .await
        .expect("outcomes");
    let progress = store
        .scheduled_progress(&[id.as_str()])
        .await
        .expect("progress")[&id];
    assert_eq!(
        (progress.sent, progress.cancelled, progress.pending),
        (2, 1, 0)
    );
    let rows = store
        .list_scheduled_deliveries(&id, None, 10)
        .await
        .expect("rows");
    let first = rows
        .iter()
        .find(|row| row.fan_id == fans[0])
        .expect("first");
    assert_eq!(first.message_id, Some(sent[0].message_id.clone()));
    assert_eq!(first.conversation_id, Some(chosen[&fans[0]].clone()));
    assert_eq!(
        store
            .find_scheduled_message(&id)
            .await
            .expect("find")
            .expect("row")
            .state,
        "cancelled"
    );
}

store_test!(
    refused_recipients_fail_after_the_attempts,
    refused_recipients_fail_after_the_attempts_sqlite,
    refused_recipients_fail_after_the_attempts_postgres
);

async fn refused_recipients_fail_after_the_attempts(store: &Store) {
    let member = member_row(fandesk_domain::Role::Owner);
    store.insert_member(&member).await.expect("member");
    let fan = fan_id(&add_fan(store).await);
    let id = format!("smsg_{}", new_id());
    let row = message_row(&id, &member, "Hi", r#"{"all":true}"#, at(0));
    store.insert_scheduled_message(&row).await.expect("message");
    let delivery = NewScheduledDelivery {
        fan_id: fan.clone(),
        time_zone: "UTC".into(),
        due_at: at(0),
    };
    store
        .insert_scheduled_deliveries(&id, &[delivery])
        .await
        .expect("delivery");
    for attempt in 1..=3 {
        let (chosen, _) = store
            .assign_scheduled_conversations(
                &id,
                std::slice::from_ref(&fan),
                &[ConversationId(new_id())],
                at(attempt),
            )
            .await
            .expect("assign");
        assert!(chosen.contains_key(&fan));
        store
            .record_scheduled_outcomes(&id, &[], std::slice::from_ref(&fan), 3)
            .await
            .expect("retry");
        let rows = store
            .list_scheduled_deliveries(&id, None, 10)
            .await
            .expect("rows");
        assert_eq!(rows[0].attempts, attempt);
        assert_eq!(rows[0].conversation_id, None, "chosen afresh next time");
        let status = if attempt < 3 { "pending" } else { "failed" };
        assert_eq!(rows[0].status, status, "attempt {attempt}");
    }
    assert_eq!(store.next_scheduled_due(&id).await.expect("next"), None);
}
