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
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value that cannot be decoded (unknown enum text, bad time).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database is not configured as required (e.g. SQLite not in WAL/FULL).
    #[error("misconfigured database: {0}")]
    Misconfigured(String),
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
        StoreError::Database(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(error.to_string())
    }
}
