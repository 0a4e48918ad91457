//! Shared fixtures and assertions of the end-to-end tests.

use fandesk_testkit::{HttpClient, TestServer, random_hex};
use serde_json::Value;

/// A fresh idempotency key.
pub fn client_id() -> String {
    format!("c-{}", random_hex())
}

/// A server with one fan, their open conversation and one agent.
pub struct Desk {
    pub server: TestServer,
    pub fan: String,
    pub fan_id: String,
    pub agent: String,
    pub agent_id: String,
    pub conversation: String,
}

impl Desk {
    pub async fn new() -> Desk {
        let server = TestServer::spawn().await;
        let (fan, fan_id) = server.fan_session("Fan One").await;
        let conversation = server.open_conversation(&fan).await;
        let (agent, agent_id) = server.create_member("agent").await;
        Desk {
            server,
            fan,
            fan_id,
            agent,
            agent_id,
            conversation,
        }
    }

    pub fn topic(&self) -> String {
        format!("conversation:{}", self.conversation)
    }

    /// `/api/v1/conversations/{id}` + `suffix`.
    pub fn path(&self, suffix: &str) -> String {
        format!("/api/v1/conversations/{}{suffix}", self.conversation)
    }

    /// Posts over REST and panics unless it is created (201); returns the message.
    pub async fn post(&self, token: &str, body: &str, visibility: Option<&str>) -> Value {
        let reply = self
            .server
            .post_message(token, &self.conversation, &client_id(), body, visibility)
            .await;
        reply.expect_status(201);
        reply.json
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// The `seq` of each message or event frame.
pub fn seqs(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .map(|item| {
            item["seq"]
                .as_u64()
                .unwrap_or_else(|| panic!("no seq in {item}"))
        })
        .collect()
}

/// Panics unless `seqs` is exactly `first..first+len`: dense, ordered, no duplicate.
#[track_caller]
pub fn assert_dense_from(seqs: &[u64], first: u64) {
    let expected: Vec<u64> = (first..first + seqs.len() as u64).collect();
    assert_eq!(
        seqs,
        expected.as_slice(),
        "sequence must be dense from {first}"
    );
}

/// The `message.created` events of `topic` among `frames`, as their messages with the
/// frame's `seq`.
pub fn created_events(frames: &[Value], topic: &str) -> Vec<Value> {
    frames
        .iter()
        .filter(|frame| frame["type"] == "event" && frame["topic"] == topic)
        .filter(|frame| frame["event"]["kind"] == "message.created")
        .map(|frame| {
            assert_eq!(
                frame["seq"], frame["event"]["message"]["seq"],
                "frame seq = message seq: {frame}"
            );
            frame["event"]["message"].clone()
        })
        .collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Posts `count` messages with `body` to `path` as `token` from four concurrent senders
/// (keys `bulk-{sender}-{n}`), each answered 201: a burst for slow-consumer tests.
pub async fn post_burst(http: &HttpClient, token: &str, path: &str, body: &str, count: u64) {
    let mut senders = Vec::new();
    for task in 0..4 {
        let (http, token, path, body) = (
            http.clone(),
            token.to_owned(),
            path.to_owned(),
            body.to_owned(),
        );
        senders.push(tokio::spawn(async move {
            for number in 0..count / 4 {
                let request = serde_json::json!({
                    "client_msg_id": format!("bulk-{task}-{number}"),
                    "body": body,
                });
                http.post(&path, Some(&token), request)
                    .await
                    .expect_status(201);
            }
        }));
    }
    for sender in senders {
        sender.await.expect("sender");
    }
}
