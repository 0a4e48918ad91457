//! Members, fans and sessions: round trips, look-ups and uniqueness conflicts.

use crate::support::{add_fan, add_member, at, fan_id, fan_row, member_id, member_row, new_id};
use fandesk_domain::{FanId, MemberId, Role};
use fandesk_store::{FanRow, LoginFailures, MemberRow, SessionRow, Store, StoreError, Subject};

store_test!(
    member_round_trip,
    member_round_trip_sqlite,
    member_round_trip_postgres
);
async fn member_round_trip(store: &Store) {
    assert_eq!(store.count_members().await.unwrap(), 0);
    let owner = member_row(Role::Owner);
    let agent = member_row(Role::Agent);
    store.insert_member(&owner).await.unwrap();
    store.insert_member(&agent).await.unwrap();

    assert_eq!(
        store.find_member(&owner.id).await.unwrap(),
        Some(owner.clone())
    );
    assert_eq!(
        store.find_member_by_email(&agent.email).await.unwrap(),
        Some(agent.clone())
    );
    assert_eq!(store.find_member(&MemberId(new_id())).await.unwrap(), None);
    assert_eq!(
        store
            .find_member_by_email("nobody@example.test")
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.count_members().await.unwrap(), 2);
    let mut expected = vec![owner, agent];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        store.list_members().await.unwrap(),
        expected,
        "ordered by created_at, id"
    );
}

store_test!(
    every_role_round_trips,
    every_role_round_trips_sqlite,
    every_role_round_trips_postgres
);
async fn every_role_round_trips(store: &Store) {
    for role in Role::ALL {
        let member = member_row(role);
        store.insert_member(&member).await.unwrap();
        assert_eq!(
            store
                .find_member(&member.id)
                .await
                .unwrap()
                .map(|row| row.role),
            Some(role)
        );
    }
}

store_test!(
    duplicate_member_email_conflicts,
    duplicate_member_email_conflicts_sqlite,
    duplicate_member_email_conflicts_postgres
);
async fn duplicate_member_email_conflicts(store: &Store) {
    let first = member_row(Role::Agent);
    store.insert_member(&first).await.unwrap();
    let second = MemberRow {
        email: first.email.clone(),
        ..member_row(Role::Supervisor)
    };
    let error = store.insert_member(&second).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_member(&second.id).await.unwrap(), None);
    assert_eq!(store.count_members().await.unwrap(), 1);

    let same_id = MemberRow {
        id: first.id.clone(),
        ..member_row(Role::Agent)
    };
    let error = store.insert_member(&same_id).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
}

store_test!(
    fan_round_trip,
    fan_round_trip_sqlite,
    fan_round_trip_postgres
);
async fn fan_round_trip(store: &Store) {
    let verified = FanRow {
        external_id: Some(format!("crm-{}", new_id())),
        timezone: Some("Europe/Paris".to_owned()),
        ..fan_row()
    };
    let anonymous = fan_row();
    store.insert_fan(&verified).await.unwrap();
    store.insert_fan(&anonymous).await.unwrap();

    assert_eq!(
        store.find_fan(&verified.id).await.unwrap(),
        Some(verified.clone())
    );
    assert_eq!(
        store.find_fan(&anonymous.id).await.unwrap(),
        Some(anonymous.clone())
    );
    let external_id = verified.external_id.as_deref().unwrap();
    assert_eq!(
        store.find_fan_by_external_id(external_id).await.unwrap(),
        Some(verified.clone())
    );
    assert_eq!(
        store.find_fan_by_external_id("crm-unknown").await.unwrap(),
        None
    );
    assert_eq!(store.find_fan(&FanId(new_id())).await.unwrap(), None);
}

store_test!(
    fans_without_external_id_do_not_conflict,
    fans_without_external_id_do_not_conflict_sqlite,
    fans_without_external_id_do_not_conflict_postgres
);
async fn fans_without_external_id_do_not_conflict(store: &Store) {
    // Anonymous fans all have a NULL external id; NULLs never collide in a UNIQUE column.
    for _ in 0..3 {
        store.insert_fan(&fan_row()).await.unwrap();
    }
}

store_test!(
    duplicate_fan_external_id_conflicts,
    duplicate_fan_external_id_conflicts_sqlite,
    duplicate_fan_external_id_conflicts_postgres
);
async fn duplicate_fan_external_id_conflicts(store: &Store) {
    let external_id = Some(format!("crm-{}", new_id()));
    let first = FanRow {
        external_id: external_id.clone(),
        ..fan_row()
    };
    store.insert_fan(&first).await.unwrap();
    let second = FanRow {
        external_id: external_id.clone(),
        ..fan_row()
    };
    let error = store.insert_fan(&second).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.find_fan(&second.id).await.unwrap(), None);
    assert_eq!(
        store
            .find_fan_by_external_id(external_id.as_deref().unwrap())
            .await
            .unwrap(),
        Some(first)
    );
}

