//! The room fan-out under pressure: a viewer that cannot keep up is closed with 4008 and
//! resumes from its last `seq` with no gap, while a busy room's frames arrive coalesced
//! but in order.

use super::{Venue, is_timeline_event, seqs, timeline_until};
use crate::e2e::support::{assert_dense_from, client_id, post_burst};
use fandesk_testkit::{HttpConfig, Incoming, TestServer, WsClient, WsConfig};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_viewer_is_closed_with_4008_and_resumes_without_gap() {
    let ws = WsConfig {
        queue_frames: 8,
        ..WsConfig::default()
    };
    let server = TestServer::spawn_with(HttpConfig {
        ws,
        ..HttpConfig::default()
    })
    .await;
    let venue = Venue::on(server, 0).await;
    let topic = venue.topic();
    let mut slow = WsClient::connect_small_buffer(&venue.server, &venue.fan, 16 * 1024).await;
    slow.subscribe(&topic, Some(0)).await.expect("subscribe");

    // ~12 KB frames (4,000 three-byte characters): a few hundred fill every buffer between
    // the server's queue and a viewer that does not read.
    let body = "€".repeat(4000);
    let count = 800u64;
    post_burst(
        venue.server.http(),
        venue.server.owner_token(),
        &venue.path("/messages"),
        &body,
        count,
    )
    .await;

    let closed = slow.expect_close(Duration::from_secs(30)).await;
    assert_eq!(closed.code, Some(4008), "{closed:?}");
    let seen: Vec<_> = slow
        .take_pending()
        .into_iter()
        .filter(|frame| is_timeline_event(frame, &topic))
        .collect();
    assert_dense_from(&seqs(&seen), 1);
    assert!(
        (seen.len() as u64) < count,
        "the slow viewer was cut off early"
    );
    // Resume as docs/api.md › WebSocket says: after a 4008, subscribe again from the last
    // seq held.
    // This server's queues hold only 8 frames, so a resumed viewer may be cut off again
    // while the hub still drains the burst; every attempt must continue without a gap.
    let mut last_seen = seqs(&seen).last().copied().unwrap_or(0);
    let mut attempts = 0;
    while last_seen < count {
        attempts += 1;
        assert!(
            attempts <= 5,
            "still not caught up after 5 resumes (at seq {last_seen})"
        );
        let mut resumed = venue.viewer(&venue.fan, Some(last_seen)).await;
        loop {
            match resumed.next_incoming(Duration::from_secs(30)).await {
                Incoming::Frame(frame) if is_timeline_event(&frame, &topic) => {
                    let seq = frame["seq"].as_u64().expect("seq");
                    assert_eq!(seq, last_seen + 1, "gap or repeat after a resume");
                    last_seen = seq;
                    if seq == count {
                        break;
                    }
                }
                Incoming::Frame(_) => {}
                Incoming::Closed(closed) => {
                    assert_eq!(closed.code, Some(4008), "{closed:?}");
                    break;
                }
            }
        }
    }
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_reaches_every_viewer_in_order_and_once() {
    let venue = Venue::new(0).await;
    let topic = venue.topic();
    let mut viewers = Vec::new();
    for _ in 0..6 {
        viewers.push(venue.viewer(&venue.fan, None).await);
    }
    // One socket pipelines a burst: it commits in a few batches, so the hub delivers
    // several events per tick.
    let mut sender = WsClient::connect(&venue.server, &venue.agent).await;
    let count = 60u64;
    for number in 0..count {
        let frame = json!({"type": "send", "topic": topic, "client_msg_id": client_id(), "body": format!("burst {number}")});
        sender.send_json(&frame).await;
    }
    for mut viewer in viewers {
        let events = timeline_until(&mut viewer, &topic, count).await;
        assert_dense_from(&seqs(&events), 1);
        let bodies: Vec<String> = events
            .iter()
            .map(|frame| {
                frame["event"]["message"]["body"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        let expected: Vec<String> = (0..count).map(|number| format!("burst {number}")).collect();
        assert_eq!(bodies, expected);
        assert!(
            viewer
                .drain(Duration::from_millis(200))
                .await
                .iter()
                .all(|frame| !is_timeline_event(frame, &topic)),
            "no duplicate"
        );
    }
    venue.server.shutdown().await;
}
