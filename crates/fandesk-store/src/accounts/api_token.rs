//! Integration API tokens (`api_tokens`): stored by the SHA-256 of their secret, created
//! and revoked each with its audit entry in one transaction, the number of live tokens
//! capped inside the insert itself.

use crate::statement::{Columns, Statement};
use crate::supervision::write_if_changed;
use crate::{AuditRow, Store, StoreError, StoreResult, to_micros};
use fandesk_domain::{MemberId, Role};
use jiff::Timestamp;
use sqlx::{FromRow, Postgres, Sqlite};

/// One integration API token (never its secret: only `token_hash`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    /// The secret's first characters, to tell tokens apart in a list.
    pub prefix: String,
    /// The role the token acts as (never the owner's).
    pub role: Role,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, name, token_hash, prefix, role, created_by, created_at, expires_at, \
                       last_used_at, revoked_at";

impl<'r, R: Columns> FromRow<'r, R> for ApiTokenRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ApiTokenRow {
            id: row.text("id")?,
            name: row.text("name")?,
            token_hash: row.text("token_hash")?,
            prefix: row.text("prefix")?,
            role: row.parsed("role", "role", Role::parse)?,
            created_by: MemberId(row.text("created_by")?),
            created_at: row.time("created_at")?,
            expires_at: row.optional_time("expires_at")?,
            last_used_at: row.optional_time("last_used_at")?,
            revoked_at: row.optional_time("revoked_at")?,
        })
    }
}

impl Store {
    /// Inserts `token` and its `audit` entry in one transaction, unless `max_live` tokens
    /// are already live (neither revoked nor expired at `token.created_at`): then
    /// `Conflict`, and nothing is written.
    pub async fn insert_api_token(
        &self,
        token: &ApiTokenRow,
        audit: &AuditRow,
        max_live: usize,
    ) -> StoreResult<()> {
        let now = to_micros(token.created_at);
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_tokens ({COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL \
             WHERE (SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL \
                    AND (expires_at IS NULL OR expires_at > $7)) < $9"
        )))
        .bind(&token.id)
        .bind(&token.name)
        .bind(&token.token_hash)
        .bind(&token.prefix)
        .bind(token.role.as_str())
        .bind(token.created_by.as_str())
        .bind(now)
        .bind(token.expires_at.map(to_micros))
        .bind(i64::try_from(max_live).unwrap_or(i64::MAX));
        let inserted = match self {
            Store::Sqlite(db) => write_if_changed::<Sqlite>(&db.write, statement, audit).await?,
            Store::Postgres(db) => write_if_changed::<Postgres>(&db.pool, statement, audit).await?,
        };
        if inserted {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "{max_live} tokens are live already: revoke one first"
            )))
        }
    }

    /// Every token, newest first (revoked ones too).
    pub async fn list_api_tokens(&self) -> StoreResult<Vec<ApiTokenRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
        )));
        self.reader().fetch_all(statement).await
    }

    /// One token by id.
    pub async fn api_token(&self, id: &str) -> StoreResult<Option<ApiTokenRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE id = $1"
        )))
        .bind(id);
        self.writer().fetch_optional(statement).await
    }

    /// The token whose secret hashes to `token_hash`, if any (read from the writer, so a
    /// revocation just committed is seen).
    pub async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiTokenRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash);
        self.writer().fetch_optional(statement).await
    }

    /// Revokes a token at `audit.created_at` and writes `audit`, in one transaction;
    /// `false`, with nothing written, when it was revoked already.
    pub async fn revoke_api_token(&self, id: &str, audit: &AuditRow) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(to_micros(audit.created_at));
        match self {
            Store::Sqlite(db) => write_if_changed::<Sqlite>(&db.write, statement, audit).await,
            Store::Postgres(db) => write_if_changed::<Postgres>(&db.pool, statement, audit).await,
        }
    }

    /// Records a use of the token at `at`, unless one was recorded after `unless_after`
    /// (so a busy integration writes this at most once per interval).
    pub async fn touch_api_token(
        &self,
        id: &str,
        at: Timestamp,
        unless_after: Timestamp,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE api_tokens SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(id)
        .bind(to_micros(at))
        .bind(to_micros(unless_after));
        self.writer().execute(statement).await?;
        Ok(())
    }
}
