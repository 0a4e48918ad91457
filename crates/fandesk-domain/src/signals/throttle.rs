//! How often the same alert may be raised again: once per period, counted from the last
//! alert of the same kind and key (docs/product.md › Signals).

use jiff::{SignedDuration, Timestamp};

/// A minimum gap between two alerts with the same key. The caller chooses the key (for
/// keyword alerts: rule and conversation) and remembers the last alert time; this only
/// decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertThrottle {
    pub period: SignedDuration,
}

impl AlertThrottle {
    /// "One alert per rule per conversation per 10 minutes" (docs/product.md › Signals).
    pub const KEYWORD: AlertThrottle = AlertThrottle {
        period: SignedDuration::from_mins(10),
    };

    /// One `engagement_anomaly` per window: the next alert waits until the one-hour window
    /// has moved entirely past the alerted one, so no fan reply is counted in two alerts.
    pub const ENGAGEMENT_ANOMALY: AlertThrottle = AlertThrottle {
        period: SignedDuration::from_hours(1),
    };

    /// One `escalation_off_shift` per conversation per 10 minutes: the alert asks a
    /// supervisor to look at the schedule, and a repeat says nothing new.
    pub const ESCALATION_OFF_SHIFT: AlertThrottle = AlertThrottle {
        period: SignedDuration::from_mins(10),
    };

    pub const fn new(period: SignedDuration) -> AlertThrottle {
        AlertThrottle { period }
    }

    /// Whether an alert may be raised at `now`, given the last one with the same key. The
    /// period is inclusive: an alert exactly `period` after the last is allowed. A last
    /// alert later than `now` (the clock stepped back) still suppresses, until `now`
    /// passes it by the period, rather than letting a clock step cause a burst.
    pub fn allows(&self, last_alert: Option<Timestamp>, now: Timestamp) -> bool {
        match last_alert {
            None => true,
            Some(last) => now.duration_since(last) >= self.period,
        }
    }

    /// When the next alert with this key becomes possible.
    pub fn next_allowed(&self, last_alert: Timestamp) -> Timestamp {
        last_alert
            .checked_add(self.period)
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + minute * 60).expect("valid timestamp")
    }

    fn check(throttle: AlertThrottle, last_minute: Option<i64>, now_minute: i64, allowed: bool) {
        let got = throttle.allows(last_minute.map(at), at(now_minute));
        assert_eq!(
            got, allowed,
            "{throttle:?}: last {last_minute:?}, now {now_minute}"
        );
    }

    #[test]
    fn keyword_alerts_wait_ten_minutes() {
        let keyword = AlertThrottle::KEYWORD;
        check(keyword, None, 0, true);
        check(keyword, Some(0), 0, false);
        check(keyword, Some(0), 9, false);
        check(keyword, Some(0), 10, true);
        check(keyword, Some(0), 60, true);
        check(keyword, Some(5), 0, false);
        assert!(!keyword.allows(Some(at(0)), at(10) - SignedDuration::from_secs(1)));
        assert_eq!(keyword.next_allowed(at(3)), at(13));
    }

    #[test]
    fn anomaly_alerts_wait_a_whole_window() {
        let anomaly = AlertThrottle::ENGAGEMENT_ANOMALY;
        check(anomaly, Some(0), 59, false);
        check(anomaly, Some(0), 60, true);
        check(AlertThrottle::new(SignedDuration::ZERO), Some(0), 0, true);
    }

    #[test]
    fn off_shift_escalation_alerts_wait_ten_minutes() {
        let off_shift = AlertThrottle::ESCALATION_OFF_SHIFT;
        check(off_shift, None, 0, true);
        check(off_shift, Some(0), 9, false);
        check(off_shift, Some(0), 10, true);
    }
}
