//! Metrics end to end (docs/api.md › Metrics and reports; docs/metrics.md): the summary
//! of a real conversation by none / agent / day / shift, who may ask, strict parameters,
//! the weekly report in its three formats, and the live gauges on `/metrics`.

use super::support::{Desk, client_id};
use fandesk_http::HttpConfig;
use fandesk_service::{Clock, Config, ManualClock};
use fandesk_testkit::TestServer;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn window() -> (String, String) {
    let now = Timestamp::now();
    let hour = SignedDuration::from_hours(1);
    (
        now.checked_sub(hour).unwrap().to_string(),
        now.checked_add(hour).unwrap().to_string(),
    )
}

async fn summary(server: &TestServer, token: &str, group_by: &str) -> fandesk_testkit::Reply {
    let (from, to) = window();
    let path = format!("/api/v1/metrics/summary?from={from}&to={to}&group_by={group_by}");
    server.http().get(&path, Some(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_of_a_real_conversation() {
    let desk = Desk::new().await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    desk.post(&desk.fan, "hello?", None).await;
    desk.post(&desk.fan, "anyone?", None).await;
    desk.post(&desk.agent, "internal note", Some("internal"))
        .await;
    desk.post(&desk.agent, "Hi! How can I help?", None).await;
    desk.post(&desk.fan, "thanks", None).await;
    desk.server
        .http()
        .post_empty(&desk.path("/resolve"), Some(&supervisor))
        .await
        .expect_status(200);

    let reply = summary(&desk.server, &supervisor, "none").await;
    reply.expect_status(200);
    let groups = reply.json["groups"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 1, "{}", reply.json);
    let all = &groups[0];
    assert_eq!(all["key"], "all");
    // The summary's fields (docs/api.md › Metrics and reports), with the numbers of this
    // conversation.
    for field in ["mean", "p50", "p90", "count"] {
        assert!(all["first_response_secs"].get(field).is_some(), "{field}");
    }
    assert_eq!(all["first_response_secs"]["count"], 1);
    let frt = all["first_response_secs"]["mean"].as_f64().unwrap();
    assert!((0.0..30.0).contains(&frt), "FRT {frt}");
    assert_eq!(
        all["first_response_secs"]["p50"],
        all["first_response_secs"]["p90"]
    );
    assert_eq!(all["resolution_rate"], 1.0);
    // The agent's only message was answered by the fan, but its 24 h window is still
    // open: pending, not in the reply rate yet.
    assert_eq!(all["reply_rate"], Value::Null);
    assert_eq!(
        (all["team_messages"].as_u64(), all["pending"].as_u64()),
        (Some(0), Some(1))
    );
    // Four public messages; the internal note does not count.
    assert_eq!(all["mean_conversation_length"], 4.0);
    assert_eq!(all["sla_breaches"], 0);
    assert_eq!(
        (all["volume"].as_u64(), all["unanswered"].as_u64()),
        (Some(1), Some(0))
    );

    let by_agent = summary(&desk.server, &supervisor, "agent").await;
    by_agent.expect_status(200);
    let agents = by_agent.json["groups"].as_array().unwrap();
    let agent = agents
        .iter()
        .find(|group| group["key"] == desk.agent_id.as_str())
        .expect("the agent's group");
    assert_eq!(agent["first_response_secs"]["count"], 1);
    assert!(agent["name"].is_string());

    let by_day = summary(&desk.server, &supervisor, "day").await;
    by_day.expect_status(200);
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(Timestamp::now())
        .date()
        .to_string();
    let keys: Vec<&Value> = by_day.json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| &group["key"])
        .collect();
    assert!(
        keys.iter().any(|key| key.as_str() == Some(today.as_str())) || keys.len() == 2,
        "{keys:?}"
    );

    // By shift: refused until a shift exists, then every instant is in the all-day shift.
    summary(&desk.server, &supervisor, "shift")
        .await
        .expect_error(422, "invalid_request");
    let shift = json!({"name": "all day", "weekdays": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "00:00"});
    desk.server
        .http()
        .post("/api/v1/shifts", Some(desk.server.owner_token()), shift)
        .await
        .expect_status(201);
    let by_shift = summary(&desk.server, &supervisor, "shift").await;
    by_shift.expect_status(200);
    assert_eq!(
        by_shift.json["groups"][0]["key"], "all day",
        "{}",
        by_shift.json
    );
    assert_eq!(
        by_shift.json["groups"][0]["first_response_secs"]["count"],
        1
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_ask_and_strict_parameters() {
    let desk = Desk::new().await;
    let (lead, _) = desk.server.create_member("escalation_lead").await;
    summary(&desk.server, &lead, "none")
        .await
        .expect_status(200);
    summary(&desk.server, &desk.agent, "none")
        .await
        .expect_error(403, "forbidden");
    summary(&desk.server, &desk.fan, "none")
        .await
        .expect_error(403, "forbidden");
    let owner = desk.server.owner_token().to_owned();
    summary(&desk.server, &owner, "team")
        .await
        .expect_error(422, "invalid_request");
    let (from, to) = window();
    let http = desk.server.http();
    let backwards = format!("/api/v1/metrics/summary?from={to}&to={from}");
    http.get(&backwards, Some(&owner))
        .await
        .expect_error(422, "invalid_request");
    let unknown = format!("/api/v1/metrics/summary?from={from}&to={to}&colour=red");
    let reply = http.get(&unknown, Some(&owner)).await;
    assert!(
        reply.status == 400 || reply.status == 422,
        "{}",
        reply.status
    );
    assert_eq!(reply.error_code(), Some("invalid_request"));
    let missing = http.get("/api/v1/metrics/summary", Some(&owner)).await;
    assert_eq!(
        missing.error_code(),
        Some("invalid_request"),
        "from and to are required"
    );
    let no_auth = format!("/api/v1/metrics/summary?from={from}&to={to}");
    http.get(&no_auth, None)
        .await
        .expect_error(401, "unauthorized");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_report_formats_and_live_gauges() {
    let desk = Desk::new().await;
    desk.post(&desk.fan, "is anyone there?", None).await;
    let owner = desk.server.owner_token().to_owned();
    let http = desk.server.http();
    let json = http
        .get("/api/v1/reports/weekly?week=2026-W47", Some(&owner))
        .await;
    json.expect_status(200);
    assert_eq!(json.json["week"], "2026-W47");
    assert!(json.json["agents"].is_array() && json.json["shifts"].is_array());
    let csv = http
        .get(
            "/api/v1/reports/weekly?week=2026-W47&format=csv",
            Some(&owner),
        )
        .await;
    csv.expect_status(200);
    assert!(
        csv.text().starts_with("section,key,name,volume"),
        "{}",
        csv.text()
    );
    let html = http
        .get("/api/v1/reports/weekly?format=html", Some(&owner))
        .await;
    html.expect_status(200);
    assert_eq!(html.text().matches("<svg ").count(), 4);
    http.get("/api/v1/reports/weekly?week=2026-47", Some(&owner))
        .await
        .expect_error(422, "invalid_request");
    http.get("/api/v1/reports/weekly?format=pdf", Some(&owner))
        .await
        .expect_error(422, "invalid_request");
    http.get("/api/v1/reports/weekly", Some(&desk.agent))
        .await
        .expect_error(403, "forbidden");

    // The fan waits for a human: the live gauges say so.
    let metrics = http
        .get("/metrics", Some(fandesk_testkit::METRICS_TOKEN))
        .await;
    metrics.expect_status(200);
    let text = metrics.text();
    assert!(text.contains("fandesk_waiting_fans 1"), "{text}");
    for gauge in [
        "fandesk_oldest_wait_seconds",
        "fandesk_agents_online",
        "fandesk_alerts_raised",
    ] {
        assert!(text.contains(gauge), "{gauge} missing");
    }
    desk.shutdown().await;
}

/// The reply rate counts only team messages whose 24 h answer window has closed; younger
/// ones are `pending`, answered or not (docs/metrics.md › Reply rate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reply_rate_waits_for_each_answer_window_to_close() {
    let clock = Arc::new(ManualClock::starting_now());
    let config = Config {
        member_token_ttl: Duration::from_secs(7 * 24 * 3600),
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, agent_id) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    let post = |token: String, body: &'static str| {
        let server = &server;
        let conversation = conversation.clone();
        async move {
            server
                .post_message(&token, &conversation, &client_id(), body, None)
                .await
                .expect_status(201);
        }
    };
    let started = clock.now();
    post(fan.clone(), "where is my order?").await;
    post(agent.clone(), "Let me check.").await; // answered by the next fan message
    post(fan.clone(), "thanks").await;
    post(agent.clone(), "It ships tomorrow.").await; // never answered

    let period = |from: Timestamp| {
        let hour = SignedDuration::from_hours(1);
        format!(
            "from={}&to={}",
            from.checked_sub(hour).unwrap(),
            from.checked_add(hour).unwrap()
        )
    };
    let ask = |group_by: &'static str| {
        let server = &server;
        let supervisor = supervisor.clone();
        let query = period(started);
        async move {
            let path = format!("/api/v1/metrics/summary?{query}&group_by={group_by}");
            let reply = server.http().get(&path, Some(&supervisor)).await;
            reply.expect_status(200);
            reply.json
        }
    };
    let figures = |group: &Value| {
        (
            group["team_messages"].as_u64(),
            group["pending"].as_u64(),
            group["reply_rate"].as_f64(),
        )
    };
    // Both windows are open: the answered message is pending as well.
    let young = ask("none").await;
    assert_eq!(
        figures(&young["groups"][0]),
        (Some(0), Some(2), None),
        "{young}"
    );
    let by_agent = ask("agent").await;
    let mine = by_agent["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["key"] == agent_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no group of the agent in {by_agent}"));
    assert_eq!(figures(&mine), (Some(0), Some(2), None));

    // A day and a minute later both windows have closed: one answered, one not.
    clock.advance(Duration::from_secs(24 * 3600 + 60));
    let old = ask("none").await;
    assert_eq!(
        figures(&old["groups"][0]),
        (Some(2), Some(0), Some(0.5)),
        "{old}"
    );
    server.shutdown().await;
}
