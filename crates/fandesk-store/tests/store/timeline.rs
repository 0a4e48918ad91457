//! Reading timelines: the team pages over `seq`, fans over `public_seq` and never receive
//! an internal entry (docs/product.md › Principles, 2).

use crate::support::{
    add_member, apply, assert_dense, created, internal, new_id, open_conversation, public,
};
use fandesk_domain::{Audience, ConversationId, Role, Visibility};
use fandesk_store::{MessageRow, Store};

/// One conversation with public and internal entries interleaved:
/// seq 1..=10, of which 1, 2, 4, 7, 8, 10 are public (public_seq 1..=6).
async fn seeded(store: &Store) -> (ConversationId, Vec<MessageRow>) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let ops = [
        public(&conversation, &fan, "p1"),
        public(&conversation, &agent, "p2"),
        internal(&conversation, &agent, "i1"),
        public(&conversation, &fan, "p3"),
        internal(&conversation, &agent, "i2"),
        internal(&conversation, &agent, "i3"),
        public(&conversation, &agent, "p4"),
        public(&conversation, &fan, "p5"),
        internal(&conversation, &agent, "i4"),
        public(&conversation, &agent, "p6"),
    ];
    let written = apply(store, &ops)
        .await
        .iter()
        .map(|result| created(result).0.clone())
        .collect();
    (conversation, written)
}

fn bodies(messages: &[MessageRow]) -> Vec<&str> {
    messages
        .iter()
        .map(|message| message.body.as_str())
        .collect()
}

store_test!(
    team_sees_everything_in_seq_order,
    team_sees_everything_in_seq_order_sqlite,
    team_sees_everything_in_seq_order_postgres
);
async fn team_sees_everything_in_seq_order(store: &Store) {
    let (conversation, written) = seeded(store).await;
    let all = store
        .list_messages(&conversation, Audience::Team, 0, 100)
        .await
        .unwrap();
    assert_eq!(all, written);
    assert_dense(&all);

    let page = store
        .list_messages(&conversation, Audience::Team, 0, 4)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["p1", "p2", "i1", "p3"]);
    let page = store
        .list_messages(&conversation, Audience::Team, 4, 4)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["i2", "i3", "p4", "p5"]);
    let page = store
        .list_messages(&conversation, Audience::Team, 8, 4)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["i4", "p6"]);
    assert!(
        store
            .list_messages(&conversation, Audience::Team, 10, 4)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(&conversation, Audience::Team, u64::MAX, 4)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_messages(&conversation, Audience::Team, 0, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

store_test!(
    fan_sees_only_public_by_public_seq,
    fan_sees_only_public_by_public_seq_sqlite,
    fan_sees_only_public_by_public_seq_postgres
);
async fn fan_sees_only_public_by_public_seq(store: &Store) {
    let (conversation, written) = seeded(store).await;
    let public_rows: Vec<MessageRow> = written
        .into_iter()
        .filter(|message| message.visibility == Visibility::Public)
        .collect();
    let all = store
        .list_messages(&conversation, Audience::Fan, 0, 100)
        .await
        .unwrap();
    assert_eq!(all, public_rows);
    assert!(
        all.iter()
            .all(|message| message.visibility == Visibility::Public)
    );
    let positions: Vec<Option<u64>> = all.iter().map(|message| message.public_seq).collect();
    assert_eq!(
        positions,
        (1..=6).map(Some).collect::<Vec<_>>(),
        "no gap reveals a whisper"
    );

    // `after_seq` is a public position for fans: the page is full of public entries even
    // where many internal ones sit between them.
    let page = store
        .list_messages(&conversation, Audience::Fan, 0, 2)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["p1", "p2"]);
    let page = store
        .list_messages(&conversation, Audience::Fan, 2, 2)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["p3", "p4"]);
    let page = store
        .list_messages(&conversation, Audience::Fan, 4, 10)
        .await
        .unwrap();
    assert_eq!(bodies(&page), ["p5", "p6"]);
    assert!(
        store
            .list_messages(&conversation, Audience::Fan, 6, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

store_test!(
    timelines_are_per_conversation,
    timelines_are_per_conversation_sqlite,
    timelines_are_per_conversation_postgres
);
async fn timelines_are_per_conversation(store: &Store) {
    let (conversation, _) = seeded(store).await;
    let (other, other_fan) = open_conversation(store).await;
    apply(store, &[public(&other, &other_fan, "elsewhere")]).await;
    assert_eq!(
        store
            .list_messages(&conversation, Audience::Team, 0, 100)
            .await
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        bodies(
            &store
                .list_messages(&other, Audience::Fan, 0, 100)
                .await
                .unwrap()
        ),
        ["elsewhere"]
    );
    let unknown = ConversationId(new_id());
    assert!(
        store
            .list_messages(&unknown, Audience::Team, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

store_test!(
    internal_only_timeline_is_empty_for_fans,
    internal_only_timeline_is_empty_for_fans_sqlite,
    internal_only_timeline_is_empty_for_fans_postgres
);
async fn internal_only_timeline_is_empty_for_fans(store: &Store) {
    let (conversation, _) = open_conversation(store).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let notes: Vec<_> = (0..5)
        .map(|n| internal(&conversation, &supervisor, &format!("note {n}")))
        .collect();
    apply(store, &notes).await;
    assert!(
        store
            .list_messages(&conversation, Audience::Fan, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let team = store
        .list_messages(&conversation, Audience::Team, 0, 100)
        .await
        .unwrap();
    assert_eq!(team.len(), 5);
    assert!(team.iter().all(|message| message.public_seq.is_none()));
}
