//! The canned-response library and its usage (`docs/product.md` › Canned responses): templates with shortcuts,
//! and one row per message sent from a template, counted only once that message exists
//! (a use is recorded before its send commits, so a refused send must not count).

use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::MemberId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

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

impl<'r, R: Columns> FromRow<'r, R> for CannedRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CannedRow {
            id: row.text("id")?,
            shortcut: row.text("shortcut")?,
            title: row.text("title")?,
            body: row.text("body")?,
            created_by: MemberId(row.text("created_by")?),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for CannedUsageRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CannedUsageRow {
            template_id: row.text("template_id")?,
            uses: row.int("uses")?,
            unedited: row.int("unedited")?,
            last_used_at: row.optional_time("last_used_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for CannedMemberUseRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CannedMemberUseRow {
            template_id: row.text("template_id")?,
            member_id: MemberId(row.text("member_id")?),
            uses: row.int("uses")?,
        })
    }
}

/// Counts only uses whose message was committed.
const COMMITTED_USES: &str = "canned_uses u JOIN messages m ON m.id = u.message_id";

impl Store {
    /// Inserts a template; a taken shortcut is `Conflict`.
    pub async fn insert_canned(&self, canned: &CannedRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO canned_responses ({CANNED_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(canned.id.as_str())
            .bind(canned.shortcut.as_str())
            .bind(canned.title.as_str())
            .bind(canned.body.as_str())
            .bind(canned.created_by.as_str())
            .bind(to_micros(canned.created_at))
            .bind(to_micros(canned.updated_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Rewrites shortcut, title, body and `updated_at`; a taken shortcut is `Conflict`.
    pub async fn update_canned(&self, canned: &CannedRow) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE canned_responses SET shortcut = $2, title = $3, body = $4, updated_at = $5 \
             WHERE id = $1",
        )
        .bind(canned.id.as_str())
        .bind(canned.shortcut.as_str())
        .bind(canned.title.as_str())
        .bind(canned.body.as_str())
        .bind(to_micros(canned.updated_at));
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("canned response"));
        }
        Ok(())
    }

    /// Deletes a template and its usage record (health describes the current library).
    pub async fn delete_canned(&self, id: &str) -> StoreResult<()> {
        let changed = self
            .writer()
            .transaction(vec![
                Statement::new("DELETE FROM canned_uses WHERE template_id = $1").bind(id),
                Statement::new("DELETE FROM canned_responses WHERE id = $1").bind(id),
            ])
            .await?;
        if changed[1] == 0 {
            return Err(StoreError::NotFound("canned response"));
        }
        Ok(())
    }

    pub async fn find_canned(&self, id: &str) -> StoreResult<Option<CannedRow>> {
        let sql = format!("SELECT {CANNED_COLUMNS} FROM canned_responses WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id);
        self.reader().fetch_optional(statement).await
    }

    /// The whole library by shortcut (it is meant to stay around 10–15 templates).
    pub async fn list_canned(&self) -> StoreResult<Vec<CannedRow>> {
        let sql = format!("SELECT {CANNED_COLUMNS} FROM canned_responses ORDER BY shortcut");
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)))
            .await
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
        let statement = Statement::new(
            "INSERT INTO canned_uses (message_id, template_id, member_id, unedited, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(template_id)
        .bind(member.as_str())
        .bind(unedited)
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Committed uses per template (templates never used are absent).
    pub async fn list_canned_usage(&self) -> StoreResult<Vec<CannedUsageRow>> {
        let sql = format!(
            "SELECT u.template_id, COUNT(*) AS uses, \
             SUM(CASE WHEN u.unedited THEN 1 ELSE 0 END) AS unedited, \
             MAX(u.created_at) AS last_used_at FROM {COMMITTED_USES} GROUP BY u.template_id"
        );
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)))
            .await
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
        let statement = Statement::new(AssertSqlSafe(sql)).bind(to_micros(since));
        self.reader().fetch_all(statement).await
    }

    /// Public messages per human team member since `since` (the base of over-use shares).
    pub async fn count_member_public_messages(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(MemberId, i64)>> {
        let statement = Statement::new(
            "SELECT author_id, COUNT(*) AS messages FROM messages WHERE author_kind = 'member' \
             AND visibility = 'public' AND created_at >= $1 GROUP BY author_id",
        )
        .bind(to_micros(since));
        let counts: Vec<(String, i64)> = self.reader().fetch_all(statement).await?;
        Ok(counts
            .into_iter()
            .map(|(author, messages)| (MemberId(author), messages))
            .collect())
    }
}
