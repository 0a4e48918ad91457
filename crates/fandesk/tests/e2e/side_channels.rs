//! What must not leak or be open to the wrong caller, through a real server: fans get no
//! `conversation.updated` for internal routing (docs/product.md › Principles: fans are sent
//! only what changes what they see), bots set a fan's spend but edit nothing else of the
//! profile, and `/metrics` answers only its bearer token.

use super::support::{Desk, contains};
use fandesk_testkit::{Body, DEFAULT_TIMEOUT, HttpConfig, METRICS_TOKEN, TestServer, WsClient};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_hear_nothing_of_internal_routing() {
    let desk = Desk::new().await;
    let server = &desk.server;
    let owner = server.owner_token().to_owned();
    let (supervisor, _) = server.create_member("supervisor").await;
    let (_, second_agent) = server.create_member("agent").await;
    let (_, lead) = server.create_member("escalation_lead").await;
    let mut fan_socket = WsClient::connect(server, &desk.fan).await;
    fan_socket
        .subscribe(&desk.topic(), None)
        .await
        .expect("the fan follows their conversation");
    let http = server.http();
    let act = |token: &str, action: &str, body: serde_json::Value| {
        let (http, token, path) = (http.clone(), token.to_owned(), desk.path(action));
        async move {
            http.post(&path, Some(&token), body)
                .await
                .expect_status(200);
        }
    };
    act(&owner, "/assign", json!({"member_id": desk.agent_id})).await;
    // A reply claims nothing here (assigned already) but is what the fan does see.
    desk.post(&desk.agent, "Hi, I'm looking into it", None)
        .await;
    act(&owner, "/assign", json!({"member_id": second_agent})).await;
    act(&supervisor, "/takeover", json!({})).await;
    act(&supervisor, "/handback", json!({})).await;
    act(&owner, "/unassign", json!({})).await;
    act(
        &owner,
        "/escalate",
        json!({"reason": "refund", "lead_id": lead}),
    )
    .await;
    // The status is the fan's to see: resolving reaches them, after everything above.
    act(&owner, "/resolve", json!({})).await;
    let resolved = fan_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "conversation.updated"
        })
        .await;
    assert_eq!(resolved["event"]["conversation"]["status"], "resolved");
    let earlier = fan_socket.take_pending();
    assert!(
        earlier
            .iter()
            .all(|frame| frame["event"]["kind"] != "conversation.updated"),
        "{earlier:?}"
    );
    let bytes = fan_socket.close().await;
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(text.matches("conversation.updated").count(), 1, "{text}");
    // The agent wrote to the fan, so their id is no secret; the rest of the routing is.
    for secret in [
        "assignee",
        "escalat",
        "observer",
        second_agent.as_str(),
        lead.as_str(),
    ] {
        assert!(
            !contains(&bytes, secret),
            "the fan received {secret:?}: {text}"
        );
    }
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_set_the_spend_and_nothing_else_of_a_profile() {
    let desk = Desk::new().await;
    let server = &desk.server;
    let (bot, _) = server.create_member("bot").await;
    let path = format!("/api/v1/fans/{}", desk.fan_id);
    let patch = |token: &str, body: serde_json::Value| {
        let (http, token, path) = (server.http().clone(), token.to_owned(), path.clone());
        async move {
            http.request(
                reqwest::Method::PATCH,
                &path,
                Some(&token),
                Some(Body::Json(body)),
            )
            .await
        }
    };
    for body in [
        json!({"tags": ["vip"]}),
        json!({"notes": "bought everything"}),
        json!({"attributes": {"tier": "gold"}}),
        json!({"timezone": "Europe/Paris"}),
        json!({"tags": ["vip"], "lifetime_spend_cents": 100}),
        json!({}),
    ] {
        patch(&bot, body.clone())
            .await
            .expect_error(403, "forbidden");
    }
    let profile = server.http().get(&path, Some(&bot)).await;
    profile.expect_status(200);
    assert_eq!(profile.json["tags"], json!([]), "{}", profile.text());
    assert_eq!(profile.json["lifetime_spend_cents"], 0);
    let spent = patch(&bot, json!({"lifetime_spend_cents": 12_300})).await;
    spent.expect_status(200);
    assert_eq!(spent.json["lifetime_spend_cents"], 12_300);
    // Humans still edit the profile.
    patch(&desk.agent, json!({"tags": ["vip"]}))
        .await
        .expect_status(200);
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_only_their_bearer_token() {
    let server = TestServer::spawn().await;
    let http = server.http();
    http.get("/metrics", None)
        .await
        .expect_error(401, "unauthorized");
    http.get("/metrics", Some("not-the-token"))
        .await
        .expect_error(401, "unauthorized");
    http.get("/metrics", Some(server.owner_token()))
        .await
        .expect_error(401, "unauthorized");
    let scraped = http.get("/metrics", Some(METRICS_TOKEN)).await;
    scraped.expect_status(200);
    assert!(scraped.text().contains("fandesk_"), "{}", scraped.text());
    server.shutdown().await;
    // Without a configured token the route is refused, whoever asks.
    let closed = TestServer::spawn_with(HttpConfig::default()).await;
    closed
        .http()
        .get("/metrics", None)
        .await
        .expect_error(401, "unauthorized");
    for token in [Some(METRICS_TOKEN), Some(closed.owner_token())] {
        closed
            .http()
            .get("/metrics", token)
            .await
            .expect_error(403, "forbidden");
    }
    closed.shutdown().await;
}
