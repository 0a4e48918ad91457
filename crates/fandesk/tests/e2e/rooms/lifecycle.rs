//! A room's life end to end: states and who manages them, and live viewer counts.

use super::{Venue, say};
use fandesk_testkit::{DEFAULT_TIMEOUT, TestServer, WsClient};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_states_and_who_manages_them() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (agent, _) = server.create_member("agent").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    let http = server.http();
    let body = json!({"title": "Q&A"});
    http.post("/api/v1/rooms", Some(&fan), body.clone())
        .await
        .expect_error(403, "forbidden");
    http.post("/api/v1/rooms", Some(&agent), body.clone())
        .await
        .expect_error(403, "forbidden");
    http.post(
        "/api/v1/rooms",
        Some(&owner),
        json!({"title": "x", "colour": 1}),
    )
    .await
    .expect_error(422, "invalid_request");
    http.post(
        "/api/v1/rooms",
        Some(&owner),
        json!({"title": "x", "slow_mode_secs": 9999}),
    )
    .await
    .expect_error(422, "invalid_request");
    let created = http.post("/api/v1/rooms", Some(&supervisor), body).await;
    created.expect_status(201);
    assert_eq!(created.json["state"], "scheduled");
    let id = created.json["id"].as_str().expect("id").to_owned();
    let path = |suffix: &str| format!("/api/v1/rooms/{id}{suffix}");
    let messages = path("/messages");

    say(http, &messages, &fan)
        .await
        .expect_error(409, "conflict");
    say(http, &messages, &agent).await.expect_status(201);
    let mut watcher = WsClient::connect(&server, &fan).await;
    watcher
        .subscribe(&format!("room:{id}"), None)
        .await
        .expect("subscribe");
    http.post_empty(&path("/open"), Some(&agent))
        .await
        .expect_error(403, "forbidden");
    let opened = http.post_empty(&path("/open"), Some(&owner)).await;
    opened.expect_status(200);
    assert_eq!(opened.json["state"], "open");
    let update = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "room.updated"
        })
        .await;
    assert_eq!(update["event"]["room"]["state"], "open");
    assert!(update.get("seq").is_none(), "room.updated is ephemeral");
    http.post_empty(&path("/open"), Some(&owner))
        .await
        .expect_error(409, "conflict");
    say(http, &messages, &fan).await.expect_status(201);
    http.post_empty(&path("/close"), Some(&owner))
        .await
        .expect_status(200);
    say(http, &messages, &fan)
        .await
        .expect_error(409, "conflict");
    say(http, &messages, &owner)
        .await
        .expect_error(409, "conflict");

    let listed = http.get("/api/v1/rooms", Some(&fan)).await;
    listed.expect_status(200);
    assert_eq!(listed.json["rooms"][0]["id"], id.as_str());
    http.get("/api/v1/rooms/room_nope", Some(&fan))
        .await
        .expect_error(404, "not_found");
    // A scheduled room whose opens_at has passed is open; one in the future is not yet.
    for (opens_at, state) in [
        ("2020-01-01T00:00:00Z", "open"),
        ("2999-01-01T00:00:00Z", "scheduled"),
    ] {
        let reply = http
            .post(
                "/api/v1/rooms",
                Some(&owner),
                json!({"title": "Later", "opens_at": opens_at}),
            )
            .await;
        reply.expect_status(201);
        assert_eq!(reply.json["state"], state, "opens_at {opens_at}");
    }
    http.post(
        "/api/v1/rooms/room_nope/messages",
        Some(&fan),
        json!({"client_msg_id": "a", "body": "b"}),
    )
    .await
    .expect_error(404, "not_found");
    let refused = watcher
        .subscribe("room:room_nope", None)
        .await
        .expect_err("unknown room");
    assert_eq!(refused["code"], "not_found");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_counts_arrive_as_live_events_at_most_once_a_second() {
    let venue = Venue::new(0).await;
    let mut watcher = venue.viewer(&venue.agent, None).await;
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    let first_tab = venue.viewer(&venue.fan, None).await;
    let second_tab = venue.viewer(&venue.fan, None).await;
    let _other = venue.viewer(&other_fan, None).await;
    let is_viewers = |wanted: u64| {
        move |frame: &Value| {
            frame["event"]["kind"] == "viewers" && frame["event"]["current"] == wanted
        }
    };
    let counted = watcher.recv_matching(DEFAULT_TIMEOUT, is_viewers(2)).await;
    let counted_at = Instant::now();
    assert_eq!(
        counted["event"],
        json!({"kind": "viewers", "current": 2, "peak": 2, "unique": 2}),
        "the team is not counted"
    );
    assert!(counted.get("seq").is_none(), "viewer counts are ephemeral");
    first_tab.abort();
    let still = watcher.drain(Duration::from_millis(300)).await;
    assert!(
        still
            .iter()
            .all(|frame| frame["event"]["kind"] != "viewers"),
        "one fan's second tab still counts: {still:?}"
    );
    second_tab.abort();
    let after = watcher.recv_matching(DEFAULT_TIMEOUT, is_viewers(1)).await;
    // Measured at the client, so allow for scheduling jitter; an event per change would
    // arrive within milliseconds.
    assert!(
        counted_at.elapsed() >= Duration::from_millis(500),
        "at most one viewers event per second"
    );
    assert_eq!(
        after["event"],
        json!({"kind": "viewers", "current": 1, "peak": 2, "unique": 2})
    );
    let room = venue
        .server
        .http()
        .get(&venue.path(""), Some(&venue.fan))
        .await;
    assert_eq!(
        room.json["viewers"],
        json!({"current": 1, "peak": 2, "unique": 2})
    );
    venue.server.shutdown().await;
}
