//! `fandesk report` on the command line (docs/api.md › Metrics and reports): it reads an
//! existing database and refuses a data directory that holds none, instead of creating
//! an empty database and printing an all-zero week.

use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");

fn report(data_dir: &std::path::Path) -> Output {
    Command::new(EXE)
        .args([
            "report",
            "--format",
            "json",
            "--week",
            "2026-W47",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("FANDESK_DATABASE_URL")
        .env_remove("FANDESK_DATA_DIR")
        .output()
        .expect("run fandesk report")
}

#[test]
fn a_data_dir_without_a_database_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let typo = root.path().join("typo");
    let output = report(&typo);
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no fandesk database in"), "{stderr}");
    assert!(stderr.contains(&typo.display().to_string()), "{stderr}");
    assert!(output.stdout.is_empty(), "no report is printed");
    assert!(!typo.exists(), "the mistyped directory is not created");

    // An existing but empty directory is refused too, and stays empty.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    assert!(!report(&empty).status.success());
    assert_eq!(std::fs::read_dir(&empty).expect("read dir").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_with_a_database_is_reported() {
    let root = tempfile::tempdir().expect("temp dir");
    let store = fandesk_store::Store::open_sqlite(root.path())
        .await
        .expect("open the database");
    store.close().await;
    let output = report(root.path());
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["week"], "2026-W47", "{report}");
}
