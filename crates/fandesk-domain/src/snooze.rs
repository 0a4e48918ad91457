//! Snoozing (docs/product.md › Conversations): a conversation is set aside until a time;
//! it wakes back to `open` when that time comes or when the fan writes, whichever is
//! first. Fans never learn of it: to them a snoozed conversation is `open`.

use crate::conversation::Status;
use crate::error::RuleViolation;
use jiff::{SignedDuration, Timestamp};

/// The longest snooze: 30 days.
pub const MAX_SNOOZE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Checks a requested wake-up time against `now`: strictly in the future, at most
/// [`MAX_SNOOZE`] ahead.
pub fn check_until(now: Timestamp, until: Timestamp) -> Result<(), RuleViolation> {
    if until <= now {
        return Err(RuleViolation::invalid("until", "must be in the future"));
    }
    if until.duration_since(now) > MAX_SNOOZE {
        return Err(RuleViolation::invalid(
            "until",
            "must be at most 30 days ahead",
        ));
    }
    Ok(())
}

/// What may end a snooze.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeCause {
    /// The wake-up time set by `snooze_until` has come.
    TimeUp { snoozed_until: Timestamp },
    /// The fan wrote.
    FanWrote,
}

/// The status after `cause`, for a conversation in `status` snoozed until
/// `snoozed_until` (None when not snoozed), at `now`; `None` when nothing changes (not
/// snoozed, or a timer of an earlier snooze that was replaced).
pub fn wake(
    status: Status,
    snoozed_until: Option<Timestamp>,
    cause: WakeCause,
    now: Timestamp,
) -> Option<Status> {
    if status != Status::Snoozed {
        return None;
    }
    match cause {
        WakeCause::FanWrote => Some(Status::Open),
        WakeCause::TimeUp { snoozed_until: due } => {
            (snoozed_until == Some(due) && due <= now).then_some(Status::Open)
        }
    }
}

/// The status a fan is shown: a snooze is the team's business, so `snoozed` reads `open`.
pub fn fan_status(status: Status) -> Status {
    match status {
        Status::Snoozed => Status::Open,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn until_must_be_future_and_bounded() {
        let day = 86_400;
        let cases = [
            (-1, false),
            (0, false),
            (1, true),
            (30 * day, true),
            (30 * day + 1, false),
            (365 * day, false),
        ];
        for (offset, ok) in cases {
            assert_eq!(
                check_until(at(0), at(offset)).is_ok(),
                ok,
                "until now+{offset}s"
            );
        }
    }

    #[test]
    fn wake_transitions() {
        let due = at(100);
        let time_up = WakeCause::TimeUp { snoozed_until: due };
        // (status, snoozed_until, cause, now, expected)
        let cases = [
            (Snoozed, Some(due), time_up, at(100), Some(Open)),
            (Snoozed, Some(due), time_up, at(500), Some(Open)),
            // Not yet due.
            (Snoozed, Some(due), time_up, at(99), None),
            // Re-snoozed to a later time: the earlier timer does nothing.
            (Snoozed, Some(at(200)), time_up, at(150), None),
            (Snoozed, Some(due), WakeCause::FanWrote, at(50), Some(Open)),
            // Woken already, or never snoozed: nothing to do.
            (Open, None, time_up, at(100), None),
            (Open, None, WakeCause::FanWrote, at(100), None),
            (Pending, None, WakeCause::FanWrote, at(100), None),
            (Resolved, None, time_up, at(100), None),
        ];
        for (status, until, cause, now, expected) in cases {
            assert_eq!(
                wake(status, until, cause, now),
                expected,
                "{status:?} until {until:?} {cause:?} at {now}"
            );
        }
    }

    #[test]
    fn fans_never_see_snoozed() {
        for status in Status::ALL {
            assert_ne!(fan_status(status), Snoozed);
        }
        assert_eq!(fan_status(Snoozed), Open);
        assert_eq!(fan_status(Pending), Pending);
        assert_eq!(fan_status(Resolved), Resolved);
    }
}
