//! Team members.

use crate::rows::MEMBER_COLUMNS;
use crate::{MemberRow, Store, StoreResult, to_micros};
use fandesk_domain::MemberId;
use sqlx::AssertSqlSafe;

impl Store {
    /// Inserts a member; a taken email is `Conflict`.
    pub async fn insert_member(&self, member: &MemberRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO members (id, email, name, role, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(member.id.as_str())
            .bind(&member.email)
            .bind(&member.name)
            .bind(member.role.as_str())
            .bind(&member.password_hash)
            .bind(to_micros(member.created_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn find_member(&self, id: &MemberId) -> StoreResult<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
        on_pool!(self, read, |pool| {
            match sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(decode_member!(&row))),
                None => Ok(None),
            }
        })
    }

    /// Emails are compared case-insensitively (stored lower-cased by the service).
    pub async fn find_member_by_email(&self, email: &str) -> StoreResult<Option<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE email = $1");
        on_pool!(self, read, |pool| {
            match sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(email)
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(decode_member!(&row))),
                None => Ok(None),
            }
        })
    }

    pub async fn list_members(&self) -> StoreResult<Vec<MemberRow>> {
        let sql = format!("SELECT {MEMBER_COLUMNS} FROM members ORDER BY created_at, id");
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .fetch_all(pool)
                .await?;
            let mut members = Vec::with_capacity(rows.len());
            for row in &rows {
                members.push(decode_member!(row));
            }
            Ok(members)
        })
    }

    pub async fn count_members(&self) -> StoreResult<i64> {
        on_pool!(self, read, |pool| {
            Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM members")
                .fetch_one(pool)
                .await?)
        })
    }
}
