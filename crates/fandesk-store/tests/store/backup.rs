//! Online SQLite backup (`backup_sqlite`): the copy holds what is still only in the WAL,
//! a backup never overwrites a file, and `check_backup` refuses what is not a fandesk
//! database. SQLite only: PostgreSQL is backed up with pg_dump.

use fandesk_store::{SQLITE_FILE, Store, backup_sqlite, check_backup};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Rows committed on a connection that never checkpoints, kept open so SQLite does not
/// fold the WAL into the database file at close: they exist only as WAL frames.
async fn commit_into_the_wal(dir: &std::path::Path) -> sqlx::SqliteConnection {
    let mut connection = SqliteConnectOptions::new()
        .filename(dir.join(SQLITE_FILE))
        .connect()
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_autocheckpoint = 0")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE probe (n INTEGER NOT NULL)")
        .execute(&mut connection)
        .await
        .unwrap();
    for n in 0..50 {
        sqlx::query("INSERT INTO probe (n) VALUES ($1)")
            .bind(n)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    connection
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_holds_commits_still_in_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    store.close().await;
    let writer = commit_into_the_wal(dir.path()).await;
    let wal = dir.path().join(format!("{SQLITE_FILE}-wal"));
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the probe rows are in the WAL"
    );
    let out = dir.path().join("copy.db");
    let summary = backup_sqlite(dir.path(), &out).await.unwrap();
    assert_eq!(summary.messages, 0);
    assert!(summary.bytes > 0);
    writer.close().await.unwrap();

    let mut copy = SqliteConnectOptions::new()
        .filename(&out)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM probe")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(rows, 50);
    copy.close().await.unwrap();
    assert!(
        !dir.path().join("copy.partial").exists(),
        "no partial file left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_never_overwrites_and_needs_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.db");
    let missing = backup_sqlite(&dir.path().join("nowhere"), &out)
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("no fandesk database"),
        "{missing}"
    );

    let store = Store::open_sqlite(dir.path()).await.unwrap();
    store.close().await;
    std::fs::write(&out, b"precious").unwrap();
    let exists = backup_sqlite(dir.path(), &out).await.unwrap_err();
    assert!(exists.to_string().contains("already exists"), "{exists}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_backup_refuses_what_is_not_a_fandesk_database() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, just some words\n".repeat(200),
    )
    .unwrap();
    let error = check_backup(&text).await.unwrap_err();
    assert!(
        error.to_string().contains("is not a fandesk SQLite backup"),
        "{error}"
    );

    // A SQLite database, but not fandesk's.
    let other = dir.path().join("other.db");
    let mut connection = SqliteConnectOptions::new()
        .filename(&other)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t (x INTEGER)")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    let error = check_backup(&other).await.unwrap_err();
    assert!(error.to_string().contains("_sqlx_migrations"), "{error}");
}
