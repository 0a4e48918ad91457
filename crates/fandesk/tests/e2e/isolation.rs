//! One op's fault stays its own (ARCHITECTURE.md › Invariants: no batch fails for another
//! op's fault). Text holding U+0000 is refused with 422 naming the field, on REST, in
//! WebSocket frames, in query strings and paths, on both backends alike; and an op the
//! database itself refuses (an injected trigger) fails alone while every other op of its
//! group-commit batch commits, is acked and is stored exactly once.

use super::support::client_id;
use fandesk_http::client::FanPolicy;
use fandesk_testkit::{HttpClient, HttpConfig, Reply, TestServer, WsClient};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Fans sending at once beside the one whose sends fail.
const FANS: usize = 20;
/// Messages each of them sends.
const EACH: usize = 5;

/// What one sender was answered: `(body, status)` per message, in sending order.
type Answers = Vec<(String, u16)>;

/// `FANS` fans post `EACH` messages each to `path_of(fan)` concurrently while `bad` posts
/// `bad_body` `EACH` times; returns every fan's answers and the bad sender's.
async fn concurrent_posts(
    http: &HttpClient,
    senders: Vec<(String, String)>,
    bad: (String, String),
    bad_body: &str,
) -> (Vec<Answers>, Answers) {
    let send = |token: String, path: String, bodies: Vec<String>| {
        let http = http.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for body in bodies {
                let request = json!({"client_msg_id": client_id(), "body": body});
                let reply = http.post(&path, Some(&token), request).await;
                answers.push((body, reply.status, reply));
            }
            answers
        })
    };
    let bad_task = send(bad.0, bad.1, vec![bad_body.to_owned(); EACH]);
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(number, (token, path))| {
            let bodies = (0..EACH)
                .map(|n| format!("fan {number} says {n}"))
                .collect();
            send(token, path, bodies)
        })
        .collect();
    let mut good = Vec::new();
    for task in tasks {
        let answers = task.await.expect("sender");
        for (body, _, reply) in &answers {
            assert_eq!(reply.status, 201, "{body}: {}", reply.text());
        }
        good.push(answers.into_iter().map(|(b, s, _)| (b, s)).collect());
    }
    let bad_answers: Vec<(String, u16, Reply)> = bad_task.await.expect("bad sender");
    let bad = bad_answers
        .iter()
        .map(|(body, status, reply)| {
            if *status == 422 {
                assert_eq!(reply.json["error"]["code"], "invalid_request");
                assert_eq!(
                    reply.json["error"]["details"]["field"],
                    "body",
                    "{}",
                    reply.text()
                );
            }
            (body.clone(), *status)
        })
        .collect();
    (good, bad)
}

/// Each body of `answers` appears exactly once among `stored` bodies.
#[track_caller]
fn stored_once(stored: &[Value], answers: &[Answers]) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for message in stored {
        *counts
            .entry(message["body"].as_str().expect("body"))
            .or_default() += 1;
    }
    for (body, _) in answers.iter().flatten() {
        assert_eq!(counts.get(body.as_str()), Some(&1), "{body} stored once");
    }
}

/// Twenty fans, each in their own conversation, and the conversations' paths.
async fn fans_with_conversations(server: &TestServer) -> Vec<(String, String, String)> {
    let mut fans = Vec::new();
    for number in 0..FANS {
        let (token, _) = server.fan_session(&format!("Fan {number}")).await;
        let conversation = server.open_conversation(&token).await;
        let path = format!("/api/v1/conversations/{conversation}/messages");
        fans.push((token, path, conversation));
    }
    fans
}

/// A server whose fan limits admit twenty fans sending at full speed from one address
/// (these tests are about the group commit, not about flooding).
async fn busy_server() -> TestServer {
    TestServer::spawn_with(HttpConfig {
        fans: FanPolicy {
            sessions_per_address_per_minute: 1_000,
            messages_per_fan_per_minute: 10_000,
            messages_per_address_per_minute: 100_000,
        },
        ..HttpConfig::default()
    })
    .await
}

