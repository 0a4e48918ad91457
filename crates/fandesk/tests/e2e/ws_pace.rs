//! The pace at which a WebSocket is read (docs/api.md › WebSocket › Pace), through a real
//! server: a connection past its pace is not refused or cut, its frames wait in the socket
//! and each is still answered, in order, with the answer the contract gives it (an
//! over-quota fan's `send` gets `rate_limited` with its `ref`); team members are not paced.

use fandesk_http::client::FanPolicy;
use fandesk_http::ws::FrameRate;
use fandesk_testkit::{HttpConfig, TestServer, WsClient, WsConfig};
use serde_json::Value;
use std::time::{Duration, Instant};

const ANSWER_WITHIN: Duration = Duration::from_secs(20);

async fn paced_server(rate: FrameRate, messages_per_fan_per_minute: u32) -> TestServer {
    TestServer::spawn_with(HttpConfig {
        ws: WsConfig {
            fan_frames: Some(rate),
            anonymous_frames: Some(rate),
            ..WsConfig::default()
        },
        fans: FanPolicy {
            messages_per_fan_per_minute,
            ..FanPolicy::default()
        },
        ..HttpConfig::default()
    })
    .await
}

async fn answers(socket: &mut WsClient, count: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for n in 0..count {
        let answer = socket.recv_json_timeout(ANSWER_WITHIN).await;
        out.push(answer.unwrap_or_else(|| panic!("no answer to frame {n}")));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_flood_is_read_at_its_pace_and_every_frame_answered() {
    let rate = FrameRate {
        per_second: 20,
        burst: 5,
    };
    let server = paced_server(rate, 30).await;
    let mut socket = WsClient::connect_url(&server.ws_url(), None, None)
        .await
        .expect("upgrade");
    let start = Instant::now();
    for n in 0..25 {
        socket.send_text(&format!(r#"{{"type":"nope{n}"}}"#)).await;
    }
    let answers = answers(&mut socket, 25).await;
    let elapsed = start.elapsed();
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer["code"], "invalid_request", "{answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("nope{n}\"")),
            "frame {n}: {answer}"
        );
    }
    // Five read at once, the other twenty at 20 a second: a second at least.
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    // Held back, not cut off: the connection still authenticates.
    let (owner, _) = server.create_member("agent").await;
    socket
        .send_text(&format!(r#"{{"type":"hello","token":"{owner}"}}"#))
        .await;
    let welcome = socket.recv_json_timeout(ANSWER_WITHIN).await;
    assert_eq!(welcome.map(|w| w["type"].clone()), Some("welcome".into()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_quota_fan_flood_still_gets_rate_limited_with_each_ref() {
    // Three messages a minute: the pace is 10 + 1 frames a second after a burst of 2 + 3.
    let rate = FrameRate {
        per_second: 10,
        burst: 2,
    };
    let server = paced_server(rate, 3).await;
    let (fan, _) = server.fan_session("Flooding fan").await;
    let conversation = server.open_conversation(&fan).await;
    let mut socket = WsClient::connect(&server, &fan).await;
    let start = Instant::now();
    for n in 0..16 {
        let frame = format!(
            r#"{{"type":"send","topic":"conversation:{conversation}","client_msg_id":"m{n}","body":"spam {n}"}}"#
        );
        socket.send_text(&frame).await;
    }
    let answers = answers(&mut socket, 16).await;
    let elapsed = start.elapsed();
    let acked: Vec<&str> = answers
        .iter()
        .filter(|a| a["type"] == "ack")
        .filter_map(|a| a["client_msg_id"].as_str())
        .collect();
    assert_eq!(acked, ["m0", "m1", "m2"], "{answers:?}");
    let refused: Vec<(&str, &str)> = answers
        .iter()
        .filter(|a| a["type"] == "error")
        .map(|a| {
            (
                a["code"].as_str().unwrap_or_default(),
                a["ref"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<String> = (3..16).map(|n| format!("m{n}")).collect();
    assert_eq!(
        refused,
        expected
            .iter()
            .map(|id| ("rate_limited", id.as_str()))
            .collect::<Vec<_>>()
    );
    // Five at once, the other eleven at 11 a second.
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_members_are_not_paced() {
    let rate = FrameRate {
        per_second: 1,
        burst: 1,
    };
    let server = paced_server(rate, 30).await;
    let (agent, _) = server.create_member("agent").await;
    let mut socket = WsClient::connect(&server, &agent).await;
    for _ in 0..100 {
        socket.send_text(r#"{"type":"ping"}"#).await;
    }
    // At a fan's pace of one a second this would take 99 s; the wait allows 20.
    for answer in answers(&mut socket, 100).await {
        assert_eq!(answer["type"], "pong", "{answer}");
    }
    server.shutdown().await;
}
