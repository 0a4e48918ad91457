//! The actors of the delivery property test: a fan or an agent with an optional
//! subscribed WebSocket, who sends over REST or WebSocket, retries, drops the connection
//! and resumes from its last seen `seq`, checking every event as it arrives.

use fandesk_testkit::{TestServer, WsClient};
use serde_json::{Value, json};

/// One step of one actor.
#[derive(Clone, Debug)]
pub enum Op {
    /// A new message; `internal` applies to agents only (fans may only send public).
    Send { ws: bool, internal: bool },
    /// The last acknowledged message again, same `client_msg_id`, maybe another body.
    Retry { ws: bool, new_body: bool },
    /// A WebSocket send whose connection is dropped before the ack can be read: the
    /// outcome is unknown until a retry.
    SendAndDrop,
    /// Drops the WebSocket without a close handshake.
    Disconnect,
    /// Reconnects and subscribes with `after_seq` = last seen (reconnecting if connected).
    Resume,
}

/// An acknowledged send.
#[derive(Clone, Debug)]
pub struct Acked {
    pub client_msg_id: String,
    pub message_id: String,
    /// In the author's numbering (fans: the public sequence).
    pub seq: u64,
    pub body: String,
    pub visibility: &'static str,
}

pub struct Actor {
    pub label: String,
    pub fan: bool,
    pub token: String,
    pub author_id: String,
    pub conversation: String,
    pub topic: String,
    socket: Option<WsClient>,
    /// Last `seq` delivered on the topic, in this actor's numbering.
    pub last_seen: u64,
    /// Every `message.created` received, in order, across connections.
    pub seen: Vec<Value>,
    /// Acknowledged sends in ack order (retries not repeated).
    pub acked: Vec<Acked>,
    /// Sends whose connection dropped before the ack: `(client_msg_id, body)`.
    pub unknown: Vec<(String, String)>,
    sent: usize,
}

impl Actor {
    pub fn new(
        label: String,
        fan: bool,
        token: String,
        author_id: String,
        conversation: String,
    ) -> Actor {
        let topic = format!("conversation:{conversation}");
        Actor {
            label,
            fan,
            token,
            author_id,
            conversation,
            topic,
            socket: None,
            last_seen: 0,
            seen: Vec::new(),
            acked: Vec::new(),
            unknown: Vec::new(),
            sent: 0,
        }
    }

    /// Takes in frames the socket has buffered (see [`Self::take_frame`]).
    fn absorb(&mut self) {
        let Some(socket) = &mut self.socket else {
            return;
        };
        for frame in socket.take_pending() {
            self.take_frame(frame);
        }
    }

    /// Checks one frame: a timeline event must carry exactly the next `seq` (no gap, no
    /// duplicate, in order) and, for fans, be public.
    fn take_frame(&mut self, frame: Value) {
        match frame["type"].as_str() {
            Some("event") if frame.get("seq").is_some() => {
                assert_eq!(
                    frame["topic"],
                    self.topic.as_str(),
                    "{}: {frame}",
                    self.label
                );
                let seq = frame["seq"].as_u64().expect("seq");
                assert_eq!(
                    seq,
                    self.last_seen + 1,
                    "{}: gap or duplicate at {frame}",
                    self.label
                );
                let message = frame["event"]["message"].clone();
                assert_eq!(message["seq"], seq, "{}: {frame}", self.label);
                if self.fan {
                    assert_eq!(
                        message["visibility"], "public",
                        "{}: fan got {frame}",
                        self.label
                    );
                }
                self.last_seen = seq;
                self.seen.push(message);
            }
            Some("event" | "ack") => {}
            _ => panic!("{}: unexpected frame {frame}", self.label),
        }
    }

    /// Connects and subscribes from the last seen `seq`.
    pub async fn resume(&mut self, server: &TestServer) {
        self.disconnect();
        let mut socket = WsClient::connect(server, &self.token).await;
        if let Err(error) = socket.subscribe(&self.topic, Some(self.last_seen)).await {
            panic!("{}: resume failed: {error}", self.label);
        }
        self.socket = Some(socket);
        self.absorb();
    }

    pub fn disconnect(&mut self) {
        self.absorb();
        if let Some(socket) = self.socket.take() {
            socket.abort();
        }
    }

    async fn connected(&mut self, server: &TestServer) -> &mut WsClient {
        if self.socket.is_none() {
            self.resume(server).await;
        }
        self.socket.as_mut().expect("connected")
    }

