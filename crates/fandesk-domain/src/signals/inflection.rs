//! The surface forms of a keyword pattern (docs/product.md › Signals: "whole words
//! only, with inflections"): the folded word and the inflections that keep its meaning.
//!
//! The suffixes: `-s`/`-es`, `-ed`, `-ing`, `-er`, `-ers`, `-ation`, `-ations`, spelled the
//! way English spells them — a final consonant after a single vowel may double (both
//! `cancelled` and `canceled`), a final `e` drops before a vowel (`disliking`), a final
//! consonant + `y` becomes `ie` (`replies`). Derivational suffixes that change what the
//! word says (`-able`, `-less`, `non-`, `pre-`) are not generated, so `refundable` is not
//! `refund`. This is spelling, not a dictionary: on short stems it can overgenerate (`car`
//! → `caring`), which `=car` (exact word only) avoids; irregular forms (`dealt`) are
//! listed as patterns of their own.

use super::text;
use crate::error::RuleViolation;

pub const MAX_PATTERN_CHARS: usize = 64;
/// A pattern starting with this matches the exact word only, without inflections.
pub const EXACT_PREFIX: char = '=';

/// The folded forms a pattern matches: itself and, for a word ending in a Latin letter,
/// its inflections (module docs). Multi-word patterns inflect their last word.
pub(crate) fn surface_forms(pattern: &str) -> Result<Vec<String>, RuleViolation> {
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
    Ok(if exact || !latin_letter {
        vec![folded]
    } else {
        inflections(&folded)
    })
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
    if last == 'e' {
        forms.extend(["s", "d", "r", "rs"].map(|suffix| with(word, suffix)));
        forms.extend(["ing", "ation", "ations"].map(|suffix| with(stem, suffix)));
    } else if last == 'y' && before.is_some_and(|letter| !is_vowel(letter)) {
        forms.extend(["ies", "ied"].map(|suffix| with(stem, suffix)));
        forms.push(with(word, "ing"));
    } else {
        let sibilant = ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|ending| word.ends_with(ending));
        forms.push(with(word, if sibilant { "es" } else { "s" }));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `includes` are among the forms of `pattern`, `excludes` are not.
    fn check(pattern: &str, includes: &[&str], excludes: &[&str]) {
        let forms = surface_forms(pattern).expect("valid pattern");
        for form in includes {
            assert!(
                forms.contains(&form.to_string()),
                "{pattern:?} lacks {form:?}: {forms:?}"
            );
        }
        for form in excludes {
            assert!(
                !forms.contains(&form.to_string()),
                "{pattern:?} has {form:?}: {forms:?}"
            );
        }
    }

    #[test]
    fn spelling() {
        check(
            "cancel",
            &[
                "cancel",
                "cancels",
                "canceled",
                "cancelled",
                "cancelling",
                "cancellation",
                "cancellations",
            ],
            &["cancelable", "cancellable", "cancelles"],
        );
        check(
            "refund",
            &["refunds", "refunded", "refunding"],
            &["refundded", "refundable"],
        );
        check(
            "complain",
            &["complains", "complained", "complaining"],
            &["complainned"],
        );
        check(
            "dislike",
            &["dislikes", "disliked", "disliking"],
            &["dislikeing"],
        );
        check("reply", &["replies", "replied", "replying"], &["replys"]);
        check("ban", &["banned", "banning", "bans"], &[]);
        check("crash", &["crashes", "crashed"], &["crashs"]);
        check(
            "Charge Back",
            &["charge backs", "charge backed"],
            &["charges back"],
        );
        check("=Cancel", &["cancel"], &["cancels"]);
        check("退款", &["退款"], &["退款s"]);
        check("café", &["cafés"], &[]);
    }

    #[test]
    fn invalid_patterns() {
        for pattern in ["", "  ", "=", "!!!", &"y".repeat(65)] {
            assert!(surface_forms(pattern).is_err(), "{pattern:?}");
        }
    }
}
