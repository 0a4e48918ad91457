//! Time as a dependency, so timers and tests control it.

use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;
use tokio::sync::Notify;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// Woken whenever the clock jumps (a [`ManualClock`] being advanced), so timers react
    /// at once instead of at their next poll. The wall clock never jumps: `None`.
    fn changed(&self) -> Option<&Notify> {
        None
    }
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to: SLA timers and schedules are tested by advancing
/// it, never by sleeping.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
    changed: Notify,
}

impl ManualClock {
    /// Starts at `start`, at microsecond precision (what the store keeps).
    pub fn new(start: Timestamp) -> ManualClock {
        let start = Timestamp::from_microsecond(start.as_microsecond()).unwrap_or(start);
        ManualClock {
            now: Mutex::new(start),
            changed: Notify::new(),
        }
    }

    /// Starts at the current wall-clock time.
    pub fn starting_now() -> ManualClock {
        ManualClock::new(Timestamp::now())
    }

    /// Moves the clock forward by `by` and wakes every timer waiting on it.
    pub fn advance(&self, by: std::time::Duration) {
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        {
            let mut now = self
                .now
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *now = now.saturating_add(by).unwrap_or(*now);
        }
        self.changed.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn changed(&self) -> Option<&Notify> {
        Some(&self.changed)
    }
}