    fn next_message(&mut self) -> (String, String) {
        self.sent += 1;
        (
            format!("{}-{}", self.label, self.sent),
            format!("{} says {}", self.label, self.sent),
        )
    }

    /// Sends over REST or WebSocket and returns `(message_id, seq, created)`.
    async fn send(
        &mut self,
        server: &TestServer,
        ws: bool,
        id: &str,
        body: &str,
        visibility: &str,
    ) -> (String, u64, bool) {
        if ws {
            let topic = self.topic.clone();
            let ack = self
                .connected(server)
                .await
                .send_message(&topic, id, body, Some(visibility))
                .await;
            self.absorb();
            assert_eq!(ack["type"], "ack", "{}: {ack}", self.label);
            let message_id = ack["message_id"].as_str().expect("message_id").to_owned();
            (message_id, ack["seq"].as_u64().expect("seq"), true)
        } else {
            let reply = server
                .post_message(&self.token, &self.conversation, id, body, Some(visibility))
                .await;
            assert!(
                matches!(reply.status, 200 | 201),
                "{}: {} {}",
                self.label,
                reply.status,
                reply.text()
            );
            let message_id = reply.json["id"].as_str().expect("id").to_owned();
            (
                message_id,
                reply.json["seq"].as_u64().expect("seq"),
                reply.status == 201,
            )
        }
    }

    pub async fn apply(&mut self, server: &TestServer, op: Op) {
        match op {
            Op::Send { ws, internal } => {
                let (id, body) = self.next_message();
                let visibility = if internal && !self.fan {
                    "internal"
                } else {
                    "public"
                };
                let (message_id, seq, created) =
                    self.send(server, ws, &id, &body, visibility).await;
                if !ws {
                    assert!(
                        created,
                        "{}: a new client_msg_id creates a message",
                        self.label
                    );
                }
                self.acked.push(Acked {
                    client_msg_id: id,
                    message_id,
                    seq,
                    body,
                    visibility,
                });
            }
            Op::Retry { ws, new_body } => {
                let Some(original) = self.acked.last().cloned() else {
                    return;
                };
                let body = if new_body {
                    format!("{} (edited)", original.body)
                } else {
                    original.body.clone()
                };
                let (message_id, seq, created) = self
                    .send(
                        server,
                        ws,
                        &original.client_msg_id,
                        &body,
                        original.visibility,
                    )
                    .await;
                assert_eq!(
                    (message_id, seq),
                    (original.message_id, original.seq),
                    "{}: retry ack",
                    self.label
                );
                if !ws {
                    assert!(!created, "{}: a retry answers 200", self.label);
                }
            }
            Op::SendAndDrop => {
                let (id, body) = self.next_message();
                let frame =
                    json!({"type": "send", "topic": self.topic, "client_msg_id": id, "body": body});
                self.connected(server).await.send_json(&frame).await;
                self.disconnect();
                self.unknown.push((id, body));
            }
            Op::Disconnect => self.disconnect(),
            Op::Resume => self.resume(server).await,
        }
    }

    /// Retries every send of unknown outcome over REST; each is then acknowledged.
    pub async fn settle(&mut self, server: &TestServer) -> Vec<Acked> {
        let mut settled = Vec::new();
        for (id, body) in std::mem::take(&mut self.unknown) {
            let reply = server
                .post_message(&self.token, &self.conversation, &id, &body, None)
                .await;
            assert!(
                matches!(reply.status, 200 | 201),
                "{}: {} {}",
                self.label,
                reply.status,
                reply.text()
            );
            assert_eq!(
                reply.json["body"],
                body.as_str(),
                "{}: the original body",
                self.label
            );
            let message_id = reply.json["id"].as_str().expect("id").to_owned();
            let seq = reply.json["seq"].as_u64().expect("seq");
            settled.push(Acked {
                client_msg_id: id,
                message_id,
                seq,
                body,
                visibility: "public",
            });
        }
        settled
    }

    /// Reads events until `last` has been delivered (resuming first if disconnected).
    pub async fn catch_up(&mut self, server: &TestServer, last: u64) {
        if self.socket.is_none() {
            self.resume(server).await;
        }
        while self.last_seen < last {
            let socket = self.socket.as_mut().expect("connected");
            let frame = socket
                .recv_matching(fandesk_testkit::DEFAULT_TIMEOUT, |frame| {
                    frame["type"] == "event" && frame.get("seq").is_some()
                })
                .await;
            // Whatever was buffered before it carries no seq (acks, ephemeral events).
            self.absorb();
            self.take_frame(frame);
        }
        self.disconnect();
    }
}
