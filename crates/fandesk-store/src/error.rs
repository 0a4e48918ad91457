//! The store's error type: sqlx errors never leave this crate.

use fandesk_domain::RuleViolation;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; the text names what collided.
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A domain rule refused the write inside a transaction.
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    #[error("database error: {0}")]
    Database(String),
    /// The database could not be reached or the connection failed (or a `COMMIT` did not
    /// answer), so an unfinished transaction's outcome is unknown: never retried blindly.
    #[error("database connection failed: {0}")]
    Connection(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value that cannot be decoded (unknown enum text, bad time).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database is not configured as required (e.g. SQLite not in WAL/FULL).
    #[error("misconfigured database: {0}")]
    Misconfigured(String),
    /// A line of an import that is malformed or that the database refused; nothing of
    /// its batch was written (docs/export.md › Import).
    #[error("line {line}: {reason}")]
    BadLine { line: u64, reason: String },
}

impl StoreError {
    /// Carries a store error through sqlx's `FromRow`, which returns sqlx errors only;
    /// `From<sqlx::Error>` unwraps it again, so a corrupt value stays `Corrupt`.
    pub(crate) fn into_decode(self) -> sqlx::Error {
        sqlx::Error::Decode(Box::new(self))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let error = match error {
            sqlx::Error::Decode(source) => match source.downcast::<StoreError>() {
                Ok(store) => return *store,
                Err(source) => sqlx::Error::Decode(source),
            },
            error => error,
        };
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            let what = db
                .constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned());
            return StoreError::Conflict(format!("already exists ({what})"));
        }
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Connection(error.to_string()),
            error => StoreError::Database(error.to_string()),
        }
    }
}

impl StoreError {
    /// Whether the failed transaction certainly rolled back, so its ops may be applied
    /// again apart (the group commit isolates a bad op that way): every error but a
    /// failed connection, whose `COMMIT` may have landed.
    pub fn rolled_back(&self) -> bool {
        !matches!(self, StoreError::Connection(_))
    }

    /// A failed `COMMIT`: its outcome is unknown whatever the error says.
    pub(crate) fn at_commit(error: sqlx::Error) -> StoreError {
        StoreError::Connection(format!("commit: {error}"))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreError};
    use fandesk_domain::{ConversationId, MemberId};

    /// Runs raw SQL on the store's writer, as a damaged database would look.
    async fn corrupt(store: &Store, sql: &'static str) {
        match store {
            Store::Sqlite(db) => sqlx::query(sql).execute(&db.write).await.map(drop),
            Store::Postgres(db) => sqlx::query(sql).execute(&db.pool).await.map(drop),
        }
        .expect("raw write");
    }

    /// A value that is not ours comes back as `Corrupt` (it travels through sqlx's
    /// `FromRow` as a decode error), while an absent row stays `None`.
    async fn check(store: &Store) {
        corrupt(
            store,
            "INSERT INTO members (id, email, name, role, password_hash, created_at) VALUES \
             ('m_role', 'a@x', 'A', 'emperor', 'h', 0), \
             ('m_time', 'b@x', 'B', 'agent', 'h', 9223372036854775807)",
        )
        .await;
        corrupt(
            store,
            "INSERT INTO fans (id, display_name, created_at, last_seen_at) VALUES ('f', 'F', 0, 0)",
        )
        .await;
        corrupt(
            store,
            "INSERT INTO conversations (id, fan_id, status, last_seq, created_at, updated_at) \
             VALUES ('c_seq', 'f', 'open', -1, 0, 0)",
        )
        .await;
        let text = |result: Result<_, StoreError>| match result {
            Err(StoreError::Corrupt(text)) => text,
            other => panic!("expected Corrupt, got {other:?}"),
        };
        let role = store.find_member(&MemberId("m_role".into())).await;
        assert_eq!(text(role.map(drop)), r#"unknown role "emperor""#);
        let time = store.find_member(&MemberId("m_time".into())).await;
        assert!(text(time.map(drop)).starts_with("timestamp 9223372036854775807"));
        let seq = store
            .find_conversation(&ConversationId("c_seq".into()))
            .await;
        assert_eq!(text(seq.map(drop)), "negative sequence -1");
        let listed = store.list_members().await;
        assert!(matches!(listed, Err(StoreError::Corrupt(_))), "{listed:?}");
        let absent = store.find_member(&MemberId("m_none".into())).await;
        assert_eq!(absent.expect("no error"), None);
    }

    #[tokio::test]
    async fn corrupt_rows_are_corrupt_on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("open");
        check(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn corrupt_rows_are_corrupt_on_postgres() {
        let Some(url) = std::env::var("FANDESK_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            eprintln!("skipped, FANDESK_TEST_POSTGRES_URL is not set");
            return;
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let store = Store::connect_postgres(&url, Some(&schema))
            .await
            .expect("connect");
        check(&store).await;
        if let Store::Postgres(db) = &store {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&db.pool)
                .await
                .expect("drop schema");
        }
        store.close().await;
    }
}
