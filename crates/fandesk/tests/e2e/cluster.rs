//! Several nodes on one PostgreSQL database with NATS between them (docs/api.md ›
//! Multi-node): a fan on one node and an agent on another see one timeline, dense and in
//! order, whichever node wrote each message; a node that misses events on NATS fills them
//! from the database. Multi-node needs PostgreSQL: on the SQLite run these tests say so
//! and end (the PostgreSQL run in `.ci/run` runs them). Rooms across three nodes, resume
//! on another node and a NATS restart are in [`resilience`]; a node SIGKILLed mid-traffic in
//! [`failover`]; room viewer counts summed over nodes in [`viewers`]; the
//! login backoff on every node in [`limits`]; `fandesk serve` processes
//! sharing one port in [`processes`]; jobs running once across nodes in [`jobs`].

mod failover;
mod jobs;
mod limits;
mod processes;
mod resilience;
mod viewers;

use super::support::{assert_dense_from, client_id, contains, created_events, seqs};
use fandesk_bus::{Bus, Event, NatsBus, Receiver};
use fandesk_testkit::{ClusterNode, NatsServer, TestServer, WsClient};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A node on `server`'s database whose bus is NATS (wrapped by `wrap`, e.g. to lose events).
pub(super) async fn node(
    server: &TestServer,
    nats: &NatsServer,
    name: &str,
    lose_every: Option<u64>,
) -> ClusterNode {
    let bus = Arc::new(
        NatsBus::connect(nats.url(), name)
            .await
            .expect("connect to NATS"),
    );
    let carried: Arc<dyn Bus> = match lose_every {
        None => bus.clone(),
        Some(every) => Arc::new(Lossy {
            inner: bus.clone(),
            every,
        }),
    };
    let node = ClusterNode::start(server.store().clone(), carried, name)
        .await
        .expect("start node");
    bus.set_gap_fill(node.app().gap_fill());
    node
}

/// Drops every timeline event whose `seq` is a multiple of `every` before it reaches the
/// bus: neither this node's subscribers nor any other node hear of it.
struct Lossy {
    inner: Arc<NatsBus>,
    every: u64,
}

impl Bus for Lossy {
    fn publish(&self, event: Arc<Event>) {
        if event.seq.is_some_and(|seq| seq % self.every == 0) {
            return;
        }
        self.inner.publish(event);
    }

