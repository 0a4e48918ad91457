//! Event metrics and conversions end to end (docs/api.md › Events › Metrics, Conversions;
//! docs/metrics.md › Events, Conversions and revenue), on a manual clock: fans watching
//! over the WebSocket (two tabs, joining before the start, late, leaving), the figures
//! while live and after the end, questions, conversions tied to the event, the fan's
//! activity; then the crediting of conversions to the last human public reply within
//! 24 h (bot replies and internal notes do not count) and its place in the summary.

use super::channels::manual_server;
use fandesk_service::{Clock, ManualClock};
use fandesk_testkit::{DEFAULT_TIMEOUT, Reply, TestServer, WsClient};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::time::Duration;

async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> Reply {
    server.http().post(path, Some(token), body).await
}

async fn get(server: &TestServer, token: &str, path: &str) -> Reply {
    server.http().get(path, Some(token)).await
}

async fn watch(server: &TestServer, token: &str, room: &str) -> WsClient {
    let mut socket = WsClient::connect(server, token).await;
    socket
        .subscribe(&format!("room:{room}"), None)
        .await
        .expect("subscribe");
    socket
}

/// Unsubscribes and waits for the answer, so the leave is recorded at this instant.
async fn leave(socket: &mut WsClient, room: &str) {
    let topic = format!("room:{room}");
    socket
        .send_json(&json!({"type": "unsubscribe", "topic": topic}))
        .await;
    socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["type"] == "unsubscribed" && frame["topic"] == topic.as_str()
        })
        .await;
}

async fn say(server: &TestServer, token: &str, room: &str, key: &str) {
    let body = json!({"client_msg_id": key, "body": format!("message {key}")});
    post(
        server,
        token,
        &format!("/api/v1/rooms/{room}/messages"),
        body,
    )
    .await
    .expect_status(201);
}

