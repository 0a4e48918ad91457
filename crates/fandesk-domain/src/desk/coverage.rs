//! 24/7 coverage from the shifts (docs/product.md › Routing, priority and shifts): every
//! uncovered hour of a week, the next instant a human shift runs, and the off-hours
//! auto-reply that tells the fan when, in the fan's own time zone.
//!
//! Only shifts with agents assigned provide coverage; the service passes just those.

use crate::desk::shift::{Shift, ShiftWindow, local_instant};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use serde::Serialize;

/// One hour of the week with nobody on shift for all or part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UncoveredHour {
    /// The local start of the hour, in the zone the coverage was computed for. On a
    /// fall-back day the repeated hour appears twice, with different offsets; on a
    /// spring-forward day the skipped hour does not appear.
    pub start: ZonedDateTime,
    /// 1–60: a shift starting at 09:30 leaves 30 minutes of the 09:00 hour uncovered.
    pub uncovered_minutes: u32,
}

/// Every hour of the seven local days from `week_start` that is not fully covered by the
/// union of the shifts' windows, in order.
///
/// Hours are exact 60-minute steps from local midnight, so a week has 167 hours when it
/// contains a spring-forward night and 169 with a fall-back night. (Zones whose DST shift
/// is not a whole hour, like Australia/Lord_Howe, get steps that are off the local hour
/// for part of the year.)
pub fn coverage(shifts: &[Shift], time_zone: &TimeZone, week_start: Date) -> Vec<UncoveredHour> {
    let Some(week_end) = week_start.checked_add(jiff::Span::new().days(7)).ok() else {
        return Vec::new();
    };
    let (Some(from), Some(to)) = (
        local_instant(
            time_zone,
            week_start.to_datetime(jiff::civil::Time::midnight()),
        ),
        local_instant(
            time_zone,
            week_end.to_datetime(jiff::civil::Time::midnight()),
        ),
    ) else {
        return Vec::new();
    };
    let covered = merged_windows(shifts, from, to);
    let mut hours = Vec::new();
    let mut hour_start = from;
    while hour_start < to {
        let hour_end = hour_start
            .saturating_add(SignedDuration::from_hours(1))
            .map_or(to, |end| end.min(to));
        let length = hour_end.as_second() - hour_start.as_second();
        let covered_seconds: i64 = covered
            .iter()
            .map(|window| {
                let overlap =
                    window.end.min(hour_end).as_second() - window.start.max(hour_start).as_second();
                overlap.max(0)
            })
            .sum();
        let uncovered = length - covered_seconds;
        if uncovered > 0 {
            hours.push(UncoveredHour {
                start: hour_start.to_zoned_datetime(time_zone.clone()),
                // Rounded up: one uncovered second is still an hour a fan may go unanswered.
                uncovered_minutes: u32::try_from((uncovered + 59) / 60).unwrap_or(60),
            });
        }
        hour_start = hour_end;
    }
    hours
}

/// The earliest instant at or after `instant` when some shift runs: `instant` itself when
/// a shift is running, `None` when no shift runs in the next eight days (no shifts, or
/// none with a weekday).
pub fn next_coverage_start(shifts: &[Shift], instant: Timestamp) -> Option<Timestamp> {
    // A weekly schedule repeats within 7 days; one more absorbs DST and midnight crossing.
    let horizon = instant
        .saturating_add(SignedDuration::from_hours(8 * 24))
        .unwrap_or(Timestamp::MAX);
    merged_windows(shifts, instant, horizon)
        .first()
        .map(|window| window.start.max(instant))
}

/// The off-hours auto-reply (docs/product.md › Routing, priority and shifts), rendered in
/// the fan's time zone, e.g. "Our team is back at 09:00 (Europe/Paris) — Tue 24 Nov". The
/// service sends it labelled automated (docs/product.md › Principles, 3) and falls back to
/// the creator's zone when the fan has none.
pub fn off_hours_reply(next_start: Option<Timestamp>, fan_time_zone: &TimeZone) -> String {
    let Some(next_start) = next_start else {
        return "Our team is away right now and will reply as soon as possible.".to_owned();
    };
    let local = next_start.to_zoned_datetime(fan_time_zone.clone());
    let zone = match fan_time_zone.iana_name() {
        Some(name) => name.to_owned(),
        None => format!("UTC{}", local.offset()),
    };
    format!(
        "Our team is back at {} ({zone}) — {}",
        local.strftime("%H:%M"),
        local.strftime("%a %-d %b")
    )
}