store_test!(
    touch_fan_updates_visit,
    touch_fan_updates_visit_sqlite,
    touch_fan_updates_visit_postgres
);
async fn touch_fan_updates_visit(store: &Store) {
    let fan = FanRow {
        timezone: Some("Asia/Tokyo".to_owned()),
        ..fan_row()
    };
    store.insert_fan(&fan).await.unwrap();

    store
        .touch_fan(&fan.id, "Renamed", None, at(500))
        .await
        .unwrap();
    let touched = store.find_fan(&fan.id).await.unwrap().unwrap();
    assert_eq!(touched.display_name, "Renamed");
    assert_eq!(
        touched.timezone.as_deref(),
        Some("Asia/Tokyo"),
        "no time zone keeps the old one"
    );
    assert_eq!(touched.last_seen_at, at(500));
    assert_eq!(touched.created_at, fan.created_at);

    store
        .touch_fan(&fan.id, "Renamed", Some("America/Lima"), at(600))
        .await
        .unwrap();
    let touched = store.find_fan(&fan.id).await.unwrap().unwrap();
    assert_eq!(touched.timezone.as_deref(), Some("America/Lima"));
    assert_eq!(touched.last_seen_at, at(600));
}

store_test!(
    session_round_trip,
    session_round_trip_sqlite,
    session_round_trip_postgres
);
async fn session_round_trip(store: &Store) {
    let member = add_member(store, Role::Agent).await;
    let fan = add_fan(store).await;
    let member_session = SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Member(member_id(&member)),
        expires_at: at(3_600),
    };
    let fan_session = SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Fan(fan_id(&fan)),
        expires_at: at(7_200),
    };
    store.insert_session(&member_session, at(0)).await.unwrap();
    store.insert_session(&fan_session, at(0)).await.unwrap();

    assert_eq!(
        store
            .find_session(&member_session.token_hash)
            .await
            .unwrap(),
        Some(member_session.clone())
    );
    assert_eq!(
        store.find_session(&fan_session.token_hash).await.unwrap(),
        Some(fan_session.clone())
    );
    assert_eq!(store.find_session("hash-unknown").await.unwrap(), None);

    assert!(
        store
            .delete_session(&member_session.token_hash)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_session(&member_session.token_hash)
            .await
            .unwrap(),
        "already revoked"
    );
    assert_eq!(
        store
            .find_session(&member_session.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.find_session(&fan_session.token_hash).await.unwrap(),
        Some(fan_session)
    );
}

store_test!(
    duplicate_session_token_conflicts,
    duplicate_session_token_conflicts_sqlite,
    duplicate_session_token_conflicts_postgres
);
async fn duplicate_session_token_conflicts(store: &Store) {
    let fan = add_fan(store).await;
    let session = SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Fan(fan_id(&fan)),
        expires_at: at(60),
    };
    store.insert_session(&session, at(0)).await.unwrap();
    let error = store.insert_session(&session, at(1)).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
}

store_test!(
    session_of_unknown_member_is_refused,
    session_of_unknown_member_is_refused_sqlite,
    session_of_unknown_member_is_refused_postgres
);
async fn session_of_unknown_member_is_refused(store: &Store) {
    // Foreign keys are enforced on both backends (SQLite needs them switched on).
    let session = SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Member(MemberId(new_id())),
        expires_at: at(60),
    };
    let error = store.insert_session(&session, at(0)).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(store.find_session(&session.token_hash).await.unwrap(), None);
}

store_test!(
    expired_sessions_are_deleted,
    expired_sessions_are_deleted_sqlite,
    expired_sessions_are_deleted_postgres
);
async fn expired_sessions_are_deleted(store: &Store) {
    let fan = add_fan(store).await;
    let session = |expires_at| SessionRow {
        token_hash: format!("hash-{}", new_id()),
        subject: Subject::Fan(fan_id(&fan)),
        expires_at,
    };
    let past = session(at(99));
    let now = session(at(100));
    let future = session(at(101));
    for row in [&past, &now, &future] {
        store.insert_session(row, at(0)).await.unwrap();
    }

    assert_eq!(
        store.delete_expired_sessions(at(100)).await.unwrap(),
        2,
        "expires_at <= now"
    );
    assert_eq!(store.find_session(&past.token_hash).await.unwrap(), None);
    assert_eq!(store.find_session(&now.token_hash).await.unwrap(), None);
    assert_eq!(
        store.find_session(&future.token_hash).await.unwrap(),
        Some(future.clone())
    );
    assert_eq!(store.delete_expired_sessions(at(100)).await.unwrap(), 0);
}

store_test!(
    login_failures_count_up_clear_and_purge,
    login_failures_count_up_clear_and_purge_sqlite,
    login_failures_count_up_clear_and_purge_postgres
);
async fn login_failures_count_up_clear_and_purge(store: &Store) {
    let account = format!("{}@example.test", new_id());
    assert_eq!(store.login_failures(&account).await.unwrap(), None);
    for second in [10, 11, 12] {
        store
            .record_login_failure(&account, at(second))
            .await
            .unwrap();
    }
    assert_eq!(
        store.login_failures(&account).await.unwrap(),
        Some(LoginFailures {
            failures: 3,
            last_failed_at: at(12)
        })
    );
    store.clear_login_failures(&account).await.unwrap();
    assert_eq!(store.login_failures(&account).await.unwrap(), None);

    let (old, recent) = (format!("old-{account}"), format!("recent-{account}"));
    store.record_login_failure(&old, at(5)).await.unwrap();
    store.record_login_failure(&recent, at(50)).await.unwrap();
    assert!(store.purge_login_failures(at(20)).await.unwrap() >= 1);
    assert_eq!(store.login_failures(&old).await.unwrap(), None);
    assert_eq!(
        store
            .login_failures(&recent)
            .await
            .unwrap()
            .map(|f| f.failures),
        Some(1)
    );
}
