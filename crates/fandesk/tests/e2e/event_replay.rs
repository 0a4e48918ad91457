//! An event's chat replay by video time (docs/api.md › Events › Replay), on a manual
//! clock: messages in the order they were sent with their `offset_secs` (negative in the
//! countdown chat), the `[from_secs, to_secs)` window, deleted messages left out, limits
//! and refusals.

use fandesk_service::{Clock, Config, ManualClock};
use fandesk_testkit::{HttpConfig, Reply, TestServer};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn manual_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

async fn say(server: &TestServer, token: &str, room: &str, body: &str) -> String {
    let reply = server
        .http()
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(token),
            json!({"client_msg_id": body.replace(' ', "-"), "body": body}),
        )
        .await;
    reply.expect_status(201);
    reply.json["id"].as_str().expect("id").to_owned()
}

async fn replay(server: &TestServer, token: &str, event: &str, query: &str) -> Reply {
    server
        .http()
        .get(
            &format!("/api/v1/events/{event}/replay{query}"),
            Some(token),
        )
        .await
}

/// (body, offset_secs) of each replayed message.
fn lines(reply: &Reply) -> Vec<(String, f64)> {
    reply.expect_status(200);
    reply.json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m: &Value| {
            (
                m["body"].as_str().expect("body").to_owned(),
                m["offset_secs"].as_f64().expect("offset_secs"),
            )
        })
        .collect()
}

fn line(body: &str, offset: f64) -> (String, f64) {
    (body.to_owned(), offset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_replays_by_video_time_without_deleted_messages() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (fan, _) = server.fan_session("Ada").await;
    let starts_at = clock.now() + SignedDuration::from_secs(60);
    let created = server
        .http()
        .post(
            "/api/v1/events",
            Some(&owner),
            json!({"title": "Film night", "kind": "premiere", "starts_at": starts_at.to_string(),
                "duration_secs": 600, "media_url": "https://cdn.example/film.webm"}),
        )
        .await;
    created.expect_status(201);
    let event = created.json["id"].as_str().expect("id").to_owned();
    let room = created.json["room_id"].as_str().expect("room").to_owned();

    // The countdown chat, one minute before the start.
    say(&server, &fan, &room, "countdown").await;
    clock.advance(Duration::from_secs(70));
    say(&server, &fan, &room, "ten").await;
    clock.advance(Duration::from_millis(20_500));
    say(&server, &owner, &room, "thirty and a half").await;
    clock.advance(Duration::from_secs(1));
    let doomed = say(&server, &fan, &room, "doomed words").await;
    server
        .http()
        .post_empty(
            &format!("/api/v1/rooms/{room}/messages/{doomed}/delete"),
            Some(&owner),
        )
        .await
        .expect_status(200);
    clock.advance(Duration::from_millis(8_500));
    say(&server, &fan, &room, "forty").await;

    let all = replay(&server, &fan, &event, "").await;
    assert_eq!(
        lines(&all),
        vec![
            line("countdown", -60.0),
            line("ten", 10.0),
            line("thirty and a half", 30.5),
            line("forty", 40.0),
        ]
    );
    assert!(!all.text().contains("doomed"), "{}", all.text());
    let first = &all.json["messages"][0];
    assert_eq!(first["room_id"], room.as_str());
    assert_eq!(first["author"]["kind"], "fan");
    // Positions follow the room's timeline order.
    let seqs: Vec<u64> = all.json["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
    // The team's replay leaves the deleted message out too.
    let team = replay(&server, &owner, &event, "").await;
    assert_eq!(lines(&team).len(), 4);

    // Windows: from inclusive, to exclusive.
    assert_eq!(
        lines(&replay(&server, &fan, &event, "?from_secs=0&to_secs=40").await),
        vec![line("ten", 10.0), line("thirty and a half", 30.5)]
    );
    assert_eq!(
        lines(&replay(&server, &fan, &event, "?from_secs=10&to_secs=11").await),
        vec![line("ten", 10.0)]
    );
    assert_eq!(
        lines(&replay(&server, &fan, &event, "?to_secs=0").await),
        vec![line("countdown", -60.0)]
    );
    assert!(lines(&replay(&server, &fan, &event, "?from_secs=41").await).is_empty());
    assert!(lines(&replay(&server, &fan, &event, "?from_secs=30&to_secs=20").await).is_empty());
    assert_eq!(
        lines(&replay(&server, &fan, &event, "?from_secs=0&limit=1").await),
        vec![line("ten", 10.0)]
    );

    // Refusals.
    replay(&server, &fan, "nowhere", "")
        .await
        .expect_error(404, "not_found");
    for query in [
        "?from_secs=ten",
        "?from_secs=1.5",
        "?to_secs=999999999",
        "?at=3",
    ] {
        let reply = replay(&server, &fan, &event, query).await;
        assert!(
            matches!(reply.status, 400 | 422),
            "{query}: {}",
            reply.text()
        );
    }
    server.shutdown().await;
}
