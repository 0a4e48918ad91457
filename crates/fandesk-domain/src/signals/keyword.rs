//! Keyword rules matched on fan messages (PRODUCT.md › C5): case-insensitive after NFKC
//! folding of text and patterns, whole words only, with the word's inflections.
//!
//! Decisions, each pinned by a test below:
//! - A pattern stands for itself and its inflections: `-s`/`-es`, `-ed`, `-ing`, `-er`,
//!   `-ers`, `-ation`, `-ations`, with the spelling rules English uses for them — a final
//!   consonant after a single vowel may double (`cancelled` and `canceled`), a final `e`
//!   drops before a vowel (`disliking`), a final consonant + `y` becomes `ie`
//!   (`replies`). The suffixes are the ones that keep the word's meaning and intent.
//! - Derived words are not the word: `refundable`, `cancellable` and `noncancel` say
//!   something else ("is this refundable?" is a question, not a refund request), so they
//!   do not match, and neither does a keyword glued inside a longer word (`precancel`).
//!   A hyphen or apostrophe separates words, so `pre-cancel` and `refund's` do match.
//! - Inflection is spelling, not a dictionary: it may overgenerate on short stems (a
//!   pattern `car` would also catch `caring`). A pattern written `=car` matches only the
//!   exact word.
//! - Word families and irregular forms that spelling cannot reach are listed as extra
//!   patterns of one rule: the default `complaint` rule is `complaint` + `complain`.
//! - NFKC folds compatibility look-alikes (full-width, mathematical and circled letters,
//!   ligatures), and invisible characters inside a word are ignored. Letters from other
//!   scripts that merely look alike (Cyrillic `с`) are different letters and do not match.
//! - In scripts written without spaces (Han, kana, Thai…) there is no word boundary to
//!   check, so a pattern in those scripts matches wherever it occurs.

