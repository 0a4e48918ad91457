//! A WebSocket test client (docs/api.md › WebSocket): JSON frames in and out, waits with
//! timeouts instead of sleeps, a buffer for frames that arrive while it waits for a
//! particular one, and a record of every byte received, for leak scans.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a helper waits for an expected frame before failing the test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How the connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// The close code, or `None` when the connection dropped without a close frame.
    pub code: Option<u16>,
    pub reason: String,
}

/// One thing read from the socket.
#[derive(Clone, Debug)]
pub enum Incoming {
    Frame(Value),
    Closed(Closed),
}

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The server answered the upgrade with this HTTP status instead of 101.
    Rejected {
        status: u16,
        body: String,
    },
    Other(anyhow::Error),
}

pub struct WsClient {
    stream: Stream,
    /// Frames read while waiting for another one, in arrival order.
    pending: VecDeque<Value>,
    /// Every byte received: upgrade response headers, frame payloads, close reasons.
    received: Vec<u8>,
    closed: Option<Closed>,
}

impl WsClient {
    /// Connects to `url` (`ws://…/api/v1/ws`), with `Authorization: Bearer token` and an
    /// `Origin` header when given.
    pub async fn connect_url(
        url: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<WsClient, ConnectError> {
        let mut request = url
            .into_client_request()
            .map_err(|error| ConnectError::Other(error.into()))?;
        let header = |text: String| {
            HeaderValue::from_str(&text).map_err(|error| ConnectError::Other(error.into()))
        };
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", header(format!("Bearer {token}"))?);
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", header(origin.to_owned())?);
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, response)) => {
                let mut received = Vec::new();
                for (name, value) in response.headers() {
                    received.extend_from_slice(name.as_str().as_bytes());
                    received.extend_from_slice(b": ");
                    received.extend_from_slice(value.as_bytes());
                    received.extend_from_slice(b"\r\n");
                }
                Ok(WsClient {
                    stream,
                    pending: VecDeque::new(),
                    received,
                    closed: None,
                })
            }
            Err(WsError::Http(response)) => Err(ConnectError::Rejected {
                status: response.status().as_u16(),
                body: String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned(),
            }),
            Err(error) => Err(ConnectError::Other(error.into())),
        }
    }

    /// Connects with a bearer token over a socket whose receive buffer is `bytes` (no
    /// kernel autotuning), so a client that stops reading backs the server up quickly:
    /// slow-consumer tests.
    pub async fn connect_small_buffer(
        server: &crate::TestServer,
        token: &str,
        bytes: u32,
    ) -> WsClient {
        let attempt = async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_recv_buffer_size(bytes)?;
            let stream = socket.connect(server.addr()).await?;
            let mut request = server.ws_url().into_client_request()?;
            request.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            );
            let (stream, _) =
                tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await?;
            anyhow::Ok(WsClient {
                stream,
                pending: VecDeque::new(),
                received: Vec::new(),
                closed: None,
            })
        };
        match attempt.await {
            Ok(client) => client,
            Err(error) => panic!("WebSocket connect failed: {error:#}"),
        }
    }

    /// Connects with a bearer token on the upgrade; panics if that fails.
    pub async fn connect(server: &crate::TestServer, token: &str) -> WsClient {
        match WsClient::connect_url(&server.ws_url(), Some(token), None).await {
            Ok(client) => client,
            Err(error) => panic!("WebSocket connect failed: {error:?}"),
        }
    }

    /// Connects without credentials and authenticates with a first `hello` frame. Returns
    /// the client and the `welcome` frame.
    pub async fn connect_hello(server: &crate::TestServer, token: &str) -> (WsClient, Value) {
        let mut client = match WsClient::connect_url(&server.ws_url(), None, None).await {
            Ok(client) => client,
            Err(error) => panic!("WebSocket connect failed: {error:?}"),
        };
        client
            .send_json(&json!({"type": "hello", "token": token}))
            .await;
        let welcome = client.recv_json().await;
        assert_eq!(welcome["type"], "welcome", "answer to hello: {welcome}");
        (client, welcome)
    }

    /// Sends one text frame holding `value`.
    pub async fn send_json(&mut self, value: &Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends one text frame as it is (malformed-frame tests).
    pub async fn send_text(&mut self, text: &str) {
        if let Err(error) = self.stream.send(Message::text(text.to_owned())).await {
            panic!("WebSocket send failed: {error}");
        }
    }

    /// Sends one text frame with exactly these bytes, UTF-8 or not (protocol tests).
    pub async fn send_raw_text(&mut self, payload: &[u8]) {
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let frame = Frame::message(payload.to_vec(), OpCode::Data(Data::Text), true);
        if let Err(error) = self.stream.send(Message::Frame(frame)).await {
            panic!("WebSocket send failed: {error}");
        }
    }

    /// Reads the next frame or the close, waiting at most `timeout`. Frames buffered by
    /// the typed helpers are not looked at. `None` on timeout.
    async fn read(&mut self, timeout: Duration) -> Option<Incoming> {
        if let Some(closed) = &self.closed {
            return Some(Incoming::Closed(closed.clone()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let item = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()?;
            let closed = match item {
                Some(Ok(Message::Text(text))) => {
                    self.received.extend_from_slice(text.as_bytes());
                    match serde_json::from_str(text.as_str()) {
                        Ok(value) => return Some(Incoming::Frame(value)),
                        Err(error) => {
                            panic!("server sent a frame that is not JSON ({error}): {text}")
                        }
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    self.received.extend_from_slice(&bytes);
                    panic!("server sent a binary frame; all frames must be JSON text");
                }
                Some(Ok(Message::Ping(bytes) | Message::Pong(bytes))) => {
                    self.received.extend_from_slice(&bytes);
                    continue;
                }
                Some(Ok(Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = match frame {
                        Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
                        None => (None, String::new()),
                    };
                    self.received.extend_from_slice(reason.as_bytes());
                    Closed { code, reason }
                }
                Some(Err(error)) => Closed {
                    code: None,
                    reason: format!("connection error: {error}"),
                },
                None => Closed {
                    code: None,
                    reason: "stream ended".to_owned(),
                },
            };
            self.closed = Some(closed.clone());
            return Some(Incoming::Closed(closed));
        }
    }

    /// The next frame (buffered ones first) or the close; panics after `timeout`.
    pub async fn next_incoming(&mut self, timeout: Duration) -> Incoming {
        if let Some(frame) = self.pending.pop_front() {
            return Incoming::Frame(frame);
        }
        match self.read(timeout).await {
            Some(incoming) => incoming,
            None => panic!("no WebSocket frame or close within {timeout:?}"),
        }
    }

    /// The next frame (buffered ones first) or the close; `None` after `timeout`.
    pub async fn next_incoming_within(&mut self, timeout: Duration) -> Option<Incoming> {
        if let Some(frame) = self.pending.pop_front() {
            return Some(Incoming::Frame(frame));
        }
        self.read(timeout).await
    }

    /// The next frame (buffered ones first), or `None` after `timeout`. Panics if the
    /// connection closes.
    pub async fn recv_json_timeout(&mut self, timeout: Duration) -> Option<Value> {
        if let Some(frame) = self.pending.pop_front() {
            return Some(frame);
        }
        match self.read(timeout).await? {
            Incoming::Frame(frame) => Some(frame),
            Incoming::Closed(closed) => panic!("WebSocket closed unexpectedly: {closed:?}"),
        }
    }

    /// The next frame; panics after [`DEFAULT_TIMEOUT`].
    pub async fn recv_json(&mut self) -> Value {
        match self.recv_json_timeout(DEFAULT_TIMEOUT).await {
            Some(frame) => frame,
            None => panic!("no WebSocket frame within {DEFAULT_TIMEOUT:?}"),
        }
    }

    /// Waits for the first frame matching `wanted` (buffered ones first); frames that do
    /// not match stay buffered in order. Panics on timeout, on close, and on an `error`
    /// frame that `wanted` does not accept (so failures show at once, not as timeouts).
    pub async fn recv_matching(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(index) = self.pending.iter().position(&wanted) {
            return self.pending.remove(index).unwrap_or_default();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left).await {
                None => panic!(
                    "no matching WebSocket frame within {timeout:?}; buffered: {:?}",
                    self.pending
                ),
                Some(Incoming::Closed(closed)) => {
                    panic!(
                        "WebSocket closed while waiting for a frame: {closed:?}; buffered: {:?}",
                        self.pending
                    )
                }
                Some(Incoming::Frame(frame)) if wanted(&frame) => return frame,
                Some(Incoming::Frame(frame)) if frame["type"] == "error" => {
                    panic!("unexpected error frame: {frame}")
                }
                Some(Incoming::Frame(frame)) => self.pending.push_back(frame),
            }
        }
    }

    /// Waits for the first frame whose `type` is `kind` (see [`Self::recv_matching`]).
    pub async fn expect_type(&mut self, kind: &str) -> Value {
        self.recv_matching(DEFAULT_TIMEOUT, |frame| frame["type"] == kind)
            .await
    }

    /// Subscribes and waits for `subscribed` (sent once the live subscription is in place,
    /// before any replayed event). `Err` holds the `error` frame the server answered with.
    pub async fn subscribe(&mut self, topic: &str, after_seq: Option<u64>) -> Result<(), Value> {
        let mut frame = json!({"type": "subscribe", "topic": topic});
        if let Some(after_seq) = after_seq {
            frame["after_seq"] = json!(after_seq);
        }
        self.send_json(&frame).await;
        let answer = self
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                (frame["type"] == "subscribed" && frame["topic"] == topic)
                    || frame["type"] == "error"
            })
            .await;
        if answer["type"] == "error" {
            Err(answer)
        } else {
            Ok(())
        }
    }

    /// Sends a message and waits for its `ack`, or the `error` whose `ref` is
    /// `client_msg_id`; returns that frame. Other frames stay buffered.
    pub async fn send_message(
        &mut self,
        topic: &str,
        client_msg_id: &str,
        body: &str,
        visibility: Option<&str>,
    ) -> Value {
        let mut frame =
            json!({"type": "send", "topic": topic, "client_msg_id": client_msg_id, "body": body});
        if let Some(visibility) = visibility {
            frame["visibility"] = json!(visibility);
        }
        self.send_json(&frame).await;
        self.recv_matching(DEFAULT_TIMEOUT, |frame| {
            (frame["type"] == "ack" && frame["client_msg_id"] == client_msg_id)
                || (frame["type"] == "error" && frame["ref"] == client_msg_id)
        })
        .await
    }

    /// Waits until the server closes the connection (buffering frames that come first).
    pub async fn expect_close(&mut self, timeout: Duration) -> Closed {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read(left).await {
                None => panic!(
                    "connection not closed within {timeout:?}; buffered: {:?}",
                    self.pending
                ),
                Some(Incoming::Closed(closed)) => return closed,
                Some(Incoming::Frame(frame)) => self.pending.push_back(frame),
            }
        }
    }

    /// Reads everything that arrives within `quiet` of the previous frame into the buffer
    /// and returns the whole buffer. Use only where absence must be shown (a bounded wait
    /// for something that should not come), never to wait for something that should.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        while let Some(Incoming::Frame(frame)) = self.read(quiet).await {
            self.pending.push_back(frame);
        }
        self.pending.drain(..).collect()
    }

    /// Takes the buffered frames, leaving the buffer empty.
    pub fn take_pending(&mut self) -> Vec<Value> {
        self.pending.drain(..).collect()
    }

    /// Every byte received so far (headers, frames, close reasons).
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    /// How the connection ended, if it has.
    pub fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }

    /// Closes with a normal close handshake, waiting at most a second for the server.
    pub async fn close(mut self) -> Vec<u8> {
        if self.closed.is_none() && self.stream.close(None).await.is_ok() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while let Some(Incoming::Frame(frame)) = self
                .read(deadline.saturating_duration_since(Instant::now()))
                .await
            {
                self.pending.push_back(frame);
            }
        }
        self.received
    }

    /// Drops the TCP connection without a close handshake (a client losing its network).
    /// Returns the bytes received.
    pub fn abort(self) -> Vec<u8> {
        self.received
    }
}
