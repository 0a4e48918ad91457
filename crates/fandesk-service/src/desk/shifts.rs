//! Shifts and 24/7 coverage (docs/product.md › Routing, priority and shifts): named
//! shifts in the creator's time zone with the members who work them, clock-in and
//! clock-out, and the coverage view of uncovered hours. Who is on shift is the
//! [`Roster`](crate::desk::roster::Roster)'s to say.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::roster::{Roster, shift_of};
use fandesk_domain::desk::{coverage, parse_weekday};
use fandesk_domain::{Capability, MemberId, Principal};
use fandesk_store::{ShiftRow, StoreError};
use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use serde::Serialize;
use utoipa::ToSchema;

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Monday, "mon"),
    (Weekday::Tuesday, "tue"),
    (Weekday::Wednesday, "wed"),
    (Weekday::Thursday, "thu"),
    (Weekday::Friday, "fri"),
    (Weekday::Saturday, "sat"),
    (Weekday::Sunday, "sun"),
];

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: String,
    pub name: String,
    /// `mon` … `sun`: the local days the shift starts on.
    pub weekdays: Vec<String>,
    /// Local `HH:MM`; an end at or before the start is on the next day.
    pub start: String,
    pub end: String,
    /// The creator's IANA time zone the times are in.
    pub time_zone: String,
    pub member_ids: Vec<String>,
}

