//! Clipped-reply clusters (docs/product.md › Signals): across all conversations, a sudden
//! rise in the share of short fan replies ("ok", "lol", "👍") raises one team-wide
//! `engagement_anomaly` naming the window, the share and the baseline.
//!
//! The statistic. Over the sliding window (the last hour, `(now − 1 h, now]`) and the
//! baseline (by default the 24 hours before the window), count fan replies and short ones
//! (≤ 3 words). Let p₁ and p₀ be the short shares of window and baseline, n₁ and n₀ their
//! reply counts. An anomaly needs all of:
//! - volume: n₁ ≥ 30 and n₀ ≥ 30, so a quiet night's five replies prove nothing and a new
//!   team without history is not compared against nothing;
//! - a large rise: p₁ ≥ 2 × p₀ and p₁ − p₀ ≥ 0.10, so a busy team's 2 % → 4 % is not
//!   called an anomaly however significant;
//! - significance: a one-sided two-proportion z-test with the pooled share
//!   p = (s₁ + s₀) / (n₁ + n₀), z = (p₁ − p₀) / √(p (1 − p) (1/n₁ + 1/n₀)) ≥ 3
//!   (one-sided p ≈ 0.001 on ordinary traffic, before the two conditions above).
//!
//! Why the trailing 24 h: it exists after one day (the same hour over the last 7 days
//! needs a week of history) and averages over the day's rhythm; the cost is that an hour
//! that is clipped every day (a late-night crowd) may alert. `Baseline::SameHour` is there
//! for teams with that pattern. Only rises alert; fans writing more is no incident.

use super::text;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A reply of at most this many words is clipped (docs/product.md › Signals).
pub const SHORT_REPLY_MAX_WORDS: usize = 3;

/// Counts words the way a reader would: runs of letters and digits (with inner `'` and
/// `-`: "don't", "e-mail"), each run of emoji (a reply of only emoji is one word, like a
/// nod), and each Han or kana character (an approximation; those scripts put no spaces
/// between words). Punctuation alone is no word.
pub fn word_count(text: &str) -> usize {
    #[derive(PartialEq)]
    enum Run {
        Gap,
        Word,
        Emoji,
    }
    let mut count = 0;
    let mut run = Run::Gap;
    let mut apostrophe_may_join = false;
    for character in text.chars() {
        let decorates = unicode_normalization::char::is_combining_mark(character)
            || text::is_emoji_joiner(character)
            || ('\u{1F3FB}'..='\u{1F3FF}').contains(&character);
        if decorates {
            continue;
        }
        if apostrophe_may_join && matches!(character, '\'' | '’' | '-') {
            // Inside a word ("don't", "e-mail"); a second one in a row separates.
            apostrophe_may_join = false;
            continue;
        }
        let next = if text::is_ideographic(character) {
            count += 1;
            Run::Gap
        } else if text::is_word_char(character) {
            Run::Word
        } else if text::is_pictographic(character) {
            Run::Emoji
        } else {
            Run::Gap
        };
        if next != Run::Gap && next != run {
            count += 1;
        }
        apostrophe_may_join = next == Run::Word;
        run = next;
    }
    count
}

/// Fan replies in a time range and how many of them were clipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyCounts {
    pub short: u64,
    pub total: u64,
}

impl ReplyCounts {
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.short as f64 / self.total as f64
        }
    }
}

/// A time range `(after, until]`: it includes a reply stored at exactly `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub after: Timestamp,
    pub until: Timestamp,
}

impl TimeRange {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.after < at && at <= self.until
    }
}

/// What the window is compared with (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The span right before the window.
    Trailing(SignedDuration),
    /// The same window of time on each of the previous `days` days (UTC, 24 h apart).
    SameHour { days: u32 },
}

/// The clipped-reply detector's parameters (module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClippedReplyRule {
    pub window: SignedDuration,
    pub baseline: Baseline,
    pub short_max_words: usize,
    pub min_window_replies: u64,
    pub min_baseline_replies: u64,
    pub min_ratio: f64,
    pub min_increase: f64,
    pub min_z: f64,
}

impl ClippedReplyRule {
    pub const DEFAULT: ClippedReplyRule = ClippedReplyRule {
        window: SignedDuration::from_hours(1),
        baseline: Baseline::Trailing(SignedDuration::from_hours(24)),
        short_max_words: SHORT_REPLY_MAX_WORDS,
        min_window_replies: 30,
        min_baseline_replies: 30,
        min_ratio: 2.0,
        min_increase: 0.10,
        min_z: 3.0,
    };

    pub fn is_short(&self, words: usize) -> bool {
        words <= self.short_max_words
    }

    /// The sliding window ending at `now`.
    pub fn window_at(&self, now: Timestamp) -> TimeRange {
        TimeRange {
            after: back(now, self.window),
            until: now,
        }
    }

