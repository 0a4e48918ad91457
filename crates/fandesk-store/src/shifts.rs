//! Named shifts, who works them, and clock-in state (PRODUCT.md › C2 Shifts). Weekdays and
//! local times are stored as the API spells them; the service turns them into
//! `desk::Shift` windows in the creator's time zone.

use crate::{Store, StoreError, StoreResult, from_micros, to_micros};
use fandesk_domain::MemberId;
use jiff::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShiftRow {
    pub id: String,
    pub name: String,
    /// `mon` … `sun`, in week order.
    pub weekdays: Vec<String>,
    /// Local wall-clock `HH:MM`.
    pub start_time: String,
    pub end_time: String,
    /// The members who work this shift, by id.
    pub member_ids: Vec<MemberId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A member's last clock-in or clock-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockRow {
    pub member_id: MemberId,
    pub clocked_in: bool,
    pub at: Timestamp,
}

impl Store {
    /// Inserts a shift (without members); a taken name is `Conflict`.
    pub async fn insert_shift(&self, shift: &ShiftRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO shifts (id, name, weekdays, start_time, end_time, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(shift.id.as_str())
            .bind(shift.name.as_str())
            .bind(shift.weekdays.join(" "))
            .bind(shift.start_time.as_str())
            .bind(shift.end_time.as_str())
            .bind(to_micros(shift.created_at))
            .bind(to_micros(shift.updated_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Rewrites a shift's name, weekdays and times (members are set separately).
    pub async fn update_shift(&self, shift: &ShiftRow) -> StoreResult<()> {
        let updated = on_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE shifts SET name = $2, weekdays = $3, start_time = $4, end_time = $5, \
                 updated_at = $6 WHERE id = $1",
            )
            .bind(shift.id.as_str())
            .bind(shift.name.as_str())
            .bind(shift.weekdays.join(" "))
            .bind(shift.start_time.as_str())
            .bind(shift.end_time.as_str())
            .bind(to_micros(shift.updated_at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("shift"));
        }
        Ok(())
    }

    /// Deletes a shift and its membership.
    pub async fn delete_shift(&self, id: &str) -> StoreResult<()> {
        let deleted = on_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM shift_members WHERE shift_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM shifts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        if deleted == 0 {
            return Err(StoreError::NotFound("shift"));
        }
        Ok(())
    }

    /// Replaces who works a shift, in one transaction.
    pub async fn set_shift_members(&self, shift_id: &str, members: &[MemberId]) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM shifts WHERE id = $1")
                .bind(shift_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("shift"));
            }
            sqlx::query("DELETE FROM shift_members WHERE shift_id = $1")
                .bind(shift_id)
                .execute(&mut *tx)
                .await?;
            for member in members {
                sqlx::query("INSERT INTO shift_members (shift_id, member_id) VALUES ($1, $2)")
                    .bind(shift_id)
                    .bind(member.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every shift with its members, by name.
    pub async fn list_shifts(&self) -> StoreResult<Vec<ShiftRow>> {
        on_pool!(self, read, |pool| {
            use sqlx::Row as _;
            let rows = sqlx::query(
                "SELECT id, name, weekdays, start_time, end_time, created_at, updated_at \
                 FROM shifts ORDER BY name",
            )
            .fetch_all(pool)
            .await?;
            let memberships = sqlx::query(
                "SELECT shift_id, member_id FROM shift_members ORDER BY shift_id, member_id",
            )
            .fetch_all(pool)
            .await?;
            let mut shifts = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: String = row.try_get("id")?;
                let weekdays: String = row.try_get("weekdays")?;
                let mut member_ids = Vec::new();
                for membership in &memberships {
                    if membership.try_get::<&str, _>("shift_id")? == id {
                        member_ids.push(MemberId(membership.try_get("member_id")?));
                    }
                }
                shifts.push(ShiftRow {
                    id,
                    name: row.try_get("name")?,
                    weekdays: weekdays.split_whitespace().map(str::to_owned).collect(),
                    start_time: row.try_get("start_time")?,
                    end_time: row.try_get("end_time")?,
                    member_ids,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    updated_at: from_micros(row.try_get("updated_at")?)?,
                });
            }
            Ok(shifts)
        })
    }

    /// Records a clock-in (`true`) or clock-out; only the latest one is kept.
    pub async fn set_clock(
        &self,
        member: &MemberId,
        clocked_in: bool,
        at: Timestamp,
    ) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO member_clock (member_id, clocked_in, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (member_id) DO UPDATE SET clocked_in = excluded.clocked_in, at = excluded.at",
            )
            .bind(member.as_str())
            .bind(clocked_in)
            .bind(to_micros(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn list_clocks(&self) -> StoreResult<Vec<ClockRow>> {
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT member_id, clocked_in, at FROM member_clock ORDER BY member_id",
            )
            .fetch_all(pool)
            .await?;
            let mut clocks = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                clocks.push(ClockRow {
                    member_id: MemberId(row.try_get("member_id")?),
                    clocked_in: row.try_get("clocked_in")?,
                    at: from_micros(row.try_get("at")?)?,
                });
            }
            Ok(clocks)
        })
    }
}
