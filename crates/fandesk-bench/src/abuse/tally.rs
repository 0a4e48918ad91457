//! What the abuse scenario counts: the two measured phases on one shared timeline, the
//! outcomes of the abusive clients by kind, and the normal clients' latencies per phase.

use crate::loadgen::new_histogram;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The two measured phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The normal clients alone.
    Alone = 0,
    /// The normal clients beside the abusive ones.
    Abuse = 1,
}

/// When each phase runs, µs since the epoch (`stamp::now_us`): warm-up from `warm_from`,
/// then `Alone` from `alone_from`, `Abuse` from `abuse_from`, until `end`.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    pub warm_from: u64,
    pub alone_from: u64,
    pub abuse_from: u64,
    pub end: u64,
}

impl Timeline {
    /// The phase a moment falls in (`None` in the warm-up and after the end).
    pub fn phase_of(&self, us: u64) -> Option<Phase> {
        if us >= self.alone_from && us < self.abuse_from {
            Some(Phase::Alone)
        } else if us >= self.abuse_from && us < self.end {
            Some(Phase::Abuse)
        } else {
            None
        }
    }
}

/// Outcomes of the abusive clients: `(kind, outcome) → count`, and the longest time a
/// connection of each kind was held open.
#[derive(Default)]
pub struct Tally {
    counts: Mutex<BTreeMap<(&'static str, String), u64>>,
    held_ms: Mutex<BTreeMap<&'static str, u64>>,
}

impl Tally {
    pub fn add(&self, kind: &'static str, outcome: impl Into<String>) {
        self.add_many(kind, outcome, 1);
    }

    pub fn add_many(&self, kind: &'static str, outcome: impl Into<String>, count: u64) {
        *self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((kind, outcome.into()))
            .or_insert(0) += count;
    }

    /// Every `(kind, outcome, count)`, to hand the tally to another process.
    pub fn all_counts(&self) -> Vec<(String, String, u64)> {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|((kind, outcome), count)| ((*kind).to_owned(), outcome.clone(), *count))
            .collect()
    }

    /// Every `(kind, longest held ms)`.
    pub fn all_held(&self) -> Vec<(String, u64)> {
        self.held_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(kind, ms)| ((*kind).to_owned(), *ms))
            .collect()
    }

    /// Notes that a connection of `kind` was open for `ms` before the server ended it.
    pub fn held(&self, kind: &'static str, ms: u64) {
        let mut held = self.held_ms.lock().unwrap_or_else(|p| p.into_inner());
        let longest = held.entry(kind).or_insert(0);
        *longest = (*longest).max(ms);
    }

    pub fn longest_held_ms(&self, kind: &str) -> Option<u64> {
        self.held_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(kind)
            .copied()
    }

    /// The outcomes of one kind, most frequent first.
    pub fn outcomes(&self, kind: &str) -> Vec<(String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, u64)> = counts
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, outcome), count)| (outcome.clone(), *count))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// How many outcomes of `kind` start with `prefix`.
    pub fn count(&self, kind: &str, prefix: &str) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((k, outcome), _)| *k == kind && outcome.starts_with(prefix))
            .map(|(_, count)| *count)
            .sum()
    }

    /// Every HTTP answer ≥ 500 any abusive client got.
    pub fn server_errors(&self) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((_, outcome), _)| outcome.starts_with("HTTP 5"))
            .map(|(_, count)| *count)
            .sum()
    }
}

/// The normal clients' figures, per phase (index [`Phase`] as usize).
pub struct NormalStats {
    /// Send → own ack, µs, by the phase of the (intended) send time.
    pub ack: [Histogram<u64>; 2],
    /// Send → the peer's event, µs.
    pub delivery: [Histogram<u64>; 2],
    /// `GET /healthz` → answer, µs.
    pub health: [Histogram<u64>; 2],
    pub sent: [u64; 2],
    pub acked: [u64; 2],
    /// Error frames answering a normal send (e.g. `rate_limited`): there should be none.
    pub error_frames: u64,
    /// Normal connections ended by the server or the network before the end.
    pub disconnected: u64,
    /// Health probes that failed or were not 200.
    pub health_failures: [u64; 2],
    /// Sends without an ack when the clients stopped.
    pub unanswered: u64,
    pub samples: Vec<String>,
}

impl Default for NormalStats {
    fn default() -> Self {
        NormalStats {
            ack: [new_histogram(), new_histogram()],
            delivery: [new_histogram(), new_histogram()],
            health: [new_histogram(), new_histogram()],
            sent: [0; 2],
            acked: [0; 2],
            error_frames: 0,
            disconnected: 0,
            health_failures: [0; 2],
            unanswered: 0,
            samples: Vec::new(),
        }
    }
}

impl NormalStats {
    pub fn sample(&mut self, text: String) {
        if self.samples.len() < 8 {
            self.samples.push(text);
        }
    }
}

/// A percentile in ms, `None` when nothing was recorded.
pub fn percentile_ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    (!histogram.is_empty()).then(|| histogram.value_at_quantile(quantile) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_timeline() {
        let timeline = Timeline {
            warm_from: 0,
            alone_from: 10,
            abuse_from: 20,
            end: 30,
        };
        assert_eq!(timeline.phase_of(5), None);
        assert_eq!(timeline.phase_of(10), Some(Phase::Alone));
        assert_eq!(timeline.phase_of(19), Some(Phase::Alone));
        assert_eq!(timeline.phase_of(20), Some(Phase::Abuse));
        assert_eq!(timeline.phase_of(30), None);
    }

    #[test]
    fn outcomes_are_counted_by_kind() {
        let tally = Tally::default();
        tally.add("oversize", "closed 1009");
        tally.add("oversize", "closed 1009");
        tally.add("oversize", "HTTP 503");
        tally.add("login", "HTTP 429");
        assert_eq!(tally.count("oversize", "closed"), 2);
        assert_eq!(tally.server_errors(), 1);
        assert_eq!(
            tally.outcomes("oversize"),
            vec![("closed 1009".to_owned(), 2), ("HTTP 503".to_owned(), 1)]
        );
        tally.held("slowloris", 10_000);
        tally.held("slowloris", 9_000);
        assert_eq!(tally.longest_held_ms("slowloris"), Some(10_000));
    }
}
