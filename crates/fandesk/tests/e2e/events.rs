//! Premieres and live events end to end (docs/api.md › Events), on a manual clock: the
//! countdown room, status and playback position for viewers joining early, on time, late
//! and after the end, the label on every fan-facing view, the chat under the rooms' rules,
//! who may create and change events, what is refused, and the fans' event page, whose
//! policy lets its video load from the video's origin only.

use fandesk_service::{Clock, Config, ManualClock};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpConfig, Reply, TestServer, WsClient};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const LABEL: &str = "Premiere · pre-recorded";

/// A server on a manual clock (sessions last a week of it).
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

fn in_secs(clock: &ManualClock, secs: i64) -> Timestamp {
    clock.now() + SignedDuration::from_secs(secs)
}

fn at(value: &Value) -> Timestamp {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time"))
        .parse()
        .expect("RFC 3339")
}

async fn get(server: &TestServer, token: &str, id: &str) -> Value {
    let reply = server
        .http()
        .get(&format!("/api/v1/events/{id}"), Some(token))
        .await;
    reply.expect_status(200);
    reply.json.clone()
}

async fn say(server: &TestServer, token: &str, room: &str, key: &str) -> Reply {
    let body = json!({"client_msg_id": key, "body": format!("message {key}")});
    server
        .http()
        .post(&format!("/api/v1/rooms/{room}/messages"), Some(token), body)
        .await
}

