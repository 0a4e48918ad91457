//! Bearer-token sessions, stored by the SHA-256 of the token.

use crate::{SessionRow, Store, StoreError, StoreResult, Subject, from_micros, to_micros};
use fandesk_domain::{FanId, MemberId};
use jiff::Timestamp;

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
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, member_id, fan_id, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&session.token_hash)
            .bind(member_id)
            .bind(fan_id)
            .bind(to_micros(session.expires_at))
            .bind(to_micros(created_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn find_session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        on_pool!(self, read, |pool| {
            let row = sqlx::query(
                "SELECT token_hash, member_id, fan_id, expires_at FROM sessions WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            use sqlx::Row as _;
            let member_id: Option<String> = row.try_get("member_id")?;
            let fan_id: Option<String> = row.try_get("fan_id")?;
            let subject = match (member_id, fan_id) {
                (Some(id), None) => Subject::Member(MemberId(id)),
                (None, Some(id)) => Subject::Fan(FanId(id)),
                _ => {
                    return Err(StoreError::Corrupt(
                        "session without exactly one subject".into(),
                    ));
                }
            };
            Ok(Some(SessionRow {
                token_hash: row.try_get("token_hash")?,
                subject,
                expires_at: from_micros(row.try_get("expires_at")?)?,
            }))
        })
    }

    /// Revokes a token. Returns whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let result = on_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(result > 0)
    }

    /// Drops expired sessions; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        Ok(on_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
