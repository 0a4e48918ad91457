//! The canned-response library and its usage (PRODUCT.md › C3): templates with shortcuts,
//! and one row per message sent from a template, counted only once that message exists
//! (a use is recorded before its send commits, so a refused send must not count).

use crate::{Store, StoreError, StoreResult, from_micros, to_micros};
use fandesk_domain::MemberId;
use jiff::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedRow {
    pub id: String,
    pub shortcut: String,
    pub title: String,
    /// The template as its author wrote it (validated by `desk::CannedTemplate::parse`).
    pub body: String,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    /// Last edit: a template unedited for 90 days is stale.
    pub updated_at: Timestamp,
}

/// How often a template was used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedUsageRow {
    pub template_id: String,
    pub uses: i64,
    /// Uses whose first line went out unedited (`warn` mode).
    pub unedited: i64,
    pub last_used_at: Option<Timestamp>,
}

/// One member's uses of one template since a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedMemberUseRow {
    pub template_id: String,
    pub member_id: MemberId,
    pub uses: i64,
}

const CANNED_COLUMNS: &str = "id, shortcut, title, body, created_by, created_at, updated_at";

macro_rules! decode_canned {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        CannedRow {
            id: row.try_get("id")?,
            shortcut: row.try_get("shortcut")?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            created_by: MemberId(row.try_get("created_by")?),
            created_at: from_micros(row.try_get("created_at")?)?,
            updated_at: from_micros(row.try_get("updated_at")?)?,
        }
    }};
}

/// Counts only uses whose message was committed.
const COMMITTED_USES: &str = "canned_uses u JOIN messages m ON m.id = u.message_id";

impl Store {
    /// Inserts a template; a taken shortcut is `Conflict`.
    pub async fn insert_canned(&self, canned: &CannedRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO canned_responses ({CANNED_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        on_pool!(self, write, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(canned.id.as_str())
                .bind(canned.shortcut.as_str())
                .bind(canned.title.as_str())
                .bind(canned.body.as_str())
                .bind(canned.created_by.as_str())
                .bind(to_micros(canned.created_at))
                .bind(to_micros(canned.updated_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Rewrites shortcut, title, body and `updated_at`; a taken shortcut is `Conflict`.
    pub async fn update_canned(&self, canned: &CannedRow) -> StoreResult<()> {
        let updated = on_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE canned_responses SET shortcut = $2, title = $3, body = $4, updated_at = $5 \
                 WHERE id = $1",
            )
            .bind(canned.id.as_str())
            .bind(canned.shortcut.as_str())
            .bind(canned.title.as_str())
            .bind(canned.body.as_str())
            .bind(to_micros(canned.updated_at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("canned response"));
        }
        Ok(())
    }

    /// Deletes a template and its usage record (health describes the current library).
    pub async fn delete_canned(&self, id: &str) -> StoreResult<()> {
        let deleted = on_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM canned_uses WHERE template_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM canned_responses WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        if deleted == 0 {
            return Err(StoreError::NotFound("canned response"));
        }
        Ok(())
    }

    pub async fn find_canned(&self, id: &str) -> StoreResult<Option<CannedRow>> {
        let sql = format!("SELECT {CANNED_COLUMNS} FROM canned_responses WHERE id = $1");
        on_pool!(self, read, |pool| {
            match sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(decode_canned!(&row))),
                None => Ok(None),
            }
        })
    }

    /// The whole library by shortcut (it is meant to stay around 10–15 templates).
    pub async fn list_canned(&self) -> StoreResult<Vec<CannedRow>> {
        let sql = format!("SELECT {CANNED_COLUMNS} FROM canned_responses ORDER BY shortcut");
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(pool)
                .await?;
            let mut library = Vec::with_capacity(rows.len());
            for row in &rows {
                library.push(decode_canned!(row));
            }
            Ok(library)
        })
    }

    /// Records that `message_id` is being sent from a template. Idempotent per message.
    pub async fn insert_canned_use(
        &self,
        message_id: &str,
        template_id: &str,
        member: &MemberId,
        unedited: bool,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO canned_uses (message_id, template_id, member_id, unedited, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(message_id)
            .bind(template_id)
            .bind(member.as_str())
            .bind(unedited)
            .bind(to_micros(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Committed uses per template (templates never used are absent).
    pub async fn list_canned_usage(&self) -> StoreResult<Vec<CannedUsageRow>> {
        let sql = format!(
            "SELECT u.template_id, COUNT(*) AS uses, \
             SUM(CASE WHEN u.unedited THEN 1 ELSE 0 END) AS unedited, \
             MAX(u.created_at) AS last_used_at FROM {COMMITTED_USES} GROUP BY u.template_id"
        );
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(pool)
                .await?;
            let mut usage = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                usage.push(CannedUsageRow {
                    template_id: row.try_get("template_id")?,
                    uses: row.try_get("uses")?,
                    unedited: row.try_get("unedited")?,
                    last_used_at: row
                        .try_get::<Option<i64>, _>("last_used_at")?
                        .map(from_micros)
                        .transpose()?,
                });
            }
            Ok(usage)
        })
    }

    /// Committed uses per template and member since `since`.
    pub async fn list_canned_member_uses(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<CannedMemberUseRow>> {
        let sql = format!(
            "SELECT u.template_id, u.member_id, COUNT(*) AS uses FROM {COMMITTED_USES} \
             WHERE u.created_at >= $1 GROUP BY u.template_id, u.member_id"
        );
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(to_micros(since))
                .fetch_all(pool)
                .await?;
            let mut uses = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                uses.push(CannedMemberUseRow {
                    template_id: row.try_get("template_id")?,
                    member_id: MemberId(row.try_get("member_id")?),
                    uses: row.try_get("uses")?,
                });
            }
            Ok(uses)
        })
    }

    /// Public messages per human team member since `since` (the base of over-use shares).
    pub async fn count_member_public_messages(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(MemberId, i64)>> {
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT author_id, COUNT(*) AS messages FROM messages WHERE author_kind = 'member' \
                 AND visibility = 'public' AND created_at >= $1 GROUP BY author_id",
            )
            .bind(to_micros(since))
            .fetch_all(pool)
            .await?;
            let mut counts = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                counts.push((
                    MemberId(row.try_get("author_id")?),
                    row.try_get("messages")?,
                ));
            }
            Ok(counts)
        })
    }
}
