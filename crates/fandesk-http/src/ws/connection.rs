//! One WebSocket connection, one task: it owns the socket and selects over the client's
//! frames, its outbound [`FrameQueue`] (acks, errors, subscription and room frames), the
//! sends waiting for their commit, one timer (ping, idle timeout, session expiry),
//! revocations and shutdown. Whatever is queued when the task wakes is written with one
//! flush.
//!
//! Idle connections stay small: the queue allocates on first use, the send pipeline
//! exists only from the first send, a room subscription is a membership in the room's
//! fan-out hub (no task, no receiver), and the handling of a client frame — which awaits
//! the store — is boxed, so its state is not part of the connection's future while idle.

use super::frames::{ClientFrame, ErrorFrame, ServerFrame};
use super::outbound::{
    CLOSE_ABNORMAL, CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_UNAUTHORIZED, close_for_read_error,
    write_all, write_items,
};
use super::pace::{FrameRate, Pace};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use fandesk_service::frame_queue::{CLOSE_SLOW_CONSUMER, FrameQueue, Outgoing};
use fandesk_service::{
    PresenceState, Principal, RoomSubscription, SendMessage, ServiceError, Session, SubscriptionEnd,
};
use futures_util::stream::{FuturesOrdered, StreamExt};
use rand::RngCore;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Sends one connection may have waiting for their commit; beyond it the connection
/// stops reading (backpressure on a client that sends faster than we commit).
const MAX_SENDS_IN_FLIGHT: usize = 64;

/// A send waiting for its commit: `(client_msg_id, (message_id, seq) or the error)`.
type AckFuture =
    Pin<Box<dyn Future<Output = (String, Result<(String, u64), ServiceError>)> + Send>>;
/// The connection's sends in flight, acknowledged in send order; created on first send.
type Sends = Option<Box<FuturesOrdered<AckFuture>>>;

/// The ack of a queued send: `(client_msg_id, (message_id, seq))` once `pending` has
/// committed, or the error that refused it (before or inside the commit).
fn ack_after_commit<F>(client_msg_id: String, pending: Result<F, ServiceError>) -> AckFuture
where
    F: Future<Output = Result<(String, u64), ServiceError>> + Send + 'static,
{
    Box::pin(async move {
        let result = match pending {
            Ok(commit) => commit.await,
            Err(error) => Err(error),
        };
        (client_msg_id, result)
    })
}

/// The connection's task. Not an `async fn`, which would keep its arguments beside the
/// locals they move into for the task's life (BENCHMARKS.md › idle): the future holds the
/// socket and the connection once each.
pub fn run(
    socket: WebSocket,
    state: AppState,
    session: Option<Session>,
    client: std::net::IpAddr,
) -> impl Future<Output = ()> + Send + 'static {
    state.app.metrics().ws_connections.inc();
    let queue = FrameQueue::new(state.config.ws.queue_frames);
    let mut connection = Connection {
        state,
        queue,
        expiry: None,
        session: None,
        subscriptions: HashMap::new(),
        last_typing: None,
        client,
    };
    if let Some(session) = session {
        connection.authenticated(session);
    }
    let mut socket = socket;
    async move {
        let mut sends: Sends = None;
        connection.serve(&mut socket, &mut sends).await;
        connection.finish();
        goodbye(
            &mut socket,
            &connection.queue,
            &mut sends,
            connection.state.config.ws.idle_timeout,
        )
        .await;
        let metrics = connection.state.app.metrics();
        if connection.queue.reason().map(|reason| reason.0) == Some(CLOSE_SLOW_CONSUMER) {
            metrics.slow_consumers_closed.inc();
        }
        metrics.ws_connections.dec();
    }
}

/// A subscription this connection holds.
enum Subscribed {
    /// Conversations, inbox, alerts: a task forwarding the topic's frames.
    Task(JoinHandle<()>),
    /// A room: a place in its fan-out hub, and the replay task while it runs.
    Room {
        _subscription: RoomSubscription,
        replay: Option<JoinHandle<()>>,
    },
}

impl Subscribed {
    fn stop(self) {
        match self {
            Subscribed::Task(task) => task.abort(),
            Subscribed::Room { replay, .. } => {
                if let Some(replay) = replay {
                    replay.abort();
                }
            }
        }
    }
}

