//! Keyword rules matched on fan messages (docs/product.md › Signals): case-insensitive
//! after NFKC folding of text and patterns, whole words only, with the word's inflections.
//!
//! Decisions, each pinned by a test below:
//! - A pattern stands for itself and its inflections (`cancels`, `cancelled`,
//!   `cancelling`, `cancellation`; see `inflection` for the suffixes and spelling rules).
//! - Derived words are not the word: `refundable`, `cancellable` and `noncancel` say
//!   something else ("is this refundable?" is a question, not a refund request), so they
//!   do not match, and neither does a keyword glued inside a longer word (`precancel`).
//!   A hyphen or apostrophe separates words, so `pre-cancel` and `refund's` do match.
//! - A pattern written `=car` matches only the exact word, for short stems where
//!   inflection by spelling overgenerates (`car` → `caring`).
//! - Word families and irregular forms that spelling cannot reach are listed as extra
//!   patterns of one rule: the default `complaint` rule is `complaint` + `complain`.
//! - NFKC folds compatibility look-alikes (full-width, mathematical and circled letters,
//!   ligatures), and invisible characters inside a word are ignored. Letters from other
//!   scripts that merely look alike (Cyrillic `с`) are different letters and do not match.
//! - In scripts written without spaces (Han, kana, Thai…) there is no word boundary to
//!   check, so a pattern in those scripts matches wherever it occurs.

use super::excerpt::excerpt;
use super::inflection::surface_forms;
use super::text::{self, Folded};
use crate::error::RuleViolation;
use aho_corasick::{AhoCorasick, Anchored, Input, Match, MatchKind, StartKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;

pub const MAX_RULE_NAME_CHARS: usize = 64;
pub const MAX_PATTERNS_PER_RULE: usize = 50;

/// A named set of pattern words; any of them raises the rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRule {
    pub name: String,
    pub patterns: Vec<String>,
}

impl KeywordRule {
    pub fn new<P: Into<String>>(
        name: impl Into<String>,
        patterns: impl IntoIterator<Item = P>,
    ) -> KeywordRule {
        KeywordRule {
            name: name.into(),
            patterns: patterns.into_iter().map(Into::into).collect(),
        }
    }

    /// The rules a new team starts with (docs/product.md › Signals).
    pub fn defaults() -> Vec<KeywordRule> {
        vec![
            KeywordRule::new("cancel", ["cancel"]),
            KeywordRule::new("refund", ["refund"]),
            KeywordRule::new("complaint", ["complaint", "complain"]),
        ]
    }

    /// Limits for rules edited through the API.
    pub fn validate(&self) -> Result<(), RuleViolation> {
        let name_chars = self.name.trim().chars().count();
        if name_chars == 0 || name_chars > MAX_RULE_NAME_CHARS {
            return Err(RuleViolation::invalid(
                "name",
                format!("must be 1 to {MAX_RULE_NAME_CHARS} characters"),
            ));
        }
        if self.patterns.is_empty() || self.patterns.len() > MAX_PATTERNS_PER_RULE {
            return Err(RuleViolation::invalid(
                "patterns",
                format!("must list 1 to {MAX_PATTERNS_PER_RULE} words"),
            ));
        }
        for pattern in &self.patterns {
            surface_forms(pattern)?;
        }
        Ok(())
    }
}

/// One rule hit in a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordMatch {
    /// The rule's name, as the alert's `rule` (docs/api.md › Alerts).
    pub rule: String,
    /// The rule's position in the list the matcher was built from.
    pub rule_index: usize,
    /// The word as the fan wrote it.
    pub word: String,
    /// Byte range of `word` in the message.
    pub range: Range<usize>,
    /// The word with some context, on one line, for the alert's `excerpt`.
    pub excerpt: String,
}

/// All rules compiled into one automaton over every surface form of every pattern.
#[derive(Clone, Debug)]
pub struct KeywordMatcher {
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules it belongs to (a form may be in several).
    rules_by_form: Vec<Vec<usize>>,
    rule_names: Vec<String>,
}

