//! Scheduled messages (docs/api.md › Scheduled messages) on a manual clock: a local time
//! is each fan's own wall clock — Berlin, New York, Tokyo, Kathmandu (+05:45), Lord Howe
//! (a 30-minute DST shift) and a fan without a zone (the creator's, Berlin) — across the
//! DST changes of spring 2026; quiet hours move a due time to their end; every recipient
//! gets the message once, in their conversation (opened when they had none), marked
//! automated; cancelling stops what is pending; bad input is refused with the field named.

use fandesk_service::{Config, DeskConfig, ManualClock};
use fandesk_testkit::{HttpConfig, TestServer};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const START: &str = "2026-03-27T12:00:00Z";
const BERLIN: &str = "Europe/Berlin";
/// The zones of the fans, by name; `None`: a fan who gave none (the creator's: Berlin).
const ZONES: [(&str, Option<&str>); 6] = [
    ("berlin", Some(BERLIN)),
    ("new_york", Some("America/New_York")),
    ("tokyo", Some("Asia/Tokyo")),
    ("kathmandu", Some("Asia/Kathmandu")),
    ("lord_howe", Some("Australia/Lord_Howe")),
    ("nowhere", None),
];

async fn server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START.parse().expect("start")));
    let month = Duration::from_secs(31 * 24 * 3600);
    let config = Config {
        member_token_ttl: month,
        fan_token_ttl: month,
        desk: DeskConfig::default()
            .with_creator_timezone(BERLIN)
            .expect("zone"),
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

/// A fan per zone, tagged `tour`: name → (token, fan id).
async fn fans(server: &TestServer) -> HashMap<&'static str, (String, String)> {
    let mut fans = HashMap::new();
    for (name, zone) in ZONES {
        let mut request = json!({"display_name": name});
        if let Some(zone) = zone {
            request["timezone"] = json!(zone);
        }
        let reply = server
            .http()
            .post("/api/v1/fan-sessions", None, request)
            .await;
        reply.expect_status(201);
        let token = reply.json["token"].as_str().expect("token").to_owned();
        let id = reply.json["fan"]["id"].as_str().expect("id").to_owned();
        server
            .http()
            .request(
                reqwest::Method::PATCH,
                &format!("/api/v1/fans/{id}"),
                Some(server.owner_token()),
                Some(fandesk_testkit::Body::Json(json!({"tags": ["tour"]}))),
            )
            .await
            .expect_status(200);
        fans.insert(name, (token, id));
    }
    fans
}

async fn create(server: &TestServer, request: Value) -> String {
    let reply = server
        .http()
        .post(
            "/api/v1/scheduled-messages",
            Some(server.owner_token()),
            request,
        )
        .await;
    reply.expect_status(201);
    assert_eq!(reply.json["status"], "scheduled", "{}", reply.text());
    reply.json["id"].as_str().expect("id").to_owned()
}

async fn message(server: &TestServer, id: &str) -> Value {
    let reply = server
        .http()
        .get(
            &format!("/api/v1/scheduled-messages/{id}"),
            Some(server.owner_token()),
        )
        .await;
    reply.expect_status(200);
    reply.json
}

/// Fan id → its recipient row.
pub async fn deliveries(
    server: &fandesk_testkit::HttpClient,
    owner: &str,
    id: &str,
) -> HashMap<String, Value> {
    let mut rows = HashMap::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/v1/scheduled-messages/{id}/deliveries?limit=1000&after={after}");
        let reply = server.get(&path, Some(owner)).await;
        reply.expect_status(200);
        let page = reply.json["deliveries"].as_array().cloned().expect("page");
        let Some(last) = page.last() else {
            return rows;
        };
        after = last["fan_id"].as_str().expect("fan id").to_owned();
        for row in page {
            rows.insert(row["fan_id"].as_str().expect("fan id").to_owned(), row);
        }
    }
}

