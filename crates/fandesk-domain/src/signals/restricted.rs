//! Restricted words on outgoing team messages (docs/product.md › Signals): platform-banned
//! terms block the message, off-brand phrases let it through flagged to supervisors.
//! Matching is the keyword matcher's: folded, whole words, inflections (see `keyword`).

use super::keyword::{KeywordMatch, KeywordMatcher, KeywordRule};
use crate::error::RuleViolation;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictedAction {
    /// The message is refused (`invalid_request`, naming the rule).
    Block,
    /// The message is sent and flagged to supervisors.
    Warn,
}

impl RestrictedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RestrictedAction::Block => "block",
            RestrictedAction::Warn => "warn",
        }
    }

    pub fn parse(text: &str) -> Option<RestrictedAction> {
        match text {
            "block" => Some(RestrictedAction::Block),
            "warn" => Some(RestrictedAction::Warn),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictedRule {
    pub name: String,
    pub patterns: Vec<String>,
    pub action: RestrictedAction,
}

impl RestrictedRule {
    pub fn validate(&self) -> Result<(), RuleViolation> {
        self.as_keyword_rule().validate()
    }

    fn as_keyword_rule(&self) -> KeywordRule {
        KeywordRule {
            name: self.name.clone(),
            patterns: self.patterns.clone(),
        }
    }
}

/// What to do with an outgoing message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestrictedVerdict {
    Clean,
    /// The first hit of each `warn` rule, in text order.
    Warn(Vec<KeywordMatch>),
    /// The first hit of a `block` rule in the message; any warnings no longer matter.
    Block(KeywordMatch),
}

impl RestrictedVerdict {
    /// `Block` as the error the sender gets; otherwise the warnings to flag (maybe none).
    pub fn into_result(self) -> Result<Vec<KeywordMatch>, RuleViolation> {
        match self {
            RestrictedVerdict::Clean => Ok(Vec::new()),
            RestrictedVerdict::Warn(warnings) => Ok(warnings),
            RestrictedVerdict::Block(hit) => Err(RuleViolation::invalid(
                "body",
                format!(
                    "{:?} is not allowed (restricted word rule {:?})",
                    hit.word, hit.rule
                ),
            )),
        }
    }
}

/// The team's restricted word rules, compiled once.
#[derive(Clone, Debug)]
pub struct RestrictedWords {
    matcher: KeywordMatcher,
    actions: Vec<RestrictedAction>,
}

impl RestrictedWords {
    pub fn new(rules: &[RestrictedRule]) -> Result<RestrictedWords, RuleViolation> {
        let keyword_rules: Vec<KeywordRule> =
            rules.iter().map(RestrictedRule::as_keyword_rule).collect();
        let matcher = KeywordMatcher::new(&keyword_rules)?;
        Ok(RestrictedWords {
            matcher,
            actions: rules.iter().map(|rule| rule.action).collect(),
        })
    }

    /// Checks a team message body. A word in both a `block` and a `warn` rule blocks.
    pub fn check(&self, body: &str) -> RestrictedVerdict {
        let mut warnings: Vec<KeywordMatch> = Vec::new();
        for hit in self.matcher.find_all(body) {
            match self.actions[hit.rule_index] {
                RestrictedAction::Block => return RestrictedVerdict::Block(hit),
                RestrictedAction::Warn => {
                    if !warnings
                        .iter()
                        .any(|warning| warning.rule_index == hit.rule_index)
                    {
                        warnings.push(hit);
                    }
                }
            }
        }
        if warnings.is_empty() {
            RestrictedVerdict::Clean
        } else {
            RestrictedVerdict::Warn(warnings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, patterns: &[&str], action: RestrictedAction) -> RestrictedRule {
        RestrictedRule {
            name: name.to_owned(),
            patterns: patterns.iter().map(|pattern| pattern.to_string()).collect(),
            action,
        }
    }

    /// `expected`: "clean", "block:RULE:WORD" or "warn:RULE,RULE".
    fn check(body: &str, expected: &str) {
        use RestrictedAction::*;
        let words = RestrictedWords::new(&[
            rule("platform-ban", &["onlyfans", "venmo me"], Block),
            rule("off-brand", &["cheap", "deal", "onlyfans link"], Warn),
            rule("pushy", &["hurry", "deal"], Warn),
            rule("slur", &["=idiot"], Block),
        ])
        .expect("rules");
        let got = match words.check(body) {
            RestrictedVerdict::Clean => "clean".to_owned(),
            RestrictedVerdict::Block(hit) => format!("block:{}:{}", hit.rule, hit.word),
            RestrictedVerdict::Warn(warnings) => {
                let rules: Vec<&str> = warnings.iter().map(|hit| hit.rule.as_str()).collect();
                format!("warn:{}", rules.join(","))
            }
        };
        assert_eq!(got, expected, "{body:?}");
    }

    #[test]
    fn verdicts() {
        check("Thanks for watching!", "clean");
        check("Find me on OnlyFans", "block:platform-ban:OnlyFans");
        check("ｖｅｎｍｏ me", "block:platform-ban:ｖｅｎｍｏ me");
        check("cheap deal, hurry", "warn:off-brand,pushy");
        check("cheap and cheaper", "warn:off-brand");
        check(
            "hurry, cheap deals, then onlyfans",
            "block:platform-ban:onlyfans",
        );
        // A warned phrase around a blocked word still blocks.
        check("my onlyfans link", "block:platform-ban:onlyfans");
        check("you idiot", "block:slur:idiot");
        check("idiots", "clean");
        check("dealt with it", "clean");
        check("cheapest", "clean");
    }

    #[test]
    fn blocking_names_the_rule() {
        let words =
            RestrictedWords::new(&[rule("platform-ban", &["onlyfans"], RestrictedAction::Block)])
                .expect("rules");
        let error = words.check("onlyfans").into_result().expect_err("blocked");
        assert!(error.to_string().contains("platform-ban"), "{error}");
        assert_eq!(words.check("hello").into_result(), Ok(Vec::new()));
    }

    #[test]
    fn actions_round_trip() {
        for action in [RestrictedAction::Block, RestrictedAction::Warn] {
            assert_eq!(RestrictedAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(RestrictedAction::parse("delete"), None);
        assert!(rule("", &["x"], RestrictedAction::Warn).validate().is_err());
    }
}
