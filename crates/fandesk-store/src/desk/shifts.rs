//! Named shifts, who works them, and clock-in state (`docs/product.md` › Routing, priority and
//! shifts). Weekdays and
//! local times are stored as the API spells them; the service turns them into
//! `desk::Shift` windows in the creator's time zone.

use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_optional};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::MemberId;
use jiff::Timestamp;
use sqlx::{FromRow, Postgres, Sqlite};

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

impl<'r, R: Columns> FromRow<'r, R> for ShiftRow {
    /// The shift without its members (`shift_members` is read on its own).
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ShiftRow {
            id: row.text("id")?,
            name: row.text("name")?,
            weekdays: row
                .text("weekdays")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            start_time: row.text("start_time")?,
            end_time: row.text("end_time")?,
            member_ids: Vec::new(),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for ClockRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ClockRow {
            member_id: MemberId(row.text("member_id")?),
            clocked_in: row.boolean("clocked_in")?,
            at: row.time("at")?,
        })
    }
}

impl Store {
    /// Inserts a shift (without members); a taken name is `Conflict`.
    pub async fn insert_shift(&self, shift: &ShiftRow) -> StoreResult<()> {
        let weekdays = shift.weekdays.join(" ");
        let statement = Statement::new(
            "INSERT INTO shifts (id, name, weekdays, start_time, end_time, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(shift.id.as_str())
        .bind(shift.name.as_str())
        .bind(weekdays.as_str())
        .bind(shift.start_time.as_str())
        .bind(shift.end_time.as_str())
        .bind(to_micros(shift.created_at))
        .bind(to_micros(shift.updated_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Rewrites a shift's name, weekdays and times (members are set separately).
    pub async fn update_shift(&self, shift: &ShiftRow) -> StoreResult<()> {
        let weekdays = shift.weekdays.join(" ");
        let statement = Statement::new(
            "UPDATE shifts SET name = $2, weekdays = $3, start_time = $4, end_time = $5, \
             updated_at = $6 WHERE id = $1",
        )
        .bind(shift.id.as_str())
        .bind(shift.name.as_str())
        .bind(weekdays.as_str())
        .bind(shift.start_time.as_str())
        .bind(shift.end_time.as_str())
        .bind(to_micros(shift.updated_at));
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("shift"));
        }
        Ok(())
    }

    /// Deletes a shift and its membership.
    pub async fn delete_shift(&self, id: &str) -> StoreResult<()> {
        let changed = self
            .writer()
            .transaction(vec![
                Statement::new("DELETE FROM shift_members WHERE shift_id = $1").bind(id),
                Statement::new("DELETE FROM shifts WHERE id = $1").bind(id),
            ])
            .await?;
        if changed[1] == 0 {
            return Err(StoreError::NotFound("shift"));
        }
        Ok(())
    }

    /// Replaces who works a shift, in one transaction.
    pub async fn set_shift_members(&self, shift_id: &str, members: &[MemberId]) -> StoreResult<()> {
        match self {
            Store::Sqlite(db) => set_members::<Sqlite>(&db.write, shift_id, members).await,
            Store::Postgres(db) => set_members::<Postgres>(&db.pool, shift_id, members).await,
        }
    }

    /// Every shift with its members, by name.
    pub async fn list_shifts(&self) -> StoreResult<Vec<ShiftRow>> {
        let reader = self.reader();
        let mut shifts: Vec<ShiftRow> = reader
            .fetch_all(Statement::new(
                "SELECT id, name, weekdays, start_time, end_time, created_at, updated_at \
                 FROM shifts ORDER BY name",
            ))
            .await?;
        let memberships: Vec<(String, String)> = reader
            .fetch_all(Statement::new(
                "SELECT shift_id, member_id FROM shift_members ORDER BY shift_id, member_id",
            ))
            .await?;
        for shift in &mut shifts {
            shift.member_ids = memberships
                .iter()
                .filter(|(shift_id, _)| *shift_id == shift.id)
                .map(|(_, member)| MemberId(member.clone()))
                .collect();
        }
        Ok(shifts)
    }

    /// Records a clock-in (`true`) or clock-out; only the latest one is kept.
    pub async fn set_clock(
        &self,
        member: &MemberId,
        clocked_in: bool,
        at: Timestamp,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO member_clock (member_id, clocked_in, at) VALUES ($1, $2, $3) \
             ON CONFLICT (member_id) DO UPDATE SET clocked_in = excluded.clocked_in, at = excluded.at",
        )
        .bind(member.as_str())
        .bind(clocked_in)
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn list_clocks(&self) -> StoreResult<Vec<ClockRow>> {
        self.reader()
            .fetch_all(Statement::new(
                "SELECT member_id, clocked_in, at FROM member_clock ORDER BY member_id",
            ))
            .await
    }
}

/// The shift's existence is checked inside the transaction that replaces its members.
async fn set_members<D: Dialect>(
    pool: &sqlx::Pool<D>,
    shift_id: &str,
    members: &[MemberId],
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let exists = fetch_optional::<D, ShiftId>(
        &mut tx,
        Statement::new("SELECT id FROM shifts WHERE id = $1").bind(shift_id),
    )
    .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound("shift"));
    }
    execute::<D>(
        &mut tx,
        Statement::new("DELETE FROM shift_members WHERE shift_id = $1").bind(shift_id),
    )
    .await?;
    for member in members {
        let statement =
            Statement::new("INSERT INTO shift_members (shift_id, member_id) VALUES ($1, $2)")
                .bind(shift_id)
                .bind(member.as_str());
        execute::<D>(&mut tx, statement).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// That a shift exists, as the membership transaction checks it.
struct ShiftId;

impl<'r, R: Columns> FromRow<'r, R> for ShiftId {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        row.text("id")?;
        Ok(ShiftId)
    }
}
