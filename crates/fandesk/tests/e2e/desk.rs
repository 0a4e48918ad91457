//! The agent desk through a real server (docs/product.md › Routing, priority and shifts):
//! automatic assignment (least loaded,
//! capacity-bound, sticky, never twice under racing claims), the priority queue pushed on
//! `inbox` with its inputs, and shift-aware escalation — none of it reaching a fan. Timers
//! and shifts are in `desk_timers`, canned responses in `desk_canned`.

use super::support::{client_id, contains};
use fandesk_testkit::{Body, DEFAULT_TIMEOUT, TestServer, WsClient};
use serde_json::{Value, json};
use std::time::Duration;

pub(super) async fn settle(server: &TestServer) {
    server.app().settle_desk().await;
}

pub(super) async fn punch(server: &TestServer, token: &str, action: &str) {
    let path = format!("/api/v1/shifts/{action}");
    server
        .http()
        .post(&path, Some(token), json!({}))
        .await
        .expect_status(200);
}

pub(super) async fn capacity(server: &TestServer, member: &str, max: i64) {
    let path = format!("/api/v1/members/{member}/capacity");
    let body = json!({"max_concurrent": max});
    let reply = server
        .http()
        .request(
            reqwest::Method::PUT,
            &path,
            Some(server.owner_token()),
            Some(Body::Json(body)),
        )
        .await;
    reply.expect_status(204);
}

pub(super) async fn say(server: &TestServer, token: &str, conversation: &str, body: &str) -> Value {
    let reply = server
        .post_message(token, conversation, &client_id(), body, None)
        .await;
    reply.expect_status(201);
    reply.json
}

pub(super) async fn assignee(server: &TestServer, conversation: &str) -> Option<String> {
    let path = format!("/api/v1/conversations/{conversation}");
    let reply = server.http().get(&path, Some(server.owner_token())).await;
    reply.expect_status(200);
    reply.json["assignee_id"].as_str().map(str::to_owned)
}

pub(super) async fn queue(server: &TestServer, token: &str) -> Vec<Value> {
    let reply = server.http().get("/api/v1/queue", Some(token)).await;
    reply.expect_status(200);
    reply.json["entries"].as_array().cloned().expect("entries")
}

pub(super) fn queued_ids(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry["conversation_id"].as_str().expect("id"))
        .collect()
}

