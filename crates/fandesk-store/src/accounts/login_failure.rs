//! Failed logins per account, the state of the login backoff: one row per account name
//! (existing or not) with its consecutive failures and the time of the last one.

use super::LoginFailures;
use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult, to_micros};
use jiff::Timestamp;
use sqlx::FromRow;

impl<'r, R: Columns> FromRow<'r, R> for LoginFailures {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(LoginFailures {
            failures: u32::try_from(row.int("failures")?).unwrap_or(u32::MAX),
            last_failed_at: row.time("last_failed_at")?,
        })
    }
}

impl Store {
    /// The consecutive failed logins of `account`, if any.
    pub async fn login_failures(&self, account: &str) -> StoreResult<Option<LoginFailures>> {
        let statement = Statement::new(
            "SELECT failures, last_failed_at FROM login_failures WHERE account = $1",
        )
        .bind(account);
        self.reader().fetch_optional(statement).await
    }

    /// Counts one more failed login of `account` at `at`.
    pub async fn record_login_failure(&self, account: &str, at: Timestamp) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO login_failures (account, failures, last_failed_at) VALUES ($1, 1, $2) \
             ON CONFLICT (account) DO UPDATE \
             SET failures = login_failures.failures + 1, last_failed_at = $2",
        )
        .bind(account)
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Forgets the failures of `account` (after a successful login).
    pub async fn clear_login_failures(&self, account: &str) -> StoreResult<()> {
        let statement =
            Statement::new("DELETE FROM login_failures WHERE account = $1").bind(account);
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Deletes the failures last counted before `before`; returns how many.
    pub async fn purge_login_failures(&self, before: Timestamp) -> StoreResult<u64> {
        let statement = Statement::new("DELETE FROM login_failures WHERE last_failed_at < $1")
            .bind(to_micros(before));
        self.writer().execute(statement).await
    }
}