struct Connection {
    state: AppState,
    queue: FrameQueue,
    session: Option<Session>,
    /// When the session expires (or the hello is due, before authentication).
    expiry: Option<Instant>,
    subscriptions: HashMap<String, Subscribed>,
    /// When this connection last announced typing (throttle).
    last_typing: Option<Instant>,
    /// The client's address (`client::client_address`), for the fan message limits.
    client: std::net::IpAddr,
}

impl Connection {
    fn authenticated(&mut self, session: Session) {
        self.expiry = Some(deadline_of(session.expires_at));
        self.session = Some(session);
    }

    async fn serve(&mut self, socket: &mut WebSocket, sends: &mut Sends) {
        let config = &self.state.config.ws;
        let idle_timeout = config.idle_timeout;
        let ping_every = (idle_timeout / 3).max(Duration::from_millis(100));
        let hello_deadline = Instant::now() + config.hello_timeout;
        let queue = self.queue.clone();
        // Both wait on state shared by every connection (the shutdown token, the
        // revocation channel): they are registered once, not on every wake-up, so a busy
        // room's viewers do not all take the same locks many times a second.
        let shutdown = self.state.shutdown.clone().cancelled_owned();
        tokio::pin!(shutdown);
        let revocation = next_revocation(self.state.app.watch_revocations());
        tokio::pin!(revocation);
        let mut last_heard = Instant::now();
        let mut next_ping = last_heard + ping_every;
        // Past its pace, the connection is not read until `paused_until` (`pace.rs`).
        let mut pace = Pace::new(last_heard);
        let mut paused_until: Option<Instant> = None;
        let mut outgoing: Vec<Outgoing> = Vec::new();
        let timer = tokio::time::sleep_until(next_ping);
        tokio::pin!(timer);
        loop {
            let expiry = self.expiry.unwrap_or(hello_deadline);
            let deadline = expiry.min(last_heard + idle_timeout).min(next_ping);
            let deadline = paused_until.map_or(deadline, |resume| deadline.min(resume));
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            let reading = paused_until.is_none()
                && sends.as_ref().map_or(0, |sends| sends.len()) < MAX_SENDS_IN_FLIGHT;
            tokio::select! {
                biased;
                () = queue.ready() => {
                    if queue.is_closed() {
                        return;
                    }
                    queue.take(&mut outgoing);
                    // Boxed: inline, its ≈ 470 bytes would size every idle task too.
                    if !Box::pin(write_all(socket, &mut outgoing, &queue)).await {
                        return;
                    }
                }
                () = &mut shutdown => {
                    queue.close(CLOSE_GOING_AWAY, "server shutting down");
                    return;
                }
                (revoked, revocations) = &mut revocation => {
                    revocation.set(next_revocation(revocations));
                    if Box::pin(self.is_revoked(revoked)).await {
                        queue.close(CLOSE_UNAUTHORIZED, "session revoked");
                        return;
                    }
                }
                Some((client_msg_id, result)) = next_ack(sends) => {
                    queue.push(ack_frame(&client_msg_id, result));
                }
                () = &mut timer => {
                    let now = Instant::now();
                    paused_until = paused_until.filter(|resume| now < *resume);
                    if now >= expiry {
                        let reason = if self.session.is_some() { "session expired" } else { "no hello received" };
                        queue.close(CLOSE_UNAUTHORIZED, reason);
                        return;
                    }
                    if now >= last_heard + idle_timeout {
                        queue.close(CLOSE_POLICY, "idle timeout");
                        return;
                    }
                    if now >= next_ping {
                        next_ping = now + ping_every;
                        if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                            queue.close(CLOSE_ABNORMAL, "write failed");
                            return;
                        }
                    }
                }
                incoming = socket.recv(), if reading => {
                    last_heard = Instant::now();
                    if matches!(incoming, Some(Ok(Message::Text(_) | Message::Binary(_)))) {
                        paused_until = pace.frame(self.frame_rate(), last_heard);
                    }
                    match incoming {
                        None | Some(Ok(Message::Close(_))) => return,
                        Some(Err(error)) => {
                            if let Some((code, reason)) = close_for_read_error(&error) {
                                queue.close(code, reason);
                            }
                            return;
                        }
                        Some(Ok(Message::Text(text))) => {
                            Box::pin(self.handle(text.as_bytes(), sends)).await;
                        }
                        Some(Ok(Message::Binary(_))) => {
                            self.reply(ErrorFrame::new("invalid_request", "frames must be JSON text", None).encode());
                        }
                        // tungstenite answers pings itself; a pong only proves liveness.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    }
                }
            }
        }
    }

