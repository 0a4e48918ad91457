//! The charter's versions and review sign-offs (migration 0010). A version is saved only
//! on top of the one its author read (`base`): the check and the insert share a
//! transaction, and the version number is the primary key, so two saves on the same base
//! — even on two nodes — cannot both land. The first-response target the metrics judge
//! replies against (`metric_settings`) is written in the same transaction, so it never
//! disagrees with the charter in force.

use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_optional};
use crate::{Store, StoreResult, to_micros};
use jiff::Timestamp;
use sqlx::{FromRow, Postgres, Sqlite};

/// One saved version of the charter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharterVersionRow {
    pub version: i64,
    pub toml: String,
    pub created_at: Timestamp,
    /// The member who saved it; `None` when the server wrote it (the seed).
    pub created_by: Option<String>,
    pub created_by_name: String,
}

/// A recorded review of the charter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharterReviewRow {
    pub id: String,
    pub version: i64,
    pub reviewed_at: Timestamp,
    pub reviewed_by: String,
    pub reviewed_by_name: String,
    pub note: String,
}

/// What a save depends on besides the document.
#[derive(Clone, Copy, Debug)]
pub struct CharterEffects {
    /// The first-response target replies are judged against from now on, in ms.
    pub sla_target_ms: i64,
}

impl<'r, R: Columns> FromRow<'r, R> for CharterVersionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CharterVersionRow {
            version: row.int("version")?,
            toml: row.text("toml")?,
            created_at: row.time("created_at")?,
            created_by: row.optional_text("created_by")?,
            created_by_name: row.text("created_by_name")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for CharterReviewRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CharterReviewRow {
            id: row.text("id")?,
            version: row.int("version")?,
            reviewed_at: row.time("reviewed_at")?,
            reviewed_by: row.text("reviewed_by")?,
            reviewed_by_name: row.text("reviewed_by_name")?,
            note: row.text("note")?,
        })
    }
}

/// The newest version number, if any.
struct Latest(Option<i64>);

impl<'r, R: Columns> FromRow<'r, R> for Latest {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Latest(row.optional_int("latest")?))
    }
}

const VERSION_COLUMNS: &str = "version, toml, created_at, created_by, created_by_name";
const REVIEW_COLUMNS: &str = "id, version, reviewed_at, reviewed_by, reviewed_by_name, note";

impl Store {
    /// Saves `row` (numbered `base + 1`, or 1 when `base` is `None`) if the newest version
    /// is still `base`; `false` when it is not (someone saved in between).
    pub async fn insert_charter_version(
        &self,
        base: Option<i64>,
        row: &CharterVersionRow,
        effects: CharterEffects,
    ) -> StoreResult<bool> {
        debug_assert_eq!(row.version, base.unwrap_or(0) + 1);
        let saved = match self {
            Store::Sqlite(db) => save::<Sqlite>(&db.write, base, row, effects).await,
            Store::Postgres(db) => save::<Postgres>(&db.pool, base, row, effects).await,
        };
        match saved {
            // The same number saved by a concurrent transaction: the base is stale.
            Err(crate::StoreError::Conflict(_)) => Ok(false),
            other => other,
        }
    }

    /// The version in force, or `None` before the first one is written.
    pub async fn find_current_charter(&self) -> StoreResult<Option<CharterVersionRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM charter_versions ORDER BY version DESC LIMIT 1"
        )));
        self.reader().fetch_optional(statement).await
    }

    /// The number of the version in force: one index lookup, cheap enough to poll.
    pub async fn current_charter_version(&self) -> StoreResult<Option<i64>> {
        let statement = Statement::new("SELECT MAX(version) AS latest FROM charter_versions");
        let latest: Option<Latest> = self.reader().fetch_optional(statement).await?;
        Ok(latest.and_then(|latest| latest.0))
    }

    pub async fn find_charter_version(
        &self,
        version: i64,
    ) -> StoreResult<Option<CharterVersionRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM charter_versions WHERE version = $1"
        )))
        .bind(version);
        self.reader().fetch_optional(statement).await
    }

    /// Every version, newest first, with an empty `toml` (the history lists who and when).
    pub async fn list_charter_versions(&self) -> StoreResult<Vec<CharterVersionRow>> {
        let statement = Statement::new(
            "SELECT version, '' AS toml, created_at, created_by, created_by_name \
             FROM charter_versions ORDER BY version DESC",
        );
        self.reader().fetch_all(statement).await
    }

    /// When the first version was written: the review clock starts there.
    pub async fn first_charter_version(&self) -> StoreResult<Option<CharterVersionRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM charter_versions ORDER BY version LIMIT 1"
        )));
        self.reader().fetch_optional(statement).await
    }

    pub async fn insert_charter_review(&self, row: &CharterReviewRow) -> StoreResult<()> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "INSERT INTO charter_reviews ({REVIEW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(row.id.as_str())
        .bind(row.version)
        .bind(to_micros(row.reviewed_at))
        .bind(row.reviewed_by.as_str())
        .bind(row.reviewed_by_name.as_str())
        .bind(row.note.as_str());
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Reviews, newest first, at most `limit`.
    pub async fn list_charter_reviews(&self, limit: u32) -> StoreResult<Vec<CharterReviewRow>> {
        let statement = Statement::new(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_COLUMNS} FROM charter_reviews \
             ORDER BY reviewed_at DESC, id DESC LIMIT $1"
        )))
        .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// The sign-off that restarted the review clock, if any.
    pub async fn find_last_charter_review(&self) -> StoreResult<Option<CharterReviewRow>> {
        Ok(self.list_charter_reviews(1).await?.pop())
    }
}

/// The save: check the base, insert the version, set what depends on it; one transaction.
async fn save<D: Dialect>(
    pool: &sqlx::Pool<D>,
    base: Option<i64>,
    row: &CharterVersionRow,
    effects: CharterEffects,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let latest: Option<Latest> = fetch_optional::<D, Latest>(
        &mut *tx,
        Statement::new("SELECT MAX(version) AS latest FROM charter_versions"),
    )
    .await?;
    if latest.and_then(|latest| latest.0) != base {
        return Ok(false);
    }
    let insert = Statement::new(sqlx::AssertSqlSafe(format!(
        "INSERT INTO charter_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    )))
    .bind(row.version)
    .bind(row.toml.as_str())
    .bind(to_micros(row.created_at))
    .bind(row.created_by.as_deref())
    .bind(row.created_by_name.as_str());
    execute::<D>(&mut *tx, insert).await?;
    let target = Statement::new("UPDATE metric_settings SET sla_target_ms = $1 WHERE id = 1")
        .bind(effects.sla_target_ms);
    execute::<D>(&mut *tx, target).await?;
    tx.commit().await?;
    Ok(true)
}
