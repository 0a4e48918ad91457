//! `fandesk backup` and `fandesk restore` on the command line (README › Backup, restore,
//! export): a backup taken while the server takes writes, restored into a new directory,
//! serves every message acknowledged before the backup began; restore refuses a data
//! directory that is not empty unless `--force`; a PostgreSQL URL is pointed to pg_dump.

use fandesk_testkit::{HttpClient, OWNER_EMAIL, OWNER_PASSWORD, ServerProcess};
use serde_json::json;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");

async fn fandesk(args: &[&str]) -> Output {
    tokio::process::Command::new(EXE)
        .args(args)
        .env_remove("FANDESK_DATABASE_URL")
        .env_remove("FANDESK_DATA_DIR")
        .output()
        .await
        .expect("run fandesk")
}

fn path(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Sends internal notes (a member is not rate limited like a fan) until told to stop, recording every acknowledged `client_msg_id` in order.
async fn keep_sending(
    http: HttpClient,
    token: String,
    conversation: String,
    acked: Arc<Mutex<Vec<String>>>,
    progress: watch::Sender<usize>,
    stop: watch::Receiver<bool>,
) {
    let route = format!("/api/v1/conversations/{conversation}/messages");
    let mut number = 0;
    while !*stop.borrow() {
        let id = format!("m-{number}");
        let reply = http
            .post(
                &route,
                Some(&token),
                json!({"client_msg_id": id, "body": format!("note {number}"), "visibility": "internal"}),
            )
            .await;
        reply.expect_status(201);
        let count = {
            let mut acked = acked.lock().expect("lock");
            acked.push(id);
            acked.len()
        };
        progress.send_replace(count);
        number += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_every_earlier_ack() {
    let root = tempfile::tempdir().expect("temp dir");
    let live = root.path().join("live");
    let server = ServerProcess::start(Path::new(EXE), &live, None)
        .await
        .expect("start");
    let http = server.http().clone();
    let (token, _) = http.fan_session("Fan").await;
    let conversation = http.open_conversation(&token).await;
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let (progress, mut count) = watch::channel(0);
    let (stop, stopped) = watch::channel(false);
    let sender = tokio::spawn(keep_sending(
        http.clone(),
        owner,
        conversation.clone(),
        acked.clone(),
        progress,
        stopped,
    ));
    count.wait_for(|count| *count >= 100).await.expect("sends");
    let before: Vec<String> = acked.lock().expect("lock").clone();
    let file = root.path().join("fandesk.backup");
    let output = fandesk(&["backup", "--data-dir", path(&live), "--out", path(&file)]).await;
    assert!(output.status.success(), "{output:?}");
    let after = acked.lock().expect("lock").len();
    stop.send_replace(true);
    sender.await.expect("sender");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("backed up"), "{said}");
    server.kill().await.expect("stop");

    let restored = root.path().join("restored");
    let output = fandesk(&[
        "restore",
        "--from",
        path(&file),
        "--data-dir",
        path(&restored),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    let server = ServerProcess::start(Path::new(EXE), &restored, None)
        .await
        .expect("start on the restored data");
    let http = server.http().clone();
    let owner = http
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}),
        )
        .await;
    owner.expect_status(200);
    let owner = owner.json["token"].as_str().expect("token").to_owned();
    let mut ids: Vec<String> = Vec::new();
    loop {
        let page = http
            .get(
                &format!(
                    "/api/v1/conversations/{conversation}/messages?after_seq={}&limit=200",
                    ids.len()
                ),
                Some(&owner),
            )
            .await;
        page.expect_status(200);
        let messages = page.json["messages"].as_array().expect("messages").clone();
        ids.extend(
            messages
                .iter()
                .map(|message| message["client_msg_id"].as_str().expect("id").to_owned()),
        );
        if messages.len() < 200 {
            break;
        }
    }
    assert_eq!(
        ids[..before.len()],
        before[..],
        "every message acked before the backup, in order"
    );
    assert!(ids.len() <= after, "nothing that was never acked");
    server.kill().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_data_dir_in_use_unless_forced() {
    let root = tempfile::tempdir().expect("temp dir");
    let live = root.path().join("live");
    let store = fandesk_store::Store::open_sqlite(&live)
        .await
        .expect("database");
    store.close().await;
    let file = root.path().join("copy.backup");
    let output = fandesk(&["backup", "--data-dir", path(&live), "--out", path(&file)]).await;
    assert!(output.status.success(), "{output:?}");

    let output = fandesk(&["restore", "--from", path(&file), "--data-dir", path(&live)]).await;
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("is not empty") && said.contains("--force"),
        "{said}"
    );

    let output = fandesk(&[
        "restore",
        "--from",
        path(&file),
        "--data-dir",
        path(&live),
        "--force",
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert!(!live.join("fandesk.db-wal").exists(), "the old WAL is gone");

    // What is not a backup is refused before anything is touched.
    let junk = root.path().join("junk");
    std::fs::write(&junk, "junk".repeat(1000)).expect("write");
    let target = root.path().join("fresh");
    let output = fandesk(&[
        "restore",
        "--from",
        path(&junk),
        "--data-dir",
        path(&target),
    ])
    .await;
    assert!(!output.status.success());
    assert!(!target.exists(), "nothing created for a bad backup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_points_to_pg_dump() {
    let output = fandesk(&[
        "backup",
        "--database",
        "postgres://user:secret@127.0.0.1:1/db",
        "--out",
        "/nonexistent/x",
    ])
    .await;
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("pg_dump") && said.contains("pg_restore"),
        "{said}"
    );
    assert!(!said.contains("secret"), "the URL is not echoed: {said}");
}
