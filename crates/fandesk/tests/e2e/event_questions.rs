//! An event's Q&A end to end (docs/api.md › Events › Q&A), on a manual clock: asking
//! (idempotent, slow mode, events without questions), upvoting once per fan, the team's
//! answer / pin / hide, both orders, and the topic `event:{id}` live and on resume with a
//! dense `seq` — a hidden question's text never reaches a fan afterwards, in raw
//! WebSocket bytes or REST answers (canary scan), while the team still sees it.

use fandesk_service::{Clock, Config, ManualClock};
use fandesk_testkit::{DEFAULT_TIMEOUT, Reply, TestServer, WsClient};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn manual_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let week = Duration::from_secs(7 * 24 * 3600);
    // Upvotes reach `event:{id}` with the question's next entry: here the team's action
    // on it, the tally being an hour away, so the entries below are the same every run
    // (the tally itself: `fandesk-service` event::tally_tests).
    let config = Config {
        member_token_ttl: week,
        fan_token_ttl: week,
        question_tally: Duration::from_secs(3_600),
        ..Config::default()
    };
    let server = TestServer::spawn_service(
        fandesk_testkit::HttpConfig::default(),
        config,
        clock.clone(),
    )
    .await;
    (server, clock)
}

/// A live event starting in a minute (its chat is open), taking questions.
async fn live_event(server: &TestServer, clock: &ManualClock, extra: Value) -> String {
    let starts_at = clock.now() + SignedDuration::from_secs(60);
    let mut body = json!({"title": "Ask me anything", "kind": "live", "qa": true,
        "starts_at": starts_at.to_string(), "duration_secs": 3600});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = server
        .http()
        .post("/api/v1/events", Some(server.owner_token()), body)
        .await;
    created.expect_status(201);
    created.json["id"].as_str().expect("id").to_owned()
}

async fn ask(server: &TestServer, token: &str, event: &str, key: &str, body: &str) -> Reply {
    let path = format!("/api/v1/events/{event}/questions");
    server
        .http()
        .post(
            &path,
            Some(token),
            json!({"client_msg_id": key, "body": body}),
        )
        .await
}

async fn act(server: &TestServer, token: &str, event: &str, question: &str, what: &str) -> Reply {
    let path = format!("/api/v1/events/{event}/questions/{question}/{what}");
    server.http().post_empty(&path, Some(token)).await
}

