//! One WebSocket connection: a reader (this task) that handles client frames, a writer
//! task that drains the outbound queue (several queued frames go out in one flush), one
//! forwarder task per subscription, and one send pipeline that commits sends in order
//! and acknowledges each only after its commit.

use super::frames::{ClientFrame, ErrorFrame, ServerFrame};
use super::outbound::{CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_UNAUTHORIZED, Closer, Outbound};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use fandesk_service::{
    PresenceState, Principal, SendMessage, ServiceError, Session, SubscriptionEnd,
};
use futures_util::SinkExt;
use futures_util::stream::{FuturesOrdered, SplitSink, StreamExt};
use rand::RngCore;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Sends one connection may have waiting for their commit.
const MAX_SENDS_IN_FLIGHT: usize = 64;

pub async fn run(socket: WebSocket, state: AppState, session: Option<Session>) {
    let metrics = state.app.metrics();
    metrics.ws_connections.inc();
    let (sink, stream) = socket.split();
    let (outbound, frames) = Outbound::new(state.config.ws.queue_frames);
    let ping_every = state.config.ws.idle_timeout / 3;
    let writer = tokio::spawn(write_loop(
        sink,
        frames,
        outbound.closer.clone(),
        ping_every,
    ));
    let mut connection = Connection {
        state: state.clone(),
        outbound: outbound.clone(),
        session: None,
        subscriptions: HashMap::new(),
        sends: None,
        last_typing: None,
    };
    if let Some(session) = session {
        connection.authenticated(session);
    }
    connection.read_loop(stream).await;
    connection.finish();
    // Let the writer send the close frame and whatever it still holds.
    if !outbound.closer.is_closed() {
        outbound.closer.close(1000, "bye");
    }
    let _ = writer.await;
    if outbound.closer.reason().map(|reason| reason.0) == Some(super::outbound::CLOSE_SLOW_CONSUMER)
    {
        state.app.metrics().slow_consumers_closed.inc();
    }
    state.app.metrics().ws_connections.dec();
}

struct SendRequest {
    target: SendTarget,
    input: SendMessage,
}

/// Where a `send` goes: a conversation or a live room (each has its own group commit).
enum SendTarget {
    Conversation(String),
    Room(String),
}

/// A send queued in either writer, waiting for its commit.
enum PendingAck {
    Conversation(fandesk_service::PendingSend),
    Room(fandesk_service::PendingRoomSend),
}

impl PendingAck {
    /// `(message_id, seq)` once committed.
    async fn wait(self) -> Result<(String, u64), ServiceError> {
        match self {
            PendingAck::Conversation(pending) => pending
                .wait()
                .await
                .map(|sent| (sent.message.id, sent.message.seq)),
            PendingAck::Room(pending) => pending
                .wait()
                .await
                .map(|sent| (sent.message.id, sent.message.seq)),
        }
    }
}

struct Connection {
    state: AppState,
    outbound: Outbound,
    session: Option<Session>,
    subscriptions: HashMap<String, JoinHandle<()>>,
    sends: Option<(mpsc::Sender<SendRequest>, JoinHandle<()>)>,
    /// When this connection last announced typing (throttle).
    last_typing: Option<tokio::time::Instant>,
}

impl Connection {
    fn authenticated(&mut self, session: Session) {
        let (sender, requests) = mpsc::channel(MAX_SENDS_IN_FLIGHT);
        let pipeline = tokio::spawn(send_pipeline(
            self.state.clone(),
            session.principal.clone(),
            requests,
            self.outbound.clone(),
        ));
        self.sends = Some((sender, pipeline));
        self.session = Some(session);
    }

    async fn read_loop(&mut self, mut stream: futures_util::stream::SplitStream<WebSocket>) {
        let config = self.state.config.ws.clone();
        let closer = self.outbound.closer.clone();
        let shutdown = self.state.shutdown.clone();
        let mut revocations = self.state.app.watch_revocations();
        let hello_deadline = tokio::time::Instant::now() + config.hello_timeout;
        loop {
            let expiry = match &self.session {
                Some(session) => deadline_of(session.expires_at),
                None => hello_deadline,
            };
            tokio::select! {
                () = closer.closed() => return,
                () = shutdown.cancelled() => {
                    closer.close(CLOSE_GOING_AWAY, "server shutting down");
                    return;
                }
                () = tokio::time::sleep_until(expiry) => {
                    let reason = if self.session.is_some() { "session expired" } else { "no hello received" };
                    closer.close(CLOSE_UNAUTHORIZED, reason);
                    return;
                }
                revoked = revocations.recv() => {
                    if self.is_revoked(revoked).await {
                        closer.close(CLOSE_UNAUTHORIZED, "session revoked");
                        return;
                    }
                }
                incoming = tokio::time::timeout(config.idle_timeout, stream.next()) => match incoming {
                    Err(_) => {
                        closer.close(CLOSE_POLICY, "idle timeout");
                        return;
                    }
                    Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
                    Ok(Some(Ok(Message::Text(text)))) => self.handle(text.as_bytes()).await,
                    Ok(Some(Ok(Message::Binary(_)))) => {
                        self.reply(ErrorFrame::new("invalid_request", "frames must be JSON text", None).encode());
                    }
                    // tungstenite answers pings itself; a pong only proves liveness.
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                },
            }
        }
    }

