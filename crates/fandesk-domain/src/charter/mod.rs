//! The team's communication charter (docs/product.md › Charter): one TOML document, the
//! single source of the response targets, escalation paths, channel limit and archive
//! days, keyword and restricted-word rules, the canned first-line mode, bot rules, the
//! creator's voice and the review cadence.
//!
//! Every key is optional and takes its default when left out, so a charter may say only
//! what differs. Unknown keys and bad values are errors naming the dotted key and the line
//! (`parse`), and a document with any error is refused whole.

mod diff;
mod edit;
mod parse;
mod reader;
mod render;
mod review;
#[cfg(test)]
mod tests;

pub use diff::{DiffLine, DiffTag, diff_lines, unified_diff};
pub use edit::{set_keyword_rules, set_restricted_rules};
pub use render::render;
pub use review::review_due_at;

use crate::RuleViolation;
use crate::desk::FirstLineMode;
use crate::signals::{KeywordMatcher, KeywordRule, RestrictedAction, RestrictedRule};
use serde::Serialize;
use std::time::Duration;

/// Largest charter document accepted, in bytes (it travels in a JSON body of at most 64
/// KiB).
pub const MAX_CHARTER_BYTES: usize = 32 * 1024;

/// A problem in a charter document: the dotted key (`channels.limit`; list items as
/// `keywords.rules[2].name`; `toml` when no key can be named), its 1-based line and
/// column, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CharterError {
    pub field: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for CharterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (line {}): {}", self.field, self.line, self.message)
    }
}

/// The charter, every key filled in (defaults for those the document leaves out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Charter {
    pub response: Response,
    pub escalation: Escalation,
    pub channels: Channels,
    pub bots: Bots,
    pub canned: Canned,
    pub keywords: Keywords,
    pub restricted: Restricted,
    pub voice: Voice,
    pub review: Review,
}

/// `[response]`: first-response targets (docs/metrics.md › SLA breach).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Response {
    /// A fan's first message of an opening should get a human reply within this; a miss
    /// raises `sla_breach` and counts as a breach in the metrics.
    pub first_response_target_secs: u32,
    /// The stretch goal the queue shows; it raises nothing. At most the target.
    pub stretch_target_secs: u32,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            first_response_target_secs: 60,
            stretch_target_secs: 30,
        }
    }
}

/// `[escalation]`: which leads take which reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub paths: Vec<EscalationPath>,
}

/// One path: an escalation whose reason mentions any of `reasons` (whole words with
/// their inflections, as keyword rules match) goes to one of `leads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    pub reasons: Vec<String>,
    /// Escalation leads, by email or member id.
    pub leads: Vec<String>,
}

/// `[channels]`: how many active team channels there may be, and after how many days
/// without a message a channel is archived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Channels {
    pub limit: u32,
    pub archive_after_days: u32,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            limit: 12,
            archive_after_days: 30,
        }
    }
}

/// `[bots]`: fan↔bot exchanges in an opening before a human takes over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bots {
    pub max_exchanges: u32,
}

impl Default for Bots {
    fn default() -> Self {
        Bots { max_exchanges: 3 }
    }
}

/// `[canned]`: the first-line rule of canned responses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Canned {
    pub first_line: FirstLineMode,
}

/// `[keywords]`: the rules that alert supervisors to fan messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Keywords {
    pub rules: Vec<KeywordRule>,
}

impl Default for Keywords {
    fn default() -> Self {
        Keywords {
            rules: KeywordRule::defaults(),
        }
    }
}

/// `[restricted]`: words team members must not send (`block`) or that flag a message to
/// supervisors (`warn`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Restricted {
    pub rules: Vec<RestrictedWord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestrictedWord {
    pub pattern: String,
    pub action: RestrictedAction,
}

/// `[voice]`: how the creator sounds, shown to agents beside the composer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Voice {
    pub tone: String,
    pub phrases_to_use: Vec<String>,
    pub phrases_to_avoid: Vec<String>,
    /// Emoji habits, in words ("one heart at most, never 🔥").
    pub emoji: String,
    pub sign_off: String,
}

/// `[review]`: how often the team reviews the charter (quarterly by default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    pub every_days: u32,
}

impl Default for Review {
    fn default() -> Self {
        Review { every_days: 91 }
    }
}

impl Charter {
    /// Reads a charter document: every problem found, in document order, or the charter.
    pub fn parse(text: &str) -> Result<Charter, Vec<CharterError>> {
        parse::parse(text)
    }

    /// A problem with the value at `field` of the document `text` (found by a check
    /// outside the domain, such as a lead who is not a member), positioned like the
    /// problems `parse` reports.
    pub fn error_at(text: &str, field: &str, message: impl Into<String>) -> CharterError {
        let (line, column) = reader::locate(text, field).unwrap_or((1, 1));
        CharterError {
            field: field.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn first_response_target(&self) -> Duration {
        Duration::from_secs(u64::from(self.response.first_response_target_secs))
    }

    pub fn stretch_target(&self) -> Duration {
        Duration::from_secs(u64::from(self.response.stretch_target_secs))
    }

    /// The restricted-word rules as the matcher takes them (a rule is named by its word).
    pub fn restricted_rules(&self) -> Vec<RestrictedRule> {
        self.restricted
            .rules
            .iter()
            .map(|rule| RestrictedRule {
                name: rule.pattern.clone(),
                patterns: vec![rule.pattern.clone()],
                action: rule.action,
            })
            .collect()
    }

    /// The escalation paths' reasons compiled into one matcher, rule `i` being path `i`.
    /// Every reason was validated as a keyword pattern when the charter was read.
    pub fn escalation_matcher(&self) -> Result<KeywordMatcher, RuleViolation> {
        let rules: Vec<KeywordRule> = self
            .escalation
            .paths
            .iter()
            .enumerate()
            .map(|(index, path)| KeywordRule::new(index.to_string(), path.reasons.clone()))
            .collect();
        KeywordMatcher::new(&rules)
    }

    /// The first path (in document order) whose reasons `reason` mentions.
    pub fn escalation_path(
        &self,
        matcher: &KeywordMatcher,
        reason: &str,
    ) -> Option<&EscalationPath> {
        matcher
            .find_all(reason)
            .iter()
            .map(|hit| hit.rule_index)
            .min()
            .and_then(|index| self.escalation.paths.get(index))
    }
}
