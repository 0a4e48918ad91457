//! Fans.

use super::{FAN_COLUMNS, FanRow};
use crate::statement::Statement;
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::FanId;
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

impl Store {
    /// Inserts a fan; a taken `external_id` is `Conflict`.
    pub async fn insert_fan(&self, fan: &FanRow) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO fans (id, display_name, external_id, timezone, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(fan.id.as_str())
        .bind(&fan.display_name)
        .bind(fan.external_id.as_deref())
        .bind(fan.timezone.as_deref())
        .bind(to_micros(fan.created_at))
        .bind(to_micros(fan.last_seen_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn find_fan(&self, id: &FanId) -> StoreResult<Option<FanRow>> {
        let sql = format!("SELECT {FAN_COLUMNS} FROM fans WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    pub async fn find_fan_by_external_id(&self, external_id: &str) -> StoreResult<Option<FanRow>> {
        let sql = format!("SELECT {FAN_COLUMNS} FROM fans WHERE external_id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(external_id);
        self.reader().fetch_optional(statement).await
    }

    /// Records a returning fan's visit and their latest display name and time zone.
    pub async fn touch_fan(
        &self,
        id: &FanId,
        display_name: &str,
        timezone: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE fans SET display_name = $2, timezone = COALESCE($3, timezone), \
             last_seen_at = $4 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(display_name)
        .bind(timezone)
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }
}
