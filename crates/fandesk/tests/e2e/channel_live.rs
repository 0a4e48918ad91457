//! A channel's timeline live and over time (docs/api.md › Team channels): the topic
//! `channel:{id}` delivers each committed message once, in `seq` order, and a resume with
//! `after_seq` replays the rest with no gap and no duplicate, also for sends over the
//! WebSocket (acknowledged after the commit); the archiving sweep, on the manual clock,
//! warns an idle channel 7 days before archiving it, a member's message starts the count
//! again, and an archived channel is read-only until restored.

use super::channels::{channel, manual_server, messages, post, say, set_charter};
use super::support::{assert_dense_from, created_events};
use fandesk_service::Clock;
use fandesk_testkit::{DEFAULT_TIMEOUT, TestServer, WsClient};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The next `count` channel frames of `topic` received by `client`.
async fn frames(client: &mut WsClient, topic: &str, count: usize) -> Vec<Value> {
    let mut received = Vec::new();
    while received.len() < count {
        let frame = client
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["type"] == "event" && frame["topic"] == topic
            })
            .await;
        received.push(frame);
    }
    received
}

fn seqs(messages: &[Value]) -> Vec<u64> {
    messages
        .iter()
        .map(|message| message["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_frames_and_resume_with_no_gap_and_no_duplicate() {
    let (server, _clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (agent, _) = server.create_member("agent").await;
    let ops = channel(&server, "ops").await;
    let topic = format!("channel:{ops}");

    let mut live = WsClient::connect(&server, &agent).await;
    live.subscribe(&topic, None).await.expect("subscribes");
    for text in ["one", "two", "DECISION: three"] {
        say(&server, &owner, &ops, text).await;
    }
    let received = created_events(&frames(&mut live, &topic, 3).await, &topic);
    assert_dense_from(&seqs(&received), 1);
    assert_eq!(received[2]["tags"], json!(["decision"]));
    assert_eq!(received[2]["author"]["kind"], "member");

    // A WebSocket send is acknowledged after the commit, with its seq; a retry gets the
    // same ack and no second message.
    let ack = live.send_message(&topic, "ws-1", "four", None).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["seq"], 4);
    let again = live.send_message(&topic, "ws-1", "four", None).await;
    assert_eq!(again["message_id"], ack["message_id"]);
    assert_eq!(again["seq"], 4);
    let refused = live
        .send_message(&topic, "ws-2", "x", Some("internal"))
        .await;
    assert_eq!(refused["code"], "invalid_request", "{refused}");

    // Resume after 1: 2..4 replayed, then live 5, each once.
    let mut resumed = WsClient::connect(&server, &agent).await;
    resumed.subscribe(&topic, Some(1)).await.expect("resumes");
    say(&server, &owner, &ops, "five").await;
    let replayed = created_events(&frames(&mut resumed, &topic, 4).await, &topic);
    assert_dense_from(&seqs(&replayed), 2);
    assert_eq!(replayed[2]["body"], "four");
    let extra = resumed.drain(Duration::from_millis(300)).await;
    assert!(
        created_events(&extra, &topic).is_empty(),
        "no duplicate: {extra:?}"
    );
    let past = resumed
        .subscribe(&topic, Some(99))
        .await
        .expect_err("past the end");
    assert_eq!(past["code"], "invalid_request");
    assert_eq!(messages(&server, &agent, &ops, "").await.len(), 5);
    server.shutdown().await;
}

/// Waits (on the real clock) until `check` holds, polling: the sweep runs as the
/// scheduler's recurring task once the manual clock moves.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn is_archived(server: &TestServer, channel: &str) -> bool {
    let path = format!("/api/v1/channels/{channel}");
    let reply = server.http().get(&path, Some(server.owner_token())).await;
    reply.json["archived"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_channels_are_warned_archived_and_restored_on_the_clock() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let day = Duration::from_secs(24 * 3600);
    set_charter(&server, "[channels]\narchive_after_days = 10\n").await;
    let quiet = channel(&server, "quiet").await;
    let busy = channel(&server, "busy").await;
    let warnings = |channel: String| {
        let server = &server;
        let owner = owner.clone();
        async move {
            messages(server, &owner, &channel, "")
                .await
                .into_iter()
                .filter(|message| message["author"]["kind"] == "system")
                .collect::<Vec<_>>()
        }
    };

    // Day 2: nothing to do yet (the sweep itself says so).
    clock.advance(2 * day);
    assert_eq!(server.app().sweep_channels().await.expect("sweep"), 0);
    say(&server, &owner, &busy, "still here").await;

    // Day 3, 7 days before the archive: the warning, once, without resetting the count.
    clock.advance(day + Duration::from_secs(60));
    eventually("the warning", || async {
        !warnings(quiet.clone()).await.is_empty()
    })
    .await;
    let warning = warnings(quiet.clone()).await;
    assert_eq!(warning.len(), 1);
    assert!(
        warning[0]["body"]
            .as_str()
            .unwrap_or("")
            .contains("archived on"),
        "{}",
        warning[0]
    );
    assert_eq!(server.app().sweep_channels().await.expect("sweep"), 0);
    assert!(
        warnings(busy.clone()).await.is_empty(),
        "busy was used on day 2"
    );
    assert!(!is_archived(&server, &quiet).await);

    // Day 10: the quiet channel is archived (listed apart, read-only); the busy one, used
    // on day 2, is only warned.
    clock.advance(7 * day);
    eventually("the archive", || is_archived(&server, &quiet)).await;
    assert!(!is_archived(&server, &busy).await);
    assert_eq!(warnings(busy.clone()).await.len(), 1);
    let archived = server
        .http()
        .get("/api/v1/channels?archived=true", Some(&owner))
        .await;
    assert_eq!(archived.json["channels"][0]["id"], quiet.as_str());
    post(&server, &owner, &quiet, json!({"body": "hello?"}))
        .await
        .expect_error(409, "conflict");

    // Restored: active again, writable, and a new idle spell starts now.
    let restore = format!("/api/v1/channels/{quiet}/restore");
    let restored = server.http().post_empty(&restore, Some(&owner)).await;
    restored.expect_status(200);
    assert_eq!(restored.json["archived"], false);
    let due = restored.json["archive_due_at"].as_str().expect("due");
    let expected = clock.now() + jiff::SignedDuration::from_hours(240);
    let due = due.parse::<jiff::Timestamp>().expect("time");
    assert_eq!(due.as_second(), expected.as_second());
    say(&server, &owner, &quiet, "back in business").await;
    assert_eq!(server.app().sweep_channels().await.expect("sweep"), 0);
    server.shutdown().await;
}
