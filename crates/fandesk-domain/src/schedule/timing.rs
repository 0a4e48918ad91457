//! When a scheduled message falls due for one fan (docs/product.md › Scheduled messages):
//! at an instant, or at a wall-clock date and time in the fan's own time zone. A wall
//! time that a spring-forward gap skips moves forward by the gap (02:30 on a night the
//! clocks jump from 02:00 to 03:00 is 03:30); one that a fall-back fold repeats takes the
//! first occurrence — jiff's `compatible` rule, as calendars do. A due time inside the
//! quiet hours (local `[start, end)`, possibly across midnight) moves to their end.

use crate::error::RuleViolation;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Furthest ahead a message can be scheduled.
pub const MAX_AHEAD_DAYS: i64 = 366;

/// When a scheduled message is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// The same instant for every fan.
    At(Timestamp),
    /// This wall-clock date and time in each fan's time zone.
    Local { date: Date, time: Time },
}

/// Local hours in which nothing is delivered: `[start, end)`, across midnight when `end`
/// is before `start` (22:00–08:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    pub fn new(start: Time, end: Time) -> Result<QuietHours, RuleViolation> {
        if start == end {
            return Err(RuleViolation::invalid(
                "quiet_hours.end",
                "must differ from start",
            ));
        }
        Ok(QuietHours { start, end })
    }

    pub fn contains(&self, time: Time) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

/// The instant of a wall-clock `datetime` in `zone`: a gap moves forward by its length,
/// a fold takes the earlier instant.
fn resolve(zone: &TimeZone, datetime: DateTime) -> Timestamp {
    zone.to_ambiguous_timestamp(datetime)
        .compatible()
        .unwrap_or(Timestamp::MAX)
}

/// When `timing` falls due for a fan living in `zone`, out of the `quiet` hours.
pub fn due_at(timing: Timing, zone: &TimeZone, quiet: Option<QuietHours>) -> Timestamp {
    let due = match timing {
        Timing::At(at) => at,
        Timing::Local { date, time } => resolve(zone, date.to_datetime(time)),
    };
    match quiet {
        Some(quiet) => after_quiet_hours(due, zone, quiet),
        None => due,
    }
}

fn after_quiet_hours(due: Timestamp, zone: &TimeZone, quiet: QuietHours) -> Timestamp {
    let local = zone.to_datetime(due);
    if !quiet.contains(local.time()) {
        return due;
    }
    // Inside a window that crosses midnight, before midnight: it ends tomorrow.
    let end_date = if quiet.start > quiet.end && local.time() >= quiet.start {
        local.date().tomorrow().unwrap_or(local.date())
    } else {
        local.date()
    };
    resolve(zone, end_date.to_datetime(quiet.end)).max(due)
}

/// `HH:MM`, 00:00 to 23:59.
pub fn parse_wall_time(text: &str) -> Option<Time> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return None;
    }
    let number = |at: usize| -> Option<i8> {
        let (tens, ones) = (bytes[at], bytes[at + 1]);
        (tens.is_ascii_digit() && ones.is_ascii_digit())
            .then(|| ((tens - b'0') * 10 + (ones - b'0')) as i8)
    };
    Time::new(number(0)?, number(3)?, 0, 0).ok()
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    shaped.then(|| text.parse().ok()).flatten()
}

/// A scheduled message's timing must not lie more than [`MAX_AHEAD_DAYS`] ahead; an
/// instant already past means "now".
pub fn validate_timing(timing: Timing, now: Timestamp) -> Result<(), RuleViolation> {
    let limit = now
        .checked_add(SignedDuration::from_hours(MAX_AHEAD_DAYS * 24))
        .unwrap_or(Timestamp::MAX);
    match timing {
        Timing::At(at) if at > limit => Err(RuleViolation::invalid(
            "at",
            format!("must be within {MAX_AHEAD_DAYS} days"),
        )),
        // The latest zone is 14 hours ahead of UTC: the local date may be one day later.
        Timing::Local { date, .. }
            if date
                > TimeZone::UTC
                    .to_datetime(limit)
                    .date()
                    .tomorrow()
                    .unwrap_or(date) =>
        {
            Err(RuleViolation::invalid(
                "local.date",
                format!("must be within {MAX_AHEAD_DAYS} days"),
            ))
        }
        _ => Ok(()),
    }
}