impl KeywordMatcher {
    pub fn new(rules: &[KeywordRule]) -> Result<KeywordMatcher, RuleViolation> {
        let mut forms: Vec<String> = Vec::new();
        let mut rules_by_form: Vec<Vec<usize>> = Vec::new();
        let mut form_index: HashMap<String, usize> = HashMap::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            rule.validate()?;
            for pattern in &rule.patterns {
                for form in surface_forms(pattern)? {
                    let index = *form_index.entry(form.clone()).or_insert_with(|| {
                        forms.push(form);
                        rules_by_form.push(Vec::new());
                        forms.len() - 1
                    });
                    if !rules_by_form[index].contains(&rule_index) {
                        rules_by_form[index].push(rule_index);
                    }
                }
            }
        }
        // LeftmostLongest so `cancellations` is found whole rather than as `cancel`;
        // anchored starts too, to retry shorter forms at the same place (see `whole_word`).
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Both)
            .build(&forms)
            .map_err(|error| RuleViolation::invalid("patterns", error.to_string()))?;
        let rule_names = rules
            .iter()
            .map(|rule| rule.name.trim().to_owned())
            .collect();
        Ok(KeywordMatcher {
            automaton,
            rules_by_form,
            rule_names,
        })
    }

    pub fn rule_names(&self) -> &[String] {
        &self.rule_names
    }

    /// Every whole-word hit in `text`, in text order; a word in several rules, or words
    /// of different lengths starting at the same place (`refund policy`, `refund`), yield
    /// one match per rule.
    pub fn find_all(&self, text: &str) -> Vec<KeywordMatch> {
        let folded = Folded::new(text);
        let haystack = folded.text.as_str();
        let mut found = Vec::new();
        let mut position = 0;
        while let Some(candidate) = self.automaton.find(Input::new(haystack).range(position..)) {
            let words = self.whole_words(haystack, candidate);
            let Some(longest) = words.first() else {
                position = next_char(haystack, candidate.start());
                continue;
            };
            position = longest.end();
            // A rule hit by a longer form here is not hit again by a shorter one.
            let start_of_word = found.len();
            for word in &words {
                let range = folded.original_range(word.range());
                for &rule_index in &self.rules_by_form[word.pattern().as_usize()] {
                    if found[start_of_word..]
                        .iter()
                        .any(|hit: &KeywordMatch| hit.rule_index == rule_index)
                    {
                        continue;
                    }
                    found.push(KeywordMatch {
                        rule: self.rule_names[rule_index].clone(),
                        rule_index,
                        word: text[range.clone()].to_owned(),
                        range: range.clone(),
                        excerpt: excerpt(text, range.clone()),
                    });
                }
            }
        }
        found
    }

    /// The first hit of each rule, in text order: what the alerts are raised from.
    pub fn first_per_rule(&self, text: &str) -> Vec<KeywordMatch> {
        let mut seen = vec![false; self.rule_names.len()];
        let mut first = self.find_all(text);
        first.retain(|hit| !std::mem::replace(&mut seen[hit.rule_index], true));
        first
    }

    /// The forms starting at `candidate` that end on a word boundary, longest first, if
    /// it starts on one. `refundable` contains the form `refund` but fails the right
    /// boundary, and no shorter form fits either. At `refund policy` both the multi-word
    /// pattern and `refund` are whole words, and both rules are hit; and when the
    /// longer one fails its right boundary (`refund policyx`), `refund` still matches.
    fn whole_words(&self, haystack: &str, candidate: Match) -> Vec<Match> {
        let mut words = Vec::new();
        if !boundary_at(haystack, candidate.start()) {
            return words;
        }
        let mut current = Some(candidate);
        while let Some(found) = current {
            if boundary_at(haystack, found.end()) {
                words.push(found);
            }
            let shorter = Input::new(haystack)
                .range(found.start()..found.end() - 1)
                .anchored(Anchored::Yes);
            current = self.automaton.find(shorter);
        }
        words
    }
}

/// Whether a word may start or end at byte `offset`: not if letters of a spaced script
/// touch there.
fn boundary_at(haystack: &str, offset: usize) -> bool {
    let in_spaced_word =
        |character: char| text::is_word_char(character) && !text::is_unspaced(character);
    let before = haystack[..offset].chars().next_back();
    let after = haystack[offset..].chars().next();
    match (before, after) {
        (Some(before), Some(after)) => !(in_spaced_word(before) && in_spaced_word(after)),
        _ => true,
    }
}

