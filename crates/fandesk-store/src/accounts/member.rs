//! Team members.

use super::{MEMBER_COLUMNS, MemberRow};
use crate::statement::Statement;
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::MemberId;
use sqlx::AssertSqlSafe;

impl Store {
    /// Inserts a member; a taken email is `Conflict`.
    pub async fn insert_member(&self, member: &MemberRow) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO members (id, email, name, role, password_hash, created_at, \
             deactivated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(member.id.as_str())
        .bind(&member.email)
        .bind(&member.name)
        .bind(member.role.as_str())
        .bind(&member.password_hash)
        .bind(to_micros(member.created_at))
        .bind(member.deactivated_at.map(to_micros));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn find_member(&self, id: &MemberId) -> StoreResult<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Emails are compared case-insensitively (stored lower-cased by the service).
    pub async fn find_member_by_email(&self, email: &str) -> StoreResult<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE email = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(email);
        self.reader().fetch_optional(statement).await
    }

    pub async fn list_members(&self) -> StoreResult<Vec<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members ORDER BY created_at, id");
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)))
            .await
    }

    pub async fn count_members(&self) -> StoreResult<i64> {
        let (count,): (i64,) = self
            .reader()
            .fetch_one(Statement::new("SELECT COUNT(*) FROM members"))
            .await?;
        Ok(count)
    }
}
