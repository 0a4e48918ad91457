//! Reply later (docs/api.md › Scheduled messages) on a manual clock: a team member's
//! public reply is accepted with 202, shows as pending, and is sent at `send_at` as their
//! own human message — once, whatever retries of the request or runs of the job come
//! between; a cancelled one never goes out; one the conversation no longer takes ends
//! `failed` with the reason; fans and bots cannot schedule, and bad times are refused.

use fandesk_service::{Config, ManualClock};
use fandesk_testkit::{HttpConfig, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const START: &str = "2026-03-02T09:00:00Z";

async fn server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START.parse().expect("start")));
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

fn later(minutes: i64) -> String {
    let start: jiff::Timestamp = START.parse().expect("start");
    (start + jiff::SignedDuration::from_mins(minutes)).to_string()
}

async fn schedule(
    server: &TestServer,
    token: &str,
    conversation: &str,
    key: &str,
    body: &str,
    send_at: &str,
) -> fandesk_testkit::Reply {
    let request = json!({"client_msg_id": key, "body": body, "send_at": send_at});
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(token),
            request,
        )
        .await
}

async fn scheduled(server: &TestServer, token: &str, conversation: &str) -> Vec<Value> {
    let reply = server
        .http()
        .get(
            &format!("/api/v1/conversations/{conversation}/scheduled-replies"),
            Some(token),
        )
        .await;
    reply.expect_status(200);
    reply.json["scheduled_replies"]
        .as_array()
        .cloned()
        .expect("list")
}

/// Waits (the scheduler runs on the manual clock's wake-up, or a direct pass here) until
/// the reply scheduled with `key` has `status`; panics after 10 s.
async fn wait_status(
    server: &TestServer,
    token: &str,
    conversation: &str,
    key: &str,
    status: &str,
) {
    for _ in 0..200 {
        server.app().run_due_jobs().await.expect("jobs");
        let listed = scheduled(server, token, conversation).await;
        if listed
            .iter()
            .any(|reply| reply["client_msg_id"] == key && reply["status"] == status)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{key} never became {status}");
}

fn bodies(history: &[Value]) -> Vec<&str> {
    history
        .iter()
        .filter_map(|message| message["body"].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_sent_at_its_time_once_as_the_members_own() {
    let (server, clock) = server().await;
    let (agent, agent_id) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;

    let first = schedule(
        &server,
        &agent,
        &conversation,
        "r1",
        "Back at ten!",
        &later(60),
    )
    .await;
    first.expect_status(202);
    assert_eq!(first.json["status"], "pending");
    assert_eq!(first.json["author_id"], agent_id.as_str());
    let id = first.json["scheduled_id"].as_str().expect("id").to_owned();
    // The same request again: the same scheduled reply, not a second one.
    let again = schedule(
        &server,
        &agent,
        &conversation,
        "r1",
        "Back at ten!",
        &later(60),
    )
    .await;
    again.expect_status(202);
    assert_eq!(again.json["scheduled_id"], id.as_str());
    assert_eq!(scheduled(&server, &agent, &conversation).await.len(), 1);

    // Not yet: nothing in the timeline, and the fan sees nothing of it.
    clock.advance(Duration::from_secs(59 * 60));
    server.app().run_due_jobs().await.expect("jobs");
    assert!(!bodies(&server.history(&agent, &conversation).await).contains(&"Back at ten!"));
    // At its time it goes out once, as the agent's human message.
    clock.advance(Duration::from_secs(60));
    wait_status(&server, &agent, &conversation, "r1", "sent").await;
    server.app().run_due_jobs().await.expect("jobs again");
    let history = server.history(&fan, &conversation).await;
    let sent: Vec<&Value> = history
        .iter()
        .filter(|message| message["body"] == "Back at ten!")
        .collect();
    assert_eq!(sent.len(), 1, "{history:?}");
    assert_eq!(sent[0]["author"]["id"], agent_id.as_str());
    assert_eq!(sent[0]["automated"], false, "a reply sent later is human");
    assert_eq!(sent[0]["visibility"], "public");
    let listed = scheduled(&server, &agent, &conversation).await;
    assert_eq!(listed[0]["status"], "sent");
    assert_eq!(listed[0]["message_id"], sent[0]["id"]);
    // Too late to cancel.
    server
        .http()
        .delete(&format!("/api/v1/scheduled-replies/{id}"), Some(&agent))
        .await
        .expect_error(409, "conflict");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_reply_never_goes_out_and_a_refused_one_fails() {
    let (server, clock) = server().await;
    let (agent, _) = server.create_member("agent").await;
    let (other_agent, _) = server.create_member("agent").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;

    let cancelled = schedule(&server, &agent, &conversation, "c1", "never", &later(30)).await;
    cancelled.expect_status(202);
    let cancelled_id = cancelled.json["scheduled_id"].as_str().expect("id");
    // Another agent may not cancel it; its author may.
    server
        .http()
        .delete(
            &format!("/api/v1/scheduled-replies/{cancelled_id}"),
            Some(&other_agent),
        )
        .await
        .expect_error(403, "forbidden");
    let done = server
        .http()
        .delete(
            &format!("/api/v1/scheduled-replies/{cancelled_id}"),
            Some(&agent),
        )
        .await;
    done.expect_status(200);
    assert_eq!(done.json["status"], "cancelled");

    // Scheduled, then the conversation is resolved: at its time the reply fails, saying why.
    let refused = schedule(&server, &agent, &conversation, "c2", "too late", &later(45)).await;
    refused.expect_status(202);
    server
        .http()
        .post_empty(
            &format!("/api/v1/conversations/{conversation}/resolve"),
            Some(&supervisor),
        )
        .await
        .expect_status(200);
    clock.advance(Duration::from_secs(3600));
    wait_status(&server, &agent, &conversation, "c2", "failed").await;
    let history = bodies(&server.history(&agent, &conversation).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(
        !history
            .iter()
            .any(|body| body == "never" || body == "too late"),
        "{history:?}"
    );
    let listed = scheduled(&server, &agent, &conversation).await;
    let by_key = |key: &str| {
        listed
            .iter()
            .find(|reply| reply["client_msg_id"] == key)
            .cloned()
            .expect("listed")
    };
    assert_eq!(by_key("c1")["status"], "cancelled");
    let failed = by_key("c2");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["failure"]
            .as_str()
            .is_some_and(|why| !why.is_empty())
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_team_schedules_and_times_are_checked() {
    let (server, _clock) = server().await;
    let (agent, _) = server.create_member("agent").await;
    let (bot, _) = server.create_member("bot").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    schedule(&server, &fan, &conversation, "f1", "hi later", &later(5))
        .await
        .expect_error(403, "forbidden");
    schedule(&server, &bot, &conversation, "b1", "hi later", &later(5))
        .await
        .expect_error(403, "forbidden");
    let past = schedule(&server, &agent, &conversation, "a1", "hi", &later(-1)).await;
    past.expect_error(422, "invalid_request");
    assert_eq!(past.json["error"]["details"]["field"], "send_at");
    let far = schedule(
        &server,
        &agent,
        &conversation,
        "a2",
        "hi",
        &later(367 * 24 * 60),
    )
    .await;
    far.expect_error(422, "invalid_request");
    let internal = json!({"client_msg_id": "a3", "body": "note", "visibility": "internal", "send_at": later(5)});
    let reply = server
        .http()
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(&agent),
            internal,
        )
        .await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "visibility");
    schedule(&server, &agent, "cnv_missing", "a4", "hi", &later(5))
        .await
        .expect_error(404, "not_found");
    server.shutdown().await;
}
