//! The canned-response library around the templates (docs/product.md › Canned responses):
//! shortcut codes the console inserts with `/shortcut`, and the health signals — stale
//! templates, over-used templates, a library outside the recommended 10–15.
//!
//! Usage counts are store queries; these functions only judge the numbers.

use crate::error::RuleViolation;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::ops::RangeInclusive;

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;

/// Thresholds for the health view; the defaults are docs/product.md's numbers (› Canned
/// responses: library health) where it gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthPolicy {
    /// Not edited for longer than this → stale (docs/product.md: 90 days).
    pub stale_after: SignedDuration,
    /// A template is over-used by an agent when more than this share of the agent's
    /// public messages came from it.
    pub overuse_share: f64,
    /// Fewer messages than this say nothing about an agent's habits; no flag below it.
    pub overuse_min_messages: u64,
    /// docs/product.md: warn when the library leaves 10–15 templates.
    pub recommended_size: RangeInclusive<usize>,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after: SignedDuration::from_hours(90 * 24),
            overuse_share: 0.30,
            overuse_min_messages: 20,
            recommended_size: 10..=15,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LibrarySizeWarning {
    TooFew { count: usize, minimum: usize },
    TooMany { count: usize, maximum: usize },
}

impl LibrarySizeWarning {
    /// The sentence the health view shows.
    pub fn message(&self) -> String {
        match self {
            LibrarySizeWarning::TooFew { count, minimum } => format!(
                "The library has {count} templates; at least {minimum} cover the common questions."
            ),
            LibrarySizeWarning::TooMany { count, maximum } => format!(
                "The library has {count} templates; more than {maximum} are hard to remember and keep fresh."
            ),
        }
    }
}

/// `[a-z0-9_-]{1,32}`: typed after `/` in the console, so no spaces, no capitals to get
/// wrong, nothing that needs escaping in a URL.
pub fn validate_shortcut(shortcut: &str) -> Result<(), RuleViolation> {
    if shortcut.starts_with('/') {
        return Err(RuleViolation::invalid(
            "shortcut",
            "write it without the leading /",
        ));
    }
    let length = shortcut.chars().count();
    if length == 0 || length > MAX_SHORTCUT_CHARS {
        return Err(RuleViolation::invalid(
            "shortcut",
            format!("must be 1 to {MAX_SHORTCUT_CHARS} characters"),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if !shortcut.chars().all(allowed) {
        return Err(RuleViolation::invalid(
            "shortcut",
            "may contain only lowercase letters a-z, digits, _ and -",
        ));
    }
    Ok(())
}

/// Not edited for more than `policy.stale_after`.
pub fn is_stale(last_edited_at: Timestamp, now: Timestamp, policy: &HealthPolicy) -> bool {
    now.duration_since(last_edited_at) > policy.stale_after
}

/// The share of an agent's public messages sent from one template, when it is above the
/// policy's threshold (and the agent sent enough messages to judge); `None` otherwise.
pub fn overuse_share(
    template_uses: u64,
    agent_messages: u64,
    policy: &HealthPolicy,
) -> Option<f64> {
    if agent_messages == 0 || agent_messages < policy.overuse_min_messages {
        return None;
    }
    let share = template_uses.min(agent_messages) as f64 / agent_messages as f64;
    (share > policy.overuse_share).then_some(share)
}

/// A warning when the library size is outside the recommended range.
pub fn library_size_warning(count: usize, policy: &HealthPolicy) -> Option<LibrarySizeWarning> {
    let (minimum, maximum) = (
        *policy.recommended_size.start(),
        *policy.recommended_size.end(),
    );
    if count < minimum {
        Some(LibrarySizeWarning::TooFew { count, minimum })
    } else if count > maximum {
        Some(LibrarySizeWarning::TooMany { count, maximum })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(shortcut: &str, valid: bool) {
        assert_eq!(validate_shortcut(shortcut).is_ok(), valid, "{shortcut:?}");
    }

    #[test]
    fn shortcuts() {
        check("thanks", true);
        check("refund-policy_2", true);
        check(&"a".repeat(32), true);
        check(&"a".repeat(33), false);
        check("", false);
        check("/thanks", false);
        check("Thanks", false);
        check("two words", false);
        check("café", false);
    }

    #[test]
    fn health() {
        let policy = HealthPolicy::default();
        let now: Timestamp = "2026-06-01T12:00:00Z".parse().unwrap();
        let days_ago = |days: i64| now - SignedDuration::from_hours(24 * days);
        let stale = [(0, false), (90, false), (91, true), (400, true)];
        for (days, expected) in stale {
            assert_eq!(
                is_stale(days_ago(days), now, &policy),
                expected,
                "{days} days"
            );
        }
        assert!(is_stale(
            days_ago(90) - SignedDuration::from_secs(1),
            now,
            &policy
        ));
        // (uses from the template, agent's messages) → flagged share.
        let overuse = [
            ((31, 100), Some(0.31)),
            ((30, 100), None),
            ((19, 19), None),
            ((20, 20), Some(1.0)),
            ((0, 0), None),
            ((50, 40), Some(1.0)),
        ];
        for ((uses, messages), expected) in overuse {
            assert_eq!(
                overuse_share(uses, messages, &policy),
                expected,
                "{uses}/{messages}"
            );
        }
        let sizes = [
            (
                0,
                Some(LibrarySizeWarning::TooFew {
                    count: 0,
                    minimum: 10,
                }),
            ),
            (
                9,
                Some(LibrarySizeWarning::TooFew {
                    count: 9,
                    minimum: 10,
                }),
            ),
            (10, None),
            (15, None),
            (
                16,
                Some(LibrarySizeWarning::TooMany {
                    count: 16,
                    maximum: 15,
                }),
            ),
        ];
        for (count, expected) in sizes {
            assert_eq!(library_size_warning(count, &policy), expected, "{count}");
        }
        assert_eq!(
            LibrarySizeWarning::TooMany {
                count: 16,
                maximum: 15
            }
            .message(),
            "The library has 16 templates; more than 15 are hard to remember and keep fresh."
        );
    }
}
