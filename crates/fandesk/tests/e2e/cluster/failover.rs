//! A node SIGKILLed in the middle of traffic: two `fandesk serve` processes on one
//! PostgreSQL database and one NATS server, fans sending through node B as fast as they
//! are acked, B killed without warning. The fans go on through node A (retrying the send
//! that had no answer with the same `client_msg_id`), a team member watching on B
//! resumes on A from the last `seq` it saw, and a team member watching on A all along
//! misses nothing: every acked message is there exactly once, every timeline is dense
//! and in order on every socket.

use crate::e2e::support::{assert_dense_from, created_events, seqs};
use fandesk_testkit::{
    Body, HttpClient, Incoming, MEMBER_PASSWORD, NatsServer, OWNER_EMAIL, OWNER_PASSWORD,
    PostgresDatabase, ServerProcess, WsClient,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");
/// Fans sending at once, each in a conversation of its own.
const FANS: usize = 3;
/// Messages each fan sends in all.
const PER_FAN: usize = 60;
/// Acked messages (all fans together) before node B is killed.
const ACKED_BEFORE_KILL: usize = 45;

async fn start_node(database: &PostgresDatabase, nats: &NatsServer, name: &str) -> ServerProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--nats",
        nats.url(),
        "--node",
        name,
        // Fans here send far faster than a person could; the per-fan limits are not
        // what this test is about.
        "--fan-messages-per-fan",
        "100000",
        "--fan-messages-per-ip",
        "100000",
    ];
    let node = ServerProcess::start_with(Path::new(EXE), dir.path(), Some(database.url()), &args)
        .await
        .unwrap_or_else(|error| panic!("start {name}: {error:#}"));
    // The data directory holds nothing on PostgreSQL; it may go once the process runs.
    drop(dir);
    node
}

/// One fan: its token and conversation.
struct Fan {
    label: String,
    token: String,
    conversation: String,
}

/// What a fan learnt: the `public_seq` of each acked send, and which sends it had to
/// retry on the other node.
#[derive(Default)]
struct Sent {
    acked: HashMap<String, u64>,
    retried: Vec<String>,
}

