//! VADER's valence rules (Hutto & Gilbert 2014; vaderSentiment 3.3.2) over the lexicon
//! that the `vader_sentiment` crate embeds. The crate's own analyser is not used: it
//! matches boosters as substrings of the three words before a sentiment word ("also"
//! counts as "so"), which cancels intensifiers on negative words and inflates positive
//! ones, and it pushes sentiment-free text negative for every `!` or `?`.
//!
//! This file gives the sum of word valences (negation, boosters and dampeners, ALL CAPS,
//! "but", idioms, "least", "no"); punctuation and normalisation are `sentiment`'s.

use std::collections::HashMap;
use std::sync::LazyLock;

const BOOST: f64 = 0.293;
const CAPS_BOOST: f64 = 0.733;
const NEGATION: f64 = -0.74;

/// VADER's lexicon keyed by lowercase word (the crate keys it by a case-insensitive type
/// of a crate we do not depend on). Immutable once built.
static LEXICON: LazyLock<HashMap<String, f64>> = LazyLock::new(|| {
    vader_sentiment::LEXICON
        .iter()
        .map(|(word, valence)| (word.to_lowercase(), *valence))
        .collect()
});

static BOOSTERS: LazyLock<HashMap<&'static str, f64>> = LazyLock::new(|| {
    let increments = INCREMENTS.iter().map(|word| (*word, BOOST));
    increments
        .chain(DECREMENTS.iter().map(|word| (*word, -BOOST)))
        .collect()
});

#[rustfmt::skip]
const INCREMENTS: &[&str] = &[
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably",
    "decidedly", "deeply", "effing", "enormous", "enormously", "entirely", "especially",
    "exceptional", "exceptionally", "extreme", "extremely", "fabulously", "flipping", "flippin",
    "frackin", "fracking", "fricking", "frickin", "frigging", "friggin", "fully", "fuckin",
    "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely", "incredible",
    "incredibly", "intensely", "major", "majorly", "more", "most", "particularly", "purely",
    "quite", "really", "remarkably", "so", "substantially", "thoroughly", "total", "totally",
    "tremendous", "tremendously", "uber", "unbelievably", "unusually", "utter", "utterly",
    "very",
];

#[rustfmt::skip]
const DECREMENTS: &[&str] = &[
    "almost", "barely", "hardly", "just enough", "kind of", "kinda", "kindof", "kind-of", "less",
    "little", "marginal", "marginally", "occasional", "occasionally", "partly", "scarce",
    "scarcely", "slight", "slightly", "somewhat", "sort of", "sorta", "sortof", "sort-of",
];

#[rustfmt::skip]
const NEGATIONS: &[&str] = &[
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't",
    "can't", "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent",
    "isnt", "mightnt", "mustnt", "neither", "don't", "hadn't", "hasn't", "haven't", "isn't",
    "mightn't", "mustn't", "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing",
    "nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't",
    "shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't",
    "rarely", "seldom", "despite",
];

const IDIOMS: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.1),
    ("broken heart", -2.9),
];

/// The sum of the valences of `text`'s words. `extra` adds entries to the lexicon (our
/// emoji valences), looked up by the token as written.
pub(crate) fn valence_sum(text: &str, extra: fn(&str) -> Option<f64>) -> f64 {
    let words = Words::new(text, extra);
    let mut sentiments: Vec<f64> = (0..words.len()).map(|index| words.valence(index)).collect();
    if let Some(but) = words.lower.iter().position(|word| word == "but") {
        for (index, sentiment) in sentiments.iter_mut().enumerate() {
            *sentiment *= if index < but {
                0.5
            } else if index > but {
                1.5
            } else {
                1.0
            };
        }
    }
    sentiments.iter().sum()
}

struct Words<'a> {
    raw: Vec<&'a str>,
    lower: Vec<String>,
    extra: fn(&str) -> Option<f64>,
    /// Some words are ALL CAPS and some are not: then caps are emphasis, not a caps lock.
    caps_differ: bool,
}

