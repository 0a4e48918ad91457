//! Scheduled messages exactly once across a crash (docs/api.md › Scheduled messages): the
//! real binary delivers a message to a large segment and is SIGKILLed the moment the first
//! recipient's message is committed — its batch committed, not yet marked sent — then
//! restarts on the same data (with a short job lease, so the killed run's job is taken up
//! again soon). Every recipient then has the message exactly once, in one conversation:
//! the replayed batch is answered with the messages already there. Runs on SQLite, and on
//! PostgreSQL when `FANDESK_TEST_POSTGRES_URL` is set.

use super::scheduled::deliveries;
use fandesk_testkit::{OWNER_EMAIL, OWNER_PASSWORD, PostgresDatabase, ServerProcess};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");
/// Recipients: several batches of the delivery job.
const FANS: usize = 4_000;
const ARGS: [&str; 4] = ["--listen", "127.0.0.1:0", "--job-lease-secs", "2"];

/// An import file of `count` fans tagged `crash`, half of them in Tokyo.
fn fans_file(count: usize) -> String {
    let mut lines = vec![format!(
        r#"{{"type":"header","format":"fandesk-export","version":1,"counts":{{"fan":{count}}}}}"#
    )];
    for number in 0..count {
        let zone = if number % 2 == 0 {
            json!("Asia/Tokyo")
        } else {
            Value::Null
        };
        let line = json!({"type": "fan", "id": format!("fan_crash_{number:05}"),
            "display_name": format!("Fan {number}"), "external_id": null, "timezone": zone,
            "tags": ["crash"], "lifetime_spend_cents": 0, "notes": "", "attributes": {},
            "created_at": 1_000_000, "last_seen_at": 1_000_000});
        lines.push(line.to_string());
    }
    lines.join("\n") + "\n"
}

async fn progress(http: &fandesk_testkit::HttpClient, owner: &str, id: &str) -> Option<Value> {
    let path = format!("/api/v1/scheduled-messages/{id}");
    let reply = http
        .try_request(reqwest::Method::GET, &path, Some(owner), None)
        .await
        .ok()?;
    (reply.status == 200).then_some(reply.json)
}

async fn crash_mid_delivery(database: Option<&str>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = Path::new(EXE);
    let server = ServerProcess::start_with(exe, dir.path(), database, &ARGS)
        .await
        .expect("start");
    let http = server.http().clone();
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    http.post_raw("/api/v1/import", Some(&owner), fans_file(FANS))
        .await
        .expect_status(200);
    let created = http
        .post(
            "/api/v1/scheduled-messages",
            Some(&owner),
            json!({"body": "Crash-proof news", "audience": {"tags": ["crash"]},
                "at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    created.expect_status(201);
    assert_eq!(created.json["recipients"], FANS);
    let id = created.json["id"].as_str().expect("id").to_owned();
    // Kill the moment the first recipient's message is committed: its batch is then
    // committed (one group commit) but, most likely, not yet marked sent.
    let first = format!("/api/v1/scheduled-messages/{id}/deliveries?limit=1");
    let mut committed = false;
    for _ in 0..20_000 {
        let row = http
            .try_request(reqwest::Method::GET, &first, Some(&owner), None)
            .await
            .ok()
            .map(|reply| reply.json["deliveries"][0].clone());
        if let Some(conversation) = row.as_ref().and_then(|row| row["conversation_id"].as_str()) {
            let path = format!("/api/v1/conversations/{conversation}/messages");
            let messages = http.get(&path, Some(&owner)).await;
            if messages.json["messages"]
                .as_array()
                .is_some_and(|list| list.iter().any(|m| m["body"] == "Crash-proof news"))
            {
                committed = true;
                break;
            }
        }
    }
    let at_kill = progress(&http, &owner, &id).await;
    server.kill().await.expect("SIGKILL");
    assert!(committed, "the first message was committed before the kill");
    let sent_before = at_kill.map_or(0, |view| view["sent"].as_i64().unwrap_or(0));
    assert!(
        sent_before < FANS as i64,
        "the kill came after the whole delivery ({sent_before})"
    );
    eprintln!("killed with {sent_before} of {FANS} marked sent");

    let server = ServerProcess::start_with(exe, dir.path(), database, &ARGS)
        .await
        .expect("restart");
    let http = server.http().clone();
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    let mut done = false;
    for _ in 0..600 {
        if let Some(view) = progress(&http, &owner, &id).await
            && view["pending"] == 0
        {
            assert_eq!(view["sent"], FANS, "{view}");
            assert_eq!(view["status"], "sent");
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        done,
        "delivered after the restart\nstderr:\n{}",
        server.stderr()
    );

    // Every recipient: sent, with a message of their own, in their own conversation.
    let rows = deliveries(&http, &owner, &id).await;
    assert_eq!(rows.len(), FANS);
    let mut conversation_of: HashMap<String, String> = HashMap::new();
    for (fan, row) in &rows {
        assert_eq!(row["status"], "sent", "{fan}: {row}");
        conversation_of.insert(
            row["conversation_id"]
                .as_str()
                .expect("conversation")
                .to_owned(),
            fan.clone(),
        );
    }
    assert_eq!(conversation_of.len(), FANS, "one conversation per fan");
    // The export holds every message: exactly one copy per recipient, where recorded.
    let export = http.get("/api/v1/export", Some(&owner)).await;
    export.expect_status(200);
    let mut copies: HashMap<String, Vec<String>> = HashMap::new();
    let mut conversations_per_fan: HashMap<String, usize> = HashMap::new();
    for line in export.text().lines() {
        let line: Value = serde_json::from_str(line).expect("a JSON line");
        match line["type"].as_str() {
            // By body, so a copy posted under another key would be counted too.
            Some("message") if line["body"] == "Crash-proof news" => {
                assert_eq!(line["automated"], true);
                assert_eq!(line["client_msg_id"], format!("scheduled-{id}").as_str());
                copies
                    .entry(line["conversation_id"].as_str().expect("c").to_owned())
                    .or_default()
                    .push(line["id"].as_str().expect("id").to_owned());
            }
            Some("conversation") => {
                *conversations_per_fan
                    .entry(line["fan_id"].as_str().expect("fan").to_owned())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    assert_eq!(copies.len(), FANS, "every recipient's conversation has it");
    for (conversation, messages) in &copies {
        assert_eq!(messages.len(), 1, "{conversation}: {messages:?}");
        let fan = &conversation_of[conversation];
        assert_eq!(rows[fan]["message_id"], messages[0].as_str(), "{fan}");
    }
    assert!(
        conversations_per_fan.values().all(|count| *count == 1),
        "no fan got a second conversation"
    );
    server.kill().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_delivery_survives_sigkill_exactly_once_on_sqlite() {
    crash_mid_delivery(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_delivery_survives_sigkill_exactly_once_on_postgres() {
    let Some(database) = PostgresDatabase::create().await.expect("create database") else {
        eprintln!("skipped: FANDESK_TEST_POSTGRES_URL is not set");
        return;
    };
    crash_mid_delivery(Some(database.url())).await;
}