    /// The ranges whose replies form the baseline for the window ending at `now`.
    pub fn baseline_at(&self, now: Timestamp) -> Vec<TimeRange> {
        match self.baseline {
            Baseline::Trailing(span) => {
                let until = back(now, self.window);
                vec![TimeRange {
                    after: back(until, span),
                    until,
                }]
            }
            Baseline::SameHour { days } => (1..=i64::from(days))
                .map(|day| self.window_at(back(now, SignedDuration::from_hours(24 * day))))
                .collect(),
        }
    }

    /// Counts `(sent at, word count)` fan replies into window and baseline.
    pub fn tally(
        &self,
        replies: impl IntoIterator<Item = (Timestamp, usize)>,
        now: Timestamp,
    ) -> (ReplyCounts, ReplyCounts) {
        let counted = replies.into_iter().map(|(at, words)| {
            let short = u64::from(self.is_short(words));
            (at, ReplyCounts { short, total: 1 })
        });
        self.tally_counts(counted, now)
    }

    /// Like [`Self::tally`], for replies already counted in groups that share a time (a
    /// log kept per second instead of per reply).
    pub fn tally_counts(
        &self,
        groups: impl IntoIterator<Item = (Timestamp, ReplyCounts)>,
        now: Timestamp,
    ) -> (ReplyCounts, ReplyCounts) {
        let window = self.window_at(now);
        let baseline = self.baseline_at(now);
        let (mut in_window, mut in_baseline) = (ReplyCounts::default(), ReplyCounts::default());
        for (at, group) in groups {
            let counts = if window.contains(at) {
                &mut in_window
            } else if baseline.iter().any(|range| range.contains(at)) {
                &mut in_baseline
            } else {
                continue;
            };
            counts.total += group.total;
            counts.short += group.short;
        }
        (in_window, in_baseline)
    }

    /// The anomaly, if the window ending at `now` has one (module docs). Whether to raise
    /// it again is `AlertThrottle::ENGAGEMENT_ANOMALY`'s call.
    pub fn evaluate(
        &self,
        window: ReplyCounts,
        baseline: ReplyCounts,
        now: Timestamp,
    ) -> Option<ClippedReplyAnomaly> {
        if window.total < self.min_window_replies || baseline.total < self.min_baseline_replies {
            return None;
        }
        let (share, baseline_share) = (window.share(), baseline.share());
        if share < self.min_ratio * baseline_share || share - baseline_share < self.min_increase {
            return None;
        }
        let pooled =
            (window.short + baseline.short) as f64 / (window.total + baseline.total) as f64;
        let variance =
            pooled * (1.0 - pooled) * (1.0 / window.total as f64 + 1.0 / baseline.total as f64);
        if variance <= 0.0 {
            return None;
        }
        let z = (share - baseline_share) / variance.sqrt();
        (z >= self.min_z).then(|| ClippedReplyAnomaly {
            window: self.window_at(now),
            baseline: self.baseline,
            short_max_words: self.short_max_words,
            counts: window,
            baseline_counts: baseline,
            share,
            baseline_share,
            z,
        })
    }
}

/// An `engagement_anomaly` to raise (docs/api.md › Alerts).
#[derive(Clone, Debug, PartialEq)]
pub struct ClippedReplyAnomaly {
    pub window: TimeRange,
    pub baseline: Baseline,
    pub short_max_words: usize,
    pub counts: ReplyCounts,
    pub baseline_counts: ReplyCounts,
    pub share: f64,
    pub baseline_share: f64,
    pub z: f64,
}

impl ClippedReplyAnomaly {
    /// The alert's `excerpt`: window, share and baseline in one line.
    pub fn summary(&self) -> String {
        let baseline = match self.baseline {
            Baseline::Trailing(span) => format!("the previous {} h", span.as_hours()),
            Baseline::SameHour { days } => format!("the same hour on the previous {days} days"),
        };
        format!(
            "{:.0}% of {} fan replies from {} to {} were ≤ {} words; baseline {:.0}% of {} over {}",
            self.share * 100.0,
            self.counts.total,
            self.window.after,
            self.window.until,
            self.short_max_words,
            self.baseline_share * 100.0,
            self.baseline_counts.total,
            baseline,
        )
    }
}