async fn patch(server: &TestServer, token: &str, id: &str, body: Value) -> Reply {
    server
        .http()
        .request(
            Method::PATCH,
            &format!("/api/v1/events/{id}"),
            Some(token),
            Some(fandesk_testkit::Body::Json(body)),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_premiere_counts_down_plays_in_sync_and_ends() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (agent, _) = server.create_member("agent").await;
    let (fan, fan_id) = server.fan_session("Early Fan").await;
    let (late_fan, _) = server.fan_session("Late Fan").await;
    let starts_at = in_secs(&clock, 3_600);
    let created = server
        .http()
        .post(
            "/api/v1/events",
            Some(&owner),
            json!({"title": "Album film", "kind": "premiere", "starts_at": starts_at.to_string(),
                   "duration_secs": 600, "media_url": "https://cdn.example/film.webm",
                   "slow_mode_secs": 30}),
        )
        .await;
    created.expect_status(201);
    let event = created.json.clone();
    let id = event["id"].as_str().expect("id").to_owned();
    let room = event["room_id"].as_str().expect("room_id").to_owned();
    assert_eq!(event["kind"], "premiere");
    assert_eq!(event["status"], "scheduled");
    assert_eq!(event["label"], LABEL);
    assert_eq!(at(&event["starts_at"]), starts_at);
    assert_eq!(at(&event["chat_opens_at"]), in_secs(&clock, 3_600 - 900));
    assert_eq!(at(&event["server_time"]), clock.now());
    assert!(event.get("position_secs").is_none(), "{event}");

    // Early: the fan sees the countdown and the label, in the event and in the list; the
    // chat is not open yet.
    let early = get(&server, &fan, &id).await;
    assert_eq!(
        (early["status"].as_str(), early["label"].as_str()),
        (Some("scheduled"), Some(LABEL))
    );
    let listed = server.http().get("/api/v1/events", Some(&fan)).await;
    listed.expect_status(200);
    assert_eq!(listed.json["events"][0]["id"], id.as_str());
    assert_eq!(listed.json["events"][0]["label"], LABEL);
    say(&server, &fan, &room, "too-early")
        .await
        .expect_error(409, "conflict");

    // The countdown room opens 15 minutes before the start, with the room's slow mode.
    clock.advance(Duration::from_secs(3_600 - 900));
    let mut watcher = WsClient::connect(&server, &late_fan).await;
    watcher
        .subscribe(&format!("room:{room}"), None)
        .await
        .expect("subscribe");
    say(&server, &fan, &room, "hello").await.expect_status(201);
    say(&server, &fan, &room, "again")
        .await
        .expect_error(429, "rate_limited");
    say(&server, &agent, &room, "welcome")
        .await
        .expect_status(201);
    let frame = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "message.created"
                && frame["event"]["message"]["body"] == "message welcome"
        })
        .await;
    assert_eq!(frame["topic"], format!("room:{room}"));
    assert_eq!(get(&server, &fan, &id).await["status"], "scheduled");

    // On time: position 0.
    clock.advance(Duration::from_secs(900));
    let on_time = get(&server, &fan, &id).await;
    assert_eq!(on_time["status"], "live");
    assert_eq!(on_time["position_secs"], 0.0);
    assert_eq!(on_time["label"], LABEL);

    // Late: every viewer asking at the same instant gets the same position.
    clock.advance(Duration::from_millis(90_250));
    let (first, second) = (
        get(&server, &fan, &id).await,
        get(&server, &late_fan, &id).await,
    );
    assert_eq!(first["position_secs"], 90.25);
    assert_eq!(second["position_secs"], 90.25);
    assert_eq!(at(&first["server_time"]), clock.now());

    // The rooms' moderation applies: a timed-out fan may not post.
    let timeout = server
        .http()
        .post(
            &format!("/api/v1/rooms/{room}/timeouts"),
            Some(&agent),
            json!({"fan_id": fan_id, "seconds": 600}),
        )
        .await;
    timeout.expect_status(200);
    say(&server, &fan, &room, "after-timeout")
        .await
        .expect_error(403, "forbidden");

    // Once live, the start, duration and video are fixed; the title is not.
    let moved = json!({"starts_at": in_secs(&clock, 3_600).to_string()});
    patch(&server, &owner, &id, moved)
        .await
        .expect_error(409, "conflict");
    patch(&server, &owner, &id, json!({"duration_secs": 1_200}))
        .await
        .expect_error(409, "conflict");
    let renamed = patch(
        &server,
        &owner,
        &id,
        json!({"title": "Album film (director's cut)"}),
    )
    .await;
    renamed.expect_status(200);
    assert_eq!(renamed.json["status"], "live");
    let room_view = server
        .http()
        .get(&format!("/api/v1/rooms/{room}"), Some(&fan))
        .await;
    assert_eq!(room_view.json["title"], "Album film (director's cut)");

    // After the end: ended, no position.
    clock.advance(Duration::from_secs(600));
    let after = get(&server, &late_fan, &id).await;
    assert_eq!(after["status"], "ended");
    assert!(after.get("position_secs").is_none(), "{after}");
    assert_eq!(after["label"], LABEL);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_for_the_owner_and_supervisors_to_make_and_refuse_bad_input() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Fan").await;
    let starts_at = in_secs(&clock, 7_200).to_string();
    let live = json!({"title": "Ask me anything", "kind": "live", "starts_at": starts_at,
                      "duration_secs": 1_800, "qa": true});
    let post = |token: String, body: Value| {
        let server = &server;
        async move {
            server
                .http()
                .post("/api/v1/events", Some(&token), body)
                .await
        }
    };
    post(fan.clone(), live.clone())
        .await
        .expect_error(403, "forbidden");
    post(agent.clone(), live.clone())
        .await
        .expect_error(403, "forbidden");
    let created = post(supervisor.clone(), live.clone()).await;
    created.expect_status(201);
    assert_eq!(created.json["label"], "Live");
    assert_eq!(created.json["qa"], true);
    assert_eq!(created.json["media_url"], Value::Null);
    let id = created.json["id"].as_str().expect("id").to_owned();
    let room = created.json["room_id"].as_str().expect("room").to_owned();

    let refused = [
        (json!({"kind": "premiere"}), "media_url"),
        (
            json!({"kind": "premiere", "media_url": "ftp://cdn.example/v.webm"}),
            "media_url",
        ),
        (json!({"duration_secs": 0}), "duration_secs"),
        (json!({"duration_secs": 86_401}), "duration_secs"),
        (json!({"title": "  "}), "title"),
        (json!({"slow_mode_secs": 3_601}), "slow_mode_secs"),
        (
            json!({"starts_at": in_secs(&clock, -1_800).to_string()}),
            "starts_at",
        ),
    ];
    for (change, field) in refused {
        let mut body = live.clone();
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let reply = post(owner.clone(), body.clone()).await;
        assert_eq!(
            reply.json["error"]["code"],
            "invalid_request",
            "{body}: {}",
            reply.text()
        );
        assert_eq!(
            reply.json["error"]["details"]["field"],
            field,
            "{body}: {}",
            reply.text()
        );
    }
    let mut unknown_kind = live.clone();
    unknown_kind["kind"] = json!("concert");
    let reply = post(owner.clone(), unknown_kind).await;
    assert_eq!(
        reply.json["error"]["code"],
        "invalid_request",
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("kind"), "{}", reply.text());
    let mut extra = live.clone();
    extra["colour"] = json!("red");
    let reply = post(owner.clone(), extra).await;
    assert_eq!(
        reply.json["error"]["code"],
        "invalid_request",
        "{}",
        reply.text()
    );

    server
        .http()
        .get("/api/v1/events/nowhere", Some(&fan))
        .await
        .expect_error(404, "not_found");
    patch(&server, &supervisor, "nowhere", json!({"title": "x"}))
        .await
        .expect_error(404, "not_found");
    patch(&server, &agent, &id, json!({"title": "x"}))
        .await
        .expect_error(403, "forbidden");

    // While scheduled the start moves, and the chat's opening with it.
    let later = in_secs(&clock, 10_800);
    let moved = patch(
        &server,
        &owner,
        &id,
        json!({"starts_at": later.to_string()}),
    )
    .await;
    moved.expect_status(200);
    assert_eq!(at(&moved.json["starts_at"]), later);
    assert_eq!(
        at(&moved.json["chat_opens_at"]),
        in_secs(&clock, 10_800 - 900)
    );
    let room_view = server
        .http()
        .get(&format!("/api/v1/rooms/{room}"), Some(&fan))
        .await;
    assert_eq!(
        at(&room_view.json["opens_at"]),
        in_secs(&clock, 10_800 - 900)
    );
    // Not into the past.
    let past = json!({"starts_at": in_secs(&clock, -60).to_string()});
    let reply = patch(&server, &owner, &id, past).await;
    assert_eq!(
        reply.json["error"]["code"],
        "invalid_request",
        "{}",
        reply.text()
    );
    assert_eq!(reply.json["error"]["details"]["field"], "starts_at");
    // A live event's stream link may be added; it must be a URL.
    let reply = patch(&server, &owner, &id, json!({"media_url": "not a url"})).await;
    assert_eq!(
        reply.json["error"]["details"]["field"],
        "media_url",
        "{}",
        reply.text()
    );
    server.shutdown().await;
}