impl<'a> Words<'a> {
    fn new(text: &'a str, extra: fn(&str) -> Option<f64>) -> Words<'a> {
        let mut words = Words {
            raw: Vec::new(),
            lower: Vec::new(),
            extra,
            caps_differ: false,
        };
        for token in text.split_whitespace() {
            // Keep an emoticon like ":D" whole; otherwise strip the punctuation around a word.
            let stripped = token.trim_matches(|character: char| character.is_ascii_punctuation());
            let word = if words.known(token) || stripped.is_empty() {
                token
            } else {
                stripped
            };
            words.raw.push(word);
            words.lower.push(word.to_lowercase());
        }
        let caps = words.raw.iter().filter(|word| is_upper(word)).count();
        words.caps_differ = caps > 0 && caps < words.raw.len();
        words
    }

    fn len(&self) -> usize {
        self.raw.len()
    }

    fn lexicon(&self, index: usize) -> Option<f64> {
        LEXICON
            .get(&self.lower[index])
            .copied()
            .or_else(|| (self.extra)(self.raw[index]))
    }

    fn known(&self, token: &str) -> bool {
        LEXICON.contains_key(&token.to_lowercase()) || (self.extra)(token).is_some()
    }

    fn is(&self, index: usize, word: &str) -> bool {
        self.lower.get(index).is_some_and(|lower| lower == word)
    }

    fn negated(&self, index: usize) -> bool {
        let word = self.lower[index].as_str();
        NEGATIONS.contains(&word) || word.contains("n't")
    }

    /// `sentiment_valence` of vaderSentiment, with its `polarity_scores` skips.
    fn valence(&self, index: usize) -> f64 {
        let i = index;
        let next_is_of = self.is(i + 1, "of");
        if BOOSTERS.contains_key(self.lower[i].as_str()) || (self.is(i, "kind") && next_is_of) {
            return 0.0;
        }
        let Some(base) = self.lexicon(i) else {
            return 0.0;
        };
        let mut valence = base;
        // "no" before another sentiment word is a negation, not a sentiment of its own.
        if self.is(i, "no") && i + 1 < self.len() && self.lexicon(i + 1).is_some() {
            valence = 0.0;
        }
        if (i > 0 && self.is(i - 1, "no"))
            || (i > 1 && self.is(i - 2, "no"))
            || (i > 2 && self.is(i - 3, "no") && (self.is(i - 1, "or") || self.is(i - 1, "nor")))
        {
            valence = base * NEGATION;
        }
        if is_upper(self.raw[i]) && self.caps_differ {
            valence += if valence > 0.0 {
                CAPS_BOOST
            } else {
                -CAPS_BOOST
            };
        }
        for distance in 1..=3 {
            if i < distance || self.lexicon(i - distance).is_some() {
                continue;
            }
            let damping = [1.0, 0.95, 0.9][distance - 1];
            valence += self.booster(i - distance, valence) * damping;
            valence = self.negation_check(valence, distance, i);
            if distance == 3 {
                valence = self.idioms_check(valence, i);
            }
        }
        self.least_check(valence, i)
    }

    fn booster(&self, index: usize, valence: f64) -> f64 {
        let Some(&scalar) = BOOSTERS.get(self.lower[index].as_str()) else {
            return 0.0;
        };
        let mut scalar = if valence < 0.0 { -scalar } else { scalar };
        if is_upper(self.raw[index]) && self.caps_differ {
            scalar += if valence > 0.0 {
                CAPS_BOOST
            } else {
                -CAPS_BOOST
            };
        }
        scalar
    }

    fn negation_check(&self, valence: f64, distance: usize, i: usize) -> f64 {
        let so_or_this = |index: usize| self.is(index, "so") || self.is(index, "this");
        match distance {
            1 if self.negated(i - 1) => valence * NEGATION,
            2 if self.is(i - 2, "never") && so_or_this(i - 1) => valence * 1.25,
            2 if self.is(i - 2, "without") && self.is(i - 1, "doubt") => valence,
            2 if self.negated(i - 2) => valence * NEGATION,
            // vaderSentiment's own precedence: "never so/this …" or "so/this" right before.
            3 if (self.is(i - 3, "never") && so_or_this(i - 2)) || so_or_this(i - 1) => {
                valence * 1.25
            }
            3 if self.is(i - 3, "without")
                && (self.is(i - 2, "doubt") || self.is(i - 1, "doubt")) =>
            {
                valence
            }
            3 if self.negated(i - 3) => valence * NEGATION,
            _ => valence,
        }
    }

    fn idioms_check(&self, mut valence: f64, i: usize) -> f64 {
        let phrase = |from: usize, to: usize| -> Option<String> {
            (to < self.len()).then(|| self.lower[from..=to].join(" "))
        };
        let candidates = [
            phrase(i - 1, i),
            phrase(i - 2, i),
            phrase(i - 2, i - 1),
            phrase(i - 3, i - 1),
            phrase(i - 3, i - 2),
            phrase(i, i + 1),
            phrase(i, i + 2),
        ];
        let idiom = |text: &Option<String>| {
            let text = text.as_deref()?;
            IDIOMS
                .iter()
                .find(|(idiom, _)| *idiom == text)
                .map(|(_, value)| *value)
        };
        // The first idiom ending at the word, then idioms starting at it, which win.
        let before = candidates[..5].iter().find_map(idiom);
        for value in [before, idiom(&candidates[5]), idiom(&candidates[6])]
            .into_iter()
            .flatten()
        {
            valence = value;
        }
        for text in [&candidates[3], &candidates[4], &candidates[2]]
            .into_iter()
            .flatten()
        {
            valence += BOOSTERS.get(text.as_str()).copied().unwrap_or(0.0);
        }
        valence
    }

    fn least_check(&self, valence: f64, i: usize) -> f64 {
        let after_least = i > 0 && self.is(i - 1, "least") && self.lexicon(i - 1).is_none();
        let at_or_very_least = i > 1 && (self.is(i - 2, "at") || self.is(i - 2, "very"));
        if after_least && !at_or_very_least {
            valence * NEGATION
        } else {
            valence
        }
    }
}

/// Python's `str.isupper`: has cased letters, and none of them is lowercase.
fn is_upper(word: &str) -> bool {
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> f64 {
        let sum = valence_sum(text, |_| None);
        sum / (sum * sum + 15.0).sqrt()
    }

    /// vaderSentiment's published examples (its README) without `!`/`?` emphasis, which
    /// `sentiment` adds: the compound score to three decimals.
    fn check(text: &str, expected: f64) {
        let got = normalized(text);
        assert!(
            (got - expected).abs() < 0.0005,
            "{text:?}: {got} ≠ {expected}"
        );
    }

    #[test]
    fn published_examples() {
        check("VADER is smart, handsome, and funny.", 0.8316);
        check("VADER is very smart, handsome, and funny.", 0.8545);
        check("VADER is VERY SMART, handsome, and FUNNY.", 0.9227);
        check("VADER is not smart, handsome, nor funny.", -0.7424);
        check("The book was good.", 0.4404);
        check("At least it isn't a horrible book.", 0.431);
        check("The book was only kind of good.", 0.3832);
        check(
            "The plot was good, but the characters are uncompelling and the dialog is not great.",
            -0.7042,
        );
        check("Not bad at all", 0.431);
        check("", 0.0);
    }

    #[test]
    fn intensifiers_work_on_negative_words_too() {
        assert!(normalized("this is really bad") < normalized("this is bad"));
        assert!(
            normalized("also bad") == normalized("bad"),
            "boosters are whole words"
        );
        assert!(valence_sum("so 🙂", |token| (token == "🙂").then_some(1.0)) > 1.0);
    }
}
