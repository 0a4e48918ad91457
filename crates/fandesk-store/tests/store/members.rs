//! Changing members: the row written, sessions deleted on request (their hashes
//! returned), and the domain's "the team keeps an active owner" rule decided inside the
//! transaction against the stored owners.

use crate::support::{at, member_row, new_id};
use fandesk_domain::team::LAST_OWNER;
use fandesk_domain::{MemberId, Role, RuleViolation};
use fandesk_store::{
    AuditFilter, AuditRow, MemberChange, MemberRow, SessionRow, Store, StoreError, Subject,
};

async fn session(store: &Store, member: &MemberRow) -> String {
    let row = SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Member(member.id.clone()),
        expires_at: at(3_600),
    };
    store.insert_session(&row, at(0)).await.unwrap();
    row.token_hash
}

fn change(member: &MemberRow, revoke_sessions: bool) -> MemberChange {
    MemberChange {
        member: member.clone(),
        revoke_sessions,
        audit: None,
    }
}

store_test!(
    member_changes_are_written,
    member_changes_are_written_sqlite,
    member_changes_are_written_postgres
);
async fn member_changes_are_written(store: &Store) {
    let owner = member_row(Role::Owner);
    let agent = member_row(Role::Agent);
    store.insert_member(&owner).await.unwrap();
    store.insert_member(&agent).await.unwrap();
    let kept = session(store, &agent).await;

    let renamed = MemberRow {
        name: "Renamed".into(),
        role: Role::Supervisor,
        password_hash: "$argon2id$another".into(),
        ..agent.clone()
    };
    let revoked = store.update_member(&change(&renamed, false)).await.unwrap();
    assert!(revoked.is_empty());
    assert_eq!(
        store.find_member(&agent.id).await.unwrap(),
        Some(renamed.clone())
    );
    assert!(
        store.find_session(&kept).await.unwrap().is_some(),
        "sessions kept"
    );

    let other = session(store, &agent).await;
    let deactivated = MemberRow {
        deactivated_at: Some(at(60)),
        ..renamed
    };
    let mut revoked = store
        .update_member(&change(&deactivated, true))
        .await
        .unwrap();
    revoked.sort();
    let mut expected = vec![kept.clone(), other.clone()];
    expected.sort();
    assert_eq!(revoked, expected);
    assert_eq!(store.find_session(&kept).await.unwrap(), None);
    assert_eq!(store.find_session(&other).await.unwrap(), None);
    let stored = store.find_member(&agent.id).await.unwrap().unwrap();
    assert_eq!(stored.deactivated_at, Some(at(60)));
    assert!(!stored.is_active());

    let missing = MemberRow {
        id: MemberId(new_id()),
        ..member_row(Role::Agent)
    };
    let error = store
        .update_member(&change(&missing, true))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotFound("member")), "{error:?}");
}