/// The "Assigned to …" entries of a conversation's team timeline.
pub(super) async fn assignment_entries(server: &TestServer, conversation: &str) -> Vec<String> {
    let history = server.history(server.owner_token(), conversation).await;
    history
        .iter()
        .filter_map(|message| message["body"].as_str())
        .filter(|body| body.starts_with("Assigned to"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_is_least_loaded_capacity_bound_and_sticky() {
    let server = TestServer::spawn().await;
    let (first_token, first) = server.create_member_named("agent", "Alex Agent").await;
    let (second_token, second) = server.create_member_named("agent", "Blake Agent").await;
    // Nobody on shift: the conversation waits in the queue.
    let (fan_one, _) = server.fan_session("Fan One").await;
    let c1 = server.open_conversation(&fan_one).await;
    say(&server, &fan_one, &c1, "hi there").await;
    settle(&server).await;
    assert_eq!(assignee(&server, &c1).await, None);
    assert_eq!(
        queued_ids(&queue(&server, &first_token).await),
        [c1.as_str()]
    );
    // Both clock in with room for one conversation: the waiting one is offered at once.
    capacity(&server, &first, 1).await;
    capacity(&server, &second, 1).await;
    punch(&server, &first_token, "clock-in").await;
    punch(&server, &second_token, "clock-in").await;
    settle(&server).await;
    let holder = assignee(&server, &c1)
        .await
        .expect("assigned once someone is on shift");
    let (holder_token, other) = if holder == first {
        (&first_token, &second)
    } else {
        (&second_token, &first)
    };
    let (fan_two, _) = server.fan_session("Fan Two").await;
    let c2 = server.open_conversation(&fan_two).await;
    settle(&server).await;
    assert_eq!(
        assignee(&server, &c2).await.as_ref(),
        Some(other),
        "the least loaded agent"
    );
    // Everyone is at capacity: the next one waits.
    let (fan_three, _) = server.fan_session("Fan Three").await;
    let c3 = server.open_conversation(&fan_three).await;
    settle(&server).await;
    assert_eq!(assignee(&server, &c3).await, None);
    assert_eq!(
        queued_ids(&queue(&server, &first_token).await),
        [c3.as_str()]
    );
    // Resolving frees capacity: the queued conversation goes to the agent who has room.
    let resolve = format!("/api/v1/conversations/{c1}/resolve");
    server
        .http()
        .post_empty(&resolve, Some(holder_token))
        .await
        .expect_status(200);
    settle(&server).await;
    assert_eq!(assignee(&server, &c3).await, Some(holder.clone()));
    // Sticky: the returning fan gets their previous agent, although the other is idle.
    let other_token = if holder == first {
        &second_token
    } else {
        &first_token
    };
    let resolve = format!("/api/v1/conversations/{c2}/resolve");
    server
        .http()
        .post_empty(&resolve, Some(other_token))
        .await
        .expect_status(200);
    capacity(&server, &holder, 5).await;
    let c4 = server.open_conversation(&fan_one).await;
    settle(&server).await;
    assert_eq!(
        assignee(&server, &c4).await,
        Some(holder.clone()),
        "sticky to the previous agent"
    );
    let entries = assignment_entries(&server, &c4).await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0].ends_with("by Automatic routing"), "{entries:?}");
    // The desk view shows who is on shift and their load.
    let agents = server
        .http()
        .get("/api/v1/desk/agents", Some(&first_token))
        .await;
    agents.expect_status(200);
    let row = agents.json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == holder.as_str())
        .cloned();
    let row = row.expect("holder listed");
    assert_eq!(
        (row["on_shift"].clone(), row["active_conversations"].clone()),
        (json!(true), json!(2))
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_claims_never_assign_twice() {
    let server = TestServer::spawn().await;
    let mut agents = Vec::new();
    for _ in 0..3 {
        let (token, id) = server.create_member("agent").await;
        capacity(&server, &id, 50).await;
        punch(&server, &token, "clock-in").await;
        agents.push((token, id));
    }
    let mut conversations = Vec::new();
    for n in 0..8 {
        let (fan, _) = server.fan_session(&format!("Racer {n}")).await;
        // Opening hands the conversation to the desk, which assigns it while every agent
        // tries to pick it from the queue at the same moment.
        let conversation = server.open_conversation(&fan).await;
        let mut claims = Vec::new();
        for (token, id) in &agents {
            let http = server.http().clone();
            let (token, id, path) = (
                token.clone(),
                id.clone(),
                format!("/api/v1/conversations/{conversation}/assign"),
            );
            claims.push(tokio::spawn(async move {
                http.post(&path, Some(&token), json!({"member_id": id}))
                    .await
                    .status
            }));
        }
        let mut won = 0;
        for claim in claims {
            let status = claim.await.unwrap();
            assert!(matches!(status, 200 | 403 | 409), "claim answered {status}");
            won += usize::from(status == 200);
        }
        conversations.push((conversation, won));
    }
    settle(&server).await;
    for (conversation, won) in &conversations {
        let entries = assignment_entries(&server, conversation).await;
        assert_eq!(entries.len(), 1, "assigned exactly once: {entries:?}");
        assert!(*won <= 1);
        let by_routing = entries[0].ends_with("by Automatic routing");
        assert_eq!(
            by_routing,
            *won == 0,
            "either the desk or one claim won: {entries:?}"
        );
        assert!(assignee(&server, conversation).await.is_some());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_is_ordered_explained_pushed_and_team_only() {
    let server = TestServer::spawn().await;
    let (agent, _) = server.create_member("agent").await;
    let mut inbox = WsClient::connect(&server, &agent).await;
    inbox
        .subscribe("inbox", None)
        .await
        .expect("team subscribes to inbox");
    let (plain_fan, _) = server.fan_session("Plain Fan").await;
    let plain = server.open_conversation(&plain_fan).await;
    say(&server, &plain_fan, &plain, "hello").await;
    let (vip_fan, vip_id) = server.fan_session("Vera Vip").await;
    let vip = server.open_conversation(&vip_fan).await;
    let patch = json!({"tags": ["VIP", "early"], "lifetime_spend_cents": 250_000, "notes": "met at the fair"});
    let path = format!("/api/v1/fans/{vip_id}");
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(server.owner_token()),
            Some(Body::Json(patch)),
        )
        .await;
    reply.expect_status(200);
    assert_eq!(reply.json["tags"], json!(["early", "vip"]));
    say(&server, &vip_fan, &vip, "hi!").await;
    let (angry_fan, _) = server.fan_session("Angry Fan").await;
    let angry = server.open_conversation(&angry_fan).await;
    let mut fan_socket = WsClient::connect(&server, &angry_fan).await;
    fan_socket
        .subscribe(&format!("conversation:{angry}"), None)
        .await
        .expect("fan subscribes");
    say(&server, &angry_fan, &angry, "I want a REFUND now").await;
    settle(&server).await;
    // Urgent intent first, then vip with spend, then the plain wait.
    let entries = queue(&server, &agent).await;
    assert_eq!(
        queued_ids(&entries),
        [angry.as_str(), vip.as_str(), plain.as_str()]
    );
    let reasons: Vec<&str> = entries[0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"urgent intent: mentions \"refund\""),
        "{reasons:?}"
    );
    let names: Vec<&str> = entries[1]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(&names[..2], ["vip", "spend"]);
    assert_eq!(
        entries[1]["score"].as_i64().unwrap() - entries[1]["waited_seconds"].as_i64().unwrap() / 6,
        450
    );
    assert!(entries[0]["sla_due_at"].is_string() && entries[0]["sla_breached"] == false);
    // Pushed live on inbox, with the inputs.
    let pushed = inbox
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            let event = &frame["event"];
            event["kind"] == "queue.updated"
                && event["conversation_id"] == angry.as_str()
                && event["entry"]["priority"]
                    .as_i64()
                    .is_some_and(|priority| priority >= 1_000)
        })
        .await;
    assert!(pushed.to_string().contains("urgent intent"), "{pushed}");
    // Team search by tag, name and priority; fans may not use those filters.
    let search = |query: &str| format!("/api/v1/conversations?{query}");
    for (query, expected) in [
        ("tag=vip", &vip),
        ("fan_name=angry", &angry),
        ("min_priority=1000", &angry),
    ] {
        let reply = server.http().get(&search(query), Some(&agent)).await;
        reply.expect_status(200);
        let ids: Vec<&str> = reply.json["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, [expected.as_str()], "{query}");
    }
    server
        .http()
        .get(&search("tag=vip"), Some(&vip_fan))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .get("/api/v1/queue", Some(&vip_fan))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .get(&path, Some(&vip_fan))
        .await
        .expect_error(404, "not_found");
    // Profiles: agents may not set spend; bad values name the field.
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&agent),
            Some(Body::Json(json!({"lifetime_spend_cents": 1}))),
        )
        .await;
    reply.expect_error(403, "forbidden");
    // The creator's platform sets it through a bot token.
    let (platform, _) = server.create_member("bot").await;
    let spend = json!({"lifetime_spend_cents": 99_00});
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&platform),
            Some(Body::Json(spend)),
        )
        .await;
    reply.expect_status(200);
    assert_eq!(reply.json["lifetime_spend_cents"], 9_900);
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&agent),
            Some(Body::Json(json!({"tags": ["no spaces"]}))),
        )
        .await;
    reply.expect_error(422, "invalid_request");
    // The fan's socket carried none of it.
    let received = fan_socket.drain(Duration::from_millis(200)).await;
    assert!(
        received
            .iter()
            .all(|frame| frame["event"]["kind"] != "queue.updated"),
        "{received:?}"
    );
    let bytes = fan_socket.close().await;
    for secret in ["priority", "inputs", "urgent intent", "queue.updated"] {
        assert!(!contains(&bytes, secret), "fan received {secret:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_goes_to_a_lead_on_shift() {
    let server = TestServer::spawn().await;
    let (agent, _) = server.create_member("agent").await;
    let (first_token, first_lead) = server.create_member("escalation_lead").await;
    let (second_token, second_lead) = server.create_member("escalation_lead").await;
    let escalate = |conversation: String| {
        let (http, agent) = (server.http().clone(), agent.clone());
        async move {
            let path = format!("/api/v1/conversations/{conversation}/escalate");
            let reply = http
                .post(&path, Some(&agent), json!({"reason": "chargeback threat"}))
                .await;
            reply.expect_status(200);
            assert_eq!(reply.json["escalated"], true);
            reply.json["escalated_to"]
                .as_str()
                .expect("lead")
                .to_owned()
        }
    };
    let mut conversations = Vec::new();
    for n in 0..4 {
        let (fan, _) = server.fan_session(&format!("Hard Case {n}")).await;
        let conversation = server.open_conversation(&fan).await;
        say(&server, &agent, &conversation, "let me check").await;
        conversations.push(conversation);
    }
    // Only the first lead is on shift: both escalations go to them, although the second
    // lead has less to do.
    punch(&server, &first_token, "clock-in").await;
    assert_eq!(escalate(conversations[0].clone()).await, first_lead);
    assert_eq!(escalate(conversations[1].clone()).await, first_lead);
    punch(&server, &first_token, "clock-out").await;
    punch(&server, &second_token, "clock-in").await;
    assert_eq!(escalate(conversations[2].clone()).await, second_lead);
    // Nobody on shift and no schedule: the escalation still gets the least loaded lead.
    punch(&server, &second_token, "clock-out").await;
    assert_eq!(escalate(conversations[3].clone()).await, second_lead);
    let alerts = server
        .http()
        .get("/api/v1/alerts", Some(server.owner_token()))
        .await;
    assert!(
        !alerts.text().contains("escalation_off_shift"),
        "no schedule, no off-shift alert"
    );
    server.shutdown().await;
}