/// A reply scheduled for `send_at` ("reply later"): after `now`, within
/// [`MAX_AHEAD_DAYS`].
pub fn validate_send_at(send_at: Timestamp, now: Timestamp) -> Result<(), RuleViolation> {
    if send_at <= now {
        return Err(RuleViolation::invalid("send_at", "must be in the future"));
    }
    validate_timing(Timing::At(send_at), now).map_err(|_| {
        RuleViolation::invalid("send_at", format!("must be within {MAX_AHEAD_DAYS} days"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn time(text: &str) -> Time {
        parse_wall_time(text).unwrap()
    }

    fn local(date: &str, at: &str) -> Timing {
        Timing::Local {
            date: parse_date(date).unwrap(),
            time: time(at),
        }
    }

    fn quiet(start: &str, end: &str) -> Option<QuietHours> {
        Some(QuietHours::new(time(start), time(end)).unwrap())
    }

    fn check(timing: Timing, zone_name: &str, quiet: Option<QuietHours>, expected: &str) {
        let got = due_at(timing, &zone(zone_name), quiet);
        assert_eq!(
            got.to_string(),
            expected,
            "{timing:?} in {zone_name} {quiet:?}"
        );
    }

    #[test]
    fn local_times_in_each_zone() {
        // 09:00 on a plain day, in five zones (Kathmandu +05:45, Lord Howe +11 in summer).
        let nine = local("2026-03-10", "09:00");
        check(nine, "Europe/Berlin", None, "2026-03-10T08:00:00Z");
        check(nine, "America/New_York", None, "2026-03-10T13:00:00Z");
        check(nine, "Asia/Tokyo", None, "2026-03-10T00:00:00Z");
        check(nine, "Asia/Kathmandu", None, "2026-03-10T03:15:00Z");
        check(nine, "Australia/Lord_Howe", None, "2026-03-09T22:00:00Z");
    }

    #[test]
    fn daylight_saving_changes() {
        // New York springs forward 8 March 2026 02:00 → 03:00: 02:30 does not exist and
        // moves forward by the gap; 09:00 that day is already EDT (−04:00).
        check(
            local("2026-03-08", "02:30"),
            "America/New_York",
            None,
            "2026-03-08T07:30:00Z",
        );
        check(
            local("2026-03-08", "09:00"),
            "America/New_York",
            None,
            "2026-03-08T13:00:00Z",
        );
        // It falls back 1 November 2026 02:00 → 01:00: 01:30 happens twice, the first (EDT).
        check(
            local("2026-11-01", "01:30"),
            "America/New_York",
            None,
            "2026-11-01T05:30:00Z",
        );
        // Berlin springs forward 29 March 2026 02:00 → 03:00 and falls back 25 October.
        check(
            local("2026-03-29", "02:15"),
            "Europe/Berlin",
            None,
            "2026-03-29T01:15:00Z",
        );
        check(
            local("2026-03-29", "09:00"),
            "Europe/Berlin",
            None,
            "2026-03-29T07:00:00Z",
        );
        check(
            local("2026-10-25", "02:30"),
            "Europe/Berlin",
            None,
            "2026-10-25T00:30:00Z",
        );
        // Lord Howe moves by 30 minutes: back 5 April 2026 02:00 → 01:30 (+11 → +10:30),
        // forward 4 October 2026 02:00 → 02:30.
        check(
            local("2026-04-05", "01:45"),
            "Australia/Lord_Howe",
            None,
            "2026-04-04T14:45:00Z",
        );
        check(
            local("2026-04-05", "09:00"),
            "Australia/Lord_Howe",
            None,
            "2026-04-04T22:30:00Z",
        );
        check(
            local("2026-10-04", "02:10"),
            "Australia/Lord_Howe",
            None,
            "2026-10-03T15:40:00Z",
        );
        // Tokyo and Kathmandu keep one offset all year.
        check(
            local("2026-10-25", "09:00"),
            "Asia/Tokyo",
            None,
            "2026-10-25T00:00:00Z",
        );
        check(
            local("2026-10-25", "09:00"),
            "Asia/Kathmandu",
            None,
            "2026-10-25T03:15:00Z",
        );
    }

    #[test]
    fn quiet_hours_move_to_their_end() {
        let night = quiet("22:00", "08:00");
        // 23:30 Berlin → 08:00 the next morning; 06:00 → 08:00 the same morning.
        check(
            local("2026-03-10", "23:30"),
            "Europe/Berlin",
            night,
            "2026-03-11T07:00:00Z",
        );
        check(
            local("2026-03-10", "06:00"),
            "Europe/Berlin",
            night,
            "2026-03-10T07:00:00Z",
        );
        check(
            local("2026-03-10", "08:00"),
            "Europe/Berlin",
            night,
            "2026-03-10T07:00:00Z",
        );
        check(
            local("2026-03-10", "21:59"),
            "Europe/Berlin",
            night,
            "2026-03-10T20:59:00Z",
        );
        // An instant: 02:00 UTC is 11:00 in Tokyo (fine) and 07:45 in Kathmandu (quiet).
        let at = Timing::At("2026-03-10T02:00:00Z".parse().unwrap());
        check(at, "Asia/Tokyo", night, "2026-03-10T02:00:00Z");
        check(at, "Asia/Kathmandu", night, "2026-03-10T02:15:00Z");
        // A daytime window.
        let lunch = quiet("12:00", "13:30");
        check(
            local("2026-03-10", "12:45"),
            "Asia/Tokyo",
            lunch,
            "2026-03-10T04:30:00Z",
        );
        // The night before New York's spring-forward ends at 08:00 EDT.
        check(
            local("2026-03-07", "23:00"),
            "America/New_York",
            night,
            "2026-03-08T12:00:00Z",
        );
        // A quiet end inside the gap moves forward like any wall time.
        let gap_end = quiet("01:00", "02:30");
        check(
            local("2026-03-08", "01:15"),
            "America/New_York",
            gap_end,
            "2026-03-08T07:30:00Z",
        );
    }

    #[test]
    fn parsing_and_bounds() {
        assert_eq!(parse_wall_time("00:00"), Some(Time::midnight()));
        assert_eq!(
            parse_wall_time("23:59"),
            Some(Time::new(23, 59, 0, 0).unwrap())
        );
        for bad in ["24:00", "9:00", "09:60", "0900", "09:00:00", "", "ab:cd"] {
            assert_eq!(parse_wall_time(bad), None, "{bad:?}");
        }
        assert!(parse_date("2026-02-28").is_some());
        for bad in [
            "2026-02-30",
            "20260228",
            "2026-2-28",
            "2026-02-28T00:00",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
        assert!(QuietHours::new(time("08:00"), time("08:00")).is_err());
        let now: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        let later = |days: i64| {
            now.checked_add(SignedDuration::from_hours(days * 24))
                .unwrap()
        };
        assert!(validate_send_at(later(1), now).is_ok());
        assert!(validate_send_at(now, now).is_err());
        assert!(validate_send_at(later(367), now).is_err());
        assert!(validate_timing(Timing::At(later(366)), now).is_ok());
        assert!(validate_timing(Timing::At(later(367)), now).is_err());
        assert!(validate_timing(local("2027-03-11", "09:00"), now).is_ok());
        assert!(validate_timing(local("2027-03-13", "09:00"), now).is_err());
    }
}