/// The `Content-Security-Policy` and `Content-Type` of a page of the server.
async fn page_headers(server: &TestServer, path: &str) -> (u16, String, String) {
    let response = reqwest::get(server.url(path)).await.expect("page");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (policy, kind) = (header("content-security-policy"), header("content-type"));
    (response.status().as_u16(), policy, kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fans_event_page_may_load_its_video_from_that_origin_only() {
    let (server, clock) = manual_server().await;
    let body = json!({"title": "Film", "kind": "premiere", "starts_at": in_secs(&clock, 600).to_string(),
                      "duration_secs": 600, "media_url": "https://cdn.example:8443/films/a.webm?t=1"});
    let created = server
        .http()
        .post("/api/v1/events", Some(server.owner_token()), body)
        .await;
    created.expect_status(201);
    let id = created.json["id"].as_str().expect("id");

    let (status, policy, kind) = page_headers(&server, &format!("/events/{id}")).await;
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(
        policy.contains("; media-src 'self' https://cdn.example:8443; "),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
    // No event, or no video: the same page under the policy of every other page.
    for path in ["/events/evt_missing", "/chat"] {
        let (status, policy, _) = page_headers(&server, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!policy.contains("media-src"), "{path}: {policy}");
    }
    let long = format!("/events/{}", "x".repeat(500));
    assert_eq!(page_headers(&server, &long).await.0, 200);
    server.shutdown().await;
}
