//! The agent desk's timers and shifts through a real server (docs/product.md › SLA, and
//! Routing, priority and shifts): the SLA breach
//! alert on a manual clock (once per opening, never by sleeping), shifts with the coverage
//! view, on-shift by schedule or clock-in, shift-scoped access, and the off-hours reply
//! labelled automated — with nothing internal reaching the fan.

use super::desk::{assignee, punch, queue, say, settle};
use super::support::{client_id, contains};
use fandesk_service::{Config, DeskConfig, ManualClock, SystemClock};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpConfig, TestServer, WsClient};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn sla_alerts(server: &TestServer, token: &str) -> Vec<Value> {
    let reply = server
        .http()
        .get("/api/v1/alerts?since=2026-01-01T00:00:00Z", Some(token))
        .await;
    reply.expect_status(200);
    let alerts = reply.json["alerts"].as_array().cloned().expect("alerts");
    alerts
        .into_iter()
        .filter(|alert| alert["kind"] == "sla_breach")
        .collect()
}

/// A server on a manual clock (`start` or the current time), with the creator in `zone`.
/// Tokens live a week, so advancing the clock by hours does not log anyone out.
async fn server_at(start: Option<&str>, zone: &str) -> (TestServer, Arc<ManualClock>) {
    let clock = match start {
        Some(start) => ManualClock::new(start.parse().expect("start time")),
        None => ManualClock::starting_now(),
    };
    let clock = Arc::new(clock);
    let desk = DeskConfig::default()
        .with_creator_timezone(zone)
        .expect("time zone");
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        desk,
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sla_breach_alerts_once_on_a_manual_clock() {
    // The current time: WebSocket sessions expire on the wall clock.
    let (server, clock) = server_at(None, "UTC").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member("agent").await;
    let mut alerts = WsClient::connect(&server, &supervisor).await;
    alerts
        .subscribe("alerts", None)
        .await
        .expect("supervisors watch alerts");
    let (late_fan, _) = server.fan_session("Waiting Fan").await;
    let late = server.open_conversation(&late_fan).await;
    say(&server, &late_fan, &late, "anyone there?").await;
    let (quick_fan, _) = server.fan_session("Quick Fan").await;
    let quick = server.open_conversation(&quick_fan).await;
    say(&server, &quick_fan, &quick, "question").await;
    settle(&server).await;
    clock.advance(Duration::from_secs(20));
    say(&server, &agent, &quick, "Hi! Happy to help.").await;
    // 59 s: nothing is due yet.
    clock.advance(Duration::from_secs(39));
    assert_eq!(server.app().run_due_jobs().await.unwrap(), 0);
    assert!(sla_alerts(&server, &supervisor).await.is_empty());
    // 61 s: the scheduler wakes on the clock and alerts for the unanswered fan only.
    clock.advance(Duration::from_secs(2));
    let raised = alerts
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["alert"]["kind"] == "sla_breach"
        })
        .await;
    assert_eq!(raised["event"]["alert"]["conversation_id"], late.as_str());
    let entries = queue(&server, &agent).await;
    let late_entry = entries
        .iter()
        .find(|entry| entry["conversation_id"] == late.as_str())
        .unwrap();
    assert_eq!(
        (
            late_entry["sla_breached"].clone(),
            late_entry["waited_seconds"].clone()
        ),
        (json!(true), json!(61))
    );
    // Once per opening: later passes and messages raise nothing more.
    say(&server, &late_fan, &late, "hello??").await;
    settle(&server).await;
    clock.advance(Duration::from_secs(300));
    server.app().run_due_jobs().await.unwrap();
    let listed = sla_alerts(&server, &supervisor).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["details"]["target_secs"], 60);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifts_coverage_and_the_off_hours_reply() {
    // Monday 12 January 2026, 13:00 in Berlin; the shift runs 08:00–10:00 on weekdays.
    let (server, clock) = server_at(Some("2026-01-12T12:00:00Z"), "Europe/Berlin").await;
    let (agent, agent_id) = server.create_member("agent").await;
    let shift = json!({"name": "Mornings", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:00", "end": "10:00", "member_ids": [agent_id]});
    let created = server
        .http()
        .post("/api/v1/shifts", Some(server.owner_token()), shift.clone())
        .await;
    created.expect_status(201);
    assert_eq!(
        (
            created.json["time_zone"].clone(),
            created.json["weekdays"].as_array().unwrap().len()
        ),
        (json!("Europe/Berlin"), 5)
    );
    server
        .http()
        .post("/api/v1/shifts", Some(server.owner_token()), shift)
        .await
        .expect_error(409, "conflict");
    let bad = json!({"name": "Bad", "weekdays": ["funday"], "start": "08:00", "end": "10:00"});
    server
        .http()
        .post("/api/v1/shifts", Some(server.owner_token()), bad)
        .await
        .expect_error(422, "invalid_request");
    server
        .http()
        .post("/api/v1/shifts", Some(&agent), json!({}))
        .await
        .expect_error(403, "forbidden");
    let coverage = server
        .http()
        .get("/api/v1/coverage?week=2026-01-12", Some(&agent))
        .await;
    coverage.expect_status(200);
    assert_eq!(
        coverage.json["uncovered_hours"].as_array().unwrap().len(),
        168 - 10
    );
    assert_eq!(
        coverage.json["uncovered_hours"][0]["local_start"],
        "2026-01-12T00:00:00+01:00"
    );
    // Off hours: one automated, labelled reply per opening, in the fan's time zone.
    let reply = server
        .http()
        .post(
            "/api/v1/fan-sessions",
            None,
            json!({"display_name": "Night Owl", "timezone": "America/New_York"}),
        )
        .await;
    let fan = reply.json["token"].as_str().unwrap().to_owned();
    let conversation = server.open_conversation(&fan).await;
    say(&server, &fan, &conversation, "hello?").await;
    settle(&server).await;
    say(&server, &fan, &conversation, "still there?").await;
    settle(&server).await;
    let (history, bytes) = server.history_with_bytes(&fan, &conversation).await;
    let automated: Vec<&Value> = history
        .iter()
        .filter(|message| message["automated"] == true)
        .collect();
    assert_eq!(automated.len(), 1, "{history:?}");
    assert_eq!(automated[0]["author"]["kind"], "bot");
    assert_eq!(
        automated[0]["body"],
        "Our team is back at 02:00 (America/New_York) — Tue 13 Jan"
    );
    assert_eq!(history.len(), 3);
    assert!(
        history
            .iter()
            .all(|message| message["visibility"] == "public")
    );
    assert!(!contains(&bytes, "Assigned to") && !contains(&bytes, "priority"));
    assert_eq!(
        assignee(&server, &conversation).await,
        None,
        "nobody on shift, nobody assigned"
    );
    // Tuesday 08:30 in Berlin: the agent is on shift by the schedule alone (no clock-in),
    // so the waiting conversation is assigned and a new fan gets no off-hours reply.
    clock.advance(Duration::from_secs(19 * 3600 + 30 * 60));
    server.app().run_due_jobs().await.unwrap();
    let (fan_two, _) = server.fan_session("Early Bird").await;
    let morning = server.open_conversation(&fan_two).await;
    say(&server, &fan_two, &morning, "good morning").await;
    settle(&server).await;
    assert_eq!(assignee(&server, &morning).await, Some(agent_id.clone()));
    let history = server.history(&fan_two, &morning).await;
    assert!(
        history.iter().all(|message| message["automated"] == false),
        "{history:?}"
    );
    // Clocking out ends the shift early.
    punch(&server, &agent, "clock-out").await;
    let agents = server.http().get("/api/v1/desk/agents", Some(&agent)).await;
    let row = agents.json["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == agent_id.as_str())
        .cloned();
    assert_eq!(row.unwrap()["on_shift"], false);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_scoped_access_needs_the_agent_on_shift() {
    let desk = DeskConfig {
        shift_scoped_access: true,
        ..DeskConfig::default()
    };
    let config = Config {
        desk,
        ..Config::default()
    };
    let server =
        TestServer::spawn_service(HttpConfig::default(), config, Arc::new(SystemClock)).await;
    let (agent, _) = server.create_member("agent").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    let refused = server
        .post_message(&agent, &conversation, &client_id(), "hi", None)
        .await;
    refused.expect_error(403, "forbidden");
    // Supervisors are not bound to shifts; the agent is, until they clock in.
    say(&server, &supervisor, &conversation, "A supervisor here").await;
    punch(&server, &agent, "clock-in").await;
    say(&server, &agent, &conversation, "Hi, I'm on shift now").await;
    server.shutdown().await;
}
