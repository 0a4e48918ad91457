//! Whisper isolation (docs/product.md › Principles): random canary strings in internal
//! messages, sent over REST and WebSocket by a supervisor and an agent, never reach a fan
//! in any byte, whether the fan follows live, resumes, replays or polls REST, and the fan's
//! sequence stays dense.

use super::support::{Desk, assert_dense_from, client_id, contains, created_events, seqs};
use fandesk_testkit::{DEFAULT_TIMEOUT, WsClient, random_hex};
use serde_json::Value;
use tokio::sync::watch;

/// Reads the fan's events until public `last`, checking density as they come.
async fn fan_events(socket: &mut WsClient, topic: &str, first: u64, last: u64) -> Vec<Value> {
    let mut events = Vec::new();
    let mut expected = first;
    while expected <= last {
        let frame = socket
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["type"] == "event" && frame.get("seq").is_some()
            })
            .await;
        assert_eq!(
            frame["seq"], expected,
            "fan events are dense and ordered: {frame}"
        );
        events.extend(created_events(std::slice::from_ref(&frame), topic));
        expected += 1;
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_in_internal_messages_never_reach_the_fan() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    let supervisor_canary = format!("canary{}", random_hex());
    let (supervisor, supervisor_id) = desk
        .server
        .create_member_named("supervisor", &format!("Sup {supervisor_canary}"))
        .await;
    let mut canaries = vec![supervisor_canary, supervisor_id];

    let mut live_with_replay = WsClient::connect(&desk.server, &desk.fan).await;
    live_with_replay
        .subscribe(&topic, Some(0))
        .await
        .expect("subscribe");
    let (mut live_only, _) = WsClient::connect_hello(&desk.server, &desk.fan).await;
    live_only.subscribe(&topic, None).await.expect("subscribe");

    // A fan polling REST the whole time.
    let (stop, mut stopped) = watch::channel(false);
    let (http, fan, path) = (desk.server.http().clone(), desk.fan.clone(), desk.path(""));
    let poller = tokio::spawn(async move {
        let mut bytes = Vec::new();
        for _ in 0..100_000 {
            if *stopped.borrow_and_update() {
                break;
            }
            let reply = http
                .get(&format!("{path}/messages?after_seq=0"), Some(&fan))
                .await;
            reply.expect_status(200);
            assert_dense_from(
                &seqs(reply.json["messages"].as_array().expect("messages")),
                1,
            );
            bytes.extend_from_slice(&reply.bytes);
            bytes.extend_from_slice(&http.get(&path, Some(&fan)).await.bytes);
        }
        bytes
    });

    let mut agent_socket = WsClient::connect(&desk.server, &desk.agent).await;
    let mut supervisor_socket = WsClient::connect(&desk.server, &supervisor).await;
    let mut public = 0u64;
    for round in 0..8 {
        if round % 2 == 0 {
            desk.post(&desk.fan, &format!("fan question {round}"), None)
                .await;
        } else {
            let ack = live_with_replay
                .send_message(&topic, &client_id(), &format!("fan over ws {round}"), None)
                .await;
            assert_eq!(ack["type"], "ack", "{ack}");
        }
        public += 1;
        let whisper = format!("canary{}", random_hex());
        let note = format!("canary{}", random_hex());
        if round % 2 == 0 {
            desk.post(
                &supervisor,
                &format!("whisper: {whisper}"),
                Some("internal"),
            )
            .await;
            let ack = agent_socket
                .send_message(
                    &topic,
                    &client_id(),
                    &format!("note {note}"),
                    Some("internal"),
                )
                .await;
            assert_eq!(ack["type"], "ack", "{ack}");
        } else {
            let body = format!("whisper: {whisper}");
            let ack = supervisor_socket
                .send_message(&topic, &client_id(), &body, Some("internal"))
                .await;
            assert_eq!(ack["type"], "ack", "{ack}");
            desk.post(&desk.agent, &format!("note {note}"), Some("internal"))
                .await;
        }
        canaries.extend([whisper, note]);
        desk.post(&desk.agent, &format!("public reply {round}"), None)
            .await;
        public += 1;
        if round == 4 {
            for action in ["/resolve", "/reopen"] {
                desk.server
                    .http()
                    .post_empty(&desk.path(action), Some(&supervisor))
                    .await
                    .expect_status(200);
            }
        }
    }

    let mut replay_all = WsClient::connect(&desk.server, &desk.fan).await;
    replay_all
        .subscribe(&topic, Some(0))
        .await
        .expect("subscribe");
    let mut replay_tail = WsClient::connect(&desk.server, &desk.fan).await;
    replay_tail
        .subscribe(&topic, Some(5))
        .await
        .expect("subscribe");
    let mut sockets = vec![
        (1, live_with_replay),
        (1, live_only),
        (1, replay_all),
        (6, replay_tail),
    ];
    let mut received: Vec<Vec<u8>> = Vec::new();
    let (history, history_bytes) = desk
        .server
        .history_with_bytes(&desk.fan, &desk.conversation)
        .await;
    assert_dense_from(&seqs(&history), 1);
    assert_eq!(history.len() as u64, public);
    for (first, socket) in &mut sockets {
        let events = fan_events(socket, &topic, *first, public).await;
        assert_eq!(events.len() as u64, public - *first + 1);
    }
    for (_, socket) in sockets {
        received.push(socket.close().await);
    }
    stop.send_replace(true);
    received.push(poller.await.expect("poller"));
    received.push(history_bytes);
    let listed = desk
        .server
        .http()
        .get("/api/v1/conversations", Some(&desk.fan))
        .await;
    received.push(listed.bytes);

    let team = desk.server.history(&desk.agent, &desk.conversation).await;
    let team_text = serde_json::to_string(&team).expect("json");
    for canary in &canaries {
        assert!(
            team_text.contains(canary.as_str()),
            "the team sees {canary}"
        );
        for (index, bytes) in received.iter().enumerate() {
            assert!(
                !contains(bytes, canary),
                "canary {canary} leaked to the fan (stream {index})"
            );
        }
    }
    assert!(
        received
            .iter()
            .all(|bytes| !contains(bytes, "\"internal\"")),
        "no internal entry reaches the fan"
    );
    desk.shutdown().await;
}