/// Sends `PER_FAN` messages through `first` until it fails, then through `second`,
/// retrying the send that failed with the same `client_msg_id`.
async fn send_all(
    fan: Fan,
    first: HttpClient,
    second: HttpClient,
    progress: watch::Sender<usize>,
) -> Sent {
    let path = format!("/api/v1/conversations/{}/messages", fan.conversation);
    let mut through = &first;
    let mut sent = Sent::default();
    for number in 0..PER_FAN {
        let id = format!("{}-{number}", fan.label);
        let request = json!({"client_msg_id": id, "body": format!("{} #{number}", fan.label)});
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts <= 50, "{id}: no node acked it");
            let body = Some(Body::Json(request.clone()));
            let outcome = through
                .try_request(reqwest::Method::POST, &path, Some(&fan.token), body)
                .await;
            match outcome {
                Ok(reply) if reply.status == 201 || reply.status == 200 => {
                    let public_seq = reply.json["public_seq"]
                        .as_u64()
                        .or_else(|| reply.json["seq"].as_u64())
                        .unwrap_or_else(|| panic!("{id}: ack without seq: {}", reply.text()));
                    sent.acked.insert(id.clone(), public_seq);
                    progress.send_modify(|count| *count += 1);
                    break;
                }
                Ok(reply) if reply.status < 500 => {
                    panic!("{id}: unexpected {} {}", reply.status, reply.text())
                }
                // The node died under the request (or answered 5xx as it went): the
                // outcome is unknown, so the same send goes to the other node.
                _ => {
                    if !std::ptr::eq(through, &second) {
                        sent.retried.push(id.clone());
                    }
                    through = &second;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    sent
}

/// The whole team timeline of a conversation, read through `http`.
async fn history(http: &HttpClient, token: &str, conversation: &str) -> Vec<Value> {
    let path = format!("/api/v1/conversations/{conversation}/messages?after_seq=0&limit=500");
    let reply = http.get(&path, Some(token)).await;
    reply.expect_status(200);
    reply.json["messages"]
        .as_array()
        .cloned()
        .expect("messages")
}

/// Reads frames until `done` says the `message.created` events seen so far are enough, the
/// socket closes, or nothing comes for 20 s; returns the `seq`s of those events for each
/// topic in `topics`, in arrival order.
async fn read_events(
    socket: &mut WsClient,
    topics: &[String],
    done: impl Fn(&HashMap<String, Vec<u64>>) -> bool,
) -> HashMap<String, Vec<u64>> {
    let mut frames = Vec::new();
    let per_topic = |frames: &[Value]| -> HashMap<String, Vec<u64>> {
        topics
            .iter()
            .map(|topic| (topic.clone(), seqs(&created_events(frames, topic))))
            .collect()
    };
    while let Some(Incoming::Frame(frame)) =
        socket.next_incoming_within(Duration::from_secs(20)).await
    {
        frames.push(frame);
        if done(&per_topic(&frames)) {
            break;
        }
    }
    per_topic(&frames)
}

/// Enough when every topic has `PER_FAN` events up to `seq` `PER_FAN`.
fn complete(seen: &HashMap<String, Vec<u64>>) -> bool {
    seen.values()
        .all(|seqs| seqs.last() == Some(&(PER_FAN as u64)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_traffic_loses_no_acked_message() {
    let Some(database) = PostgresDatabase::create().await.expect("create database") else {
        eprintln!(
            "multi-node runs on PostgreSQL only (FANDESK_TEST_POSTGRES_URL is not set): not run"
        );
        return;
    };
    let nats = NatsServer::start().await.expect("a NATS server");
    let a = start_node(&database, &nats, "node-a").await;
    let b = start_node(&database, &nats, "node-b").await;

    let owner = a.http().login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    let member = json!({"email": "watch@failover.test", "name": "Watcher", "role": "supervisor", "password": MEMBER_PASSWORD});
    a.http()
        .post("/api/v1/members", Some(&owner), member)
        .await
        .expect_status(201);
    let watcher = a
        .http()
        .login("watch@failover.test", MEMBER_PASSWORD)
        .await
        .0;

    let mut fans = Vec::new();
    for index in 0..FANS {
        let reply = b
            .http()
            .post(
                "/api/v1/fan-sessions",
                None,
                json!({"display_name": format!("Fan {index}")}),
            )
            .await;
        reply.expect_status(201);
        let token = reply.json["token"].as_str().expect("token").to_owned();
        let created = b
            .http()
            .post("/api/v1/conversations", Some(&token), json!({}))
            .await;
        created.expect_status(201);
        let conversation = created.json["id"].as_str().expect("id").to_owned();
        fans.push(Fan {
            label: format!("fan{index}"),
            token,
            conversation,
        });
    }
    let topics: Vec<String> = fans
        .iter()
        .map(|fan| format!("conversation:{}", fan.conversation))
        .collect();

    // One watcher on A from the start to the end; one on B until B dies.
    let mut on_a = WsClient::connect_url(&a.ws_url(), Some(&watcher), None)
        .await
        .expect("watcher on A");
    let mut on_b = WsClient::connect_url(&b.ws_url(), Some(&watcher), None)
        .await
        .expect("watcher on B");
    for topic in &topics {
        on_a.subscribe(topic, Some(0))
            .await
            .expect("subscribe on A");
        on_b.subscribe(topic, Some(0))
            .await
            .expect("subscribe on B");
    }

    let (progress, mut acked) = watch::channel(0usize);
    let tokens: Vec<(String, String)> = fans
        .iter()
        .map(|fan| (fan.token.clone(), fan.conversation.clone()))
        .collect();
    let mut senders = Vec::new();
    for fan in fans {
        let (first, second) = (b.http().clone(), a.http().clone());
        senders.push(tokio::spawn(send_all(fan, first, second, progress.clone())));
    }
    drop(progress);
    acked
        .wait_for(|count| *count >= ACKED_BEFORE_KILL)
        .await
        .expect("the fans got acks from node B");
    b.kill().await.expect("SIGKILL node B");

    // The watcher on B finds its socket gone and resumes on A from the last seq it saw.
    let before_kill = read_events(&mut on_b, &topics, |_| false).await;
    assert!(
        before_kill.values().any(|seqs| !seqs.is_empty()),
        "the watcher on B saw traffic before the kill"
    );
    let mut resumed = WsClient::connect_url(&a.ws_url(), Some(&watcher), None)
        .await
        .expect("watcher resumes on A");
    for topic in &topics {
        let last = before_kill.get(topic).and_then(|seqs| seqs.last().copied());
        resumed
            .subscribe(topic, Some(last.unwrap_or(0)))
            .await
            .expect("resume on A");
    }

    let mut sent = Sent::default();
    for sender in senders {
        let outcome = sender.await.expect("sender task");
        sent.acked.extend(outcome.acked);
        sent.retried.extend(outcome.retried);
    }
    assert!(
        sent.acked.len() == FANS * PER_FAN,
        "every send was acked by one node or the other"
    );

    for (token, conversation) in &tokens {
        let messages = history(a.http(), &watcher, conversation).await;
        assert_dense_from(&seqs(&messages), 1);
        let mut ids = HashSet::new();
        for message in &messages {
            let id = message["client_msg_id"].as_str().expect("client_msg_id");
            assert!(
                ids.insert(id.to_owned()),
                "{conversation}: {id} stored twice"
            );
            let acked = sent
                .acked
                .get(id)
                .unwrap_or_else(|| panic!("{conversation}: {id} was never acked"));
            assert_eq!(message["public_seq"], *acked, "{id}: the acked public_seq");
        }
        assert_eq!(
            ids.len(),
            PER_FAN,
            "{conversation}: every acked message, once"
        );
        // The fan's own view agrees.
        let fan_view = history(a.http(), token, conversation).await;
        assert_eq!(
            fan_view.len(),
            PER_FAN,
            "{conversation}: the fan sees them all"
        );
    }

    // Live on A all along: every event once, in order.
    let live = read_events(&mut on_a, &topics, complete).await;
    // On B until the kill, then on A from where it stopped: the two halves join.
    let after = read_events(&mut resumed, &topics, complete).await;
    for topic in &topics {
        assert_dense_from(&live[topic], 1);
        assert_eq!(
            live[topic].len(),
            PER_FAN,
            "{topic}: the watcher on A saw each once"
        );
        let mut joined = before_kill[topic].clone();
        joined.extend(&after[topic]);
        assert_dense_from(&joined, 1);
        assert_eq!(
            joined.len(),
            PER_FAN,
            "{topic}: resumed without gap or repeat"
        );
    }
    eprintln!(
        "node B killed after {ACKED_BEFORE_KILL}+ acks; {} send(s) retried on node A",
        sent.retried.len()
    );

    on_a.close().await;
    resumed.close().await;
    a.kill().await.expect("stop node A");
}
