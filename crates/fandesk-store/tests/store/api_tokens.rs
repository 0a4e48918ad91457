//! Integration API tokens: a token and its audit entry written together, the live-token
//! cap decided inside the insert (expired and revoked tokens not counted), revocation
//! once with its audit entry, and the last use recorded at most once per interval.

use crate::support::{at, member_row, new_id};
use fandesk_domain::{MemberId, Role};
use fandesk_store::{ApiTokenRow, AuditFilter, AuditRow, Store, StoreError};

fn token(creator: &MemberId, created: i64, expires: Option<i64>) -> ApiTokenRow {
    let id = new_id();
    ApiTokenRow {
        id: format!("tok_{id}"),
        name: format!("Token {id}"),
        token_hash: format!("hash-{id}"),
        prefix: "fdt_abcdef12".to_owned(),
        role: Role::Agent,
        created_by: creator.clone(),
        created_at: at(created),
        expires_at: expires.map(at),
        last_used_at: None,
        revoked_at: None,
    }
}

fn audit(creator: &MemberId, action: &str, created: i64) -> AuditRow {
    AuditRow {
        id: format!("aud_{}", new_id()),
        actor_id: creator.as_str().to_owned(),
        actor_name: "Owner".to_owned(),
        action: action.to_owned(),
        conversation_id: None,
        details: "{}".to_owned(),
        created_at: at(created),
    }
}

async fn audited(store: &Store, action: &str) -> usize {
    let filter = AuditFilter {
        before: None,
        limit: 100,
        action: Some(action.to_owned()),
        actor_id: None,
        conversation_id: None,
    };
    store.list_audit(&filter).await.unwrap().len()
}

store_test!(
    tokens_are_capped_revoked_and_touched,
    tokens_are_capped_revoked_and_touched_sqlite,
    tokens_are_capped_revoked_and_touched_postgres
);
async fn tokens_are_capped_revoked_and_touched(store: &Store) {
    let owner = member_row(Role::Owner);
    store.insert_member(&owner).await.unwrap();
    let creator = &owner.id;
    // Two live tokens under a cap of two; a third is refused with nothing written.
    let first = token(creator, 10, None);
    let second = token(creator, 11, Some(100));
    for row in [&first, &second] {
        let entry = audit(creator, "api_token_create", row.created_at.as_second());
        store.insert_api_token(row, &entry, 2).await.unwrap();
    }
    let third = token(creator, 12, None);
    let refused = store
        .insert_api_token(&third, &audit(creator, "api_token_create", 12), 2)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.api_token(&third.id).await.unwrap(), None);
    assert_eq!(
        audited(store, "api_token_create").await,
        2,
        "no audit without its token"
    );
    // Once the second has expired, it no longer counts.
    let later = token(creator, 100, None);
    store
        .insert_api_token(&later, &audit(creator, "api_token_create", 100), 2)
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_api_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    assert_eq!(
        listed,
        vec![later.id.clone(), second.id.clone(), first.id.clone()]
    );
    assert_eq!(
        store.find_api_token(&first.token_hash).await.unwrap(),
        Some(first.clone())
    );

    // Revoked once, audited once.
    assert!(
        store
            .revoke_api_token(&first.id, &audit(creator, "api_token_revoke", 120))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_token(&first.id, &audit(creator, "api_token_revoke", 121))
            .await
            .unwrap()
    );
    assert_eq!(audited(store, "api_token_revoke").await, 1);
    let revoked = store.api_token(&first.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(120)));
    // A revoked token frees its place.
    let fourth = token(creator, 130, None);
    store
        .insert_api_token(&fourth, &audit(creator, "api_token_create", 130), 2)
        .await
        .unwrap();

    // The last use: written, then not again until the interval has passed.
    store
        .touch_api_token(&later.id, at(200), at(140))
        .await
        .unwrap();
    assert_eq!(last_used(store, &later.id).await, Some(at(200)));
    store
        .touch_api_token(&later.id, at(230), at(170))
        .await
        .unwrap();
    assert_eq!(last_used(store, &later.id).await, Some(at(200)));
    store
        .touch_api_token(&later.id, at(260), at(200))
        .await
        .unwrap();
    assert_eq!(last_used(store, &later.id).await, Some(at(260)));
}

async fn last_used(store: &Store, id: &str) -> Option<jiff::Timestamp> {
    store.api_token(id).await.unwrap().unwrap().last_used_at
}
