//! Mean, p50, p90 and count of a set of durations (docs/metrics.md › Percentiles).
//!
//! Percentiles use the **nearest-rank** method: the p-th percentile of n sorted values is
//! the value at rank ⌈p·n/100⌉ (1-based). It is always one of the observed durations, needs
//! no interpolation, and is the same on every backend and in every language, so a number
//! in the dashboard can be checked by hand against the message review.

use serde::Serialize;

/// Summary statistics in seconds; `None` when there is nothing to summarise.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub count: u64,
}

impl Stats {
    /// From durations in milliseconds (sorted in place).
    pub fn from_millis(values: &mut [i64]) -> Stats {
        if values.is_empty() {
            return Stats::default();
        }
        values.sort_unstable();
        let sum: i128 = values.iter().map(|value| i128::from(*value)).sum();
        let seconds = |millis: i64| millis as f64 / 1_000.0;
        Stats {
            mean: Some(sum as f64 / values.len() as f64 / 1_000.0),
            p50: percentile_nearest_rank(values, 50).map(seconds),
            p90: percentile_nearest_rank(values, 90).map(seconds),
            count: values.len() as u64,
        }
    }
}

/// The `percent`-th percentile of `sorted` (ascending) by nearest rank.
pub fn percentile_nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let count = sorted.len() as u64;
    let rank = (u64::from(percent.min(100)) * count).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[i64], percent: u32, expected: Option<i64>) {
        assert_eq!(
            percentile_nearest_rank(values, percent),
            expected,
            "p{percent} of {values:?}"
        );
    }

    #[test]
    fn nearest_rank() {
        check(&[], 50, None);
        check(&[7], 50, Some(7));
        check(&[7], 90, Some(7));
        // n = 2: p50 rank ⌈1⌉ = 1, p90 rank ⌈1.8⌉ = 2.
        check(&[1, 9], 50, Some(1));
        check(&[1, 9], 90, Some(9));
        // n = 10: p50 rank 5, p90 rank 9.
        let ten: Vec<i64> = (1..=10).collect();
        check(&ten, 50, Some(5));
        check(&ten, 90, Some(9));
        check(&ten, 100, Some(10));
        check(&ten, 0, Some(1));
        // n = 11: p50 rank ⌈5.5⌉ = 6, p90 rank ⌈9.9⌉ = 10.
        let eleven: Vec<i64> = (1..=11).collect();
        check(&eleven, 50, Some(6));
        check(&eleven, 90, Some(10));
    }

    #[test]
    fn stats_in_seconds() {
        let mut values = vec![30_000, 10_000, 20_000, 100_000];
        let stats = Stats::from_millis(&mut values);
        assert_eq!(stats.count, 4);
        assert_eq!(stats.mean, Some(40.0));
        assert_eq!(stats.p50, Some(20.0));
        assert_eq!(stats.p90, Some(100.0));
        assert_eq!(Stats::from_millis(&mut []), Stats::default());
    }
}
