//! How fast a connection's frames are read (docs/api.md › WebSocket › Pace). A fan's
//! connection, and one not yet authenticated, may send a burst of frames and then a steady
//! rate; past it the connection simply stops reading until the rate allows the next frame.
//! The frames wait in the socket (the client's kernel holds them, then its writes block), so
//! a flood costs the server nothing per frame it has not read, and every frame read is
//! still answered, in order, as the contract says. Team members are not paced.
//!
//! The rule is the generic cell rate algorithm: one instant per connection, the theoretical
//! arrival time of the next frame. Pure: every function takes `now`.

use std::time::Duration;
use tokio::time::Instant;

/// A steady rate of frames per second and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRate {
    pub per_second: u32,
    pub burst: u32,
}

impl FrameRate {
    /// This rate plus a fan's message quota (`messages_per_minute`): its whole minute's
    /// messages at once on top of the burst, and their rate on top of the steady one. Reading
    /// a fan faster than it may send messages would only earn it refusals; a lifted quota
    /// (a benchmark's, a test's) lifts the pace with it.
    pub fn with_quota(self, messages_per_minute: u32) -> FrameRate {
        FrameRate {
            per_second: self
                .per_second
                .saturating_add(messages_per_minute.div_ceil(60)),
            burst: self.burst.saturating_add(messages_per_minute),
        }
    }

    fn interval(self) -> Duration {
        Duration::from_secs(1) / self.per_second.max(1)
    }

    /// How far ahead of `now` the theoretical arrival time may run: `burst` frames read
    /// at one instant, the last of them pausing the connection.
    fn tolerance(self) -> Duration {
        self.interval() * self.burst.saturating_sub(1)
    }
}

/// One connection's pace.
#[derive(Debug)]
pub struct Pace {
    /// When the next frame would arrive if the client kept exactly to the rate.
    next: Instant,
}

impl Pace {
    pub fn new(now: Instant) -> Pace {
        Pace { next: now }
    }

    /// Counts a frame read at `now` under `rate` (`None`: not paced). Returns when the
    /// next frame may be read, if that is later than `now`.
    pub fn frame(&mut self, rate: Option<FrameRate>, now: Instant) -> Option<Instant> {
        let rate = rate?;
        self.next = self.next.max(now) + rate.interval();
        let resume = self.next.checked_sub(rate.tolerance())?;
        (resume > now).then_some(resume)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Frames offered at `every`, read as soon as the pace allows: the instants (ms after
    /// the start) at which the first `count` are read.
    fn read_at(rate: FrameRate, every: Duration, count: usize) -> Vec<u128> {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let mut now = start;
        let mut reads = Vec::new();
        for n in 0..count {
            let offered = start + every * n as u32;
            now = now.max(offered);
            reads.push(now.duration_since(start).as_millis());
            if let Some(resume) = pace.frame(Some(rate), now) {
                now = resume;
            }
        }
        reads
    }

    #[test]
    fn a_burst_is_read_at_once_then_the_steady_rate() {
        let rate = FrameRate {
            per_second: 10,
            burst: 3,
        };
        // Ten frames offered at once: three at once, then one every 100 ms.
        assert_eq!(
            read_at(rate, Duration::ZERO, 7),
            [0, 0, 0, 100, 200, 300, 400]
        );
    }

    #[test]
    fn a_client_within_the_rate_is_never_held_back() {
        let rate = FrameRate {
            per_second: 10,
            burst: 5,
        };
        let offered_every = 150 * MS;
        let reads = read_at(rate, offered_every, 40);
        let expected: Vec<u128> = (0..40).map(|n| n * 150).collect();
        assert_eq!(reads, expected);
    }

    #[test]
    fn a_flood_is_read_at_the_rate_whatever_it_sends() {
        let rate = FrameRate {
            per_second: 10,
            burst: 20,
        };
        // 50 frames a second for 10 s: 500 offered. Read in those 10 s: as offered until
        // the burst is spent (the 24th frame, at 460 ms: 24 offered, 4.6 earned), then one
        // every 100 ms from 500 ms to 9,900 ms.
        let reads = read_at(rate, 20 * MS, 500);
        assert_eq!(&reads[..24], (0..24).map(|n| n * 20).collect::<Vec<_>>());
        assert_eq!(reads[24], 500);
        let within = reads.iter().filter(|at| **at < 10_000).count();
        assert_eq!(within, 24 + 95);
    }

    #[test]
    fn a_quiet_spell_earns_the_burst_back_and_no_more() {
        let rate = FrameRate {
            per_second: 10,
            burst: 2,
        };
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert_eq!(pace.frame(Some(rate), start), None);
        assert_eq!(pace.frame(Some(rate), start), Some(start + 100 * MS));
        // A minute later, the burst again (not six hundred frames' worth).
        let later = start + Duration::from_secs(60);
        assert_eq!(pace.frame(Some(rate), later), None);
        assert_eq!(pace.frame(Some(rate), later), Some(later + 100 * MS));
    }

    #[test]
    fn a_fan_is_paced_above_its_message_quota() {
        let base = FrameRate {
            per_second: 5,
            burst: 30,
        };
        let table = [
            (0, 5, 30),
            (30, 6, 60),
            (61, 7, 91),
            (u32::MAX, 71_582_794, u32::MAX),
        ];
        for (quota, per_second, burst) in table {
            assert_eq!(
                base.with_quota(quota),
                FrameRate { per_second, burst },
                "{quota}"
            );
        }
        // A quota lifted to a billion a minute: a million frames at once are not held back.
        let lifted = base.with_quota(1_000_000_000);
        let now = Instant::now();
        let mut pace = Pace::new(now);
        assert!((0..1_000_000).all(|_| pace.frame(Some(lifted), now).is_none()));
    }

    #[test]
    fn without_a_rate_nothing_is_held_back() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        for _ in 0..1000 {
            assert_eq!(pace.frame(None, start), None);
        }
    }
}