use super::text::{self, Folded};
use crate::error::RuleViolation;
use aho_corasick::{AhoCorasick, Anchored, Input, Match, MatchKind, StartKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;

pub const MAX_RULE_NAME_CHARS: usize = 64;
pub const MAX_PATTERNS_PER_RULE: usize = 50;
pub const MAX_PATTERN_CHARS: usize = 64;
/// Characters of context kept on each side of a match in an alert's excerpt.
pub const EXCERPT_CONTEXT_CHARS: usize = 40;
/// A pattern starting with this matches the exact word only, without inflections.
pub const EXACT_PREFIX: char = '=';

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
        KeywordRule { name: name.into(), patterns: patterns.into_iter().map(Into::into).collect() }
    }

    /// The rules a new team starts with (PRODUCT.md › C5).
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
    /// The rule's name, as the alert's `rule` (PROTOCOL.md › Alerts).
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
        let rule_names = rules.iter().map(|rule| rule.name.trim().to_owned()).collect();
        Ok(KeywordMatcher { automaton, rules_by_form, rule_names })
    }

    pub fn rule_names(&self) -> &[String] {
        &self.rule_names
    }

    /// Every whole-word hit in `text`, in text order; a word in several rules yields one
    /// match per rule.
    pub fn find_all(&self, text: &str) -> Vec<KeywordMatch> {
        let folded = Folded::new(text);
        let haystack = folded.text.as_str();
        let mut found = Vec::new();
        let mut position = 0;
        while let Some(candidate) = self.automaton.find(Input::new(haystack).range(position..)) {
            let Some(word) = self.whole_word(haystack, candidate) else {
                position = next_char(haystack, candidate.start());
                continue;
            };
            let range = folded.original_range(word.range());
            for &rule_index in &self.rules_by_form[word.pattern().as_usize()] {
                found.push(KeywordMatch {
                    rule: self.rule_names[rule_index].clone(),
                    rule_index,
                    word: text[range.clone()].to_owned(),
                    range: range.clone(),
                    excerpt: excerpt(text, range.clone()),
                });
            }
            position = word.end();
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

    /// The longest form starting at `candidate` that ends on a word boundary, if it starts
    /// on one. `refundable` contains the form `refund` but fails the right boundary, and no
    /// shorter form fits either; a multi-word pattern (`refund policy`) failing its right
    /// boundary still lets a shorter form (`refund`) match at the same place.
    fn whole_word(&self, haystack: &str, candidate: Match) -> Option<Match> {
        if !boundary_at(haystack, candidate.start()) {
            return None;
        }
        let mut current = Some(candidate);
        while let Some(found) = current {
            if boundary_at(haystack, found.end()) {
                return Some(found);
            }
            let shorter = Input::new(haystack)
                .range(found.start()..found.end() - 1)
                .anchored(Anchored::Yes);
            current = self.automaton.find(shorter);
        }
        None
    }
}

/// Whether a word may start or end at byte `offset`: not if letters of a spaced script
/// touch there.
fn boundary_at(haystack: &str, offset: usize) -> bool {
    let in_spaced_word = |character: char| text::is_word_char(character) && !text::is_unspaced(character);
    let before = haystack[..offset].chars().next_back();
    let after = haystack[offset..].chars().next();
    !matches!((before, after), (Some(before), Some(after)) if in_spaced_word(before) && in_spaced_word(after))
}

fn next_char(haystack: &str, offset: usize) -> usize {
    haystack[offset..].chars().next().map_or(haystack.len(), |character| offset + character.len_utf8())
}

/// The folded forms a pattern matches: itself and, for a word ending in a Latin letter,
/// its inflections (module docs).
fn surface_forms(pattern: &str) -> Result<Vec<String>, RuleViolation> {
    let trimmed = pattern.trim();
    let (exact, word) = match trimmed.strip_prefix(EXACT_PREFIX) {
        Some(rest) => (true, rest.trim()),
        None => (false, trimmed),
    };
    let folded = text::fold(word);
    if !folded.chars().any(text::is_word_char) {
        return Err(RuleViolation::invalid(
            "patterns",
            format!("{pattern:?} must contain a letter or digit"),
        ));
    }
    if folded.chars().count() > MAX_PATTERN_CHARS {
        return Err(RuleViolation::invalid(
            "patterns",
            format!("{pattern:?} is longer than {MAX_PATTERN_CHARS} characters"),
        ));
    }
    let last = folded.chars().next_back().unwrap_or(' ');
    let latin_letter = last.is_alphabetic() && u32::from(last) < 0x250;
    Ok(if exact || !latin_letter { vec![folded] } else { inflections(&folded) })
}

const SUFFIXES: [&str; 6] = ["ed", "ing", "er", "ers", "ation", "ations"];

fn inflections(word: &str) -> Vec<String> {
    let is_vowel = |character: char| "aeiou".contains(character);
    let letters: Vec<char> = word.chars().collect();
    let last = letters[letters.len() - 1];
    let before = letters.len().checked_sub(2).map(|index| letters[index]);
    let before_that = letters.len().checked_sub(3).map(|index| letters[index]);
    let stem = &word[..word.len() - last.len_utf8()];
    let with = |base: &str, suffix: &str| format!("{base}{suffix}");

    let mut forms = vec![word.to_owned()];
    let sibilant = ["s", "x", "z", "ch", "sh"].iter().any(|ending| word.ends_with(ending));
    forms.push(with(word, if sibilant { "es" } else { "s" }));
    if last == 'e' {
        forms.extend(["d", "r", "rs"].map(|suffix| with(word, suffix)));
        forms.extend(["ing", "ation", "ations"].map(|suffix| with(stem, suffix)));
    } else if last == 'y' && before.is_some_and(|letter| !is_vowel(letter)) {
        forms.extend(["ies", "ied"].map(|suffix| with(stem, suffix)));
        forms.push(with(word, "ing"));
    } else {
        forms.extend(SUFFIXES.map(|suffix| with(word, suffix)));
        // cancel → cancelled, ban → banned: a final consonant after a single vowel.
        let doubles = last.is_ascii_lowercase()
            && !is_vowel(last)
            && !"wxy".contains(last)
            && before.is_some_and(is_vowel)
            && !before_that.is_some_and(is_vowel);
        if doubles {
            let doubled = format!("{word}{last}");
            forms.extend(SUFFIXES.map(|suffix| with(&doubled, suffix)));
        }
    }
    forms
}

/// `range` of `text` with up to `EXCERPT_CONTEXT_CHARS` on each side, cut at a space
/// where possible, marked `…` where cut, on one line.
fn excerpt(text: &str, range: Range<usize>) -> String {
    let before = &text[..range.start];
    let mut start = before
        .char_indices()
        .rev()
        .nth(EXCERPT_CONTEXT_CHARS - 1)
        .map_or(0, |(index, _)| index);
    let cut_front = start > 0;
    let mid_word = |offset: usize| {
        !text[..offset].ends_with(char::is_whitespace) && !text[offset..].starts_with(char::is_whitespace)
    };
    if cut_front && mid_word(start) && let Some(space) = before[start..].find(char::is_whitespace) {
        start += space;
    }
    let after = &text[range.end..];
    let mut end = after.char_indices().nth(EXCERPT_CONTEXT_CHARS).map_or(text.len(), |(index, _)| range.end + index);
    let cut_back = end < text.len();
    if cut_back && mid_word(end) && let Some(space) = text[range.end..end].rfind(char::is_whitespace) {
        end = range.end + space;
    }
    let body = text[start..end].split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}{body}{}", if cut_front { "…" } else { "" }, if cut_back { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (rule, word as written) the default rules find in `text`.
    fn check(text: &str, expected: &[(&str, &str)]) {
        let matcher = KeywordMatcher::new(&KeywordRule::defaults()).expect("default rules");
        let got: Vec<(String, String)> =
            matcher.find_all(text).into_iter().map(|hit| (hit.rule, hit.word)).collect();
        let expected: Vec<(String, String)> =
            expected.iter().map(|(rule, word)| (rule.to_string(), word.to_string())).collect();
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn whole_words_and_inflections() {
        check("I want to cancel", &[("cancel", "cancel")]);
        check("CANCEL my sub", &[("cancel", "CANCEL")]);
        for word in ["cancelled", "canceled", "cancelling", "canceling", "cancellation"] {
            check(&format!("my {word} order"), &[("cancel", word)]);
        }
        check("Cancellations, cancels.", &[("cancel", "Cancellations"), ("cancel", "cancels")]);
        for word in ["refund", "refunds", "refunded", "refunding"] {
            check(&format!("{word}?"), &[("refund", word)]);
        }
        check("the Refund's status", &[("refund", "Refund")]);
        for word in ["complaint", "complaints", "complain", "complained", "complaining"] {
            check(word, &[("complaint", word)]);
        }
        check("refund, cancel, complaint", &[
            ("refund", "refund"),
            ("cancel", "cancel"),
            ("complaint", "complaint"),
        ]);
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
            matcher.find_all(text).into_iter().map(|hit| hit.rule).collect()
        };
        assert_eq!(rules_in("refunded"), ["wide", "also-refund"]);
        assert_eq!(rules_in("my car"), ["exact"]);
        assert_eq!(rules_in("cars, caring"), Vec::<String>::new());
        assert_eq!(rules_in("a Charge\n Backs case"), ["phrase"]);
        assert_eq!(rules_in("我要退款了"), ["cjk"]);
        assert_eq!(matcher.first_per_rule("refund refund").len(), 2);
    }

    #[test]
    fn multi_word_pattern_falls_back_to_shorter_form() {
        let rules = [KeywordRule::new("policy", ["refund policy"]), KeywordRule::new("refund", ["refund"])];
        let matcher = KeywordMatcher::new(&rules).expect("rules");
        let hits: Vec<_> = matcher.find_all("refund policyx").into_iter().map(|hit| hit.word).collect();
        assert_eq!(hits, ["refund"]);
        let hits: Vec<_> = matcher.find_all("refund policy").into_iter().map(|hit| hit.rule).collect();
        assert_eq!(hits, ["policy"]);
    }

    #[test]
    fn excerpts() {
        let matcher = KeywordMatcher::new(&KeywordRule::defaults()).expect("rules");
        let digits = format!("{}refund", "0123456789 ".repeat(5));
        let long = format!("{} I want a refund now {}", "word ".repeat(20), "more ".repeat(20));
        let cases = [
            ("refund", "refund"),
            ("I want a\n\nREFUND  please", "I want a REFUND please"),
            (long.as_str(), "…word word word word word word I want a refund now more more more more more more more…"),
            (&digits, "…0123456789 0123456789 0123456789 refund"),
        ];
        for (text, expected) in cases {
            let hit = matcher.find_all(text).remove(0);
            assert_eq!(hit.excerpt, expected, "{text:?}");
            assert_eq!(&text[hit.range.clone()], hit.word);
        }
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
            assert!(KeywordMatcher::new(std::slice::from_ref(&rule)).is_err(), "{rule:?}");
        }
        assert!(KeywordMatcher::new(&[]).expect("no rules").find_all("cancel").is_empty());
        for rule in KeywordRule::defaults() {
            assert_eq!(rule.validate(), Ok(()));
        }
    }

    #[test]
    fn inflection_spelling() {
        let forms = |word: &str| surface_forms(word).expect("valid");
        assert!(forms("dislike").contains(&"disliking".to_owned()));
        assert!(forms("reply").contains(&"replies".to_owned()));
        assert!(forms("ban").contains(&"banned".to_owned()));
        assert!(forms("crash").contains(&"crashes".to_owned()));
        assert!(!forms("refund").contains(&"refundded".to_owned()));
        assert!(!forms("complain").contains(&"complainned".to_owned()));
        assert_eq!(forms("=Cancel"), ["cancel"]);
    }
}