/// Runs due jobs until `sent` recipients of `id` are sent and none is due any more.
async fn settle(server: &TestServer, id: &str, sent: i64) {
    for _ in 0..200 {
        server.app().run_due_jobs().await.expect("jobs");
        let view = message(server, id).await;
        if view["sent"] == sent {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id}: {sent} never sent: {}", message(server, id).await);
}

/// The fan's copies of `body` across their conversations, as the fan sees them.
async fn received(server: &TestServer, token: &str, body: &str) -> Vec<Value> {
    let list = server
        .http()
        .get("/api/v1/conversations", Some(token))
        .await;
    list.expect_status(200);
    let mut found = Vec::new();
    for conversation in list.json["conversations"].as_array().expect("list") {
        let id = conversation["id"].as_str().expect("id");
        let history = server.history(token, id).await;
        found.extend(
            history
                .into_iter()
                .filter(|message| message["body"] == body),
        );
    }
    found
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("timestamp")
}

async fn advance_to(clock: &ManualClock, to: &str) {
    let now = fandesk_service::Clock::now(clock);
    let step = at(to).duration_since(now);
    clock.advance(Duration::try_from(step).expect("forward"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_time_is_each_fans_own_across_dst_and_quiet_hours() {
    let (server, clock) = server().await;
    let fans = fans(&server).await;
    // One fan already talks to the team: the message goes into that conversation.
    let (berlin_token, _) = &fans["berlin"];
    let existing = server.open_conversation(berlin_token).await;

    // 02:30 on 29 March: Berlin springs forward 02:00 → 03:00 that night, so 02:30 does
    // not exist there and becomes 03:30 CEST; New York is on EDT since 8 March; Lord Howe
    // is still on its summer +11.
    let spring = json!({"body": "Tour news!", "audience": {"tags": ["tour"]},
        "local": {"date": "2026-03-29", "time": "02:30"}});
    let preview = server
        .http()
        .post(
            "/api/v1/scheduled-messages/preview",
            Some(server.owner_token()),
            spring.clone(),
        )
        .await;
    preview.expect_status(200);
    assert_eq!(preview.json["recipients"], 6);
    let zones: Vec<(String, String, i64)> = preview.json["zones"]
        .as_array()
        .expect("zones")
        .iter()
        .map(|zone| {
            (
                zone["time_zone"].as_str().expect("zone").to_owned(),
                zone["due_at"].as_str().expect("due").to_owned(),
                zone["recipients"].as_i64().expect("count"),
            )
        })
        .collect();
    let expected = [
        ("Australia/Lord_Howe", "2026-03-28T15:30:00Z", 1),
        ("Asia/Tokyo", "2026-03-28T17:30:00Z", 1),
        ("Asia/Kathmandu", "2026-03-28T20:45:00Z", 1),
        (BERLIN, "2026-03-29T01:30:00Z", 2),
        ("America/New_York", "2026-03-29T06:30:00Z", 1),
    ];
    let expected: Vec<(String, String, i64)> = expected
        .iter()
        .map(|(zone, due, count)| ((*zone).to_owned(), (*due).to_owned(), *count))
        .collect();
    assert_eq!(zones, expected, "{}", preview.text());
    assert_eq!(preview.json["zones"][3]["local_due"], "2026-03-29T03:30");
    let spring_id = create(&server, spring).await;

    // 01:45 on 5 April: Lord Howe falls back 02:00 → 01:30 that night, so 01:45 happens
    // twice there; the first (+11) is taken.
    let fold_id = create(
        &server,
        json!({"body": "Fold", "audience": {"tags": ["tour"]},
            "local": {"date": "2026-04-05", "time": "01:45"}}),
    )
    .await;
    // 21:00 UTC on 28 March with quiet hours 22:00–08:00: 22:00 in Berlin and 06:00 in
    // Tokyo and 02:45 in Kathmandu are quiet (moved to 08:00 local; Berlin's morning is
    // already CEST), New York's 17:00 is not, Lord Howe's 08:00 is the end (not quiet).
    let quiet_id = create(
        &server,
        json!({"body": "Quiet", "audience": {"tags": ["tour"]},
            "at": "2026-03-28T21:00:00Z", "quiet_hours": {"start": "22:00", "end": "08:00"}}),
    )
    .await;

    let due = |rows: &HashMap<String, Value>, fan: &str| -> String {
        rows[&fans[fan].1]["due_at"]
            .as_str()
            .expect("due")
            .to_owned()
    };
    let owner = server.owner_token().to_owned();
    let fold = deliveries(server.http(), &owner, &fold_id).await;
    for (fan, expected) in [
        ("lord_howe", "2026-04-04T14:45:00Z"),
        ("tokyo", "2026-04-04T16:45:00Z"),
        ("kathmandu", "2026-04-04T20:00:00Z"),
        ("berlin", "2026-04-04T23:45:00Z"),
        ("nowhere", "2026-04-04T23:45:00Z"),
        ("new_york", "2026-04-05T05:45:00Z"),
    ] {
        assert_eq!(due(&fold, fan), expected, "fold: {fan}");
    }
    let quiet = deliveries(server.http(), &owner, &quiet_id).await;
    for (fan, expected) in [
        ("new_york", "2026-03-28T21:00:00Z"),
        ("lord_howe", "2026-03-28T21:00:00Z"),
        ("tokyo", "2026-03-28T23:00:00Z"),
        ("kathmandu", "2026-03-29T02:15:00Z"),
        ("berlin", "2026-03-29T06:00:00Z"),
    ] {
        assert_eq!(due(&quiet, fan), expected, "quiet: {fan}");
    }
    assert_eq!(quiet[&fans["nowhere"].1]["time_zone"], BERLIN);

    // Nothing before its time; Lord Howe first, then the rest, each once.
    server.app().run_due_jobs().await.expect("jobs");
    assert_eq!(message(&server, &spring_id).await["sent"], 0);
    advance_to(&clock, "2026-03-28T15:30:00Z").await;
    settle(&server, &spring_id, 1).await;
    let (lord_howe, _) = &fans["lord_howe"];
    assert_eq!(received(&server, lord_howe, "Tour news!").await.len(), 1);
    assert!(
        received(&server, &fans["tokyo"].0, "Tour news!")
            .await
            .is_empty()
    );
    let view = message(&server, &spring_id).await;
    assert_eq!(view["status"], "sending");
    assert_eq!(view["pending"], 5);

    advance_to(&clock, "2026-03-29T06:30:00Z").await;
    settle(&server, &spring_id, 6).await;
    settle(&server, &quiet_id, 6).await;
    server.app().run_due_jobs().await.expect("again");
    assert_eq!(message(&server, &spring_id).await["status"], "sent");
    for (name, (token, _)) in &fans {
        for body in ["Tour news!", "Quiet"] {
            let copies = received(&server, token, body).await;
            assert_eq!(copies.len(), 1, "{name}: {body} {copies:?}");
            assert_eq!(copies[0]["automated"], true, "{name}");
            assert_eq!(copies[0]["visibility"], "public");
        }
    }
    // The fan who had a conversation got it there; the others in a new pending one.
    let spring_rows = deliveries(server.http(), &owner, &spring_id).await;
    assert_eq!(
        spring_rows[&fans["berlin"].1]["conversation_id"],
        existing.as_str()
    );
    let tokyo_conversation = spring_rows[&fans["tokyo"].1]["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let opened = server
        .http()
        .get(
            &format!("/api/v1/conversations/{tokyo_conversation}"),
            Some(&owner),
        )
        .await;
    assert_eq!(opened.json["status"], "pending", "{}", opened.text());
    assert!(
        opened.json["assignee_id"].is_null(),
        "a broadcast claims nothing"
    );
    assert!(
        spring_rows
            .values()
            .all(|row| row["status"] == "sent" && row["message_id"].is_string())
    );
    // A broadcast is outside the bot rules: a bot may still answer after it (once; a
    // second automated message in a row is refused as ever).
    let (bot, _) = server.create_member("bot").await;
    server
        .post_message(&bot, &tokyo_conversation, "b1", "Any questions?", None)
        .await
        .expect_status(201);
    server
        .post_message(&bot, &tokyo_conversation, "b2", "Hello?", None)
        .await
        .expect_error(422, "bot_rule_violation");

    // The fold message is still to come, for everyone.
    let view = message(&server, &fold_id).await;
    assert_eq!(
        (view["sent"].as_i64(), view["pending"].as_i64()),
        (Some(0), Some(6))
    );
    advance_to(&clock, "2026-04-05T06:00:00Z").await;
    settle(&server, &fold_id, 6).await;
    assert_eq!(received(&server, lord_howe, "Fold").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_what_is_pending() {
    let (server, clock) = server().await;
    let fans = fans(&server).await;
    let id = create(
        &server,
        json!({"body": "Doors open", "audience": {"tags": ["tour"]},
            "local": {"date": "2026-03-28", "time": "09:00"}}),
    )
    .await;
    // 09:00 in Tokyo is 00:00 UTC: Tokyo and Lord Howe (22:00 UTC the day before) get it.
    advance_to(&clock, "2026-03-28T00:30:00Z").await;
    settle(&server, &id, 2).await;
    let (agent, _) = server.create_member("agent").await;
    let path = format!("/api/v1/scheduled-messages/{id}");
    server
        .http()
        .delete(&path, Some(&agent))
        .await
        .expect_error(403, "forbidden");
    let cancelled = server
        .http()
        .delete(&path, Some(server.owner_token()))
        .await;
    cancelled.expect_status(200);
    assert_eq!(cancelled.json["status"], "cancelled");
    assert_eq!(cancelled.json["cancelled"], 4);
    assert_eq!(cancelled.json["sent"], 2);
    // Again: unchanged.
    let again = server
        .http()
        .delete(&path, Some(server.owner_token()))
        .await;
    again.expect_status(200);
    assert_eq!(again.json["cancelled"], 4);
    advance_to(&clock, "2026-03-29T12:00:00Z").await;
    server.app().run_due_jobs().await.expect("jobs");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.app().run_due_jobs().await.expect("jobs");
    assert_eq!(message(&server, &id).await["sent"], 2);
    assert!(
        received(&server, &fans["berlin"].0, "Doors open")
            .await
            .is_empty()
    );
    assert_eq!(
        received(&server, &fans["tokyo"].0, "Doors open")
            .await
            .len(),
        1
    );
    let rows = deliveries(server.http(), server.owner_token(), &id).await;
    assert_eq!(rows[&fans["new_york"].1]["status"], "cancelled");
    assert!(rows[&fans["new_york"].1]["message_id"].is_null());
    let listed = server
        .http()
        .get("/api/v1/scheduled-messages", Some(server.owner_token()))
        .await;
    listed.expect_status(200);
    assert_eq!(listed.json["scheduled_messages"][0]["id"], id.as_str());
    assert_eq!(listed.json["scheduled_messages"][0]["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_the_field_named() {
    let (server, _clock) = server().await;
    let fans = fans(&server).await;
    let fan = fans["tokyo"].1.clone();
    let owner = server.owner_token().to_owned();
    let post = |body: Value| {
        let http = server.http().clone();
        let owner = owner.clone();
        async move {
            http.post("/api/v1/scheduled-messages", Some(&owner), body)
                .await
        }
    };
    let at = "2026-03-28T10:00:00Z";
    for (body, field) in [
        (json!({"audience": {"all": true}, "at": at}), "body"),
        (
            json!({"body": "  ", "audience": {"all": true}, "at": at}),
            "body",
        ),
        (json!({"body": "x", "at": at}), "audience"),
        (json!({"body": "x", "audience": {}, "at": at}), "audience"),
        (
            json!({"body": "x", "audience": {"tags": ["nobody-has-it"]}, "at": at}),
            "audience",
        ),
        (
            json!({"body": "x", "audience": {"fan_ids": ["fan_missing"]}, "at": at}),
            "audience.fan_ids",
        ),
        (
            json!({"body": "x", "audience": {"tags": ["no spaces"]}, "at": at}),
            "audience.tags",
        ),
        (json!({"body": "x", "audience": {"all": true}}), "at"),
        (
            json!({"body": "x", "audience": {"all": true}, "at": at,
            "local": {"date": "2026-03-28", "time": "09:00"}}),
            "at",
        ),
        (
            json!({"body": "x", "audience": {"all": true}, "at": "2027-06-01T00:00:00Z"}),
            "at",
        ),
        (
            json!({"body": "x", "audience": {"all": true},
            "local": {"date": "2026-02-30", "time": "09:00"}}),
            "local.date",
        ),
        (
            json!({"body": "x", "audience": {"all": true},
            "local": {"date": "2026-03-20", "time": "09:00"}}),
            "local.date",
        ),
        (
            json!({"body": "x", "audience": {"all": true},
            "local": {"date": "2026-03-28", "time": "24:00"}}),
            "local.time",
        ),
        (
            json!({"body": "x", "audience": {"all": true}, "local": {"date": "2026-03-28"}}),
            "local.time",
        ),
        (
            json!({"body": "x", "audience": {"all": true}, "at": at,
            "quiet_hours": {"start": "08:00", "end": "08:00"}}),
            "quiet_hours.end",
        ),
        (
            json!({"body": "x", "audience": {"all": true}, "at": at,
            "quiet_hours": {"start": "8:00", "end": "09:00"}}),
            "quiet_hours.start",
        ),
    ] {
        let reply = post(body.clone()).await;
        reply.expect_error(422, "invalid_request");
        assert_eq!(
            reply.json["error"]["details"]["field"],
            field,
            "{body}: {}",
            reply.text()
        );
    }
    // Unknown fields are refused too; a fan id that exists is fine.
    post(json!({"body": "x", "audience": {"all": true, "everyone": true}, "at": at}))
        .await
        .expect_status(422);
    let one = post(json!({"body": "Just you", "audience": {"fan_ids": [fan]}, "at": at})).await;
    one.expect_status(201);
    assert_eq!(one.json["recipients"], 1);
    // Agents, bots and fans may not schedule; an unknown message is 404.
    let (agent, _) = server.create_member("agent").await;
    server
        .http()
        .post("/api/v1/scheduled-messages", Some(&agent), json!({}))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .post(
            "/api/v1/scheduled-messages",
            Some(&fans["tokyo"].0),
            json!({}),
        )
        .await
        .expect_status(403);
    server
        .http()
        .get("/api/v1/scheduled-messages/smsg_nope", Some(&owner))
        .await
        .expect_error(404, "not_found");
}