    /// How fast this connection's frames are read, by who it is (`pace.rs`).
    fn frame_rate(&self) -> Option<FrameRate> {
        let config = &self.state.config.ws;
        match self.session.as_ref().map(|session| &session.principal) {
            None => config.anonymous_frames,
            Some(Principal::Fan { .. }) => config
                .fan_frames
                .map(|rate| rate.with_quota(self.state.config.fans.messages_per_fan_per_minute)),
            Some(Principal::Member { .. }) => None,
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
        self.queue.push(frame);
    }

    async fn handle(&mut self, text: &[u8], sends: &mut Sends) {
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
                        self.queue.close(CLOSE_UNAUTHORIZED, "invalid token");
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
                if let Some(subscribed) = self.subscriptions.remove(&topic) {
                    subscribed.stop();
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
                let now = Instant::now();
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
                let input = SendMessage {
                    client_msg_id,
                    body,
                    visibility,
                    template_id,
                    to,
                };
                self.send(&principal, &topic, input, sends).await;
            }
        }
    }

    /// Queues a send in its writer (in arrival order) and adds its acknowledgement to the
    /// sends in flight.
    async fn send(
        &mut self,
        principal: &Principal,
        topic: &str,
        input: SendMessage,
        sends: &mut Sends,
    ) {
        let client_msg_id = input.client_msg_id.clone();
        if let Err(error) = self.state.limit_fan_message(principal, self.client) {
            let (code, message) = error.code_and_message();
            self.reply(ErrorFrame::new(code, &message, Some(&client_msg_id)).encode());
            return;
        }
        let app = &self.state.app;
        let pending: AckFuture = if let Some(id) = topic.strip_prefix("conversation:") {
            let pending = app
                .begin_send(principal, id, input)
                .await
                .map(|pending| async move {
                    let sent = pending.wait().await?;
                    Ok((sent.message.id, sent.message.seq))
                });
            ack_after_commit(client_msg_id, pending)
        } else if let Some(id) = topic.strip_prefix("room:") {
            let pending =
                app.begin_room_send(principal, id, input)
                    .await
                    .map(|pending| async move {
                        let sent = pending.wait().await?;
                        Ok((sent.message.id, sent.message.seq))
                    });
            ack_after_commit(client_msg_id, pending)
        } else if let Some(id) = topic.strip_prefix("channel:") {
            let pending =
                app.begin_channel_send(principal, id, input)
                    .await
                    .map(|pending| async move {
                        let sent = pending.wait().await?;
                        Ok((sent.message.id, sent.message.seq))
                    });
            ack_after_commit(client_msg_id, pending)
        } else {
            let error = ErrorFrame::new(
                "invalid_request",
                "topic: send takes a conversation:{id}, room:{id} or channel:{id} topic",
                Some(&client_msg_id),
            );
            return self.reply(error.encode());
        };
        sends
            .get_or_insert_with(|| Box::new(FuturesOrdered::new()))
            .push_back(pending);
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
        if topic.starts_with("room:") {
            return self.subscribe_room(principal, &topic, after_seq).await;
        }
        let mut subscription = match self.state.app.subscribe(principal, &topic, after_seq).await {
            Ok(subscription) => subscription,
            Err(error) => return self.reply(ErrorFrame::from_service(&error, None).encode()),
        };
        let topic = subscription.topic().to_owned();
        self.acknowledge_subscription(&topic);
        let queue = self.queue.clone();
        let task = tokio::spawn(async move {
            loop {
                let replaying = subscription.is_replaying();
                match subscription.next().await {
                    Ok(frame) if replaying => {
                        if !queue.push_waiting(frame).await {
                            return;
                        }
                    }
                    Ok(frame) => {
                        if !queue.push(frame) {
                            return;
                        }
                    }
                    Err(SubscriptionEnd::Lagged) => {
                        queue.close(CLOSE_SLOW_CONSUMER, "slow consumer: resume with after_seq");
                        return;
                    }
                    Err(SubscriptionEnd::Closed) => return,
                }
            }
        });
        self.subscriptions.insert(topic, Subscribed::Task(task));
    }