async fn conversation_case(bad_body: &str, fault: bool) {
    let server = busy_server().await;
    if fault {
        server
            .database()
            .refuse_body("messages", bad_body)
            .await
            .expect("inject the fault");
    }
    let fans = fans_with_conversations(&server).await;
    let (bad_token, _) = server.fan_session("Bad").await;
    let bad_conversation = server.open_conversation(&bad_token).await;
    let bad_path = format!("/api/v1/conversations/{bad_conversation}/messages");
    let senders = fans
        .iter()
        .map(|(t, p, _)| (t.clone(), p.clone()))
        .collect();
    let (good, bad) =
        concurrent_posts(server.http(), senders, (bad_token, bad_path), bad_body).await;
    let expected = if fault { 500 } else { 422 };
    assert!(bad.iter().all(|(_, status)| *status == expected), "{bad:?}");
    for ((token, _, conversation), answers) in fans.iter().zip(&good) {
        let history = server.history(token, conversation).await;
        assert_eq!(history.len(), EACH, "{conversation}");
        stored_once(&history, std::slice::from_ref(answers));
    }
    let bad_history = server
        .history(server.owner_token(), &bad_conversation)
        .await;
    assert!(
        bad_history.iter().all(|m| m["body"] != bad_body),
        "the refused body is not stored"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_with_u0000_is_refused_alone_while_twenty_fans_send() {
    conversation_case("before\u{0}after", false).await;
}

#[tokio::test]
async fn a_message_the_database_refuses_fails_alone_in_its_batch() {
    conversation_case("injected-fault-body", true).await;
}

async fn room_case(bad_body: &str, fault: bool) {
    let server = busy_server().await;
    if fault {
        server
            .database()
            .refuse_body("room_events", bad_body)
            .await
            .expect("inject the fault");
    }
    let owner = server.owner_token().to_owned();
    let reply = server
        .http()
        .post("/api/v1/rooms", Some(&owner), json!({"title": "Premiere"}))
        .await;
    reply.expect_status(201);
    let room = reply.json["id"].as_str().expect("room id").to_owned();
    server
        .http()
        .post_empty(&format!("/api/v1/rooms/{room}/open"), Some(&owner))
        .await
        .expect_status(200);
    let path = format!("/api/v1/rooms/{room}/messages");
    let mut senders = Vec::new();
    for number in 0..FANS {
        let (token, _) = server.fan_session(&format!("Fan {number}")).await;
        senders.push((token, path.clone()));
    }
    let (bad_token, _) = server.fan_session("Bad").await;
    let (good, bad) =
        concurrent_posts(server.http(), senders, (bad_token, path.clone()), bad_body).await;
    let expected = if fault { 500 } else { 422 };
    assert!(bad.iter().all(|(_, status)| *status == expected), "{bad:?}");
    let reply = server
        .http()
        .get(&format!("{path}?limit=200"), Some(&owner))
        .await;
    reply.expect_status(200);
    let stored = reply.json["messages"]
        .as_array()
        .cloned()
        .expect("messages");
    assert_eq!(stored.len(), FANS * EACH);
    stored_once(&stored, &good);
    server.shutdown().await;
}

#[tokio::test]
async fn a_room_message_with_u0000_is_refused_alone_while_twenty_fans_send() {
    room_case("before\u{0}after", false).await;
}

#[tokio::test]
async fn a_room_message_the_database_refuses_fails_alone_in_its_batch() {
    room_case("injected-fault-body", true).await;
}

#[tokio::test]
async fn a_websocket_send_with_u0000_is_refused_with_its_ref() {
    let server = TestServer::spawn().await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    let topic = format!("conversation:{conversation}");
    let mut socket = WsClient::connect(&server, &fan).await;
    let refused = socket.send_message(&topic, "nul-1", "a\u{0}b", None).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "invalid_request");
    assert_eq!(refused["ref"], "nul-1");
    assert_eq!(refused["details"]["field"], "body");
    let acked = socket.send_message(&topic, "ok-1", "fine", None).await;
    assert_eq!(acked["type"], "ack", "{acked}");
    let history = server.history(&fan, &conversation).await;
    assert_eq!(history.len(), 1);
    socket.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn u0000_anywhere_is_refused_naming_the_field() {
    let server = TestServer::spawn().await;
    let http = server.http();
    let owner = server.owner_token();
    // A fan session's display name.
    let reply = http
        .post(
            "/api/v1/fan-sessions",
            None,
            json!({"display_name": "F\u{0}"}),
        )
        .await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "display_name");
    // A member's name, and an unknown field's key is named by its path.
    let reply = http
        .post(
            "/api/v1/members",
            Some(owner),
            json!({"email": "a@b.test", "name": "N\u{0}", "role": "agent", "password": "password-123"}),
        )
        .await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "name");
    // A query value.
    let reply = http
        .get("/api/v1/conversations?status=op%00en", Some(owner))
        .await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "status");
    // A path: no id holds U+0000.
    let reply = http.get("/api/v1/conversations/c%00x", Some(owner)).await;
    reply.expect_error(404, "not_found");
    // Nothing above reached the database as an error: the server still answers.
    http.get("/healthz", None).await.expect_status(200);
    server.shutdown().await;
}
