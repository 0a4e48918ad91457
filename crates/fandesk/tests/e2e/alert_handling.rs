//! Acknowledging and dismissing alerts (docs/api.md › Alerts): who may, what is kept, the
//! live `alert.updated`, the audit entries, the state filter, and two supervisors acting
//! on one alert at once.

use crate::e2e::support::client_id;
use fandesk_testkit::{DEFAULT_TIMEOUT, TestServer, WsClient};
use serde_json::{Value, json};

/// A fan's new conversation says "cancel" (a default keyword rule); returns the alert.
async fn raise(server: &TestServer, watcher: &mut WsClient) -> Value {
    let (fan, _) = server.fan_session("Alerting fan").await;
    let conversation = server.open_conversation(&fan).await;
    server
        .post_message(
            &fan,
            &conversation,
            &client_id(),
            "I will cancel my plan",
            None,
        )
        .await
        .expect_status(201);
    let frame = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "alert.raised"
                && frame["event"]["alert"]["conversation_id"] == conversation.as_str()
        })
        .await;
    frame["event"]["alert"].clone()
}

async fn listed(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let reply = server
        .http()
        .get(&format!("/api/v1/alerts?{query}"), Some(token))
        .await;
    reply.expect_status(200);
    reply.json["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| alert["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_acknowledge_and_dismiss_alerts_and_everyone_sees_who() {
    let server = TestServer::spawn().await;
    let http = server.http();
    let owner = server.owner_token().to_owned();
    let (supervisor, supervisor_id) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Curious fan").await;
    let mut watcher = WsClient::connect(&server, &owner).await;
    watcher.subscribe("alerts", None).await.expect("alerts");
    let alert = raise(&server, &mut watcher).await;
    assert_eq!(alert["state"], "open");
    assert!(alert.get("handled_by").is_none(), "{alert}");
    let id = alert["id"].as_str().unwrap().to_owned();
    let acknowledge = format!("/api/v1/alerts/{id}/acknowledge");
    let dismiss = format!("/api/v1/alerts/{id}/dismiss");

    for token in [&agent, &fan] {
        http.post(&acknowledge, Some(token), json!({}))
            .await
            .expect_error(403, "forbidden");
        http.post(&dismiss, Some(token), json!({}))
            .await
            .expect_error(403, "forbidden");
    }
    http.post(
        "/api/v1/alerts/alr_nowhere/acknowledge",
        Some(&supervisor),
        json!({}),
    )
    .await
    .expect_error(404, "not_found");

    let acknowledged = http.post(&acknowledge, Some(&supervisor), json!({})).await;
    acknowledged.expect_status(200);
    assert_eq!(acknowledged.json["state"], "acknowledged");
    assert_eq!(acknowledged.json["handled_by"], supervisor_id.as_str());
    assert!(acknowledged.json["handled_by_name"].is_string());
    let frame = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "alert.updated"
        })
        .await;
    assert_eq!(frame["event"]["alert"]["id"], id.as_str());
    assert_eq!(frame["event"]["alert"]["state"], "acknowledged");

    // Again: nothing changes (the same handler and time), nothing is audited twice.
    let again = http.post(&acknowledge, Some(&owner), json!({})).await;
    again.expect_status(200);
    assert_eq!(again.json["handled_by"], supervisor_id.as_str());
    assert_eq!(again.json["handled_at"], acknowledged.json["handled_at"]);

    assert!(!listed(&server, &owner, "state=open").await.contains(&id));
    assert!(
        listed(&server, &owner, "state=acknowledged")
            .await
            .contains(&id)
    );
    http.get("/api/v1/alerts?state=closed", Some(&owner))
        .await
        .expect_error(400, "invalid_request");

    let dismissed = http.post(&dismiss, Some(&owner), json!({})).await;
    dismissed.expect_status(200);
    assert_eq!(dismissed.json["state"], "dismissed");
    assert_ne!(dismissed.json["handled_by"], supervisor_id.as_str());
    http.post(&acknowledge, Some(&supervisor), json!({}))
        .await
        .expect_error(409, "conflict");
    assert!(
        listed(&server, &owner, "state=dismissed")
            .await
            .contains(&id)
    );

    for action in ["alert_acknowledge", "alert_dismiss"] {
        let audit = http
            .get(&format!("/api/v1/audit?action={action}"), Some(&owner))
            .await;
        audit.expect_status(200);
        let entries: Vec<&Value> = audit.json["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|entry| entry["details"]["alert_id"] == id.as_str())
            .collect();
        assert_eq!(entries.len(), 1, "{action}: {}", audit.text());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_supervisors_acting_at_once_leave_one_consistent_alert() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (first, _) = server.create_member("supervisor").await;
    let (second, _) = server.create_member("supervisor").await;
    let mut watcher = WsClient::connect(&server, &owner).await;
    watcher.subscribe("alerts", None).await.expect("alerts");
    for _ in 0..6 {
        let alert = raise(&server, &mut watcher).await;
        let id = alert["id"].as_str().unwrap().to_owned();
        let (http_a, http_b) = (server.http(), server.http());
        let acknowledge = format!("/api/v1/alerts/{id}/acknowledge");
        let dismiss = format!("/api/v1/alerts/{id}/dismiss");
        let (acked, dismissed) = tokio::join!(
            http_a.post(&acknowledge, Some(&first), json!({})),
            http_b.post(&dismiss, Some(&second), json!({})),
        );
        // Dismissing always succeeds; acknowledging loses only when it came second.
        dismissed.expect_status(200);
        assert!(
            acked.status == 200 || acked.status == 409,
            "{}",
            acked.text()
        );
        assert!(
            listed(&server, &owner, "state=dismissed")
                .await
                .contains(&id)
        );
        let audit = server
            .http()
            .get("/api/v1/audit?action=alert_acknowledge", Some(&owner))
            .await;
        let acknowledgements = audit.json["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|entry| entry["details"]["alert_id"] == id.as_str())
            .count();
        assert_eq!(
            acknowledgements,
            usize::from(acked.status == 200),
            "an acknowledgement is audited exactly when it happened"
        );
    }
    server.shutdown().await;
}
