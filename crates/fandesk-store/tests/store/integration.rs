//! Webhooks and their delivery log: deliveries and their jobs commit together, attempts
//! update the log, a deleted webhook stays for its log.

use crate::support::TestDb;
use fandesk_domain::{MemberId, Role};
use fandesk_store::{MemberRow, NewJob, NewWebhookDelivery, WebhookAttempt, WebhookRow};
use jiff::{SignedDuration, Timestamp};

store_test!(webhook_log, webhook_log_sqlite, webhook_log_postgres);

async fn webhook_log(db: &mut TestDb) {
    let at: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
    let owner = MemberRow {
        id: MemberId::from("mem_owner"),
        email: "owner@example.test".into(),
        name: "Owner".into(),
        role: Role::Owner,
        password_hash: "!".into(),
        created_at: at,
        deactivated_at: None,
    };
    db.insert_member(&owner).await.unwrap();
    let webhook = WebhookRow {
        id: "whk_1".into(),
        url: "http://127.0.0.1:9/hook".into(),
        events: vec!["alert.raised".into(), "message.created".into()],
        secret: "s3cret-s3cret-s3cret".into(),
        created_by: owner.id.clone(),
        created_at: at,
        deleted_at: None,
    };
    db.insert_webhook(&webhook).await.unwrap();
    assert_eq!(
        db.list_webhooks().await.unwrap(),
        std::slice::from_ref(&webhook)
    );

    let deliveries: Vec<NewWebhookDelivery> = (0..3)
        .map(|n| NewWebhookDelivery {
            id: format!("dlv_{n}"),
            webhook_id: webhook.id.clone(),
            event: "message.created".into(),
            job: NewJob {
                id: format!("job_{n}"),
                kind: "webhook_delivery".into(),
                key: format!("webhook:dlv_{n}"),
                payload: "{}".into(),
                due_at: at,
            },
        })
        .collect();
    db.insert_webhook_deliveries(&deliveries, at).await.unwrap();
    assert_eq!(
        db.count_pending_jobs().await.unwrap(),
        3,
        "a job per delivery"
    );
    let log = db.list_webhook_deliveries("whk_1", 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|row| row.status == "pending" && row.attempts == 0)
    );
    assert!(
        log.iter().all(|row| row.next_attempt_at == Some(at)),
        "a pending delivery is next tried when its job is due: {log:?}"
    );
    assert_eq!(db.last_webhook_attempt("whk_1").await.unwrap(), None);
    let backoff = at + SignedDuration::from_secs(30);
    db.release_job("job_0", backoff).await.unwrap();
    let row = db.find_webhook_delivery("dlv_0").await.unwrap().unwrap();
    assert_eq!(row.next_attempt_at, Some(backoff), "its job moved");

    let later = at + SignedDuration::from_secs(5);
    let failed = WebhookAttempt {
        status: "pending",
        status_code: Some(500),
        error: None,
        at: later,
    };
    db.record_webhook_attempt("dlv_1", &failed).await.unwrap();
    let delivered = WebhookAttempt {
        status: "delivered",
        status_code: Some(204),
        error: None,
        at: later + SignedDuration::from_secs(10),
    };
    db.record_webhook_attempt("dlv_1", &delivered)
        .await
        .unwrap();
    let row = db.find_webhook_delivery("dlv_1").await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("delivered", 2));
    assert_eq!(row.last_status_code, Some(204));
    assert_eq!(row.delivered_at, Some(delivered.at));
    assert_eq!(row.next_attempt_at, None, "delivered: nothing more to try");
    let refused = WebhookAttempt {
        status: "failed",
        status_code: None,
        error: Some("refused: loopback".into()),
        at: later + SignedDuration::from_secs(20),
    };
    db.record_webhook_attempt("dlv_2", &refused).await.unwrap();
    let last = db.last_webhook_attempt("whk_1").await.unwrap().unwrap();
    assert_eq!(last.id, "dlv_2");
    assert_eq!(last.last_error.as_deref(), Some("refused: loopback"));
    assert_eq!(last.delivered_at, None);

    db.cancel_webhook_delivery("dlv_0").await.unwrap();
    db.cancel_webhook_delivery("dlv_1").await.unwrap();
    let store = &db.store;
    let status = |id: &'static str| async move {
        store
            .find_webhook_delivery(id)
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status("dlv_0").await, "cancelled");
    let cancelled = db.find_webhook_delivery("dlv_0").await.unwrap().unwrap();
    assert_eq!(
        cancelled.next_attempt_at, None,
        "cancelled: never tried again"
    );
    assert_eq!(
        status("dlv_1").await,
        "delivered",
        "only pending ones are cancelled"
    );

    assert!(db.delete_webhook("whk_1", later).await.unwrap());
    assert!(!db.delete_webhook("whk_1", later).await.unwrap());
    assert!(db.list_webhooks().await.unwrap().is_empty());
    let kept = db.find_webhook("whk_1").await.unwrap().unwrap();
    assert_eq!(kept.deleted_at, Some(later));
    assert_eq!(
        db.list_webhook_deliveries("whk_1", 10).await.unwrap().len(),
        3
    );
}
