//! `fandesk export` and `fandesk import` on the command line (docs/export.md): an export
//! taken while the server runs imports into a fresh database line for line, a second
//! import changes nothing, a workspace whose owner has another id gets the owner's notes
//! under its own owner, a malformed line is refused by number with nothing written, and
//! `--progress` reports on a stderr that is not a terminal.

use fandesk_testkit::{HttpClient, OWNER_EMAIL, OWNER_PASSWORD, ServerProcess};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

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

async fn owner_token(http: &HttpClient) -> String {
    http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0
}

/// Everything after the header line.
fn body(text: &str) -> &str {
    text.split_once('\n').map_or("", |(_, rest)| rest)
}

fn counts(output: &Output) -> Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("counts on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_line_for_line_and_only_once() {
    let root = tempfile::tempdir().expect("temp dir");
    let live = root.path().join("live");
    let server = ServerProcess::start(Path::new(EXE), &live, None)
        .await
        .expect("start");
    let http = server.http().clone();
    let (fan, _) = http.fan_session("Fan").await;
    let conversation = http.open_conversation(&fan).await;
    let route = format!("/api/v1/conversations/{conversation}/messages");
    let owner = owner_token(&http).await;
    for (number, (token, body, visibility)) in [
        (&fan, "hello, is anyone there?", "public"),
        (&owner, "VIP, be quick", "internal"),
        (&owner, "hi! how can we help?", "public"),
    ]
    .into_iter()
    .enumerate()
    {
        http.post(
            &route,
            Some(token),
            json!({"client_msg_id": format!("m{number}"), "body": body, "visibility": visibility}),
        )
        .await
        .expect_status(201);
    }

    // Exported while the server runs.
    let file = root.path().join("workspace.jsonl");
    let output = fandesk(&[
        "export",
        "--data-dir",
        path(&live),
        "--out",
        path(&file),
        "--progress",
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("exported") && said.contains("lines"),
        "{said}"
    );
    server.kill().await.expect("stop");
    let text = std::fs::read_to_string(&file).expect("read export");
    assert!(text.starts_with("{\"type\":\"header\""), "{text}");
    assert!(text.contains("VIP, be quick"));
    let lines = text.lines().count() as u64;

    // An export never overwrites a file.
    let again = fandesk(&["export", "--data-dir", path(&live), "--out", path(&file)]).await;
    assert!(!again.status.success());

    // A database without members is refused unless asked for.
    let fresh = root.path().join("fresh");
    let refused = fandesk(&["import", "--data-dir", path(&fresh), path(&file)]).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no members yet"),
        "{refused:?}"
    );
    let imported = counts(
        &fandesk(&[
            "import",
            "--data-dir",
            path(&fresh),
            "--without-owner",
            path(&file),
        ])
        .await,
    );
    assert_eq!(
        imported,
        json!({"fans": 1, "conversations": 1, "messages": 3, "skipped": 0})
    );
    let twice = counts(&fandesk(&["import", "--data-dir", path(&fresh), path(&file)]).await);
    assert_eq!(
        twice,
        json!({"fans": 0, "conversations": 0, "messages": 0, "skipped": lines - 1})
    );
    let out = fandesk(&["export", "--data-dir", path(&fresh), "--out", "-"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(body(&String::from_utf8_lossy(&out.stdout)), body(&text));

    // A malformed line: refused by number, nothing written.
    let mut broken: Vec<&str> = text.lines().collect();
    let bad = broken.len() - 1;
    broken[bad] = "{\"type\":\"message\"}";
    let broken_file = root.path().join("broken.jsonl");
    std::fs::write(&broken_file, broken.join("\n")).expect("write");
    let served = root.path().join("served");
    let server = ServerProcess::start(Path::new(EXE), &served, None)
        .await
        .expect("start");
    server.kill().await.expect("stop");
    let refused = fandesk(&["import", "--data-dir", path(&served), path(&broken_file)]).await;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains(&format!("line {}", bad + 1)), "{said}");

    // Into a workspace with its own owner (same email, another id): the owner's note and
    // reply come in under that owner, who logs in and reads them.
    let imported = counts(&fandesk(&["import", "--data-dir", path(&served), path(&file)]).await);
    assert_eq!(
        imported,
        json!({"fans": 1, "conversations": 1, "messages": 3, "skipped": 1})
    );
    let server = ServerProcess::start(Path::new(EXE), &served, None)
        .await
        .expect("start");
    let http = server.http().clone();
    let owner = owner_token(&http).await;
    let me = http.get("/api/v1/me", Some(&owner)).await;
    me.expect_status(200);
    let timeline = http.get(&route, Some(&owner)).await;
    timeline.expect_status(200);
    let messages = timeline.json["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3, "{messages:?}");
    let note = &messages[1];
    assert_eq!(note["body"], "VIP, be quick");
    assert_eq!(note["author"]["id"], me.json["id"], "{note}");
    server.kill().await.expect("stop");
}
