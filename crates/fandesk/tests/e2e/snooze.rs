//! Snoozing through a real server (docs/api.md › Snooze): the refusals, the wake-up at its
//! time on a manual clock (a replaced snooze's timer doing nothing), the wake-up when the
//! fan writes (back to the queue when unassigned), and fans never shown any of it — their
//! raw WebSocket frames and every byte of their REST answers scanned.

use super::desk::{say, settle};
use super::support::contains;
use fandesk_service::{Config, ManualClock};
use fandesk_testkit::{HttpConfig, TestServer, WsClient};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn server_on_manual_clock() -> (TestServer, Arc<ManualClock>) {
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

fn later(clock: &ManualClock, minutes: i64) -> String {
    use fandesk_service::Clock;
    (clock.now() + SignedDuration::from_mins(minutes)).to_string()
}

async fn snooze(server: &TestServer, token: &str, id: &str, until: &str) -> fandesk_testkit::Reply {
    let path = format!("/api/v1/conversations/{id}/snooze");
    server
        .http()
        .post(&path, Some(token), json!({"until": until}))
        .await
}

async fn conversation(server: &TestServer, token: &str, id: &str) -> Value {
    let reply = server
        .http()
        .get(&format!("/api/v1/conversations/{id}"), Some(token))
        .await;
    reply.expect_status(200);
    reply.json.clone()
}

/// Waits (bounded) until the team sees `status`; the scheduler runs the due job on its
/// own task once the manual clock moves.
async fn wait_status(server: &TestServer, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        server.app().run_due_jobs().await.expect("jobs run");
        let seen = conversation(server, server.owner_token(), id).await;
        if seen["status"] == status {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("conversation {id} never became {status}");
}

async fn assign(server: &TestServer, id: &str, member: &str) {
    let path = format!("/api/v1/conversations/{id}/assign");
    server
        .http()
        .post(
            &path,
            Some(server.owner_token()),
            json!({"member_id": member}),
        )
        .await
        .expect_status(200);
}

fn internal_count(server_history: &[Value]) -> usize {
    server_history
        .iter()
        .filter(|message| message["visibility"] == "internal")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snooze_is_validated_and_refused_where_the_rules_say() {
    let (server, clock) = server_on_manual_clock().await;
    let (agent, agent_id) = server.create_member("agent").await;
    let (other, _) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Snooze Fan").await;
    let id = server.open_conversation(&fan).await;
    assign(&server, &id, &agent_id).await;

    // The time: in the future, at most 30 days ahead, RFC 3339.
    let past = (Timestamp::now() - SignedDuration::from_mins(1)).to_string();
    let reply = snooze(&server, &agent, &id, &later(&clock, -1)).await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "until");
    snooze(&server, &agent, &id, &past)
        .await
        .expect_error(422, "invalid_request");
    snooze(&server, &agent, &id, &later(&clock, 30 * 24 * 60 + 1))
        .await
        .expect_error(422, "invalid_request");
    let unreadable = snooze(&server, &agent, &id, "tomorrow").await;
    unreadable.expect_error(422, "invalid_request");
    assert_eq!(unreadable.json["error"]["details"]["field"], "until");
    // Another agent's conversation; a fan.
    snooze(&server, &other, &id, &later(&clock, 60))
        .await
        .expect_error(403, "forbidden");
    snooze(&server, &fan, &id, &later(&clock, 60))
        .await
        .expect_error(403, "forbidden");
    // Nothing was scheduled by the refusals.
    assert_eq!(conversation(&server, &agent, &id).await["status"], "open");
    // A supervisor may; 30 days exactly is the limit.
    let (supervisor, _) = server.create_member("supervisor").await;
    let snoozed = snooze(&server, &supervisor, &id, &later(&clock, 30 * 24 * 60)).await;
    snoozed.expect_status(200);
    assert_eq!(snoozed.json["status"], "snoozed");
    // Resolved: 409.
    server
        .http()
        .post_empty(&format!("/api/v1/conversations/{id}/resolve"), Some(&agent))
        .await
        .expect_status(200);
    snooze(&server, &agent, &id, &later(&clock, 60))
        .await
        .expect_error(409, "conflict");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snooze_wakes_at_its_time_and_fans_never_see_it() {
    let (server, clock) = server_on_manual_clock().await;
    let (agent, agent_id) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Sleepy Fan").await;
    let id = server.open_conversation(&fan).await;
    let mut fan_socket = WsClient::connect(&server, &fan).await;
    fan_socket
        .subscribe(&format!("conversation:{id}"), None)
        .await
        .expect("the fan follows their conversation");
    say(&server, &fan, &id, "my order is late").await;
    assign(&server, &id, &agent_id).await;
    say(&server, &agent, &id, "I'll check with the warehouse").await;
    settle(&server).await;

    let first = later(&clock, 60);
    let reply = snooze(&server, &agent, &id, &first).await;
    reply.expect_status(200);
    assert_eq!(reply.json["status"], "snoozed");
    let until: Timestamp = reply.json["snoozed_until"]
        .as_str()
        .expect("snoozed_until")
        .parse()
        .unwrap();
    assert_eq!(until, first.parse::<Timestamp>().unwrap());
    // Snoozed again, for later: the first timer must do nothing.
    let second = later(&clock, 180);
    snooze(&server, &agent, &id, &second)
        .await
        .expect_status(200);
    // Listed as snoozed for the team; open for the fan.
    let listed = server
        .http()
        .get("/api/v1/conversations?status=snoozed", Some(&agent))
        .await;
    listed.expect_status(200);
    assert!(
        listed.json["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
    );
    let mut fan_bytes = Vec::new();
    let fan_view = server
        .http()
        .get(&format!("/api/v1/conversations/{id}"), Some(&fan))
        .await;
    assert_eq!(fan_view.json["status"], "open");
    fan_bytes.extend_from_slice(&fan_view.bytes);
    for status in ["open", "snoozed"] {
        let listed = server
            .http()
            .get(
                &format!("/api/v1/conversations?status={status}"),
                Some(&fan),
            )
            .await;
        listed.expect_status(200);
        let ids: Vec<&str> = listed.json["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids == [id.as_str()], status == "open", "{status}: {ids:?}");
        fan_bytes.extend_from_slice(&listed.bytes);
    }

    // 61 minutes: the first snooze's time, replaced — still snoozed.
    clock.advance(Duration::from_secs(61 * 60));
    server.app().run_due_jobs().await.expect("jobs run");
    settle(&server).await;
    assert_eq!(
        conversation(&server, &agent, &id).await["status"],
        "snoozed"
    );
    // 179 minutes: not yet.
    clock.advance(Duration::from_secs(118 * 60));
    server.app().run_due_jobs().await.expect("jobs run");
    assert_eq!(
        conversation(&server, &agent, &id).await["status"],
        "snoozed"
    );
    // 181 minutes: awake, still the agent's.
    clock.advance(Duration::from_secs(2 * 60));
    let woken = wait_status(&server, &id, "open").await;
    assert_eq!(woken["assignee_id"], agent_id.as_str());
    assert!(woken["snoozed_until"].is_null());
    let mine = server
        .http()
        .get(
            &format!("/api/v1/conversations?status=open&assignee_id={agent_id}"),
            Some(&agent),
        )
        .await;
    assert!(
        mine.json["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
    );
    // The team's timeline records both snoozes and the wake-up, once.
    let team = server.history(&agent, &id).await;
    let bodies: Vec<&str> = team.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(
        bodies
            .iter()
            .filter(|b| b.starts_with("Snoozed by"))
            .count(),
        2,
        "{bodies:?}"
    );
    assert_eq!(
        bodies
            .iter()
            .filter(|b| b.starts_with("Snooze ended"))
            .count(),
        1,
        "{bodies:?}"
    );
    assert!(internal_count(&team) >= 3);

    // The fan: their messages and the agent's reply, and not one byte about the snooze.
    say(&server, &agent, &id, "Good news: it shipped").await;
    let (history, bytes) = server.history_with_bytes(&fan, &id).await;
    fan_bytes.extend_from_slice(&bytes);
    assert_eq!(internal_count(&history), 0);
    assert_eq!(history.len(), 3, "{history:?}");
    fan_socket.drain(Duration::from_millis(300)).await;
    fan_bytes.extend_from_slice(fan_socket.received());
    assert!(
        contains(fan_socket.received(), "Good news: it shipped"),
        "the fan's socket is live"
    );
    for needle in ["snooz", "Snooz", "SNOOZ", "wake", "Wake", "until"] {
        assert!(!contains(&fan_bytes, needle), "the fan received {needle:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fan_writing_wakes_it_back_into_the_queue() {
    let (server, clock) = server_on_manual_clock().await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Eager Fan").await;
    let id = server.open_conversation(&fan).await;
    let mut fan_socket = WsClient::connect(&server, &fan).await;
    fan_socket
        .subscribe(&format!("conversation:{id}"), None)
        .await
        .expect("subscribed");
    say(&server, &fan, &id, "hello?").await;
    settle(&server).await;
    let snoozed = snooze(&server, &supervisor, &id, &later(&clock, 24 * 60)).await;
    snoozed.expect_status(200);
    assert!(snoozed.json["assignee_id"].is_null());
    // Out of the queue while snoozed.
    let queue = |server: &TestServer| {
        let supervisor = supervisor.clone();
        let server_http = server.http().clone();
        async move {
            let reply = server_http.get("/api/v1/queue", Some(&supervisor)).await;
            reply.expect_status(200);
            reply.json.to_string()
        }
    };
    assert!(!queue(&server).await.contains(&id));
    say(&server, &fan, &id, "still there?").await;
    settle(&server).await;
    let woken = conversation(&server, &supervisor, &id).await;
    assert_eq!(woken["status"], "open");
    assert!(woken["snoozed_until"].is_null());
    assert!(queue(&server).await.contains(&id), "back in the queue");
    // Its timer, when it comes, finds nothing to do.
    clock.advance(Duration::from_secs(25 * 3600));
    server.app().run_due_jobs().await.expect("jobs run");
    settle(&server).await;
    let team = server.history(&supervisor, &id).await;
    assert!(
        !team.iter().any(|m| m["body"]
            .as_str()
            .is_some_and(|b| b.starts_with("Snooze ended"))),
        "{team:?}"
    );
    fan_socket.drain(Duration::from_millis(300)).await;
    let (_, bytes) = server.history_with_bytes(&fan, &id).await;
    for haystack in [fan_socket.received(), &bytes[..]] {
        assert!(!contains(haystack, "nooz"), "the fan learned of the snooze");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unassigned_snooze_wakes_into_the_queue_at_its_time() {
    let (server, clock) = server_on_manual_clock().await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Patient Fan").await;
    let id = server.open_conversation(&fan).await;
    say(&server, &fan, &id, "no rush").await;
    settle(&server).await;
    snooze(&server, &supervisor, &id, &later(&clock, 10))
        .await
        .expect_status(200);
    let queued = |server: &TestServer| {
        let http = server.http().clone();
        let token = supervisor.clone();
        async move {
            let reply = http.get("/api/v1/queue", Some(&token)).await;
            reply.expect_status(200);
            reply.json.to_string()
        }
    };
    assert!(
        !queued(&server).await.contains(&id),
        "not queued while snoozed"
    );
    clock.advance(Duration::from_secs(11 * 60));
    let woken = wait_status(&server, &id, "open").await;
    assert!(woken["assignee_id"].is_null());
    settle(&server).await;
    assert!(queued(&server).await.contains(&id), "queued again");
    server.shutdown().await;
}
