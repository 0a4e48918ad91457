//! The inbox's reads (docs/api.md › Inbox): message text search over public and internal
//! messages, last messages and per-member unread counts with a reading position that only
//! moves forward, and the fan directory with its counts, filters and pages.

use crate::support::{
    add_member, apply, at, fan_id, internal, member_id, open_conversation, public,
};
use fandesk_domain::{AuthorKind, ConversationId, Role, Visibility};
use fandesk_store::{ConversationFilter, FanFilter, FanProfileUpdate, Store};

async fn text_search(store: &Store, text: &str) -> Vec<ConversationId> {
    let filter = ConversationFilter {
        text: Some(text.to_owned()),
        limit: 50,
        ..Default::default()
    };
    let rows = store.list_conversations(&filter).await.unwrap();
    rows.into_iter().map(|row| row.id).collect()
}

store_test!(
    text_search_covers_public_and_internal,
    text_search_covers_public_and_internal_sqlite,
    text_search_covers_public_and_internal_postgres
);
async fn text_search_covers_public_and_internal(store: &Store) {
    let agent = add_member(store, Role::Agent).await;
    let (parcel, fan) = open_conversation(store).await;
    let (other, other_fan) = open_conversation(store).await;
    apply(
        store,
        &[
            public(&parcel, &fan, "My Parcel never arrived"),
            internal(&parcel, &agent, "refund_approved by finance"),
            public(&other, &other_fan, "100% happy, thanks"),
        ],
    )
    .await;
    assert_eq!(
        text_search(store, "PARCEL").await,
        std::slice::from_ref(&parcel)
    );
    assert_eq!(
        text_search(store, "refund_approved").await,
        std::slice::from_ref(&parcel)
    );
    assert_eq!(
        text_search(store, "100%").await,
        std::slice::from_ref(&other)
    );
    // `%`, `_` and `\` are literal.
    for pattern in ["refund%approved", "refundXapproved", "0_%", "\\"] {
        assert!(text_search(store, pattern).await.is_empty(), "{pattern}");
    }
    // The text filter combines with the others.
    let filter = ConversationFilter {
        text: Some("parcel".into()),
        fan_id: Some(fan_id(&other_fan)),
        limit: 50,
        ..Default::default()
    };
    assert!(store.list_conversations(&filter).await.unwrap().is_empty());
}

/// `(last_read_seq, unread)` of `member` in `conversation`.
async fn position(
    store: &Store,
    member: &fandesk_domain::MemberId,
    conversation: &ConversationId,
) -> (u64, u64) {
    let rows = store
        .inbox_summaries(member, std::slice::from_ref(conversation))
        .await
        .unwrap();
    (rows[0].last_read_seq, rows[0].unread)
}

store_test!(
    summaries_and_reading_positions,
    summaries_and_reading_positions_sqlite,
    summaries_and_reading_positions_postgres
);
async fn summaries_and_reading_positions(store: &Store) {
    let agent = add_member(store, Role::Agent).await;
    let owner = add_member(store, Role::Owner).await;
    let (conversation, fan) = open_conversation(store).await;
    let (quiet, _) = open_conversation(store).await;
    apply(
        store,
        &[
            public(&conversation, &fan, "hello"),
            internal(&conversation, &owner, "a note"),
        ],
    )
    .await;
    let ids = [
        conversation.clone(),
        quiet.clone(),
        ConversationId("missing".into()),
    ];
    let rows = store
        .inbox_summaries(&member_id(&agent), &ids)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let row = rows
        .iter()
        .find(|row| row.conversation_id == conversation)
        .unwrap();
    assert_eq!((row.unread, row.last_read_seq), (2, 0));
    let last = row.last_message.as_ref().expect("a last message");
    assert_eq!(
        (last.visibility, last.author_kind, last.body.as_str()),
        (Visibility::Internal, AuthorKind::Member, "a note")
    );
    let empty = rows
        .iter()
        .find(|row| row.conversation_id == quiet)
        .unwrap();
    assert_eq!((empty.unread, empty.last_message.is_none()), (0, true));
    // The owner's own note is not unread for the owner.
    let owners = store
        .inbox_summaries(&member_id(&owner), std::slice::from_ref(&conversation))
        .await
        .unwrap();
    assert_eq!(owners[0].unread, 1);

    // Reading up to seq 1 leaves the note; the position never moves back.
    let agent_id = member_id(&agent);
    store
        .mark_read(&agent_id, &conversation, 1, at(70))
        .await
        .unwrap();
    assert_eq!(position(store, &agent_id, &conversation).await, (1, 1));
    store
        .mark_read(&agent_id, &conversation, 2, at(80))
        .await
        .unwrap();
    assert_eq!(position(store, &agent_id, &conversation).await, (2, 0));
    store
        .mark_read(&agent_id, &conversation, 1, at(90))
        .await
        .unwrap();
    assert_eq!(position(store, &agent_id, &conversation).await, (2, 0));
    apply(store, &[public(&conversation, &fan, "again")]).await;
    assert_eq!(position(store, &agent_id, &conversation).await, (2, 1));
    // Another member's position is their own.
    assert_eq!(
        store
            .inbox_summaries(&member_id(&owner), std::slice::from_ref(&conversation))
            .await
            .unwrap()[0]
            .unread,
        2
    );
}

store_test!(
    fan_directory_filters_and_pages,
    fan_directory_filters_and_pages_sqlite,
    fan_directory_filters_and_pages_postgres
);
async fn fan_directory_filters_and_pages(store: &Store) {
    let (_, first) = open_conversation(store).await;
    let (_, second) = open_conversation(store).await;
    let tagged = FanProfileUpdate {
        tags: Some(vec!["vip_1".into()]),
        ..Default::default()
    };
    store
        .update_fan_profile(&fan_id(&first), &tagged)
        .await
        .unwrap();
    let page = |filter: FanFilter| async move { store.list_fans(&filter).await.unwrap() };
    let everyone = page(FanFilter {
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(everyone.len(), 2);
    assert!(everyone.iter().all(|row| row.conversations == 1));
    let by_tag = page(FanFilter {
        tag: Some("VIP_1".into()),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(by_tag.len(), 1);
    assert_eq!(by_tag[0].profile.fan.id, fan_id(&first));
    for tag in ["vip", "vip%", "vipX1"] {
        let none = page(FanFilter {
            tag: Some(tag.into()),
            limit: 10,
            ..Default::default()
        })
        .await;
        assert!(none.is_empty(), "{tag}");
    }
    let name = everyone[0].profile.fan.display_name.to_uppercase();
    let by_name = page(FanFilter {
        name: Some(name),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(by_name.len(), 1);
    let one = page(FanFilter {
        limit: 1,
        ..Default::default()
    })
    .await;
    let two = page(FanFilter {
        limit: 1,
        offset: 1,
        ..Default::default()
    })
    .await;
    assert_eq!((one.len(), two.len()), (1, 1));
    assert_ne!(one[0].profile.fan.id, two[0].profile.fan.id);
    let _ = second;
}
