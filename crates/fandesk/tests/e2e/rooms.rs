//! Live rooms end to end (docs/api.md › Rooms): fan-out order across viewers, resume with
//! `after_seq` and idempotent sends here; moderation (slow mode, deletions, timeouts) and
//! the room's life (states, who manages it, viewer counts) in the child modules.

mod fanout;
mod lifecycle;
mod moderation;

use super::support::{assert_dense_from, client_id};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpClient, Reply, TestServer, WsClient};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::watch;

/// A server with an open room, a moderator (agent) and a fan.
pub(super) struct Venue {
    pub(super) server: TestServer,
    pub(super) room: String,
    pub(super) agent: String,
    pub(super) fan: String,
    pub(super) fan_id: String,
}

impl Venue {
    /// A room opened by the owner, with `slow_mode_secs`.
    pub(super) async fn new(slow_mode_secs: u32) -> Venue {
        Venue::on(TestServer::spawn().await, slow_mode_secs).await
    }

    /// The same on a server of the caller's (e.g. with small WebSocket queues).
    pub(super) async fn on(server: TestServer, slow_mode_secs: u32) -> Venue {
        let body = json!({"title": "Premiere", "slow_mode_secs": slow_mode_secs});
        let reply = server
            .http()
            .post("/api/v1/rooms", Some(server.owner_token()), body)
            .await;
        reply.expect_status(201);
        let room = reply.json["id"].as_str().expect("room id").to_owned();
        let path = format!("/api/v1/rooms/{room}/open");
        server
            .http()
            .post_empty(&path, Some(server.owner_token()))
            .await
            .expect_status(200);
        let (agent, _) = server.create_member("agent").await;
        let (fan, fan_id) = server.fan_session("Fan One").await;
        Venue {
            server,
            room,
            agent,
            fan,
            fan_id,
        }
    }

    pub(super) fn topic(&self) -> String {
        format!("room:{}", self.room)
    }

    pub(super) fn path(&self, suffix: &str) -> String {
        format!("/api/v1/rooms/{}{suffix}", self.room)
    }

    pub(super) async fn post(&self, token: &str, client_msg_id: &str, body: &str) -> Reply {
        let request = json!({"client_msg_id": client_msg_id, "body": body});
        self.server
            .http()
            .post(&self.path("/messages"), Some(token), request)
            .await
    }

    /// The room's messages as `token` sees them, and the raw bytes of the reply.
    pub(super) async fn messages(&self, token: &str) -> (Vec<Value>, Vec<u8>) {
        let reply = self
            .server
            .http()
            .get(&self.path("/messages?limit=200"), Some(token))
            .await;
        reply.expect_status(200);
        (
            reply.json["messages"]
                .as_array()
                .cloned()
                .expect("messages"),
            reply.bytes,
        )
    }

    pub(super) async fn viewer(&self, token: &str, after_seq: Option<u64>) -> WsClient {
        let mut socket = WsClient::connect(&self.server, token).await;
        socket
            .subscribe(&self.topic(), after_seq)
            .await
            .expect("subscribe to the room");
        socket
    }
}

/// Posts "hi" to a room's `messages` path with a fresh key.
pub(super) async fn say(http: &HttpClient, messages: &str, token: &str) -> Reply {
    http.post(
        messages,
        Some(token),
        json!({"client_msg_id": client_id(), "body": "hi"}),
    )
    .await
}

pub(super) fn is_timeline_event(frame: &Value, topic: &str) -> bool {
    frame["type"] == "event" && frame["topic"] == topic && frame.get("seq").is_some()
}

/// Reads the room's timeline events until the one with `last`; returns them all.
pub(super) async fn timeline_until(socket: &mut WsClient, topic: &str, last: u64) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let frame = socket
            .recv_matching(DEFAULT_TIMEOUT, |frame| is_timeline_event(frame, topic))
            .await;
        let seq = frame["seq"].as_u64().expect("seq");
        events.push(frame);
        if seq >= last {
            return events;
        }
    }
}

pub(super) fn seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .map(|frame| frame["seq"].as_u64().expect("seq"))
        .collect()
}

