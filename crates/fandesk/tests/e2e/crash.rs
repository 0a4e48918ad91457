//! Crash durability of the real binary (docs/product.md › Principles: a message is acked
//! only after it is durably committed): `fandesk serve` is SIGKILLed while several clients
//! send as fast as they can, restarted on the same data, and every message that got a 2xx
//! is there exactly once, with dense sequences. Runs on SQLite, and on PostgreSQL when
//! `FANDESK_TEST_POSTGRES_URL` is set.

use fandesk_testkit::{
    HttpClient, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD, PostgresDatabase, ServerProcess,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");
/// Acknowledged sends before the kill.
const ACKED_BEFORE_KILL: usize = 150;

/// One sender: who, where, with what visibility.
#[derive(Clone)]
struct Sender {
    label: String,
    token: String,
    conversation: String,
    visibility: &'static str,
}

/// What became of each send: `Some((message_id, seq))` for a 2xx, `None` for an unknown
/// outcome (the request failed as the process died).
type Outcomes = Vec<(String, Option<(String, u64)>)>;

async fn send_until_failure(
    http: HttpClient,
    sender: Sender,
    progress: watch::Sender<usize>,
) -> Outcomes {
    let path = format!("/api/v1/conversations/{}/messages", sender.conversation);
    let mut outcomes = Vec::new();
    for number in 0..100_000 {
        let id = format!("{}-{number}", sender.label);
        let request = json!({"client_msg_id": id, "body": format!("{} #{number}", sender.label), "visibility": sender.visibility});
        let body = Some(fandesk_testkit::Body::Json(request));
        match http
            .try_request(reqwest::Method::POST, &path, Some(&sender.token), body)
            .await
        {
            Ok(reply) if reply.status == 201 => {
                let message = (
                    reply.json["id"].as_str().expect("id").to_owned(),
                    reply.json["seq"].as_u64().expect("seq"),
                );
                outcomes.push((id, Some(message)));
                progress.send_modify(|count| *count += 1);
            }
            Ok(reply) if reply.status >= 500 => {
                outcomes.push((id, None));
                break;
            }
            Ok(reply) => panic!(
                "{}: unexpected {} {}",
                sender.label,
                reply.status,
                reply.text()
            ),
            Err(_) => {
                outcomes.push((id, None));
                break;
            }
        }
    }
    outcomes
}

/// The whole team timeline of a conversation.
async fn history(http: &HttpClient, token: &str, conversation: &str) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    loop {
        let after = messages
            .last()
            .map_or(0, |message| message["seq"].as_u64().expect("seq"));
        let path =
            format!("/api/v1/conversations/{conversation}/messages?after_seq={after}&limit=200");
        let reply = http.get(&path, Some(token)).await;
        reply.expect_status(200);
        let page = reply.json["messages"]
            .as_array()
            .cloned()
            .expect("messages");
        let done = page.len() < 200;
        messages.extend(page);
        if done {
            return messages;
        }
    }
}

/// Every 2xx send present exactly once with its acked id and seq, unknown ones at most
/// once, nothing else, and dense sequences.
fn check(
    conversation: &str,
    messages: &[Value],
    outcomes: &HashMap<String, Option<(String, u64)>>,
    ids: &[String],
) {
    for (index, message) in messages.iter().enumerate() {
        assert_eq!(
            message["seq"],
            index as u64 + 1,
            "{conversation}: dense seq"
        );
    }
    let public: Vec<u64> = messages
        .iter()
        .filter_map(|message| message["public_seq"].as_u64())
        .collect();
    assert_eq!(
        public,
        (1..=public.len() as u64).collect::<Vec<_>>(),
        "{conversation}: dense public seq"
    );
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for message in messages {
        let id = message["client_msg_id"].as_str().expect("client_msg_id");
        assert!(
            ids.iter().any(|sent| sent == id),
            "{conversation}: {id} was never sent here"
        );
        *counts.entry(id).or_default() += 1;
        if let Some(Some((message_id, seq))) = outcomes.get(id) {
            assert_eq!(message["id"], message_id.as_str(), "{id}: acked id");
            // Fans are acked with the public sequence (docs/api.md › Conversations and
            // messages).
            let numbering = if id.starts_with("fan") {
                "public_seq"
            } else {
                "seq"
            };
            assert_eq!(message[numbering], *seq, "{id}: acked {numbering}");
        }
    }
    assert!(
        counts.values().all(|count| *count == 1),
        "{conversation}: duplicates {counts:?}"
    );
    for id in ids {
        if matches!(outcomes.get(id), Some(Some(_))) {
            assert_eq!(
                counts.get(id.as_str()),
                Some(&1),
                "{conversation}: acked {id} lost after the crash"
            );
        }
    }
}