store_test!(
    the_last_active_owner_is_kept,
    the_last_active_owner_is_kept_sqlite,
    the_last_active_owner_is_kept_postgres
);
async fn the_last_active_owner_is_kept(store: &Store) {
    let first = member_row(Role::Owner);
    store.insert_member(&first).await.unwrap();
    let token = session(store, &first).await;
    let refused = |error: StoreError| {
        assert!(
            matches!(error, StoreError::Rule(RuleViolation::InvalidTransition(text)) if text == LAST_OWNER),
            "{error:?}"
        );
    };
    let demoted = MemberRow {
        role: Role::Agent,
        ..first.clone()
    };
    refused(
        store
            .update_member(&change(&demoted, false))
            .await
            .unwrap_err(),
    );
    let deactivated = MemberRow {
        deactivated_at: Some(at(5)),
        ..first.clone()
    };
    refused(
        store
            .update_member(&change(&deactivated, true))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        store.find_member(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert!(
        store.find_session(&token).await.unwrap().is_some(),
        "a refused change deletes no session"
    );

    // A deactivated second owner does not count; an active one does.
    let second = member_row(Role::Owner);
    store.insert_member(&second).await.unwrap();
    let second_off = MemberRow {
        deactivated_at: Some(at(1)),
        ..second.clone()
    };
    store
        .update_member(&change(&second_off, true))
        .await
        .unwrap();
    refused(
        store
            .update_member(&change(&demoted, false))
            .await
            .unwrap_err(),
    );
    store.update_member(&change(&second, false)).await.unwrap();
    store.update_member(&change(&demoted, false)).await.unwrap();
    assert_eq!(
        store
            .find_member(&first.id)
            .await
            .unwrap()
            .map(|row| row.role),
        Some(Role::Agent)
    );
    let second_demoted = MemberRow {
        role: Role::Supervisor,
        ..second
    };
    refused(
        store
            .update_member(&change(&second_demoted, false))
            .await
            .unwrap_err(),
    );
}

store_test!(
    two_owners_demoting_each_other_at_once_leave_one,
    two_owners_demoting_each_other_at_once_leave_one_sqlite,
    two_owners_demoting_each_other_at_once_leave_one_postgres
);
async fn two_owners_demoting_each_other_at_once_leave_one(store: &Store) {
    let first = member_row(Role::Owner);
    let second = member_row(Role::Owner);
    store.insert_member(&first).await.unwrap();
    store.insert_member(&second).await.unwrap();
    let demote = |row: &MemberRow| {
        change(
            &MemberRow {
                role: Role::Agent,
                ..row.clone()
            },
            false,
        )
    };
    let (a, b) = (demote(&first), demote(&second));
    let (left, right) = tokio::join!(store.update_member(&a), store.update_member(&b));
    assert_eq!(
        u8::from(left.is_ok()) + u8::from(right.is_ok()),
        1,
        "exactly one demotion wins: {left:?} {right:?}"
    );
    let owners = store
        .list_members()
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.role == Role::Owner && row.is_active())
        .count();
    assert_eq!(owners, 1);
}

fn audit_row(actor: &MemberRow, action: &str, seconds: i64) -> AuditRow {
    AuditRow {
        id: format!("aud_{}", new_id()),
        actor_id: actor.id.as_str().to_owned(),
        actor_name: actor.name.clone(),
        action: action.to_owned(),
        conversation_id: None,
        details: "{}".to_owned(),
        created_at: at(seconds),
    }
}

store_test!(
    a_member_change_writes_its_audit_entry_and_the_log_filters,
    a_member_change_writes_its_audit_entry_and_the_log_filters_sqlite,
    a_member_change_writes_its_audit_entry_and_the_log_filters_postgres
);
async fn a_member_change_writes_its_audit_entry_and_the_log_filters(store: &Store) {
    let owner = member_row(Role::Owner);
    let agent = member_row(Role::Agent);
    store.insert_member(&owner).await.unwrap();
    store.insert_member(&agent).await.unwrap();
    store
        .insert_audit(&audit_row(&agent, "monitor", 1))
        .await
        .unwrap();
    let promoted = MemberChange {
        member: MemberRow {
            role: Role::Supervisor,
            ..agent.clone()
        },
        revoke_sessions: false,
        audit: Some(audit_row(&owner, "member_update", 2)),
    };
    store.update_member(&promoted).await.unwrap();
    // A refused change writes no audit entry.
    let refused = MemberChange {
        member: MemberRow {
            role: Role::Agent,
            ..owner.clone()
        },
        revoke_sessions: false,
        audit: Some(audit_row(&owner, "member_update", 3)),
    };
    store.update_member(&refused).await.unwrap_err();

    let list = |filter: AuditFilter| async move {
        store
            .list_audit(&AuditFilter {
                limit: 50,
                ..filter
            })
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.action, row.actor_id))
            .collect::<Vec<_>>()
    };
    let owner_id = owner.id.as_str().to_owned();
    let agent_id = agent.id.as_str().to_owned();
    assert_eq!(
        list(AuditFilter::default()).await,
        vec![
            ("member_update".to_owned(), owner_id.clone()),
            ("monitor".to_owned(), agent_id.clone())
        ],
        "newest first, the refused change absent"
    );
    let only = |action: &str| AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(
        list(only("monitor")).await,
        vec![("monitor".to_owned(), agent_id.clone())]
    );
    assert_eq!(
        list(AuditFilter {
            actor_id: Some(owner_id.clone()),
            ..AuditFilter::default()
        })
        .await,
        vec![("member_update".to_owned(), owner_id)]
    );
    assert_eq!(
        list(AuditFilter {
            conversation_id: Some("cnv_none".into()),
            ..AuditFilter::default()
        })
        .await,
        vec![]
    );
    assert_eq!(
        list(AuditFilter {
            before: Some(at(2)),
            ..AuditFilter::default()
        })
        .await,
        vec![("monitor".to_owned(), agent_id)]
    );
}