fn secs(clock: &ManualClock, secs: u64) {
    clock.advance(Duration::from_secs(secs));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_measured_from_its_viewings() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member("agent").await;
    let (bot, _) = server.create_member_named("bot", "Shop").await;
    let (ann, ann_id) = server.fan_session("Ann").await;
    let (bob, _) = server.fan_session("Bob").await;
    let (cy, _) = server.fan_session("Cy").await;
    // A 3-minute live event in 2 minutes (its chat is open already).
    let starts_at = clock.now() + SignedDuration::from_secs(120);
    let created = post(
        &server,
        &owner,
        "/api/v1/events",
        json!({"title": "Q&A night", "kind": "live", "starts_at": starts_at.to_string(),
               "duration_secs": 180, "qa": true}),
    )
    .await;
    created.expect_status(201);
    let id = created.json["id"].as_str().expect("id").to_owned();
    let room = created.json["room_id"].as_str().expect("room").to_owned();
    let metrics_path = format!("/api/v1/events/{id}/metrics");

    // Before the start: nothing counted yet.
    let before = get(&server, &supervisor, &metrics_path).await;
    before.expect_status(200);
    assert_eq!(before.json["status"], "scheduled");
    assert_eq!(before.json["unique_viewers"], 0);
    assert_eq!(before.json["messages_per_minute"], json!([]));

    // Ann from a minute before the start to after the end; Bob from the start to 1:30 in
    // two tabs (the first closed at 0:30); Cy from 1:00 to 2:30.
    secs(&clock, 60);
    let _ann_socket = watch(&server, &ann, &room).await;
    secs(&clock, 60);
    let mut bob_first = watch(&server, &bob, &room).await;
    let mut bob_second = watch(&server, &bob, &room).await;
    secs(&clock, 10);
    say(&server, &ann, &room, "a1").await;
    let questions = format!("/api/v1/events/{id}/questions");
    let asked = post(
        &server,
        &ann,
        &questions,
        json!({"client_msg_id": "q1", "body": "First?"}),
    )
    .await;
    asked.expect_status(201);
    post(
        &server,
        &bob,
        &questions,
        json!({"client_msg_id": "q2", "body": "Second?"}),
    )
    .await
    .expect_status(201);
    let question = asked.json["id"].as_str().expect("question id");
    server
        .http()
        .post_empty(&format!("{questions}/{question}/answer"), Some(&agent))
        .await
        .expect_status(200);
    secs(&clock, 20);
    leave(&mut bob_first, &room).await;
    secs(&clock, 30);
    let mut cy_socket = watch(&server, &cy, &room).await;
    secs(&clock, 10);
    say(&server, &cy, &room, "c1").await;
    secs(&clock, 5);

    // Live at 1:15: Ann 75 s, Bob 75 s, Cy 15 s.
    let live = get(&server, &supervisor, &metrics_path).await;
    live.expect_status(200);
    assert_eq!(
        live.json,
        json!({"unique_viewers": 3, "peak_concurrent": 3, "avg_watch_secs": 55.0,
               "messages_per_minute": [1, 1], "retention_by_minute": [1.0, 1.0],
               "questions": {"asked": 2, "answered": 1},
               "conversions": {"count": 0, "value_cents": 0},
               "status": "live", "current_viewers": 3}),
    );

    secs(&clock, 15);
    leave(&mut bob_second, &room).await;
    secs(&clock, 60);
    leave(&mut cy_socket, &room).await;
    secs(&clock, 20);
    say(&server, &agent, &room, "t1").await;
    secs(&clock, 30);

    // Conversions: one at the event (the platform's bot), one elsewhere (the owner).
    let sale = json!({"fan_id": ann_id, "event_id": id, "kind": "purchase", "value_cents": 1999});
    post(&server, &bot, "/api/v1/conversions", sale)
        .await
        .expect_status(201);
    let other = json!({"fan_id": ann_id, "kind": "subscription", "value_cents": 500});
    post(&server, &owner, "/api/v1/conversions", other)
        .await
        .expect_status(201);

    // Ended at 3:00: Ann 180 s, Bob 90 s, Cy 90 s; at 2:00 Ann of Ann and Bob.
    let ended = get(&server, &supervisor, &metrics_path).await;
    ended.expect_status(200);
    assert_eq!(
        ended.json,
        json!({"unique_viewers": 3, "peak_concurrent": 3, "avg_watch_secs": 120.0,
               "messages_per_minute": [1, 1, 1], "retention_by_minute": [1.0, 1.0, 0.5],
               "questions": {"asked": 2, "answered": 1},
               "conversions": {"count": 1, "value_cents": 1999},
               "status": "ended", "current_viewers": 1}),
    );
    // The same later: the figures are stored, not counted in memory.
    secs(&clock, 3_600);
    let later = get(&server, &owner, &metrics_path).await;
    assert_eq!(later.json["avg_watch_secs"], 120.0);
    assert_eq!(later.json["retention_by_minute"], json!([1.0, 1.0, 0.5]));

    // The fan's activity on the team's fan panel.
    let activity = get(&server, &agent, &format!("/api/v1/fans/{ann_id}/activity")).await;
    activity.expect_status(200);
    assert_eq!(
        activity.json["events"],
        json!([{"event_id": id, "title": "Q&A night", "watch_secs": 180.0}])
    );
    assert_eq!(activity.json["value_cents"], 2499);
    assert_eq!(
        activity.json["conversions"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(activity.json["conversions"][0]["kind"], "subscription");

    // Who may read: metrics are the supervising roles'; fans learn nothing of a profile.
    get(&server, &agent, &metrics_path)
        .await
        .expect_error(403, "forbidden");
    get(&server, &ann, &metrics_path)
        .await
        .expect_error(403, "forbidden");
    get(&server, &ann, &format!("/api/v1/fans/{ann_id}/activity"))
        .await
        .expect_error(404, "not_found");
    get(&server, &supervisor, "/api/v1/events/evt_nowhere/metrics")
        .await
        .expect_error(404, "not_found");
    server.shutdown().await;
}

async fn send(server: &TestServer, token: &str, conversation: &str, body: Value) -> Reply {
    let path = format!("/api/v1/conversations/{conversation}/messages");
    post(server, token, &path, body).await
}

async fn convert(server: &TestServer, token: &str, fan: &str, value: i64) -> Value {
    let body = json!({"fan_id": fan, "kind": "purchase", "value_cents": value});
    let reply = post(server, token, "/api/v1/conversions", body).await;
    reply.expect_status(201);
    reply.json.clone()
}

fn field_of(reply: &Reply) -> Option<&str> {
    reply.json["error"]["details"]["field"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversions_are_credited_to_the_last_human_public_reply_within_a_day() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (bot, _) = server.create_member_named("bot", "Shop").await;
    let (agent, agent_id) = server.create_member_named("agent", "Ana").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, fan_id) = server.fan_session("Buyer").await;
    let start = clock.now();
    let conversation = server.open_conversation(&fan).await;
    send(
        &server,
        &fan,
        &conversation,
        json!({"client_msg_id": "f1", "body": "hi"}),
    )
    .await
    .expect_status(201);
    // A bot's reply is no human's: nothing credited.
    send(
        &server,
        &bot,
        &conversation,
        json!({"client_msg_id": "b1", "body": "Hello!"}),
    )
    .await
    .expect_status(201);
    secs(&clock, 60);
    let first = convert(&server, &bot, &fan_id, 100).await;
    assert_eq!(first["agent_id"], Value::Null, "{first}");

    // Ana replies publicly; a supervisor's internal note later does not take the credit.
    secs(&clock, 540);
    let reply_at = clock.now();
    send(
        &server,
        &agent,
        &conversation,
        json!({"client_msg_id": "a1", "body": "Sure!"}),
    )
    .await
    .expect_status(201);
    secs(&clock, 600);
    let note = json!({"client_msg_id": "s1", "body": "VIP", "visibility": "internal"});
    send(&server, &supervisor, &conversation, note)
        .await
        .expect_status(201);
    secs(&clock, 600);
    let second = convert(&server, &bot, &fan_id, 2_000).await;
    assert_eq!(second["agent_id"], agent_id.as_str(), "{second}");
    let credited_at: Timestamp = second["reply_at"]
        .as_str()
        .expect("reply_at")
        .parse()
        .expect("RFC 3339");
    assert_eq!(credited_at, reply_at);

    // Exactly 24 h after the reply it still counts; a second later it does not.
    let day_after = reply_at + SignedDuration::from_hours(24);
    clock.advance(Duration::try_from(day_after.duration_since(clock.now())).expect("ahead"));
    let edge = convert(&server, &owner, &fan_id, 300).await;
    assert_eq!(edge["agent_id"], agent_id.as_str(), "{edge}");
    secs(&clock, 1);
    let late = convert(&server, &owner, &fan_id, 7).await;
    assert_eq!(late["agent_id"], Value::Null, "{late}");

    // A retry with the same client id records nothing new.
    let keyed =
        json!({"fan_id": fan_id, "kind": "purchase", "value_cents": 50, "client_id": "order-9"});
    let once = post(&server, &bot, "/api/v1/conversions", keyed.clone()).await;
    once.expect_status(201);
    let again = post(&server, &bot, "/api/v1/conversions", keyed).await;
    again.expect_status(201);
    assert_eq!(once.json["id"], again.json["id"]);

    // The summary by agent: Ana's two credited conversions next to her FRT.
    let (from, to) = (start, clock.now() + SignedDuration::from_secs(1));
    let summary = get(
        &server,
        &owner,
        &format!("/api/v1/metrics/summary?from={from}&to={to}&group_by=agent"),
    )
    .await;
    summary.expect_status(200);
    let groups = summary.json["groups"].as_array().expect("groups");
    let group = |key: &Value| {
        groups
            .iter()
            .find(|group| &group["key"] == key)
            .unwrap_or_else(|| panic!("a group {key}"))
    };
    let revenue_of = |key: Value| {
        let found = group(&key);
        (found["conversions"].clone(), found["revenue_cents"].clone())
    };
    assert_eq!(revenue_of(json!(agent_id)), (json!(2), json!(2_300)));
    assert_eq!(group(&json!(agent_id))["first_response_secs"]["count"], 1);
    assert_eq!(revenue_of(Value::Null), (json!(3), json!(157)));
    let all = get(
        &server,
        &owner,
        &format!("/api/v1/metrics/summary?from={from}&to={to}&group_by=none"),
    )
    .await;
    assert_eq!(all.json["groups"][0]["revenue_cents"], 2_457);

    // Refusals: who may record, and each field checked.
    let valid = json!({"fan_id": fan_id, "kind": "purchase"});
    post(&server, &agent, "/api/v1/conversions", valid.clone())
        .await
        .expect_error(403, "forbidden");
    post(&server, &fan, "/api/v1/conversions", valid)
        .await
        .expect_error(403, "forbidden");
    post(&server, &agent, "/api/v1/conversions", json!({}))
        .await
        .expect_error(403, "forbidden");
    for (body, field) in [
        (json!({"kind": "purchase"}), "fan_id"),
        (
            json!({"fan_id": "fan_nowhere", "kind": "purchase"}),
            "fan_id",
        ),
        (json!({"fan_id": fan_id}), "kind"),
        (json!({"fan_id": fan_id, "kind": "  "}), "kind"),
        (
            json!({"fan_id": fan_id, "kind": "x", "value_cents": -1}),
            "value_cents",
        ),
        (
            json!({"fan_id": fan_id, "kind": "x", "event_id": "evt_nowhere"}),
            "event_id",
        ),
    ] {
        let refused = post(&server, &bot, "/api/v1/conversions", body.clone()).await;
        refused.expect_error(422, "invalid_request");
        assert_eq!(field_of(&refused), Some(field), "{body}");
    }
    server.shutdown().await;
}