fn next_char(haystack: &str, offset: usize) -> usize {
    haystack[offset..]
        .chars()
        .next()
        .map_or(haystack.len(), |character| offset + character.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (rule, word as written) the default rules find in `text`.
    fn check(text: &str, expected: &[(&str, &str)]) {
        let matcher = KeywordMatcher::new(&KeywordRule::defaults()).expect("default rules");
        let got: Vec<(String, String)> = matcher
            .find_all(text)
            .into_iter()
            .map(|hit| (hit.rule, hit.word))
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(rule, word)| (rule.to_string(), word.to_string()))
            .collect();
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn whole_words_and_inflections() {
        check("I want to cancel", &[("cancel", "cancel")]);
        check("CANCEL my sub", &[("cancel", "CANCEL")]);
        for word in [
            "cancelled",
            "canceled",
            "cancelling",
            "canceling",
            "cancellation",
        ] {
            check(&format!("my {word} order"), &[("cancel", word)]);
        }
        check(
            "Cancellations, cancels.",
            &[("cancel", "Cancellations"), ("cancel", "cancels")],
        );
        for word in ["refund", "refunds", "refunded", "refunding"] {
            check(&format!("{word}?"), &[("refund", word)]);
        }
        check("the Refund's status", &[("refund", "Refund")]);
        for word in [
            "complaint",
            "complaints",
            "complain",
            "complained",
            "complaining",
        ] {
            check(word, &[("complaint", word)]);
        }
        check(
            "refund, cancel, complaint",
            &[
                ("refund", "refund"),
                ("cancel", "cancel"),
                ("complaint", "complaint"),
            ],
        );
    }

    #[test]
    fn words_that_merely_contain_a_keyword() {
        for text in [
            "is this refundable?",
            "a nonrefundable deposit",
            "cancellable anytime",
            "noncancel clause",
            "precancel stamps",
            "refunder2",
            "uncomplaining fans",
            "cancel2",
        ] {
            check(text, &[]);
        }
        check("pre-cancel now", &[("cancel", "cancel")]);
        check("(refund)", &[("refund", "refund")]);
        check("refund_request", &[("refund", "refund")]);
    }

    #[test]
    fn unicode_look_alikes() {
        check("ＣＡＮＣＥＬ", &[("cancel", "ＣＡＮＣＥＬ")]);
        check("ｒｅｆｕｎｄｓ please", &[("refund", "ｒｅｆｕｎｄｓ")]);
        check("𝐂𝐨𝐦𝐩𝐥𝐚𝐢𝐧𝐭!", &[("complaint", "𝐂𝐨𝐦𝐩𝐥𝐚𝐢𝐧𝐭")]);
        check("ⓡⓔⓕⓤⓝⓓ", &[("refund", "ⓡⓔⓕⓤⓝⓓ")]);
        check("can\u{AD}cel it", &[("cancel", "can\u{AD}cel")]);
        check("re\u{200B}fund", &[("refund", "re\u{200B}fund")]);
        // Other scripts' look-alike letters are different letters (module docs).
        check("саncel", &[]);
        check("refünd", &[]);
    }

    #[test]
    fn patterns_are_folded_too() {
        let rules = [
            KeywordRule::new("wide", ["ＲＥＦＵＮＤ"]),
            KeywordRule::new("exact", ["=car"]),
            KeywordRule::new("phrase", ["charge back"]),
            KeywordRule::new("cjk", ["退款"]),
            KeywordRule::new("also-refund", ["refund"]),
        ];
        let matcher = KeywordMatcher::new(&rules).expect("rules");
        let rules_in = |text: &str| -> Vec<String> {
            matcher
                .find_all(text)
                .into_iter()
                .map(|hit| hit.rule)
                .collect()
        };
        assert_eq!(rules_in("refunded"), ["wide", "also-refund"]);
        assert_eq!(rules_in("my car"), ["exact"]);
        assert_eq!(rules_in("cars, caring"), Vec::<String>::new());
        assert_eq!(rules_in("a Charge\n Backs case"), ["phrase"]);
        assert_eq!(rules_in("我要退款了"), ["cjk"]);
        assert_eq!(matcher.first_per_rule("refund refund").len(), 2);
        let hit = matcher.find_all("so…\nＲＥＦＵＮＤ me").remove(0);
        assert_eq!((hit.word.as_str(), hit.range), ("ＲＥＦＵＮＤ", 6..24));
        assert_eq!(hit.excerpt, "so… ＲＥＦＵＮＤ me");
    }

    #[test]
    fn nested_patterns_hit_every_rule() {
        let rules = [
            KeywordRule::new("policy", ["refund policy"]),
            KeywordRule::new("refund", ["refund", "refund policies"]),
        ];
        let matcher = KeywordMatcher::new(&rules).expect("rules");
        let hits = |text: &str| -> Vec<(String, String)> {
            let hits = matcher.find_all(text).into_iter();
            hits.map(|hit| (hit.rule, hit.word)).collect()
        };
        let pair = |rule: &str, word: &str| (rule.to_owned(), word.to_owned());
        assert_eq!(hits("refund policyx"), [pair("refund", "refund")]);
        assert_eq!(
            hits("Refund Policy?"),
            [pair("policy", "Refund Policy"), pair("refund", "Refund")]
        );
        // One hit per rule at one place, the longest; rules in their order.
        assert_eq!(
            hits("refund policies"),
            [
                pair("policy", "refund policies"),
                pair("refund", "refund policies")
            ]
        );
    }

    #[test]
    fn rule_validation() {
        let invalid = [
            KeywordRule::new("", ["cancel"]),
            KeywordRule::new("x".repeat(65), ["cancel"]),
            KeywordRule::new("empty", Vec::<String>::new()),
            KeywordRule::new("blank", ["  "]),
            KeywordRule::new("symbols", ["!!!"]),
            KeywordRule::new("long", ["y".repeat(65)]),
        ];
        for rule in invalid {
            assert!(rule.validate().is_err(), "{rule:?}");
            assert!(
                KeywordMatcher::new(std::slice::from_ref(&rule)).is_err(),
                "{rule:?}"
            );
        }
        assert!(
            KeywordMatcher::new(&[])
                .expect("no rules")
                .find_all("cancel")
                .is_empty()
        );
        for rule in KeywordRule::defaults() {
            assert_eq!(rule.validate(), Ok(()));
        }
    }
}
