//! Scripted bot flows (migration 0031): versions land only on their base, exactly one flow
//! is active, a conversation's place in its flow moves by compare-and-set, and a flow's
//! hand-off message carries its quick replies and hands the conversation off in the
//! group commit.

use crate::support::{
    add_member, apply, at, created, member_id, open_conversation, post, timeline,
};
use fandesk_domain::flow::QuickReply;
use fandesk_domain::{Audience, Role, TimelineEvent, Visibility};
use fandesk_store::{ConversationFlowRow, FlowState, FlowVersionRow, PostExtras, Store, WriteOp};

fn version(flow_id: &str, number: i64, by: &str) -> FlowVersionRow {
    FlowVersionRow {
        flow_id: flow_id.to_owned(),
        version: number,
        format: "yaml".to_owned(),
        source: format!("name: Flow {number}\n"),
        created_by: by.to_owned(),
        created_at: at(number * 60),
    }
}

store_test!(
    versions_and_the_one_active_flow,
    versions_and_the_one_active_flow_sqlite,
    versions_and_the_one_active_flow_postgres
);
async fn versions_and_the_one_active_flow(store: &Store) {
    let owner = member_id(&add_member(store, Role::Owner).await);
    store
        .insert_flow("Welcome", &version("flw_a", 1, owner.as_str()))
        .await
        .unwrap();
    store
        .insert_flow("Other", &version("flw_b", 1, owner.as_str()))
        .await
        .unwrap();
    // A version on the newest base lands; a second one on the same base does not.
    assert!(
        store
            .insert_flow_version("Welcome 2", 1, &version("flw_a", 2, owner.as_str()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_flow_version("Stale", 1, &version("flw_a", 2, owner.as_str()))
            .await
            .unwrap()
    );
    let flow = store.find_flow("flw_a").await.unwrap().unwrap();
    assert_eq!(
        (flow.name.as_str(), flow.latest_version, flow.active_version),
        ("Welcome 2", 2, None)
    );
    let versions = store.list_flow_versions("flw_a").await.unwrap();
    assert_eq!(
        versions.iter().map(|row| row.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(
        store
            .find_flow_version("flw_a", 1)
            .await
            .unwrap()
            .unwrap()
            .source,
        "name: Flow 1\n"
    );
    // Exactly one active flow: activating another clears the first.
    store.activate_flow("flw_a", 1, at(300)).await.unwrap();
    assert_eq!(
        store
            .find_active_flow()
            .await
            .unwrap()
            .unwrap()
            .active_version,
        Some(1)
    );
    store.activate_flow("flw_b", 1, at(360)).await.unwrap();
    let flows = store.list_flows().await.unwrap();
    let active: Vec<_> = flows
        .iter()
        .filter(|flow| flow.active_version.is_some())
        .map(|flow| flow.id.as_str())
        .collect();
    assert_eq!(active, vec!["flw_b"]);
    assert_eq!(flows[0].id, "flw_b", "the active flow first");
    assert!(!store.deactivate_flow("flw_a", at(400)).await.unwrap());
    assert!(store.deactivate_flow("flw_b", at(400)).await.unwrap());
    assert_eq!(store.find_active_flow().await.unwrap(), None);
}

store_test!(
    a_conversation_advances_in_its_flow_once,
    a_conversation_advances_in_its_flow_once_sqlite,
    a_conversation_advances_in_its_flow_once_postgres
);
async fn a_conversation_advances_in_its_flow_once(store: &Store) {
    let owner = member_id(&add_member(store, Role::Owner).await);
    store
        .insert_flow("Welcome", &version("flw_a", 1, owner.as_str()))
        .await
        .unwrap();
    let (conversation, _) = open_conversation(store).await;
    let pinned = ConversationFlowRow {
        conversation_id: conversation.as_str().to_owned(),
        flow_id: "flw_a".to_owned(),
        version: 1,
        state: FlowState::Starting,
        waiting_at: None,
        last_input_seq: 0,
        updated_at: at(60),
    };
    assert!(store.insert_conversation_flow(&pinned).await.unwrap());
    assert!(
        !store.insert_conversation_flow(&pinned).await.unwrap(),
        "pinned once"
    );
    let waiting = ConversationFlowRow {
        state: FlowState::Waiting,
        waiting_at: Some("greet".to_owned()),
        last_input_seq: 1,
        updated_at: at(61),
        ..pinned.clone()
    };
    assert!(
        store
            .advance_conversation_flow(&pinned, &waiting)
            .await
            .unwrap()
    );
    // A second node answering the same input finds the state moved.
    assert!(
        !store
            .advance_conversation_flow(&pinned, &waiting)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .find_conversation_flow(conversation.as_str())
            .await
            .unwrap(),
        Some(waiting.clone())
    );
    let done = ConversationFlowRow {
        state: FlowState::Done,
        waiting_at: None,
        last_input_seq: 3,
        ..waiting.clone()
    };
    assert!(
        store
            .advance_conversation_flow(&waiting, &done)
            .await
            .unwrap()
    );
    assert!(
        !store
            .find_conversation_flow(conversation.as_str())
            .await
            .unwrap()
            .unwrap()
            .running()
    );
}

store_test!(
    a_flow_message_carries_quick_replies_and_hands_off,
    a_flow_message_carries_quick_replies_and_hands_off_sqlite,
    a_flow_message_carries_quick_replies_and_hands_off_postgres
);
async fn a_flow_message_carries_quick_replies_and_hands_off(store: &Store) {
    let bot = add_member(store, Role::Bot).await;
    let (conversation, fan) = open_conversation(store).await;
    let buttons = vec![QuickReply {
        label: "Where is my order?".into(),
        value: "orders".into(),
    }];
    let with = |extras: PostExtras, body: &str| -> WriteOp {
        let mut op = post(&conversation, &bot, Some(body), body, Visibility::Public);
        if let WriteOp::Post { extras: slot, .. } = &mut op {
            *slot = extras;
        }
        op
    };
    let greeting = with(
        PostExtras {
            quick_replies: buttons.clone(),
            ..PostExtras::default()
        },
        "Hi!",
    );
    let results = apply(store, &[greeting]).await;
    assert!(created(&results[0]).1.bot.automated_last);
    let reply = post(
        &conversation,
        &fan,
        Some("f1"),
        "orders",
        Visibility::Public,
    );
    let handoff = with(
        PostExtras {
            hands_off: true,
            ..PostExtras::default()
        },
        "A person will take it from here.",
    );
    let results = apply(store, &[reply, handoff]).await;
    let (_, after) = created(&results[1]);
    assert!(after.bot.handed_off);
    let team = timeline(store, &conversation, Audience::Team).await;
    assert_eq!(
        team[0].quick_replies, buttons,
        "read back from the database"
    );
    assert_eq!(
        team.iter()
            .filter(|row| row.event == Some(TimelineEvent::BotHandoff))
            .count(),
        1
    );
    assert!(team[2].quick_replies.is_empty());
    // The fan sees the buttons, never the hand-off entry.
    let fans = timeline(store, &conversation, Audience::Fan).await;
    assert_eq!(fans.len(), 3);
    assert_eq!(fans[0].quick_replies, buttons);
}
