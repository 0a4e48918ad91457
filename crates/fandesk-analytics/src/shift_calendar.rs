//! Which shift an instant belongs to, for a whole period at once (docs/metrics.md ›
//! Grouping: an opening belongs to the shift in which the fan message arrived).
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
            let later_start = best.is_none_or(|chosen| {
                window.0 > chosen.0 || (window.0 == chosen.0 && window.2 < chosen.2)
            });
            if at < window.1 && later_start {
                best = Some(window);
            }
        }
        best.map(|window| window.2.clone())
    }
}

/// `[from, to)` cut into consecutive intervals with one key each: `(end, key)` in order,
/// the first starting at `from`. A database groups by these with one `CASE` expression, so
/// shift and day attribution need no row to leave it.
pub type Segments = Vec<(Timestamp, Option<String>)>;

impl ShiftCalendar {
    /// The period cut where the running shift changes.
    pub fn segments(&self, period: Period) -> Segments {
        let mut cuts: Vec<Timestamp> = self
            .windows
            .iter()
            .flat_map(|(start, end, _)| [*start, *end])
            .filter(|at| period.from < *at && *at < period.to)
            .collect();
        cuts.push(period.to);
        cuts.sort();
        cuts.dedup();
        let mut segments: Segments = Vec::new();
        let mut start = period.from;
        for end in cuts {
            let key = self.shift_at(start);
            match segments.last_mut() {
                Some(last) if last.1 == key => last.0 = end,
                _ => segments.push((end, key)),
            }
            start = end;
        }
        segments
    }
}

/// The period cut at local midnights of `time_zone`, keyed by local date `YYYY-MM-DD`.
pub fn day_segments(time_zone: &jiff::tz::TimeZone, period: Period) -> Segments {
    let mut segments = Vec::new();
    let mut start = period.from;
    while start < period.to {
        let date = time_zone.to_datetime(start).date();
        let next = date
            .tomorrow()
            .ok()
            .and_then(|day| {
                fandesk_domain::desk::local_instant(
                    time_zone,
                    day.to_datetime(jiff::civil::Time::midnight()),
                )
            })
            .filter(|next| *next > start)
            .unwrap_or(period.to)
            .min(period.to);
        segments.push((next, Some(date.to_string())));
        start = next;
    }
    segments
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
            weekdays: vec![
                Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
            ],
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            time_zone: TimeZone::get("America/New_York").unwrap(),
        }
    }

    #[test]
    fn agrees_with_is_on_shift_across_dst() {
        // New York falls back on Sunday 1 November 2026.
        let shifts = [
            shift("early", "06:00", "14:00"),
            shift("late", "14:00", "22:00"),
            shift("night", "22:00", "06:00"),
        ];
        let from: Timestamp = "2026-10-30T00:00:00Z".parse().unwrap();
        let to: Timestamp = "2026-11-03T00:00:00Z".parse().unwrap();
        let calendar = ShiftCalendar::new(&shifts, Period { from, to });
        let mut at = from;
        while at < to {
            let expected = shifts
                .iter()
                .find(|shift| is_on_shift(shift, at))
                .map(|shift| shift.name.clone());
            assert_eq!(calendar.shift_at(at), expected, "{at}");
            at = at.checked_add(SignedDuration::from_mins(17)).unwrap();
        }
    }

    #[test]
    fn segments_agree_with_shift_at_and_days() {
        let shifts = [
            shift("day", "08:00", "20:00"),
            shift("evening", "16:00", "23:00"),
        ];
        let from: Timestamp = "2026-10-31T03:17:00Z".parse().unwrap();
        let period = Period {
            from,
            to: from.checked_add(SignedDuration::from_hours(72)).unwrap(),
        };
        let calendar = ShiftCalendar::new(&shifts, period);
        let check = |segments: Segments, key_of: &dyn Fn(Timestamp) -> Option<String>| {
            assert_eq!(segments.last().unwrap().0, period.to);
            let mut at = period.from;
            while at < period.to {
                let index = segments.partition_point(|(end, _)| *end <= at);
                assert_eq!(segments[index].1, key_of(at), "{at}");
                at = at.checked_add(SignedDuration::from_mins(7)).unwrap();
            }
        };
        check(calendar.segments(period), &|at| calendar.shift_at(at));
        let zone = TimeZone::get("America/New_York").unwrap();
        check(day_segments(&zone, period), &|at| {
            Some(zone.to_datetime(at).date().to_string())
        });
    }

    #[test]
    fn overlap_goes_to_the_latest_start() {
        let shifts = [
            shift("day", "08:00", "20:00"),
            shift("evening", "16:00", "23:00"),
        ];
        let from: Timestamp = "2026-11-16T00:00:00Z".parse().unwrap();
        let calendar = ShiftCalendar::new(
            &shifts,
            Period {
                from,
                to: from.checked_add(SignedDuration::from_hours(48)).unwrap(),
            },
        );
        // 17:00 New York (EST) = 22:00 UTC: both run; evening started later.
        assert_eq!(
            calendar
                .shift_at("2026-11-16T22:00:00Z".parse().unwrap())
                .as_deref(),
            Some("evening")
        );
        assert_eq!(
            calendar
                .shift_at("2026-11-16T14:00:00Z".parse().unwrap())
                .as_deref(),
            Some("day")
        );
        assert_eq!(
            calendar.shift_at("2026-11-16T05:00:00Z".parse().unwrap()),
            None
        );
    }
}
