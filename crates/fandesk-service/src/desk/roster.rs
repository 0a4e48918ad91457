//! Who is on shift (docs/product.md › Routing, priority and shifts), from the shifts and
//! the clock-in state.
//!
//! A member is **on shift** when clocked in, or when inside one of their shifts' windows
//! and not clocked out since that window began. Clocking in covers ad-hoc work outside the
//! schedule; clocking out ends a scheduled shift early. A clock-in lasts until clock-out.

use crate::App;
use crate::app::error::ServiceResult;
use fandesk_domain::MemberId;
use fandesk_domain::desk::{Shift, ShiftWindow, parse_weekday};
use fandesk_store::{ClockRow, ShiftRow};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// Who is on shift, from the shifts and the clock-in state.
pub(crate) struct Roster {
    shifts: Vec<(ShiftRow, Shift)>,
    clocks: HashMap<MemberId, ClockRow>,
}

impl Roster {
    pub(crate) async fn load(app: &App) -> ServiceResult<Roster> {
        let zone = &app.inner.config.desk.creator_timezone;
        let shifts = app
            .store()
            .list_shifts()
            .await?
            .into_iter()
            .filter_map(|row| {
                let shift = shift_of(&row, zone);
                if shift.is_none() {
                    tracing::warn!(shift = %row.id, "stored shift cannot be read; ignored");
                }
                Some((row, shift?))
            })
            .collect();
        let clocks = app
            .store()
            .list_clocks()
            .await?
            .into_iter()
            .map(|row| (row.member_id.clone(), row))
            .collect();
        Ok(Roster { shifts, clocks })
    }

    pub(crate) fn clocked_in(&self, member: &MemberId) -> bool {
        self.clocks
            .get(member)
            .is_some_and(|clock| clock.clocked_in)
    }

    pub(crate) fn on_shift(&self, member: &MemberId, now: Timestamp) -> bool {
        if self.clocked_in(member) {
            return true;
        }
        let window_start = self
            .shifts
            .iter()
            .filter(|(row, _)| row.member_ids.contains(member))
            .filter_map(|(_, shift)| current_window(shift, now))
            .map(|window| window.start)
            .min();
        match (window_start, self.clocks.get(member)) {
            (None, _) => false,
            (Some(start), Some(clock)) => clock.at < start,
            (Some(_), None) => true,
        }
    }

    /// Shifts somebody works: only these provide coverage.
    pub(crate) fn staffed_shifts(&self) -> Vec<Shift> {
        self.shifts
            .iter()
            .filter(|(row, _)| !row.member_ids.is_empty())
            .map(|(_, shift)| shift.clone())
            .collect()
    }

    /// Whether the team has a schedule at all (off-hours exist only then).
    pub(crate) fn has_staffed_shifts(&self) -> bool {
        self.shifts
            .iter()
            .any(|(row, _)| !row.member_ids.is_empty())
    }
}

/// The occurrence of `shift` running at `now`, if any.
fn current_window(shift: &Shift, now: Timestamp) -> Option<ShiftWindow> {
    let until = now.checked_add(SignedDuration::from_secs(1)).ok()?;
    shift
        .windows_overlapping(now, until)
        .into_iter()
        .find(|window| window.contains(now))
}

pub(crate) fn shift_of(row: &ShiftRow, zone: &jiff::tz::TimeZone) -> Option<Shift> {
    Some(Shift {
        name: row.name.clone(),
        weekdays: row
            .weekdays
            .iter()
            .map(|day| parse_weekday(day))
            .collect::<Option<_>>()?,
        start: row.start_time.parse().ok()?,
        end: row.end_time.parse().ok()?,
        time_zone: zone.clone(),
    })
}
