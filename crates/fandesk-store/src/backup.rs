//! Online backup of the SQLite database (`VACUUM INTO` on a connection of its own: one
//! read transaction, so the copy is the database as of one commit, WAL frames included,
//! while the server keeps writing) and the check a restore runs on a backup file.

use crate::connect::SQLITE_FILE;
use crate::{StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::time::Duration;

/// What a backup (or a checked backup file) holds, for the operator's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    pub bytes: u64,
    pub conversations: i64,
    pub messages: i64,
    pub fans: i64,
}

/// Writes a consistent copy of `DIR/fandesk.db` to `out`, which must not exist, and
/// checks the copy. Safe while a server runs on `data_dir`: the copy is one read
/// transaction and waits for no writer. It is written beside `out` first and renamed
/// into place only once complete and checked, so `out` never names a half-written file.
pub async fn backup_sqlite(data_dir: &Path, out: &Path) -> StoreResult<BackupSummary> {
    let file = data_dir.join(SQLITE_FILE);
    if !file.is_file() {
        return Err(StoreError::Misconfigured(format!(
            "no fandesk database in {} (expected {})",
            data_dir.display(),
            file.display()
        )));
    }
    if out.exists() {
        return Err(StoreError::Misconfigured(format!(
            "{} already exists; a backup never overwrites a file",
            out.display()
        )));
    }
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut source = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .disable_statement_logging()
        .connect()
        .await?;
    let path = partial
        .to_str()
        .ok_or_else(|| StoreError::Misconfigured(format!("{} is not UTF-8", out.display())))?
        .to_owned();
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(&mut source)
        .await;
    source.close().await?;
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into());
    }
    let summary = match check_backup(&partial).await {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::File::open(&partial)
        .and_then(|copy| copy.sync_all())
        .and_then(|()| std::fs::rename(&partial, out))
        .map_err(|error| {
            StoreError::Misconfigured(format!("cannot move the backup into place: {error}"))
        })?;
    Ok(summary)
}

/// Checks that `file` is an intact fandesk SQLite database (integrity check, the
/// migration table and the main tables present) without changing it; returns what it
/// holds.
pub async fn check_backup(file: &Path) -> StoreResult<BackupSummary> {
    let bytes = std::fs::metadata(file)
        .map_err(|error| StoreError::Misconfigured(format!("{}: {error}", file.display())))?
        .len();
    let not_fandesk = |detail: String| {
        StoreError::Misconfigured(format!(
            "{} is not a fandesk SQLite backup: {detail}",
            file.display()
        ))
    };
    let mut connection = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .disable_statement_logging()
        .connect()
        .await
        .map_err(|error| not_fandesk(error.to_string()))?;
    let result = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut connection)
            .await
            .map_err(|error| not_fandesk(error.to_string()))?;
        if integrity != "ok" {
            return Err(not_fandesk(format!("integrity check: {integrity}")));
        }
        let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
        let mut counts = Vec::new();
        for table in ["_sqlx_migrations", "conversations", "messages", "fans"] {
            let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count(table)))
                .fetch_one(&mut connection)
                .await
                .map_err(|error| not_fandesk(error.to_string()))?;
            counts.push(value);
        }
        Ok(BackupSummary {
            bytes,
            conversations: counts[1],
            messages: counts[2],
            fans: counts[3],
        })
    }
    .await;
    connection.close().await?;
    result
}