async fn list(server: &TestServer, token: &str, event: &str, order: &str) -> Reply {
    let path = format!("/api/v1/events/{event}/questions?order={order}");
    let reply = server.http().get(&path, Some(token)).await;
    reply.expect_status(200);
    reply
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.json["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every `event:` frame received until `count` timeline frames have arrived: (seq, event).
async fn timeline(client: &mut WsClient, topic: &str, count: usize) -> Vec<(u64, Value)> {
    let mut frames = Vec::new();
    while frames.len() < count {
        let frame = client
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["type"] == "event" && frame["topic"] == topic
            })
            .await;
        let seq = frame["seq"].as_u64().expect("a timeline frame has a seq");
        frames.push((seq, frame["event"].clone()));
    }
    frames
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_are_asked_upvoted_moderated_and_hidden_ones_never_reach_fans() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (agent, _) = server.create_member("agent").await;
    let (ada, _) = server.fan_session("Ada").await;
    let (bo, _) = server.fan_session("Bo").await;
    let event = live_event(&server, &clock, json!({})).await;
    let topic = format!("event:{event}");
    let canary = format!("CANARY-{}", uuid::Uuid::now_v7().simple());

    // Bo and the team follow the topic live.
    let mut live_fan = WsClient::connect(&server, &bo).await;
    live_fan
        .subscribe(&topic, None)
        .await
        .expect("fan subscribes");
    let mut team = WsClient::connect(&server, &agent).await;
    team.subscribe(&topic, None).await.expect("team subscribes");

    let first = ask(&server, &ada, &event, "a1", "  Will you tour?  ").await;
    first.expect_status(201);
    assert_eq!(first.json["body"], "Will you tour?");
    assert_eq!(first.json["upvotes"], 0);
    assert_eq!(first.json["state"], "open");
    assert!(first.json.get("fan_id").is_none(), "{}", first.json);
    let tour = first.json["id"].as_str().expect("id").to_owned();
    let again = ask(&server, &ada, &event, "a1", "Will you tour?").await;
    again.expect_status(200);
    assert_eq!(again.json["id"], tour.as_str());
    let hidden = ask(&server, &bo, &event, "b1", &format!("{canary} rude words")).await;
    hidden.expect_status(201);
    let hidden = hidden.json["id"].as_str().expect("id").to_owned();
    let third = ask(&server, &bo, &event, "b2", "New album when?").await;
    third.expect_status(201);
    let album = third.json["id"].as_str().expect("id").to_owned();

    // Upvotes: once per fan; repeats change nothing.
    let path = format!("/api/v1/events/{event}/questions/{tour}/upvote");
    let up = server.http().post_empty(&path, Some(&bo)).await;
    up.expect_status(201);
    assert_eq!(up.json["upvotes"], 1);
    let repeat = server.http().post_empty(&path, Some(&bo)).await;
    repeat.expect_status(200);
    assert_eq!(repeat.json["upvotes"], 1);
    server
        .http()
        .post_empty(&path, Some(&ada))
        .await
        .expect_status(201);
    server
        .http()
        .post_empty(&path, Some(&agent))
        .await
        .expect_error(403, "forbidden");

    // The team hides the canary and answers and pins; fans may not.
    act(&server, &ada, &event, &hidden, "hide")
        .await
        .expect_error(403, "forbidden");
    // Live, Bo saw the question before it was hidden: read those 3 entries (the asks; the
    // upvotes take none of their own) so that only what follows the hide is scanned.
    let mut fan_frames = timeline(&mut live_fan, &topic, 3).await;
    let bytes_before_hide = live_fan.received().len();
    let hid = act(&server, &agent, &event, &hidden, "hide").await;
    hid.expect_status(200);
    assert_eq!(hid.json["state"], "hidden");
    act(&server, &owner, &event, &tour, "answer")
        .await
        .expect_status(200);
    act(&server, &owner, &event, &album, "pin")
        .await
        .expect_status(200);
    act(&server, &owner, &event, &hidden, "pin")
        .await
        .expect_error(409, "conflict");
    let hidden_upvote = format!("/api/v1/events/{event}/questions/{hidden}/upvote");
    server
        .http()
        .post_empty(&hidden_upvote, Some(&ada))
        .await
        .expect_error(404, "not_found");

    // Live: the fan's numbering is dense; the hide reached them as a removal only.
    // Entries: 3 asks, hide, answer (with the 2 upvotes), pin = 6.
    fan_frames.extend(timeline(&mut live_fan, &topic, 3).await);
    assert_eq!(
        fan_frames.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    assert_eq!(
        fan_frames[3].1,
        json!({"kind": "question.removed", "question_id": hidden})
    );
    assert_eq!(fan_frames[4].1["question"]["upvotes"], 2);
    assert!(!contains(
        &live_fan.received()[bytes_before_hide..],
        &canary
    ));
    let team_frames = timeline(&mut team, &topic, 6).await;
    assert_eq!(team_frames[3].1["kind"], "question.updated");
    assert_eq!(team_frames[3].1["question"]["state"], "hidden");
    assert_eq!(team_frames[5].1["question"]["state"], "pinned");

    // REST: fans never list it, in either order; the team does.
    let top = list(&server, &ada, &event, "top").await;
    assert_eq!(ids(&top), vec![tour.clone(), album.clone()]);
    assert_eq!(top.json["questions"][0]["upvotes"], 2);
    assert_eq!(top.json["questions"][0]["state"], "answered");
    assert_eq!(top.json["questions"][0]["upvoted"], true);
    assert_eq!(top.json["questions"][1]["upvoted"], false);
    let new = list(&server, &bo, &event, "new").await;
    assert_eq!(ids(&new), vec![album.clone(), tour.clone()]);
    for reply in [&top, &new] {
        assert!(!reply.text().contains(&canary), "{}", reply.text());
    }
    let team_list = list(&server, &agent, &event, "new").await;
    assert_eq!(
        ids(&team_list),
        vec![album.clone(), hidden.clone(), tour.clone()]
    );
    assert!(
        team_list.text().contains(&canary),
        "the test can see the canary"
    );

    // A fan resuming from the start: dense, and the canary nowhere in the raw bytes.
    let (carl, _) = server.fan_session("Carl").await;
    let mut resumed = WsClient::connect(&server, &carl).await;
    resumed.subscribe(&topic, Some(0)).await.expect("resume");
    let replayed = timeline(&mut resumed, &topic, 6).await;
    assert_eq!(
        replayed.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
    assert_eq!(
        replayed[1].1,
        json!({"kind": "question.removed", "question_id": hidden})
    );
    let tail = resumed.drain(Duration::from_millis(200)).await;
    assert!(tail.is_empty(), "nothing more: {tail:?}");
    assert!(!contains(resumed.received(), &canary));
    // The team's replay still carries the text (so the scan above could fail).
    let mut team_resumed = WsClient::connect(&server, &owner).await;
    team_resumed
        .subscribe(&topic, Some(1))
        .await
        .expect("resume");
    let team_replay = timeline(&mut team_resumed, &topic, 5).await;
    assert_eq!(team_replay[0].0, 2);
    assert!(contains(team_resumed.received(), &canary));
    // A resume past the end is refused.
    let mut ahead = WsClient::connect(&server, &carl).await;
    let refused = ahead
        .subscribe(&topic, Some(7))
        .await
        .expect_err("past the end");
    assert_eq!(refused["code"], "invalid_request");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_follows_slow_mode_and_refuses_what_it_must() {
    let (server, clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (ada, _) = server.fan_session("Ada").await;
    let event = live_event(&server, &clock, json!({"slow_mode_secs": 30})).await;

    ask(&server, &ada, &event, "q1", "First?")
        .await
        .expect_status(201);
    let slow = ask(&server, &ada, &event, "q2", "Second?").await;
    slow.expect_error(429, "rate_limited");
    clock.advance(Duration::from_secs(30));
    ask(&server, &ada, &event, "q2", "Second?")
        .await
        .expect_status(201);

    // Bad input, named.
    for (body, field) in [
        (json!({"client_msg_id": "q3", "body": "   "}), "body"),
        (
            json!({"client_msg_id": "q3", "body": "x".repeat(501)}),
            "body",
        ),
        (
            json!({"client_msg_id": "", "body": "Why?"}),
            "client_msg_id",
        ),
    ] {
        let path = format!("/api/v1/events/{event}/questions");
        let reply = server.http().post(&path, Some(&ada), body).await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        assert!(reply.text().contains(field), "{}", reply.text());
    }
    let path = format!("/api/v1/events/{event}/questions");
    let unknown = json!({"client_msg_id": "q4", "body": "Why?", "pinned": true});
    let reply = server.http().post(&path, Some(&ada), unknown).await;
    assert!(matches!(reply.status, 400 | 422), "{}", reply.text());
    let bad_order = server
        .http()
        .get(&format!("{path}?order=hot"), Some(&ada))
        .await;
    assert!(
        matches!(bad_order.status, 400 | 422),
        "{}",
        bad_order.text()
    );

    // Members do not ask; an event without Q&A takes no questions; a missing event is 404.
    ask(&server, &owner, &event, "m1", "Me?")
        .await
        .expect_error(403, "forbidden");
    let quiet = live_event(&server, &clock, json!({"qa": false})).await;
    ask(&server, &ada, &quiet, "q5", "Anyone?")
        .await
        .expect_error(409, "conflict");
    ask(&server, &ada, "nowhere", "q6", "Hello?")
        .await
        .expect_error(404, "not_found");
    let missing = format!("/api/v1/events/{event}/questions/nowhere/answer");
    server
        .http()
        .post_empty(&missing, Some(&owner))
        .await
        .expect_error(404, "not_found");
    server.shutdown().await;
}