async fn crash_and_recover(database: Option<&str>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = Path::new(EXE);
    let server = ServerProcess::start(exe, dir.path(), database)
        .await
        .expect("start");
    let http = server.http().clone();
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    let email = "agent@crash.test";
    let member =
        json!({"email": email, "name": "Agent", "role": "agent", "password": MEMBER_PASSWORD});
    http.post("/api/v1/members", Some(&owner), member)
        .await
        .expect_status(201);
    let agent = http.login(email, MEMBER_PASSWORD).await.0;
    let mut senders = Vec::new();
    for index in 0..3 {
        let reply = http
            .post(
                "/api/v1/fan-sessions",
                None,
                json!({"display_name": format!("Fan {index}")}),
            )
            .await;
        reply.expect_status(201);
        let token = reply.json["token"].as_str().expect("token").to_owned();
        let conversation = http
            .post("/api/v1/conversations", Some(&token), json!({}))
            .await
            .json["id"]
            .as_str()
            .expect("conversation")
            .to_owned();
        senders.push(Sender {
            label: format!("fan{index}"),
            token,
            conversation: conversation.clone(),
            visibility: "public",
        });
        let visibility = if index == 0 { "public" } else { "internal" };
        senders.push(Sender {
            label: format!("agent{index}"),
            token: agent.clone(),
            conversation,
            visibility,
        });
    }

    let (progress, mut acked) = watch::channel(0usize);
    let tasks: Vec<_> = senders
        .iter()
        .map(|sender| {
            tokio::spawn(send_until_failure(
                http.clone(),
                sender.clone(),
                progress.clone(),
            ))
        })
        .collect();
    // The borrow `wait_for` returns must end here: senders cannot publish progress while
    // it is held.
    let reached = tokio::time::timeout(
        Duration::from_secs(120),
        acked.wait_for(|count| *count >= ACKED_BEFORE_KILL),
    )
    .await
    .is_ok_and(|waited| waited.is_ok());
    assert!(
        reached,
        "{ACKED_BEFORE_KILL} acks before the kill\nstderr:\n{}",
        server.stderr()
    );
    server.kill().await.expect("SIGKILL");
    let mut outcomes: HashMap<String, Option<(String, u64)>> = HashMap::new();
    for task in tasks {
        outcomes.extend(task.await.expect("sender task"));
    }
    let confirmed = outcomes
        .values()
        .filter(|outcome| outcome.is_some())
        .count();
    assert!(confirmed >= ACKED_BEFORE_KILL);

    let server = ServerProcess::start(exe, dir.path(), database)
        .await
        .expect("restart");
    let http = server.http().clone();
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    for sender in senders.iter().step_by(2) {
        // Both senders of a conversation (the fan, then the agent) label their ids.
        let labels = [sender.label.clone(), sender.label.replace("fan", "agent")];
        let ids: Vec<String> = outcomes
            .keys()
            .filter(|id| {
                labels
                    .iter()
                    .any(|label| id.starts_with(&format!("{label}-")))
            })
            .cloned()
            .collect();
        check(
            &sender.conversation,
            &history(&http, &owner, &sender.conversation).await,
            &outcomes,
            &ids,
        );
    }
    // A send of unknown outcome, retried, now exists exactly once.
    for sender in &senders {
        let unknown = outcomes.iter().filter(|(id, outcome)| {
            outcome.is_none() && id.starts_with(&format!("{}-", sender.label))
        });
        for (id, _) in unknown {
            let request = json!({"client_msg_id": id, "body": "retried after the crash", "visibility": sender.visibility});
            let path = format!("/api/v1/conversations/{}/messages", sender.conversation);
            let reply = http.post(&path, Some(&sender.token), request).await;
            assert!(
                matches!(reply.status, 200 | 201),
                "retry {id}: {} {}",
                reply.status,
                reply.text()
            );
            let found = history(&http, &owner, &sender.conversation).await;
            assert_eq!(
                found
                    .iter()
                    .filter(|m| m["client_msg_id"] == id.as_str())
                    .count(),
                1,
                "{id} once"
            );
        }
    }
    assert_eq!(
        server.stdout_rest(),
        "",
        "stdout holds only the listening line"
    );
    server.kill().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_sigkill_on_sqlite() {
    crash_and_recover(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_sigkill_on_postgres() {
    let Some(database) = PostgresDatabase::create().await.expect("create database") else {
        eprintln!("skipped: FANDESK_TEST_POSTGRES_URL is not set");
        return;
    };
    crash_and_recover(Some(database.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_binary_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = Path::new(EXE);
    let server = ServerProcess::start(exe, dir.path(), None)
        .await
        .expect("start");
    let health = server.http().get("/healthz", None).await;
    assert_eq!(health.json["status"], "ok", "{}", health.text());
    assert_eq!(health.json["bus"], "local", "{}", health.text());
    let owner = server.http().login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    assert!(!owner.is_empty());
    let stderr = server.stderr();
    let status = server
        .terminate(Duration::from_secs(30))
        .await
        .expect("exit after SIGTERM");
    assert!(status.success(), "exit status {status}\nstderr:\n{stderr}");
    let again = ServerProcess::start(exe, dir.path(), None)
        .await
        .expect("restart");
    again.http().login(OWNER_EMAIL, OWNER_PASSWORD).await;
    again.kill().await.expect("stop");
}