/// A shift as typed by a person; `None` fields are left unchanged by an update.
#[derive(Clone, Debug, Default)]
pub struct ShiftInput {
    pub name: Option<String>,
    pub weekdays: Option<Vec<String>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub member_ids: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UncoveredHourView {
    /// The hour's start (RFC 3339 UTC).
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// The same instant on the creator's clock, with its offset.
    pub local_start: String,
    /// 1–60.
    pub uncovered_minutes: u32,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CoverageView {
    pub time_zone: String,
    /// The local date the seven days start on.
    pub week_start: String,
    pub uncovered_minutes_total: u64,
    pub uncovered_hours: Vec<UncoveredHourView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub member_id: String,
    pub clocked_in: bool,
    pub on_shift: bool,
}

fn parse_time(field: &str, text: &str) -> ServiceResult<String> {
    let time: Time = text
        .trim()
        .parse()
        .map_err(|_| ServiceError::invalid(field, "must be a local time HH:MM"))?;
    if time.second() != 0 || time.subsec_nanosecond() != 0 {
        return Err(ServiceError::invalid(field, "must be a local time HH:MM"));
    }
    Ok(time.strftime("%H:%M").to_string())
}

fn parse_weekdays(days: &[String]) -> ServiceResult<Vec<String>> {
    let mut parsed = Vec::new();
    for day in days {
        let weekday = parse_weekday(day).ok_or_else(|| {
            ServiceError::invalid(
                "weekdays",
                format!("unknown weekday {day:?}; use mon … sun"),
            )
        })?;
        parsed.push(weekday);
    }
    Ok(WEEK
        .iter()
        .filter(|(day, _)| parsed.contains(day))
        .map(|(_, name)| (*name).to_owned())
        .collect())
}

impl App {
    fn shift_view(&self, row: &ShiftRow) -> ShiftView {
        let zone = &self.inner.config.desk.creator_timezone;
        ShiftView {
            id: row.id.clone(),
            name: row.name.clone(),
            weekdays: row.weekdays.clone(),
            start: row.start_time.clone(),
            end: row.end_time.clone(),
            time_zone: zone.iana_name().unwrap_or("UTC").to_owned(),
            member_ids: row.member_ids.iter().map(|id| id.0.clone()).collect(),
        }
    }

    /// Applies `input` to `row` and checks the result with the domain's rules.
    async fn apply_shift_input(
        &self,
        row: &mut ShiftRow,
        input: &ShiftInput,
    ) -> ServiceResult<Option<Vec<MemberId>>> {
        if let Some(name) = &input.name {
            row.name = name.trim().to_owned();
        }
        if let Some(days) = &input.weekdays {
            row.weekdays = parse_weekdays(days)?;
        }
        if let Some(start) = &input.start {
            row.start_time = parse_time("start", start)?;
        }
        if let Some(end) = &input.end {
            row.end_time = parse_time("end", end)?;
        }
        let shift = shift_of(row, &self.inner.config.desk.creator_timezone)
            .ok_or_else(|| ServiceError::invalid("start", "must be a local time HH:MM"))?;
        shift.validate()?;
        let Some(ids) = &input.member_ids else {
            return Ok(None);
        };
        let mut members = Vec::with_capacity(ids.len());
        for id in ids {
            let member = self
                .store()
                .find_member(&MemberId::from(id.as_str()))
                .await?
                .filter(|member| member.role.is_human())
                .ok_or_else(|| {
                    ServiceError::invalid("member_ids", format!("{id} is not a human team member"))
                })?;
            if !members.contains(&member.id) {
                members.push(member.id);
            }
        }
        Ok(Some(members))
    }

    pub async fn list_shifts(&self, actor: &Principal) -> ServiceResult<Vec<ShiftView>> {
        actor.require(Capability::ViewDesk)?;
        Ok(self
            .store()
            .list_shifts()
            .await?
            .iter()
            .map(|row| self.shift_view(row))
            .collect())
    }

    pub async fn create_shift(
        &self,
        actor: &Principal,
        input: ShiftInput,
    ) -> ServiceResult<ShiftView> {
        actor.require(Capability::ManageShifts)?;
        let now = self.now();
        let mut row = ShiftRow {
            id: crate::new_id("shf"),
            name: String::new(),
            weekdays: Vec::new(),
            start_time: String::new(),
            end_time: String::new(),
            member_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let required = [
            ("name", input.name.is_some()),
            ("weekdays", input.weekdays.is_some()),
            ("start", input.start.is_some()),
            ("end", input.end.is_some()),
        ];
        if let Some((field, _)) = required.iter().find(|(_, present)| !present) {
            return Err(ServiceError::invalid(*field, "is required"));
        }
        let members = self.apply_shift_input(&mut row, &input).await?;
        self.store().insert_shift(&row).await.map_err(name_taken)?;
        if let Some(members) = members {
            self.store().set_shift_members(&row.id, &members).await?;
            row.member_ids = members;
        }
        self.desk_rebalance();
        Ok(self.shift_view(&row))
    }

    pub async fn update_shift(
        &self,
        actor: &Principal,
        id: &str,
        input: ShiftInput,
    ) -> ServiceResult<ShiftView> {
        actor.require(Capability::ManageShifts)?;
        let mut row = self
            .store()
            .list_shifts()
            .await?
            .into_iter()
            .find(|row| row.id == id)
            .ok_or(ServiceError::NotFound("shift"))?;
        let members = self.apply_shift_input(&mut row, &input).await?;
        row.updated_at = self.now();
        self.store().update_shift(&row).await.map_err(name_taken)?;
        if let Some(members) = members {
            self.store().set_shift_members(&row.id, &members).await?;
            row.member_ids = members;
        }
        self.desk_rebalance();
        Ok(self.shift_view(&row))
    }

    pub async fn delete_shift(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageShifts)?;
        self.store().delete_shift(id).await?;
        Ok(())
    }

    /// Clock-in (`true`) or clock-out of the calling member.
    pub async fn clock(&self, actor: &Principal, clocked_in: bool) -> ServiceResult<ClockView> {
        actor.require(Capability::WorkShifts)?;
        let Principal::Member { id, .. } = actor else {
            return Err(ServiceError::Forbidden(
                Capability::WorkShifts.refusal(actor).into(),
            ));
        };
        let now = self.now();
        self.store().set_clock(id, clocked_in, now).await?;
        if clocked_in {
            self.desk_rebalance();
        }
        let roster = Roster::load(self).await?;
        Ok(ClockView {
            member_id: id.0.clone(),
            clocked_in,
            on_shift: roster.on_shift(id, now),
        })
    }

    /// Whether `member` is on shift now (shift-scoped access).
    pub(crate) async fn is_on_shift(&self, member: &MemberId) -> ServiceResult<bool> {
        Ok(Roster::load(self).await?.on_shift(member, self.now()))
    }

    /// `GET /coverage?week=YYYY-MM-DD`: every hour of the seven local days from `week`
    /// (default: this week's Monday) that no staffed shift fully covers.
    pub async fn coverage(
        &self,
        actor: &Principal,
        week: Option<&str>,
    ) -> ServiceResult<CoverageView> {
        actor.require(Capability::ViewDesk)?;
        let zone = self.inner.config.desk.creator_timezone.clone();
        let week_start: Date = match week {
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| ServiceError::invalid("week", "must be a date YYYY-MM-DD"))?,
            None => {
                let today = self.now().to_zoned_datetime(zone.clone()).date();
                let back = i64::from(today.weekday().to_monday_zero_offset());
                today
                    .checked_sub(jiff::Span::new().days(back))
                    .unwrap_or(today)
            }
        };
        let roster = Roster::load(self).await?;
        let hours = coverage(&roster.staffed_shifts(), &zone, week_start);
        Ok(CoverageView {
            time_zone: zone.iana_name().unwrap_or("UTC").to_owned(),
            week_start: week_start.to_string(),
            uncovered_minutes_total: hours
                .iter()
                .map(|hour| u64::from(hour.uncovered_minutes))
                .sum(),
            uncovered_hours: hours
                .iter()
                .map(|hour| UncoveredHourView {
                    start: hour.start.timestamp(),
                    local_start: hour.start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                    uncovered_minutes: hour.uncovered_minutes,
                })
                .collect(),
        })
    }
}

fn name_taken(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(_) => ServiceError::Conflict("a shift with this name exists".into()),
        other => other.into(),
    }
}