fn ids(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|frame| {
            frame["event"]["message"]["id"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_viewer_sees_the_same_order() {
    let venue = Venue::new(0).await;
    let topic = venue.topic();
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    let owner = venue.server.owner_token().to_owned();
    let mut viewers = Vec::new();
    for token in [&venue.fan, &other_fan, &venue.agent, &owner] {
        viewers.push(venue.viewer(token, None).await);
    }
    // A fan pipelines 20 sends over its socket while the owner posts 20 over REST.
    let mut sender = WsClient::connect(&venue.server, &venue.fan).await;
    let keys: Vec<String> = (0..20).map(|_| client_id()).collect();
    for (number, id) in keys.iter().enumerate() {
        let frame = json!({"type": "send", "topic": topic, "client_msg_id": id, "body": format!("fan {number}")});
        sender.send_json(&frame).await;
    }
    for number in 0..20 {
        venue
            .post(
                venue.server.owner_token(),
                &client_id(),
                &format!("owner {number}"),
            )
            .await
            .expect_status(201);
    }
    let mut acked = Vec::new();
    for id in &keys {
        let ack = sender
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["client_msg_id"] == id.as_str()
            })
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        acked.push(ack["seq"].as_u64().expect("seq"));
    }
    assert!(
        acked.windows(2).all(|pair| pair[0] < pair[1]),
        "acks in send order: {acked:?}"
    );
    let (history, _) = venue.messages(&venue.agent).await;
    let expected: Vec<String> = history
        .iter()
        .map(|message| message["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 40);
    for mut viewer in viewers {
        let events = timeline_until(&mut viewer, &topic, 40).await;
        assert_dense_from(&seqs(&events), 1);
        assert_eq!(ids(&events), expected, "every viewer sees the stored order");
    }
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_then_follows_with_no_gap_and_no_duplicate() {
    let venue = Venue::new(0).await;
    let topic = venue.topic();
    for number in 0..8 {
        venue
            .post(&venue.agent, &client_id(), &format!("early {number}"))
            .await
            .expect_status(201);
    }
    let (sent, mut progress) = watch::channel(0usize);
    let (http, path, agent) = (
        venue.server.http().clone(),
        venue.path("/messages"),
        venue.agent.clone(),
    );
    let writer = tokio::spawn(async move {
        for number in 0..40 {
            let body = json!({"client_msg_id": client_id(), "body": format!("live {number}")});
            http.post(&path, Some(&agent), body)
                .await
                .expect_status(201);
            sent.send_replace(number + 1);
        }
    });
    let mut subscribers = Vec::new();
    for (after_seq, when_sent) in [(0u64, 0usize), (5, 10), (8, 25)] {
        progress
            .wait_for(|count| *count >= when_sent)
            .await
            .expect("writer alive");
        subscribers.push((after_seq, venue.viewer(&venue.fan, Some(after_seq)).await));
    }
    writer.await.expect("writer");
    let (history, _) = venue.messages(&venue.fan).await;
    let stored: Vec<String> = history
        .iter()
        .map(|message| message["id"].as_str().unwrap().to_owned())
        .collect();
    for (after_seq, mut socket) in subscribers {
        let events = timeline_until(&mut socket, &topic, 48).await;
        assert_dense_from(&seqs(&events), after_seq + 1);
        assert_eq!(
            ids(&events),
            stored[after_seq as usize..],
            "replay + live = the stored timeline"
        );
        assert!(
            socket
                .drain(Duration::from_millis(200))
                .await
                .iter()
                .all(|frame| !is_timeline_event(frame, &topic))
        );
    }
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_sends_get_the_original_ack() {
    let venue = Venue::new(30).await;
    let topic = venue.topic();
    let mut socket = WsClient::connect(&venue.server, &venue.fan).await;
    let first = socket.send_message(&topic, "c-1", "hello", None).await;
    assert_eq!(first["type"], "ack", "{first}");
    // Slow mode does not apply to a retry: it answers with the original.
    let again = socket.send_message(&topic, "c-1", "hello", None).await;
    assert_eq!(again, first);
    let rest = venue.post(&venue.fan, "c-1", "hello").await;
    rest.expect_status(200);
    assert_eq!(
        (rest.json["id"].clone(), rest.json["seq"].clone()),
        (first["message_id"].clone(), first["seq"].clone())
    );
    assert_eq!(
        rest.json["client_msg_id"], "c-1",
        "the sender sees their own key"
    );
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    venue
        .post(&other_fan, "c-1", "me too")
        .await
        .expect_status(201);
    assert_eq!(venue.messages(&venue.agent).await.0.len(), 2);
    venue.server.shutdown().await;
}
