//! The binary as several nodes on one machine: `fandesk serve --reuse-port` processes share
//! one address (the kernel spreads connections over them), one PostgreSQL database and
//! one NATS server, and a conversation spoken through both reads the same everywhere.

use fandesk_testkit::{NatsServer, PostgresDatabase, ServerProcess, random_hex};
use std::collections::HashSet;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");

/// `GET /healthz` on a connection of its own (so the kernel may pick any process); the
/// node that answered.
async fn answering_node(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|error| panic!("healthz body {body:?}: {error}"));
    assert_eq!(json["bus"], "nats", "{json}");
    json["node"].as_str().expect("node").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_port_with_reuse_port() {
    let Some(database) = PostgresDatabase::create().await.expect("create database") else {
        eprintln!(
            "multi-node runs on PostgreSQL only (FANDESK_TEST_POSTGRES_URL is not set): not run"
        );
        return;
    };
    let nats = NatsServer::start().await.expect("a NATS server");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut processes = Vec::new();
    let names = [
        format!("p1-{}", random_hex()),
        format!("p2-{}", random_hex()),
    ];
    for name in &names {
        let args = [
            "--listen",
            listen.as_str(),
            "--reuse-port",
            "--nats",
            nats.url(),
            "--node",
            name.as_str(),
        ];
        let process =
            ServerProcess::start_with(Path::new(EXE), dir.path(), Some(database.url()), &args)
                .await
                .expect("a second process binds the same port");
        processes.push(process);
    }
    let mut seen = HashSet::new();
    for _ in 0..200 {
        seen.insert(answering_node(port).await);
        if seen.len() == names.len() {
            break;
        }
    }
    let expected: HashSet<String> = names.iter().cloned().collect();
    assert_eq!(seen, expected, "both processes answer on the shared port");

    for process in processes {
        process.kill().await.expect("stop");
    }
}