    /// Whether a revocation concerns this connection. After missing announcements
    /// (lagged), the token is checked again against the store.
    async fn is_revoked(
        &self,
        revoked: Result<std::sync::Arc<fandesk_bus::Event>, RecvError>,
    ) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        match revoked {
            Ok(event) => event.team.as_ref() == session.token_hash.as_bytes(),
            Err(RecvError::Lagged(_)) => {
                matches!(
                    self.state.app.authenticate_hash(&session.token_hash).await,
                    Err(ServiceError::Unauthorized)
                )
            }
            Err(RecvError::Closed) => false,
        }
    }

    fn reply(&self, frame: Bytes) {
        self.outbound.push(frame);
    }

    async fn handle(&mut self, text: &[u8]) {
        let frame = match ClientFrame::decode(text) {
            Ok(frame) => frame,
            Err(error) => return self.reply(error.encode()),
        };
        let Some(session) = &self.session else {
            return match frame {
                ClientFrame::Hello { token } => match self.state.app.authenticate(&token).await {
                    Ok(session) => {
                        self.authenticated(session);
                        let id = session_id();
                        self.reply(ServerFrame::Welcome { session_id: &id }.encode());
                    }
                    Err(error) => {
                        self.reply(ErrorFrame::from_service(&error, None).encode());
                        self.outbound
                            .closer
                            .close(CLOSE_UNAUTHORIZED, "invalid token");
                    }
                },
                _ => self.reply(
                    ErrorFrame::new("unauthorized", "send hello with a token first", None).encode(),
                ),
            };
        };
        let principal = session.principal.clone();
        match frame {
            ClientFrame::Hello { .. } => {
                self.reply(
                    ErrorFrame::new("invalid_request", "already authenticated", None).encode(),
                );
            }
            ClientFrame::Ping {} => self.reply(ServerFrame::Pong.encode()),
            ClientFrame::Subscribe { topic, after_seq } => {
                self.subscribe(&principal, topic, after_seq).await
            }
            ClientFrame::Unsubscribe { topic } => {
                if let Some(task) = self.subscriptions.remove(&topic) {
                    task.abort();
                    let _ = self
                        .state
                        .app
                        .announce_presence(&principal, &topic, PresenceState::Left)
                        .await;
                }
                self.reply(ServerFrame::Unsubscribed { topic: &topic }.encode());
            }
            ClientFrame::Typing { topic } => {
                // At most one typing event per second per connection: clients send it on
                // every keystroke.
                let now = tokio::time::Instant::now();
                if self
                    .last_typing
                    .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
                {
                    return;
                }
                self.last_typing = Some(now);
                if let Err(error) = self.state.app.announce_typing(&principal, &topic).await {
                    self.reply(ErrorFrame::from_service(&error, None).encode());
                }
            }
            ClientFrame::Send {
                topic,
                client_msg_id,
                body,
                visibility,
                template_id,
                to,
            } => {
                let target = if let Some(id) = topic.strip_prefix("conversation:") {
                    SendTarget::Conversation(id.to_owned())
                } else if let Some(id) = topic.strip_prefix("room:") {
                    SendTarget::Room(id.to_owned())
                } else {
                    let error = ErrorFrame::new(
                        "invalid_request",
                        "topic: send takes a conversation:{id} or room:{id} topic",
                        Some(&client_msg_id),
                    );
                    return self.reply(error.encode());
                };
                let request = SendRequest {
                    target,
                    input: SendMessage {
                        client_msg_id,
                        body,
                        visibility,
                        template_id,
                        to,
                    },
                };
                if let Some((sends, _)) = &self.sends {
                    // Waits when MAX_SENDS_IN_FLIGHT are queued: backpressure on a client
                    // that sends faster than we commit.
                    let _ = sends.send(request).await;
                }
            }
        }
    }

    async fn subscribe(&mut self, principal: &Principal, topic: String, after_seq: Option<u64>) {
        // Announced before this connection subscribes, so those already watching learn
        // who joined and the member does not hear about themselves. (Team members may read
        // every conversation: only a missing one fails below, and nobody watches that.)
        if !self.subscriptions.contains_key(&topic) {
            let _ = self
                .state
                .app
                .announce_presence(principal, &topic, PresenceState::Viewing)
                .await;
        }
        let mut subscription = match self.state.app.subscribe(principal, &topic, after_seq).await {
            Ok(subscription) => subscription,
            Err(error) => return self.reply(ErrorFrame::from_service(&error, None).encode()),
        };
        let topic = subscription.topic().to_owned();
        if let Some(previous) = self.subscriptions.remove(&topic) {
            previous.abort();
        }
        self.reply(ServerFrame::Subscribed { topic: &topic }.encode());
        let outbound = self.outbound.clone();
        let task = tokio::spawn(async move {
            loop {
                let replaying = subscription.is_replaying();
                match subscription.next().await {
                    Ok(frame) if replaying => {
                        if !outbound.push_waiting(frame).await {
                            return;
                        }
                    }
                    Ok(frame) => {
                        if !outbound.push(frame) {
                            return;
                        }
                    }
                    Err(SubscriptionEnd::Lagged) => {
                        outbound.closer.close(
                            super::outbound::CLOSE_SLOW_CONSUMER,
                            "slow consumer: resume with after_seq",
                        );
                        return;
                    }
                    Err(SubscriptionEnd::Closed) => return,
                }
            }
        });
        self.subscriptions.insert(topic, task);
    }

    fn finish(&mut self) {
        let topics: Vec<String> = self.subscriptions.keys().cloned().collect();
        for (_, task) in self.subscriptions.drain() {
            task.abort();
        }
        if let Some(session) = &self.session {
            let (app, principal) = (self.state.app.clone(), session.principal.clone());
            tokio::spawn(async move {
                for topic in topics {
                    let _ = app
                        .announce_presence(&principal, &topic, PresenceState::Left)
                        .await;
                }
            });
        }
        // Dropping the sender lets the pipeline finish acknowledging what it holds; the
        // commits themselves complete regardless.
        self.sends = None;
    }
}