    fn subscribe(&self, topic: &str) -> Receiver {
        self.inner.subscribe(topic)
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

pub(super) async fn postgres_server() -> Option<TestServer> {
    let server = TestServer::spawn().await;
    if server.backend() == "postgres" {
        return Some(server);
    }
    eprintln!("multi-node runs on PostgreSQL only (FANDESK_TEST_POSTGRES_URL is not set): not run");
    server.shutdown().await;
    None
}

/// Two NATS nodes on one PostgreSQL server (`a` losing every `n`-th event when asked), a
/// fan with a conversation, and an agent: the set-up most cluster tests share. `None` on
/// the SQLite run.
pub(super) struct Duo {
    pub(super) server: TestServer,
    pub(super) nats: NatsServer,
    pub(super) a: ClusterNode,
    pub(super) b: ClusterNode,
    pub(super) fan: String,
    pub(super) conversation: String,
    pub(super) agent: String,
    pub(super) topic: String,
}

impl Duo {
    pub(super) async fn start(lose_on_a: Option<u64>) -> Option<Duo> {
        let server = postgres_server().await?;
        let nats = NatsServer::start().await.expect("a NATS server");
        let a = node(&server, &nats, "node-a", lose_on_a).await;
        let b = node(&server, &nats, "node-b", None).await;
        let (fan, _) = server.fan_session("Fan").await;
        let conversation = server.open_conversation(&fan).await;
        let (agent, _) = server.create_member("agent").await;
        let topic = format!("conversation:{conversation}");
        Some(Duo {
            server,
            nats,
            a,
            b,
            fan,
            conversation,
            agent,
            topic,
        })
    }
}

/// Reads `message.created` events of `topic` until `count` arrived (or 20 s passed).
pub(super) async fn collect(socket: &mut WsClient, topic: &str, count: usize) -> Vec<Value> {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while created_events(&frames, topic).len() < count && tokio::time::Instant::now() < deadline {
        if let Some(frame) = socket.recv_json_timeout(Duration::from_millis(500)).await {
            frames.push(frame);
        }
    }
    created_events(&frames, topic)
}

pub(super) async fn post(
    node: &ClusterNode,
    token: &str,
    conversation: &str,
    body: &str,
    visibility: &str,
) {
    let request = json!({"client_msg_id": client_id(), "body": body, "visibility": visibility});
    let path = format!("/api/v1/conversations/{conversation}/messages");
    node.http()
        .post(&path, Some(token), request)
        .await
        .expect_status(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_on_one_node_and_an_agent_on_another_see_one_dense_timeline() {
    let Some(Duo {
        server,
        nats: _nats,
        a,
        b,
        fan,
        conversation,
        agent,
        topic,
    }) = Duo::start(None).await
    else {
        return;
    };
    let health = b.http().get("/healthz", None).await;
    assert_eq!(health.json["bus"], "nats", "{}", health.text());
    assert_eq!(health.json["node"], "node-b", "{}", health.text());

    // The agent follows on B, the fan on A: each from the start, before anything is sent.
    let mut agent_socket = WsClient::connect_url(&b.ws_url(), Some(&agent), None)
        .await
        .expect("agent socket");
    agent_socket
        .subscribe(&topic, Some(0))
        .await
        .expect("agent subscribes");
    let mut fan_socket = WsClient::connect_url(&a.ws_url(), Some(&fan), None)
        .await
        .expect("fan socket");
    fan_socket
        .subscribe(&topic, Some(0))
        .await
        .expect("fan subscribes");

    // The fan writes through A while the agent writes through B, at the same time; every
    // second agent message is an internal note.
    const EACH: usize = 20;
    let fan_writes = async {
        for number in 0..EACH {
            post(&a, &fan, &conversation, &format!("fan {number}"), "public").await;
        }
    };
    let agent_writes = async {
        for number in 0..EACH {
            let (visibility, body) = if number % 2 == 0 {
                ("public", format!("agent {number}"))
            } else {
                ("internal", format!("secret-note-{number}"))
            };
            post(&b, &agent, &conversation, &body, visibility).await;
        }
    };
    tokio::join!(fan_writes, agent_writes);

    let team = collect(&mut agent_socket, &topic, 2 * EACH).await;
    assert_eq!(
        team.len(),
        2 * EACH,
        "the agent on B sees every message once"
    );
    assert_dense_from(&seqs(&team), 1);
    let public = EACH + EACH / 2;
    let fans = collect(&mut fan_socket, &topic, public).await;
    assert_eq!(
        fans.len(),
        public,
        "the fan on A sees every public message once"
    );
    assert_dense_from(&seqs(&fans), 1);
    let raw = fan_socket.close().await;
    assert!(
        !contains(&raw, "secret-note"),
        "no internal note reaches the fan"
    );

    agent_socket.close().await;
    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_misses_events_fills_them_from_the_database() {
    // A loses every third event before it is published; B must deliver them anyway.
    let Some(Duo {
        server,
        nats: _nats,
        a,
        b,
        fan,
        conversation,
        agent,
        topic,
    }) = Duo::start(Some(3)).await
    else {
        return;
    };
    let mut socket = WsClient::connect_url(&b.ws_url(), Some(&agent), None)
        .await
        .expect("agent socket");
    socket.subscribe(&topic, None).await.expect("live only");

    const COUNT: usize = 31;
    for number in 0..COUNT {
        post(&a, &fan, &conversation, &format!("m{number}"), "public").await;
    }
    let events = collect(&mut socket, &topic, COUNT).await;
    assert_eq!(
        events.len(),
        COUNT,
        "every message reaches B, lost ones from the database"
    );
    assert_dense_from(&seqs(&events), 1);
    let bodies: Vec<&str> = events
        .iter()
        .map(|m| m["body"].as_str().unwrap_or(""))
        .collect();
    let expected: Vec<String> = (0..COUNT).map(|n| format!("m{n}")).collect();
    assert_eq!(bodies, expected, "in the order they were written");

    socket.close().await;
    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_node_closes_the_sockets_on_another() {
    let Some(Duo {
        server,
        nats: _nats,
        a,
        b,
        agent,
        ..
    }) = Duo::start(None).await
    else {
        return;
    };
    let mut socket = WsClient::connect_url(&b.ws_url(), Some(&agent), None)
        .await
        .expect("agent socket on B");
    socket.subscribe("inbox", None).await.expect("subscribe");

    a.http()
        .post_empty("/api/v1/auth/logout", Some(&agent))
        .await
        .expect_status(204);
    let closed = socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(closed.code, Some(4001), "revoked on every node: {closed:?}");

    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collision_view_spans_nodes() {
    let Some(Duo {
        server,
        nats: _nats,
        a,
        b,
        fan,
        conversation: _,
        agent,
        topic,
    }) = Duo::start(None).await
    else {
        return;
    };
    let mut watcher = WsClient::connect_url(&b.ws_url(), Some(&agent), None)
        .await
        .expect("agent on B");
    watcher.subscribe(&topic, None).await.expect("subscribe");

    // The owner opens the conversation on A, and the fan types there.
    let mut owner = WsClient::connect_url(&a.ws_url(), Some(server.owner_token()), None)
        .await
        .expect("owner on A");
    owner.subscribe(&topic, None).await.expect("subscribe");
    let seen = watcher
        .recv_matching(Duration::from_secs(10), |frame| {
            frame["event"]["kind"] == "presence" && frame["event"]["state"] == "viewing"
        })
        .await;
    assert_eq!(seen["topic"], topic.as_str(), "{seen}");
    let mut fan_socket = WsClient::connect_url(&a.ws_url(), Some(&fan), None)
        .await
        .expect("fan on A");
    fan_socket
        .send_json(&json!({"type": "typing", "topic": topic}))
        .await;
    let typing = watcher
        .recv_matching(Duration::from_secs(10), |frame| {
            frame["event"]["kind"] == "typing"
        })
        .await;
    assert_eq!(typing["event"]["author"]["kind"], "fan", "{typing}");

    for socket in [watcher, owner, fan_socket] {
        socket.close().await;
    }
    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}
