//! Escalation through a real server (docs/product.md › Supervision, Signals): the caller
//! is authorized before a lead is chosen, so refused escalations raise nothing; the
//! `escalation_off_shift` alert comes after the commit, once per conversation per throttle
//! window; and the reason reads back exactly from the audit log.

use fandesk_service::{Config, DeskConfig, ManualClock};
use fandesk_testkit::{HttpConfig, TestServer};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A server on a manual clock at Monday 12 January 2026, 13:00 in Berlin, with one
/// escalation lead scheduled 08:00–10:00 on weekdays: the team has a schedule and no lead
/// is on shift, so an escalation goes to that lead off shift.
async fn server_with_lead_off_shift() -> (TestServer, String) {
    let clock = Arc::new(ManualClock::new(
        "2026-01-12T12:00:00Z".parse().expect("start time"),
    ));
    let desk = DeskConfig::default()
        .with_creator_timezone("Europe/Berlin")
        .expect("time zone");
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        desk,
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock).await;
    let (_, lead_id) = server.create_member("escalation_lead").await;
    let shift = json!({"name": "Mornings", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:00", "end": "10:00", "member_ids": [lead_id]});
    server
        .http()
        .post("/api/v1/shifts", Some(server.owner_token()), shift)
        .await
        .expect_status(201);
    (server, lead_id)
}

async fn off_shift_alerts(server: &TestServer) -> Vec<serde_json::Value> {
    let reply = server
        .http()
        .get(
            "/api/v1/alerts?since=2026-01-01T00:00:00Z",
            Some(server.owner_token()),
        )
        .await;
    reply.expect_status(200);
    let alerts = reply.json["alerts"].as_array().cloned().expect("alerts");
    alerts
        .into_iter()
        .filter(|alert| alert["kind"] == "escalation_off_shift")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_escalations_raise_no_alert() {
    let (server, _) = server_with_lead_off_shift().await;
    let (fan, _) = server.fan_session("Flooding Fan").await;
    let conversation = server.open_conversation(&fan).await;
    let (bot, _) = server.create_member("bot").await;
    let (assignee, assignee_id) = server.create_member("agent").await;
    let (other_agent, _) = server.create_member("agent").await;
    let path = format!("/api/v1/conversations/{conversation}/escalate");
    for _ in 0..25 {
        server
            .http()
            .post(&path, Some(&fan), json!({"reason": "let me in"}))
            .await
            .expect_error(403, "forbidden");
    }
    for _ in 0..5 {
        server
            .http()
            .post(&path, Some(&bot), json!({"reason": "escalate"}))
            .await
            .expect_error(403, "forbidden");
    }
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            Some(server.owner_token()),
            json!({"member_id": assignee_id}),
        )
        .await
        .expect_status(200);
    for _ in 0..5 {
        server
            .http()
            .post(&path, Some(&other_agent), json!({"reason": "not mine"}))
            .await
            .expect_error(403, "forbidden");
        server
            .http()
            .post(&path, Some(&assignee), json!({"reason": "   "}))
            .await
            .expect_error(422, "invalid_request");
    }
    assert_eq!(
        off_shift_alerts(&server).await,
        Vec::<serde_json::Value>::new()
    );
    // The assignee may: the same request now alerts once.
    server
        .http()
        .post(
            &path,
            Some(&assignee),
            json!({"reason": "chargeback threat"}),
        )
        .await
        .expect_status(200);
    assert_eq!(off_shift_alerts(&server).await.len(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_escalations_alert_once_per_conversation() {
    let (server, lead_id) = server_with_lead_off_shift().await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let mut conversations = Vec::new();
    for n in 0..2 {
        let (fan, _) = server.fan_session(&format!("Hard Case {n}")).await;
        conversations.push(server.open_conversation(&fan).await);
    }
    // Eight escalations of the same conversation at once: one commits, the others find
    // it escalated; one alert, naming the lead.
    let attempts = (0..8).map(|_| {
        let (http, token) = (server.http().clone(), supervisor.clone());
        let path = format!("/api/v1/conversations/{}/escalate", conversations[0]);
        async move {
            http.post(&path, Some(&token), json!({"reason": "chargeback"}))
                .await
                .status
        }
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    for _ in 0..5 {
        server
            .http()
            .post(
                &format!("/api/v1/conversations/{}/escalate", conversations[0]),
                Some(&supervisor),
                json!({"reason": "again"}),
            )
            .await
            .expect_error(409, "conflict");
    }
    let alerts = off_shift_alerts(&server).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["conversation_id"], conversations[0].as_str());
    assert_eq!(alerts[0]["details"]["lead_id"], lead_id.as_str());
    // The throttle is per conversation: another conversation alerts on its own.
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{}/escalate", conversations[1]),
            Some(&supervisor),
            json!({"reason": "chargeback"}),
        )
        .await
        .expect_status(200);
    assert_eq!(off_shift_alerts(&server).await.len(), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_reason_reads_back_exactly_from_the_audit_log() {
    let server = TestServer::spawn().await;
    let (_, lead_id) = server.create_member_named("escalation_lead", "Lee").await;
    let (supervisor, _) = server.create_member_named("supervisor", "Sue").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    // Control characters, a combining mark, zero-width and bidi characters, quotes,
    // backslashes and a line separator: all must survive, none may turn the details null.
    let reason =
        "refund\u{1}\u{7}\u{1b}[0m e\u{301}\u{200b}\u{200d}\u{202e}\u{2028}\u{7f}\"\\'\ttab\nline";
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{conversation}/escalate"),
            Some(&supervisor),
            json!({"reason": reason, "lead_id": lead_id}),
        )
        .await
        .expect_status(200);
    let audit = server
        .http()
        .get("/api/v1/audit", Some(server.owner_token()))
        .await;
    audit.expect_status(200);
    let entry = audit.json["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|entry| entry["action"] == "escalate")
        .cloned()
        .expect("an escalate entry");
    assert_eq!(
        entry["details"]["text"].as_str(),
        Some(format!("Escalated to Lee by Sue: {reason}").as_str()),
        "{entry}"
    );
    server.shutdown().await;
}
