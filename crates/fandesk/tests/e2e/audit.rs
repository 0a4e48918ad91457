//! The audit log (docs/api.md › Supervision): the owner's changes of a member are
//! recorded with who and what (never the password), beside the supervisory actions, and
//! the log filters by action, by who acted and by conversation, refusing unknown actions.

use fandesk_testkit::{Body, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

async fn audit(server: &TestServer, query: &str) -> Vec<Value> {
    let reply = server
        .http()
        .get(&format!("/api/v1/audit{query}"), Some(server.owner_token()))
        .await;
    reply.expect_status(200);
    reply.json["entries"].as_array().expect("entries").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_changes_are_audited_and_the_log_filters() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let owner_id = server.http().get("/api/v1/me", Some(&owner)).await.json["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (supervisor, _) = server.create_member("supervisor").await;
    let (_, agent_id) = server.create_member("agent").await;
    for body in [
        json!({"role": "escalation_lead"}),
        json!({"password": "a-secret-password-9"}),
        json!({"role": "escalation_lead"}),
    ] {
        server
            .http()
            .request(
                Method::PATCH,
                &format!("/api/v1/members/{agent_id}"),
                Some(&owner),
                Some(Body::Json(body)),
            )
            .await
            .expect_status(200);
    }
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    server
        .http()
        .post_empty(
            &format!("/api/v1/conversations/{conversation}/monitor"),
            Some(&supervisor),
        )
        .await
        .expect_status(200);

    // Two entries: the repeated role (no change) is not one.
    let changes = audit(&server, "?action=member_update").await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["details"]["changes"], json!(["new password"]));
    assert_eq!(
        changes[1]["details"]["changes"],
        json!(["role agent → escalation_lead"])
    );
    for entry in &changes {
        assert_eq!(entry["actor_id"], owner_id.as_str());
        assert_eq!(entry["details"]["member_id"], agent_id.as_str());
        assert_eq!(entry["conversation_id"], Value::Null);
    }
    let everything = audit(&server, "").await;
    assert!(
        !serde_json::to_string(&everything)
            .expect("json")
            .contains("a-secret-password-9"),
        "no password in the log"
    );
    let about = audit(&server, &format!("?conversation_id={conversation}")).await;
    assert_eq!(about.len(), 1, "{about:?}");
    assert_eq!(about[0]["action"], "monitor");
    assert_eq!(
        audit(&server, &format!("?actor_id={agent_id}")).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        audit(
            &server,
            &format!("?actor_id={owner_id}&action=member_update&limit=1")
        )
        .await
        .len(),
        1
    );
    let refused = server
        .http()
        .get("/api/v1/audit?action=nonsense", Some(&owner))
        .await;
    refused.expect_error(422, "invalid_request");
    assert!(refused.text().contains("action"), "{}", refused.text());
    server.shutdown().await;
}
