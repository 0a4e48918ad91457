//! Named shifts in the creator's time zone (docs/product.md › Routing, priority and
//! shifts): weekdays plus a local start and end, crossing midnight allowed, turned into
//! exact instants with DST taken into account. The coverage view and the off-hours reply
//! build on these windows (`desk::coverage`).

use crate::error::RuleViolation;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// A recurring shift. A shift *belongs* to the weekday it starts on: "Mon 22:00–06:00"
/// runs from Monday 22:00 to Tuesday 06:00 local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shift {
    pub name: String,
    /// The local weekdays on which the shift starts.
    pub weekdays: Vec<Weekday>,
    /// Local wall-clock start.
    pub start: Time,
    /// Local wall-clock end. At or before `start` the shift ends on the next day, so
    /// 22:00–06:00 is a night shift and 09:00–09:00 lasts a whole day.
    pub end: Time,
    /// The creator's IANA time zone; stored per shift so a window needs nothing else.
    pub time_zone: TimeZone,
}

/// One occurrence of a shift: `[start, end)` as exact instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShiftWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl ShiftWindow {
    pub fn contains(&self, instant: Timestamp) -> bool {
        self.start <= instant && instant < self.end
    }

    pub fn seconds(&self) -> i64 {
        self.end.as_second() - self.start.as_second()
    }
}

/// Longest accepted shift name, in characters.
pub const MAX_SHIFT_NAME_CHARS: usize = 64;

impl Shift {
    /// Checks the parts a person typed: a name and at least one weekday. The zone comes
    /// from the creator's settings (`TimeZone::get`), so it is already valid.
    pub fn validate(&self) -> Result<(), RuleViolation> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_SHIFT_NAME_CHARS {
            return Err(RuleViolation::invalid(
                "name",
                format!("must be 1 to {MAX_SHIFT_NAME_CHARS} characters"),
            ));
        }
        if self.weekdays.is_empty() {
            return Err(RuleViolation::invalid(
                "weekdays",
                "must name at least one weekday",
            ));
        }
        Ok(())
    }

    /// Whether the end falls on the day after the start.
    pub fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// The occurrence that starts on local `date`, if the shift runs that weekday. `None`
    /// as well when DST swallows the whole shift (02:15–02:45 on a spring-forward night).
    pub fn window_starting_on(&self, date: Date) -> Option<ShiftWindow> {
        if !self.weekdays.contains(&date.weekday()) {
            return None;
        }
        let end_date = if self.crosses_midnight() {
            date.tomorrow().ok()?
        } else {
            date
        };
        let start = local_instant(&self.time_zone, date.to_datetime(self.start))?;
        let end = local_instant(&self.time_zone, end_date.to_datetime(self.end))?;
        (start < end).then_some(ShiftWindow { start, end })
    }

    /// Every occurrence overlapping `[from, to)`, in start order.
    pub fn windows_overlapping(&self, from: Timestamp, to: Timestamp) -> Vec<ShiftWindow> {
        let first = self.time_zone.to_datetime(from).date();
        let last = self.time_zone.to_datetime(to).date();
        // An occurrence lasts at most 25 hours, so one that started the local day before
        // `from` may still be running.
        let mut date = first.yesterday().unwrap_or(first);
        let mut windows = Vec::new();
        while date <= last {
            if let Some(window) = self.window_starting_on(date)
                && window.start < to
                && window.end > from
            {
                windows.push(window);
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        windows
    }
}

/// Whether `instant` falls inside an occurrence of `shift` (start inclusive, end
/// exclusive, so back-to-back shifts never both claim the handover instant).
pub fn is_on_shift(shift: &Shift, instant: Timestamp) -> bool {
    let today = shift.time_zone.to_datetime(instant).date();
    let yesterday = today.yesterday().ok();
    [yesterday, Some(today)]
        .into_iter()
        .flatten()
        .filter_map(|date| shift.window_starting_on(date))
        .any(|window| window.contains(instant))
}

/// The exact instant of a local wall-clock time, with one rule for the two DST oddities
/// so that one shift's end and the next one's start always meet:
/// - a time the clock skips (02:30 when clocks jump from 02:00 to 03:00) is the moment
///   the clock resumes (03:00): a shift "starting at 02:30" starts when the agent's
///   clock first reads 02:30 or later;
/// - a time the clock shows twice (01:30 when clocks fall back from 02:00 to 01:00) is
///   its first occurrence.
pub fn local_instant(time_zone: &TimeZone, datetime: DateTime) -> Option<Timestamp> {
    let ambiguous = time_zone.to_ambiguous_timestamp(datetime);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, the wall time lies before the transition; the
            // transition itself is the first instant after the gap.
            let before_transition = after.to_timestamp(datetime).ok()?;
            time_zone
                .following(before_transition)
                .next()
                .map(|transition| transition.timestamp())
        }
        _ => ambiguous.earlier().ok(),
    }
}

