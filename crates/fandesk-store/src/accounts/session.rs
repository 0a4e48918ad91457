//! Bearer-token sessions, stored by the SHA-256 of the token.

use super::{SessionRow, Subject};
use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::{FanId, MemberId};
use jiff::Timestamp;
use sqlx::FromRow;

impl<'r, R: Columns> FromRow<'r, R> for SessionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let subject = match (
            row.optional_text("member_id")?,
            row.optional_text("fan_id")?,
        ) {
            (Some(id), None) => Subject::Member(MemberId(id)),
            (None, Some(id)) => Subject::Fan(FanId(id)),
            _ => {
                return Err(
                    StoreError::Corrupt("session without exactly one subject".into()).into_decode(),
                );
            }
        };
        Ok(SessionRow {
            token_hash: row.text("token_hash")?,
            subject,
            expires_at: row.time("expires_at")?,
        })
    }
}

impl Store {
    pub async fn insert_session(
        &self,
        session: &SessionRow,
        created_at: Timestamp,
    ) -> StoreResult<()> {
        let (member_id, fan_id) = match &session.subject {
            Subject::Member(id) => (Some(id.as_str()), None),
            Subject::Fan(id) => (None, Some(id.as_str())),
        };
        let statement = Statement::new(
            "INSERT INTO sessions (token_hash, member_id, fan_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.token_hash)
        .bind(member_id)
        .bind(fan_id)
        .bind(to_micros(session.expires_at))
        .bind(to_micros(created_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn find_session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        let statement = Statement::new(
            "SELECT token_hash, member_id, fan_id, expires_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash);
        self.reader().fetch_optional(statement).await
    }

    /// Revokes a token. Returns whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let statement =
            Statement::new("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash);
        Ok(self.writer().execute(statement).await? > 0)
    }

    /// Drops expired sessions; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let statement =
            Statement::new("DELETE FROM sessions WHERE expires_at <= $1").bind(to_micros(now));
        self.writer().execute(statement).await
    }
}