    /// A new subscription to `topic` replaces any earlier one, then the client is told
    /// `subscribed` — before any replayed or live frame of it is queued.
    fn acknowledge_subscription(&mut self, topic: &str) {
        if let Some(previous) = self.subscriptions.remove(topic) {
            previous.stop();
        }
        self.reply(ServerFrame::Subscribed { topic }.encode());
    }

    /// Rooms go through the fan-out hub: live frames land in this connection's queue
    /// after the `subscribed` frame and after the replay, if any.
    async fn subscribe_room(&mut self, principal: &Principal, topic: &str, after_seq: Option<u64>) {
        let app = &self.state.app;
        let mut subscription = match app
            .subscribe_room(principal, topic, after_seq, &self.queue)
            .await
        {
            Ok(subscription) => subscription,
            Err(error) => return self.reply(ErrorFrame::from_service(&error, None).encode()),
        };
        let topic = subscription.topic().to_owned();
        self.acknowledge_subscription(&topic);
        let replay = subscription
            .start()
            .map(|replay| tokio::spawn(replay.run()));
        self.subscriptions.insert(
            topic,
            Subscribed::Room {
                _subscription: subscription,
                replay,
            },
        );
    }

    fn finish(&mut self) {
        let topics: Vec<String> = self.subscriptions.keys().cloned().collect();
        for (_, subscribed) in self.subscriptions.drain() {
            subscribed.stop();
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
    }
}

/// The next announcement of a revoked session, with the receiver for the one after.
async fn next_revocation(
    mut revocations: fandesk_bus::Receiver,
) -> (
    Result<std::sync::Arc<fandesk_bus::Event>, RecvError>,
    fandesk_bus::Receiver,
) {
    let revoked = revocations.recv().await;
    (revoked, revocations)
}

/// The next acknowledgement of the sends in flight; pending forever when there are none.
async fn next_ack(sends: &mut Sends) -> Option<(String, Result<(String, u64), ServiceError>)> {
    match sends {
        Some(sends) if !sends.is_empty() => sends.next().await,
        _ => std::future::pending().await,
    }
}

fn ack_frame(client_msg_id: &str, result: Result<(String, u64), ServiceError>) -> Bytes {
    match result {
        Ok((message_id, seq)) => ServerFrame::Ack {
            client_msg_id,
            message_id: &message_id,
            seq,
        }
        .encode(),
        Err(error) => ErrorFrame::from_service(&error, Some(client_msg_id)).encode(),
    }
}

/// The end of a connection. On an orderly close, what is queued and the acks of sends
/// already in flight still go out (bounded: 1 s); then the close frame, which waits for a
/// slow client to read what is already in the socket (bounded by the idle timeout).
async fn goodbye(
    socket: &mut WebSocket,
    queue: &FrameQueue,
    sends: &mut Sends,
    patience: Duration,
) {
    if !queue.is_closed() {
        queue.close(1000, "bye");
    }
    let (code, reason) = queue.reason().unwrap_or((1000, "bye"));
    if code == CLOSE_ABNORMAL {
        return;
    }
    if code != CLOSE_SLOW_CONSUMER {
        let mut outgoing = Vec::new();
        queue.take(&mut outgoing);
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            if let Some(sends) = sends.as_mut() {
                while let Some((client_msg_id, result)) = sends.next().await {
                    outgoing.push(Outgoing::Frame(ack_frame(&client_msg_id, result)));
                }
            }
            write_items(socket, &mut outgoing).await
        })
        .await;
    }
    let close = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }));
    let _ = tokio::time::timeout(patience, socket.send(close)).await;
}

fn deadline_of(at: jiff::Timestamp) -> Instant {
    let remaining = at.duration_since(jiff::Timestamp::now());
    let remaining = Duration::try_from(remaining).unwrap_or(Duration::ZERO);
    // Cap far-away deadlines so the timer arithmetic cannot overflow.
    Instant::now() + remaining.min(Duration::from_secs(365 * 24 * 3600))
}

fn session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