/// Commits a connection's sends in arrival order and acknowledges each after its commit,
/// keeping up to [`MAX_SENDS_IN_FLIGHT`] in the group-commit queue at once.
async fn send_pipeline(
    state: AppState,
    principal: Principal,
    mut requests: mpsc::Receiver<SendRequest>,
    outbound: Outbound,
) {
    let mut in_flight = FuturesOrdered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            request = requests.recv(), if open && in_flight.len() < MAX_SENDS_IN_FLIGHT => {
                let Some(request) = request else {
                    open = false;
                    continue;
                };
                let client_msg_id = request.input.client_msg_id.clone();
                let pending = match request.target {
                    SendTarget::Conversation(id) => {
                        state.app.begin_send(&principal, &id, request.input).await.map(PendingAck::Conversation)
                    }
                    SendTarget::Room(id) => {
                        state.app.begin_room_send(&principal, &id, request.input).await.map(PendingAck::Room)
                    }
                };
                in_flight.push_back(async move {
                    let result = match pending {
                        Ok(pending) => pending.wait().await,
                        Err(error) => Err(error),
                    };
                    (client_msg_id, result)
                });
            }
            Some((client_msg_id, result)) = in_flight.next(), if !in_flight.is_empty() => {
                let frame = match result {
                    Ok((message_id, seq)) => ServerFrame::Ack {
                        client_msg_id: &client_msg_id,
                        message_id: &message_id,
                        seq,
                    }
                    .encode(),
                    Err(error) => ErrorFrame::from_service(&error, Some(&client_msg_id)).encode(),
                };
                outbound.push(frame);
            }
        }
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut frames: mpsc::Receiver<Bytes>,
    closer: Closer,
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval(ping_every.max(Duration::from_millis(100)));
    ping.tick().await;
    loop {
        tokio::select! {
            biased;
            () = closer.closed() => break,
            frame = frames.recv() => {
                let Some(frame) = frame else { break };
                if feed(&mut sink, frame).await.is_err() {
                    closer.close(1006, "write failed");
                    return;
                }
                // Coalesce: everything already queued goes out with one flush.
                while let Ok(frame) = frames.try_recv() {
                    if feed(&mut sink, frame).await.is_err() {
                        closer.close(1006, "write failed");
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    closer.close(1006, "write failed");
                    return;
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    closer.close(1006, "write failed");
                    return;
                }
            }
        }
    }
    let (code, reason) = closer.reason().unwrap_or((1000, "bye"));
    if code == 1006 {
        return;
    }
    // Frames acknowledged before an orderly close (acks, errors) still go out.
    if code != super::outbound::CLOSE_SLOW_CONSUMER {
        while let Ok(frame) = frames.try_recv() {
            if feed(&mut sink, frame).await.is_err() {
                return;
            }
        }
    }
    let close = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(close)).await;
}

async fn feed(sink: &mut SplitSink<WebSocket, Message>, frame: Bytes) -> Result<(), axum::Error> {
    match Utf8Bytes::try_from(frame) {
        Ok(text) => sink.feed(Message::Text(text)).await,
        // Frames are serde_json output, always UTF-8; skip rather than send garbage.
        Err(_) => Ok(()),
    }
}

fn deadline_of(at: jiff::Timestamp) -> tokio::time::Instant {
    let remaining = at.duration_since(jiff::Timestamp::now());
    let remaining = Duration::try_from(remaining).unwrap_or(Duration::ZERO);
    // Cap far-away deadlines so the timer arithmetic cannot overflow.
    tokio::time::Instant::now() + remaining.min(Duration::from_secs(365 * 24 * 3600))
}

fn session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
