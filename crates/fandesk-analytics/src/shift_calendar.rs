//! Which shift an instant belongs to, for a whole period at once (PRODUCT.md › First
//! response time: "attributed … to the shift in which the fan message arrived").
//!
//! The windows of every shift overlapping the period are computed once with
//! `desk::Shift::windows_overlapping` (local times, midnight crossings and DST resolved
//! there), so attributing a record is a binary search instead of time-zone arithmetic.
//! When shifts overlap, the instant goes to the shift that started most recently (the one
//! that took over), ties to the first name.

use crate::summary::Period;
use fandesk_domain::desk::Shift;
use jiff::{SignedDuration, Timestamp};

/// The longest a shift occurrence lasts (a 24 h shift on a fall-back day).
const LONGEST_WINDOW: SignedDuration = SignedDuration::from_hours(25);

pub struct ShiftCalendar {
    /// `(start, end, name)`, by start.
    windows: Vec<(Timestamp, Timestamp, String)>,
}

impl ShiftCalendar {
    pub fn new(shifts: &[Shift], period: Period) -> ShiftCalendar {
        let mut windows: Vec<(Timestamp, Timestamp, String)> = shifts
            .iter()
            .flat_map(|shift| {
                shift
                    .windows_overlapping(period.from, period.to)
                    .into_iter()
                    .map(|window| (window.start, window.end, shift.name.clone()))
            })
            .collect();
        windows.sort();
        ShiftCalendar { windows }
    }

    /// The shift running at `at`, if any.
    pub fn shift_at(&self, at: Timestamp) -> Option<String> {
        let after = self.windows.partition_point(|(start, _, _)| *start <= at);
        let earliest = at.checked_sub(LONGEST_WINDOW).unwrap_or(Timestamp::MIN);
        let mut best: Option<&(Timestamp, Timestamp, String)> = None;
        for window in self.windows[..after].iter().rev() {
            if window.0 < earliest {
                break;
            }
            let later_start = best.is_none_or(|chosen| window.0 > chosen.0 || (window.0 == chosen.0 && window.2 < chosen.2));
            if at < window.1 && later_start {
                best = Some(window);
            }
        }
        best.map(|window| window.2.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::desk::is_on_shift;
    use jiff::civil::Weekday;
    use jiff::tz::TimeZone;

    fn shift(name: &str, start: &str, end: &str) -> Shift {
        use Weekday::*;
        Shift {
            name: name.to_owned(),
            weekdays: vec![Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday],
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            time_zone: TimeZone::get("America/New_York").unwrap(),
        }
    }

    #[test]
    fn agrees_with_is_on_shift_across_dst() {
        // New York falls back on Sunday 1 November 2026.
        let shifts = [shift("early", "06:00", "14:00"), shift("late", "14:00", "22:00"), shift("night", "22:00", "06:00")];
        let from: Timestamp = "2026-10-30T00:00:00Z".parse().unwrap();
        let to: Timestamp = "2026-11-03T00:00:00Z".parse().unwrap();
        let calendar = ShiftCalendar::new(&shifts, Period { from, to });
        let mut at = from;
        while at < to {
            let expected = shifts.iter().find(|shift| is_on_shift(shift, at)).map(|shift| shift.name.clone());
            assert_eq!(calendar.shift_at(at), expected, "{at}");
            at = at.checked_add(SignedDuration::from_mins(17)).unwrap();
        }
    }

    #[test]
    fn overlap_goes_to_the_latest_start() {
        let shifts = [shift("day", "08:00", "20:00"), shift("evening", "16:00", "23:00")];
        let from: Timestamp = "2026-11-16T00:00:00Z".parse().unwrap();
        let calendar = ShiftCalendar::new(&shifts, Period { from, to: from.checked_add(SignedDuration::from_hours(48)).unwrap() });
        // 17:00 New York (EST) = 22:00 UTC: both run; evening started later.
        assert_eq!(calendar.shift_at("2026-11-16T22:00:00Z".parse().unwrap()).as_deref(), Some("evening"));
        assert_eq!(calendar.shift_at("2026-11-16T14:00:00Z".parse().unwrap()).as_deref(), Some("day"));
        assert_eq!(calendar.shift_at("2026-11-16T05:00:00Z".parse().unwrap()), None);
    }
}