fn back(from: Timestamp, span: SignedDuration) -> Timestamp {
    from.checked_sub(span).unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::AlertThrottle;

    fn now() -> Timestamp {
        "2025-03-01T15:00:00Z".parse().expect("timestamp")
    }

    /// Synthetic traffic: `hours[0]` is the last hour, `hours[1]` the one before, …; each
    /// is `(short replies, long replies)`, spread evenly over the hour.
    fn traffic(hours: &[(u64, u64)]) -> Vec<(Timestamp, usize)> {
        let mut replies = Vec::new();
        for (hours_ago, &(short, long)) in hours.iter().enumerate() {
            let total = short + long;
            for index in 0..total {
                let seconds = (3_600 * hours_ago as u64 + index * 3_600 / total) as i64;
                let words = if index < short { 1 } else { 12 };
                replies.push((now() - SignedDuration::from_secs(seconds), words));
            }
        }
        replies
    }

    /// `expected`: None = silent, or Some((window share %, baseline share %)).
    fn check(rule: ClippedReplyRule, hours: &[(u64, u64)], expected: Option<(u32, u32)>) {
        let (window, baseline) = rule.tally(traffic(hours), now());
        let got = rule.evaluate(window, baseline, now()).map(|anomaly| {
            (
                (anomaly.share * 100.0).round() as u32,
                (anomaly.baseline_share * 100.0).round() as u32,
            )
        });
        assert_eq!(got, expected, "window {window:?}, baseline {baseline:?}");
    }

    fn day(window: (u64, u64), every_hour: (u64, u64)) -> Vec<(u64, u64)> {
        let mut hours = vec![window];
        hours.extend(std::iter::repeat_n(every_hour, 24));
        hours
    }

    #[test]
    fn clipped_reply_clusters() {
        let rule = ClippedReplyRule::DEFAULT;
        // A burst of clipped replies against a normal day.
        check(rule, &day((70, 30), (20, 80)), Some((70, 20)));
        // Normal traffic, a little noisier than usual.
        check(rule, &day((25, 75), (20, 80)), None);
        // Low volume: every reply clipped, but only 20 of them.
        check(rule, &day((20, 0), (20, 80)), None);
        // No history yet.
        check(rule, &[(70, 30)], None);
        // Twice the share but not significant: few baseline replies.
        check(rule, &[(12, 18), (3, 12), (3, 12)], None);
        // Significant but small: 2 % → 5 % of a busy team.
        check(rule, &day((50, 950), (20, 980)), None);
        // From nothing clipped to a lot.
        check(rule, &day((15, 35), (0, 100)), Some((30, 0)));
        // Only the last 24 h are the baseline: after a clipped day, more of it is normal,
        // however different the days before were.
        check(
            rule,
            &[vec![(70, 30)], vec![(100, 0); 24], vec![(0, 100); 5]].concat(),
            None,
        );
    }

    #[test]
    fn same_hour_baseline() {
        let rule = ClippedReplyRule {
            baseline: Baseline::SameHour { days: 7 },
            ..ClippedReplyRule::DEFAULT
        };
        let mut hours = vec![(10, 90); 24 * 7 + 1];
        hours[0] = (60, 40);
        check(rule, &hours, Some((60, 10)));
        // Clipped at this hour every day: normal for this team.
        for day in 0..=7 {
            hours[24 * day] = (60, 40);
        }
        check(rule, &hours, None);
    }

    #[test]
    fn one_alert_per_window() {
        let rule = ClippedReplyRule::DEFAULT;
        let burst = ReplyCounts {
            short: 70,
            total: 100,
        };
        let normal = ReplyCounts {
            short: 480,
            total: 2_400,
        };
        let first = rule.evaluate(burst, normal, now()).expect("anomaly");
        assert!(
            first
                .summary()
                .starts_with("70% of 100 fan replies from 2025-03-01T14:00:00Z")
        );
        assert!(
            first
                .summary()
                .ends_with("baseline 20% of 2400 over the previous 24 h")
        );
        let throttle = AlertThrottle::ENGAGEMENT_ANOMALY;
        let later = now() + SignedDuration::from_mins(20);
        assert!(
            rule.evaluate(burst, normal, later).is_some(),
            "still anomalous…"
        );
        assert!(!throttle.allows(Some(now()), later), "…but already alerted");
        assert!(throttle.allows(Some(now()), now() + SignedDuration::from_hours(1)));
    }

    #[test]
    fn words() {
        let cases: [(&str, usize); 18] = [
            ("", 0),
            ("ok", 1),
            ("  ok  thanks ", 2),
            ("lol!!!", 1),
            ("...", 0),
            ("don't know", 2),
            ("e-mail me", 2),
            ("😂😂😂", 1),
            ("👍🏽", 1),
            ("❤️‍🔥", 1),
            ("love it 😍", 3),
            ("ok👍", 2),
            ("谢谢你", 3),
            ("ありがとう", 5),
            ("café", 1),
            ("cafe\u{301}'s", 1),
            ("a--b", 2),
            ("I can't wait for the next stream", 7),
        ];
        for (text, expected) in cases {
            assert_eq!(word_count(text), expected, "{text:?}");
        }
        assert!(ClippedReplyRule::DEFAULT.is_short(word_count("ok thanks 👍")));
        assert!(!ClippedReplyRule::DEFAULT.is_short(word_count("ok thanks so much")));
    }
}
