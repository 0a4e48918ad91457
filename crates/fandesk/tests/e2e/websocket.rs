//! The WebSocket protocol (docs/api.md › WebSocket): ping, frame shapes, replay then live
//! with no gap and no duplicate while others keep sending, live-only subscriptions, slow
//! consumers (4008) and server shutdown (1001).

use super::support::{Desk, assert_dense_from, client_id, created_events, post_burst, seqs};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpConfig, TestServer, WsClient, WsConfig};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_with_pong() {
    let desk = Desk::new().await;
    let mut socket = WsClient::connect(&desk.server, &desk.fan).await;
    for _ in 0..3 {
        socket.send_json(&json!({"type": "ping"})).await;
        assert_eq!(socket.recv_json().await, json!({"type": "pong"}));
    }
    desk.shutdown().await;
}

/// Reads `message.created` events of `topic` until one with `last` arrives; returns them.
async fn events_until(socket: &mut WsClient, topic: &str, last: u64) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let frame = socket
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["type"] == "event" && frame["topic"] == topic && frame.get("seq").is_some()
            })
            .await;
        let seq = frame["seq"].as_u64().expect("seq");
        events.extend(created_events(std::slice::from_ref(&frame), topic));
        if seq >= last {
            return events;
        }
    }
}

/// Subscribers join at different points (with `after_seq`) while two senders keep writing;
/// each sees every event of its audience after its `after_seq` exactly once, in order.
async fn replay_then_live(fan_audience: bool) {
    let desk = Desk::new().await;
    let topic = desk.topic();
    for number in 0..6 {
        desk.post(&desk.fan, &format!("early {number}"), None).await;
    }
    let (sent, mut progress) = watch::channel(0usize);
    let http = desk.server.http().clone();
    let (agent, fan, path) = (desk.agent.clone(), desk.fan.clone(), desk.path("/messages"));
    let writer = tokio::spawn(async move {
        for number in 0..60 {
            let (token, visibility) = match number % 3 {
                0 => (&fan, "public"),
                1 => (&agent, "internal"),
                _ => (&agent, "public"),
            };
            let body = json!({"client_msg_id": client_id(), "body": format!("live {number}"), "visibility": visibility});
            http.post(&path, Some(token), body).await.expect_status(201);
            sent.send_replace(number + 1);
        }
    });
    let token = if fan_audience { &desk.fan } else { &desk.agent };
    let mut subscribers = Vec::new();
    for (after_seq, when_sent) in [(0u64, 0usize), (3, 10), (5, 30)] {
        progress
            .wait_for(|count| *count >= when_sent)
            .await
            .expect("writer alive");
        let mut socket = WsClient::connect(&desk.server, token).await;
        socket
            .subscribe(&topic, Some(after_seq))
            .await
            .expect("subscribe");
        assert!(
            socket.take_pending().is_empty(),
            "`subscribed` comes before any replayed event"
        );
        subscribers.push((after_seq, socket));
    }
    writer.await.expect("writer");
    let history = desk.server.history(token, &desk.conversation).await;
    let last = history
        .last()
        .and_then(|message| message["seq"].as_u64())
        .expect("messages");
    assert_dense_from(&seqs(&history), 1);
    for (after_seq, mut socket) in subscribers {
        let events = events_until(&mut socket, &topic, last).await;
        assert_dense_from(&seqs(&events), after_seq + 1);
        assert_eq!(
            events,
            history[after_seq as usize..],
            "events match the stored timeline"
        );
        if fan_audience {
            assert!(
                events
                    .iter()
                    .all(|message| message["visibility"] == "public")
            );
        }
    }
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_replay_then_live_has_no_gap_and_no_duplicate() {
    replay_then_live(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_replay_then_live_has_no_gap_and_no_duplicate() {
    replay_then_live(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_only_subscriptions_start_with_the_next_event() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    desk.post(&desk.fan, "before", None).await;
    let mut socket = WsClient::connect(&desk.server, &desk.agent).await;
    socket.subscribe(&topic, None).await.expect("subscribe");
    desk.post(&desk.fan, "after", None).await;
    let frame = socket.expect_type("event").await;
    assert_eq!(frame["topic"], topic.as_str());
    assert_eq!(frame["seq"], 2, "no replay without after_seq: {frame}");
    assert_eq!(frame["event"]["kind"], "message.created");
    let stored = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(
        frame["event"]["message"], stored[1],
        "the event carries the message as the team reads it"
    );
    desk.shutdown().await;
}

fn body_path(conversation: &str) -> String {
    format!("/api/v1/conversations/{conversation}/messages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_closed_with_4008_and_resumes_without_gap() {
    let ws = WsConfig {
        queue_frames: 8,
        ..WsConfig::default()
    };
    let server = TestServer::spawn_with(HttpConfig {
        ws,
        ..HttpConfig::default()
    })
    .await;
    let (fan, _) = server.fan_session("Busy fan").await;
    let conversation = server.open_conversation(&fan).await;
    let topic = format!("conversation:{conversation}");
    let (agent, _) = server.create_member("agent").await;
    let mut slow = WsClient::connect_small_buffer(&server, &agent, 16 * 1024).await;
    slow.subscribe(&topic, Some(0)).await.expect("subscribe");

    // ~12 KB frames (4,000 three-byte characters): a few hundred fill every buffer between
    // the server's queue and a client that does not read.
    let body = "€".repeat(4000);
    let count = 800u64;
    post_burst(
        server.http(),
        server.owner_token(),
        &body_path(&conversation),
        &body,
        count,
    )
    .await;

    let closed = slow.expect_close(Duration::from_secs(30)).await;
    assert_eq!(closed.code, Some(4008), "{closed:?}");
    let seen = created_events(&slow.take_pending(), &topic);
    assert_dense_from(&seqs(&seen), 1);
    assert!(
        (seen.len() as u64) < count,
        "the slow client was cut off early"
    );
    let last_seen = seen
        .last()
        .map_or(0, |message| message["seq"].as_u64().unwrap_or(0));
    let mut resumed = WsClient::connect(&server, &agent).await;
    resumed
        .subscribe(&topic, Some(last_seen))
        .await
        .expect("resume");
    let rest = events_until(&mut resumed, &topic, count).await;
    assert_dense_from(&seqs(&rest), last_seen + 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_with_1001() {
    let desk = Desk::new().await;
    let mut socket = WsClient::connect(&desk.server, &desk.fan).await;
    socket
        .subscribe(&desk.topic(), Some(0))
        .await
        .expect("subscribe");
    desk.server.begin_shutdown();
    let closed = socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(closed.code, Some(1001), "{closed:?}");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_outlives_the_request_time_limit() {
    let server = TestServer::spawn_with(HttpConfig {
        // Long enough for the owner's login (argon2) on a loaded machine, short enough
        // to pass while the socket stays open.
        request_timeout: Duration::from_secs(3),
        ..HttpConfig::default()
    })
    .await;
    let (fan, _) = server.fan_session("Patient fan").await;
    let mut socket = WsClient::connect(&server, &fan).await;
    // The limit covers a request until its answer; an upgraded connection is no request.
    tokio::time::sleep(Duration::from_secs(4)).await;
    socket.send_json(&json!({"type": "ping"})).await;
    assert_eq!(socket.recv_json().await, json!({"type": "pong"}));
    server.shutdown().await;
}