/// The shifts' windows overlapping `[from, to)`, clipped to it, sorted, with overlapping
/// and touching windows merged.
fn merged_windows(shifts: &[Shift], from: Timestamp, to: Timestamp) -> Vec<ShiftWindow> {
    let mut windows: Vec<ShiftWindow> = shifts
        .iter()
        .flat_map(|shift| shift.windows_overlapping(from, to))
        .map(|window| ShiftWindow {
            start: window.start.max(from),
            end: window.end.min(to),
        })
        .collect();
    windows.sort();
    let mut merged: Vec<ShiftWindow> = Vec::with_capacity(windows.len());
    for window in windows {
        match merged.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => merged.push(window),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::shift::tests::{EVERY_DAY, at, shift};
    use jiff::civil::{Weekday, date};

    /// `expected`: the uncovered hours as `"local start [minutes]"`, consecutive full hours
    /// summarised as `"first..last"` to keep the tables readable.
    fn check(shifts: &[Shift], zone: &str, week_start: Date, expected: &[&str]) {
        let time_zone = TimeZone::get(zone).unwrap();
        let hours = coverage(shifts, &time_zone, week_start);
        let mut got: Vec<String> = Vec::new();
        let mut run: Option<(String, String, Timestamp)> = None;
        for hour in &hours {
            let label = hour.start.strftime("%a %H:%M%:z").to_string();
            if hour.uncovered_minutes < 60 {
                got.extend(run.take().map(summarise));
                got.push(format!("{label} [{}]", hour.uncovered_minutes));
                continue;
            }
            let start = hour.start.timestamp();
            match &mut run {
                Some((_, last, previous)) if start.as_second() - previous.as_second() == 3_600 => {
                    *last = label;
                    *previous = start;
                }
                _ => {
                    got.extend(run.take().map(summarise));
                    run = Some((label.clone(), label, start));
                }
            }
        }
        got.extend(run.map(summarise));
        assert_eq!(got, expected, "{zone} week of {week_start}");
    }

    fn summarise((first, last, _): (String, String, Timestamp)) -> String {
        if first == last {
            first
        } else {
            format!("{first}..{last}")
        }
    }

    #[test]
    fn uncovered_hours_of_a_week() {
        let berlin = "Europe/Berlin";
        let monday = date(2026, 1, 12);
        // Nobody: all 168 hours.
        assert_eq!(
            coverage(&[], &TimeZone::get(berlin).unwrap(), monday).len(),
            168
        );
        // Day and night shifts every day, back to back: full coverage.
        let day = shift(berlin, EVERY_DAY, "06:00", "22:00");
        let night = shift(berlin, EVERY_DAY, "22:00", "06:00");
        check(&[day.clone(), night], berlin, monday, &[]);
        // Without the night shift, the nights are uncovered, including Sunday night.
        check(
            std::slice::from_ref(&day),
            berlin,
            monday,
            &[
                "Mon 00:00+01:00..Mon 05:00+01:00",
                "Mon 22:00+01:00..Tue 05:00+01:00",
                "Tue 22:00+01:00..Wed 05:00+01:00",
                "Wed 22:00+01:00..Thu 05:00+01:00",
                "Thu 22:00+01:00..Fri 05:00+01:00",
                "Fri 22:00+01:00..Sat 05:00+01:00",
                "Sat 22:00+01:00..Sun 05:00+01:00",
                "Sun 22:00+01:00..Sun 23:00+01:00",
            ],
        );
        // The previous Sunday's night shift covers this Monday's early hours; nobody
        // works Sunday daytime; a half hour is reported with its minutes.
        let sunday_night = shift(berlin, &[Weekday::Sunday], "21:30", "06:00");
        let weekdays = shift(berlin, &EVERY_DAY[..6], "06:00", "22:00");
        check(
            &[sunday_night, weekdays],
            berlin,
            monday,
            &[
                "Mon 22:00+01:00..Tue 05:00+01:00",
                "Tue 22:00+01:00..Wed 05:00+01:00",
                "Wed 22:00+01:00..Thu 05:00+01:00",
                "Thu 22:00+01:00..Fri 05:00+01:00",
                "Fri 22:00+01:00..Sat 05:00+01:00",
                "Sat 22:00+01:00..Sun 20:00+01:00",
                "Sun 21:00+01:00 [30]",
            ],
        );
    }

    #[test]
    fn coverage_across_dst_in_two_zones() {
        // Berlin, week of Mon 23 Mar 2026: clocks jump 02:00 → 03:00 on Sunday. Only the
        // early-morning gap 00:00–06:00 is left open each day; on Sunday that gap is 5
        // hours long and has no 02:00 hour.
        let berlin = "Europe/Berlin";
        let day = shift(berlin, EVERY_DAY, "06:00", "00:00");
        let spring = coverage(&[day], &TimeZone::get(berlin).unwrap(), date(2026, 3, 23));
        assert_eq!(spring.len(), 6 * 6 + 5);
        let sunday: Vec<String> = spring[36..].iter().map(|h| h.start.to_string()).collect();
        assert_eq!(
            sunday,
            [
                "2026-03-29T00:00:00+01:00[Europe/Berlin]",
                "2026-03-29T01:00:00+01:00[Europe/Berlin]",
                "2026-03-29T03:00:00+02:00[Europe/Berlin]",
                "2026-03-29T04:00:00+02:00[Europe/Berlin]",
                "2026-03-29T05:00:00+02:00[Europe/Berlin]",
            ]
        );
        // Berlin, week of Mon 19 Oct 2026: 02:00–03:00 happens twice on Sunday 25th.
        check(
            &[
                shift(berlin, EVERY_DAY, "00:00", "02:00"),
                shift(berlin, EVERY_DAY, "03:00", "00:00"),
            ],
            berlin,
            date(2026, 10, 19),
            &[
                "Mon 02:00+02:00",
                "Tue 02:00+02:00",
                "Wed 02:00+02:00",
                "Thu 02:00+02:00",
                "Fri 02:00+02:00",
                "Sat 02:00+02:00",
                "Sun 02:00+02:00..Sun 02:00+01:00",
            ],
        );
        // New York, week of Mon 2 Mar 2026 (spring forward Sun 8 Mar): a 20:00–08:00 night
        // shift and an 08:00–20:00 day shift leave nothing uncovered, DST or not.
        let new_york = "America/New_York";
        let both = [
            shift(new_york, EVERY_DAY, "08:00", "20:00"),
            shift(new_york, EVERY_DAY, "20:00", "08:00"),
        ];
        check(&both, new_york, date(2026, 3, 2), &[]);
        // New York, week of Mon 26 Oct 2026 (fall back Sun 1 Nov): a 22:00–01:30 shift on
        // Saturday ends at the *first* 01:30, so the rest of that doubled hour and the
        // second 01:00 hour stay open until 03:00 when the next shift starts.
        check(
            &[
                shift(new_york, &[Weekday::Saturday], "22:00", "01:30"),
                shift(new_york, &[Weekday::Sunday], "03:00", "00:00"),
                shift(new_york, &EVERY_DAY[..5], "00:00", "00:00"),
                shift(new_york, &[Weekday::Saturday], "00:00", "22:00"),
            ],
            new_york,
            date(2026, 10, 26),
            &["Sun 01:00-04:00 [30]", "Sun 01:00-05:00..Sun 02:00-05:00"],
        );
    }

    #[test]
    fn next_coverage_and_auto_reply() {
        let berlin = "Europe/Berlin";
        let weekdays = shift(berlin, &EVERY_DAY[..5], "09:00", "17:00");
        let cases = [
            // During a shift: now.
            ("2026-11-24T10:00:00", Some("2026-11-24T09:00:00Z")),
            // Tuesday evening → Wednesday 09:00.
            ("2026-11-24T18:00:00", Some("2026-11-25T08:00:00Z")),
            // Friday evening → Monday 09:00.
            ("2026-11-27T17:00:00", Some("2026-11-30T08:00:00Z")),
            // Friday 27 Mar 2026 evening → Monday after the spring-forward weekend (CEST).
            ("2026-03-27T20:00:00", Some("2026-03-30T07:00:00Z")),
        ];
        for (local, expected) in cases {
            let got = next_coverage_start(std::slice::from_ref(&weekdays), at(berlin, local));
            assert_eq!(got.map(|t| t.to_string()).as_deref(), expected, "{local}");
        }
        let none: Vec<Shift> = vec![shift(berlin, &[], "09:00", "17:00")];
        assert_eq!(
            next_coverage_start(&none, at(berlin, "2026-11-24T10:00:00")),
            None
        );

        let next = Some(at(berlin, "2026-11-24T09:00:00"));
        let replies = [
            (
                "Europe/Paris",
                "Our team is back at 09:00 (Europe/Paris) — Tue 24 Nov",
            ),
            (
                "America/New_York",
                "Our team is back at 03:00 (America/New_York) — Tue 24 Nov",
            ),
            (
                "Asia/Tokyo",
                "Our team is back at 17:00 (Asia/Tokyo) — Tue 24 Nov",
            ),
            (
                "Pacific/Honolulu",
                "Our team is back at 22:00 (Pacific/Honolulu) — Mon 23 Nov",
            ),
        ];
        for (zone, expected) in replies {
            assert_eq!(
                off_hours_reply(next, &TimeZone::get(zone).unwrap()),
                expected
            );
        }
        let fixed = TimeZone::fixed(jiff::tz::offset(5));
        assert_eq!(
            off_hours_reply(next, &fixed),
            "Our team is back at 13:00 (UTC+05) — Tue 24 Nov"
        );
        assert_eq!(
            off_hours_reply(None, &fixed),
            "Our team is away right now and will reply as soon as possible."
        );
    }
}