/// `mon`…`sun` or full English names, any case (the API and charter spell weekdays so).
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let lower = text.trim().to_ascii_lowercase();
    let weekday = match lower.get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    };
    let full = format!("{weekday:?}").to_ascii_lowercase();
    (lower.len() == 3 || lower == full).then_some(weekday)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;

    pub(crate) fn shift(zone: &str, weekdays: &[Weekday], start: &str, end: &str) -> Shift {
        Shift {
            name: format!("{start}-{end}"),
            weekdays: weekdays.to_vec(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            time_zone: TimeZone::get(zone).unwrap(),
        }
    }

    pub(crate) fn at(zone: &str, local: &str) -> Timestamp {
        let datetime: DateTime = local.parse().unwrap();
        local_instant(&TimeZone::get(zone).unwrap(), datetime).unwrap()
    }

    pub(crate) const EVERY_DAY: &[Weekday] = &[
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// `expected`: `Some((start UTC, hours))` of the window starting on `day`.
    fn check(shift: &Shift, day: Date, expected: Option<(&str, f64)>) {
        let got = shift
            .window_starting_on(day)
            .map(|window| (window.start.to_string(), window.seconds() as f64 / 3_600.0));
        let expected = expected.map(|(start, hours)| (start.to_owned(), hours));
        assert_eq!(got, expected, "{} on {day}", shift.name);
    }

    #[test]
    fn windows_across_midnight_and_dst() {
        let berlin = |start, end| shift("Europe/Berlin", EVERY_DAY, start, end);
        let new_york = |start, end| shift("America/New_York", EVERY_DAY, start, end);
        // Ordinary day, and a night shift ending the next morning.
        check(
            &berlin("09:00", "17:00"),
            date(2026, 1, 12),
            Some(("2026-01-12T08:00:00Z", 8.0)),
        );
        check(
            &berlin("22:00", "06:00"),
            date(2026, 1, 12),
            Some(("2026-01-12T21:00:00Z", 8.0)),
        );
        check(
            &berlin("09:00", "09:00"),
            date(2026, 1, 12),
            Some(("2026-01-12T08:00:00Z", 24.0)),
        );
        // Berlin springs forward on Sun 29 Mar 2026 (02:00 → 03:00): 01:00–04:00 is 2 h,
        // a night shift over it 7 h, and a shift starting in the gap starts at 03:00.
        check(
            &berlin("01:00", "04:00"),
            date(2026, 3, 29),
            Some(("2026-03-29T00:00:00Z", 2.0)),
        );
        check(
            &berlin("22:00", "06:00"),
            date(2026, 3, 28),
            Some(("2026-03-28T21:00:00Z", 7.0)),
        );
        check(
            &berlin("02:30", "06:00"),
            date(2026, 3, 29),
            Some(("2026-03-29T01:00:00Z", 3.0)),
        );
        check(&berlin("02:15", "02:45"), date(2026, 3, 29), None);
        // Berlin falls back on Sun 25 Oct 2026 (03:00 → 02:00): 01:00–04:00 is 4 h.
        check(
            &berlin("01:00", "04:00"),
            date(2026, 10, 25),
            Some(("2026-10-24T23:00:00Z", 4.0)),
        );
        check(
            &berlin("22:00", "06:00"),
            date(2026, 10, 24),
            Some(("2026-10-24T20:00:00Z", 9.0)),
        );
        // A time shown twice means its first occurrence (CEST).
        check(
            &berlin("02:30", "03:30"),
            date(2026, 10, 25),
            Some(("2026-10-25T00:30:00Z", 2.0)),
        );
        // New York springs forward on Sun 8 Mar 2026 (02:00 → 03:00) and falls back on
        // Sun 1 Nov 2026 (02:00 → 01:00).
        check(
            &new_york("01:00", "04:00"),
            date(2026, 3, 8),
            Some(("2026-03-08T06:00:00Z", 2.0)),
        );
        check(
            &new_york("20:00", "08:00"),
            date(2026, 3, 7),
            Some(("2026-03-08T01:00:00Z", 11.0)),
        );
        check(
            &new_york("01:00", "04:00"),
            date(2026, 11, 1),
            Some(("2026-11-01T05:00:00Z", 4.0)),
        );
        check(
            &new_york("20:00", "08:00"),
            date(2026, 10, 31),
            Some(("2026-11-01T00:00:00Z", 13.0)),
        );
        // Only on its weekdays.
        let weekdays = shift("Europe/Berlin", &[Weekday::Monday], "09:00", "17:00");
        check(&weekdays, date(2026, 1, 13), None);
    }

    #[test]
    fn on_shift() {
        let night = shift("Europe/Berlin", &[Weekday::Friday], "22:00", "06:00");
        let cases = [
            ("2026-01-16T21:59:59", false),
            ("2026-01-16T22:00:00", true),
            // Past midnight the Friday shift is still running on Saturday...
            ("2026-01-17T05:59:59", true),
            // ...and its end is exclusive.
            ("2026-01-17T06:00:00", false),
            // A Saturday night is not a Friday night.
            ("2026-01-17T23:00:00", false),
            // Thursday night → Friday morning: the shift starts on Fridays only.
            ("2026-01-16T03:00:00", false),
        ];
        for (local, expected) in cases {
            assert_eq!(
                is_on_shift(&night, at("Europe/Berlin", local)),
                expected,
                "{local}"
            );
        }
        // The same instant is on shift for a New York shift covering it.
        let new_york = shift("America/New_York", &[Weekday::Friday], "15:00", "17:00");
        assert!(is_on_shift(
            &new_york,
            at("Europe/Berlin", "2026-01-16T22:30:00")
        ));
    }

    #[test]
    fn windows_overlapping_a_range() {
        let night = shift("Europe/Berlin", EVERY_DAY, "22:00", "06:00");
        let from = at("Europe/Berlin", "2026-01-12T03:00:00");
        let to = at("Europe/Berlin", "2026-01-13T23:00:00");
        let starts: Vec<String> = night
            .windows_overlapping(from, to)
            .iter()
            .map(|w| w.start.to_string())
            .collect();
        assert_eq!(
            starts,
            [
                "2026-01-11T21:00:00Z",
                "2026-01-12T21:00:00Z",
                "2026-01-13T21:00:00Z"
            ]
        );
    }

    #[test]
    fn validation_and_weekday_names() {
        let mut named = shift("UTC", &[Weekday::Monday], "09:00", "17:00");
        assert!(named.validate().is_ok());
        named.name = "  ".into();
        assert!(named.validate().is_err());
        let no_days = shift("UTC", &[], "09:00", "17:00");
        assert!(no_days.validate().is_err());
        let cases = [
            ("mon", Some(Weekday::Monday)),
            ("Tuesday", Some(Weekday::Tuesday)),
            (" SUN ", Some(Weekday::Sunday)),
            ("thurs", None),
            ("mo", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_weekday(text), expected, "{text:?}");
        }
    }
}
