//! Sentiment of fan messages (docs/product.md › Signals): a score in −1…1 per message from
//! the VADER lexicon (negation, intensifiers, ALL CAPS, `!`), made emoji-aware, and a
//! rolling score per conversation that raises `negative_sentiment` when it turns negative.
//! Team-only data.
//!
//! How a message is scored:
//! 1. NFKC (so full-width `ＧＲＥＡＴ` reads `GREAT`, case kept for ALL CAPS) and typographic
//!    apostrophes made ASCII (so `don’t` negates like `don't`).
//! 2. Emoji in `EMOJI_VALENCE` become words of their own with our valence, so negation,
//!    boosters and "but" apply to them as to words. Other emoji are replaced by their
//!    English names from the crate's emoji table, as VADER does. Our table exists because
//!    the names misfire in fan chat: 🔥 reads "fire" (negative), and 😡, 👍, ❤️ read as
//!    nothing at all.
//! 3. VADER's rules sum the words' valences (`vader`).
//! 4. `!` and `?` push the sum further in its own direction, as VADER defines: each `!` up
//!    to four adds 0.292; two or three `?` add 0.18 each, more add 0.96. A sum of zero
//!    stays zero, so "see you tomorrow!!!" is neutral.
//! 5. The sum is normalised into −1…1 as VADER does: `sum / √(sum² + 15)`.

use super::{text, vader};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Scores closer to zero than this carry no sentiment (VADER's convention).
pub const NEUTRAL_BAND: f64 = 0.05;

/// VADER's normalisation constant.
const ALPHA: f64 = 15.0;
const EXCLAMATION_BOOST: f64 = 0.292;
const MAX_EXCLAMATIONS: usize = 4;
const QUESTION_BOOST: f64 = 0.18;
const MAX_QUESTION_BOOST: f64 = 0.96;

/// Valences on VADER's −4…4 scale for the emoji that carry mood in fan chat. 🔥 and 💯 are
/// praise; 😭 and 💀 are as often overwhelmed delight as distress, so they weigh little.
const EMOJI_VALENCE: &[(char, f64)] = &[
    ('😡', -2.5),
    ('🤬', -3.0),
    ('😠', -2.3),
    ('😤', -1.5),
    ('😢', -2.0),
    ('😞', -2.0),
    ('😔', -1.5),
    ('😩', -1.5),
    ('😫', -1.5),
    ('😒', -1.5),
    ('🙄', -1.5),
    ('🤮', -2.5),
    ('💔', -2.5),
    ('👎', -2.0),
    ('😭', -0.5),
    ('💀', 0.0),
    ('❤', 2.5),
    ('💕', 2.5),
    ('💖', 2.5),
    ('💜', 2.0),
    ('💙', 2.0),
    ('💚', 2.0),
    ('💛', 2.0),
    ('🧡', 2.0),
    ('😍', 3.0),
    ('🥰', 3.0),
    ('🤩', 3.0),
    ('😘', 2.0),
    ('😊', 2.0),
    ('☺', 2.0),
    ('🙂', 1.0),
    ('😀', 2.0),
    ('😁', 2.0),
    ('😂', 1.5),
    ('👍', 2.0),
    ('👏', 2.0),
    ('🙏', 1.5),
    ('🔥', 2.0),
    ('💯', 2.0),
    ('🎉', 2.5),
    ('✨', 1.0),
];

/// The sentiment of one fan message, in −1…1.
pub fn message_score(text: &str) -> f64 {
    let mut words = String::with_capacity(text.len());
    let (mut exclamations, mut questions) = (0, 0);
    let mut buffer = [0; 4];
    for character in text.nfkc() {
        match character {
            '!' => {
                exclamations += 1;
                words.push(' ');
            }
            '?' => {
                questions += 1;
                words.push(' ');
            }
            '\u{2018}' | '\u{2019}' => words.push('\''),
            // Skin tones and joiners only decorate an emoji.
            '\u{1F3FB}'..='\u{1F3FF}' => {}
            joiner if text::is_emoji_joiner(joiner) => {}
            emoji if emoji_valence(emoji).is_some() => {
                words.extend([' ', emoji, ' ']);
            }
            other => {
                match vader_sentiment::EMOJI_LEXICON.get(other.encode_utf8(&mut buffer) as &str) {
                    Some(name) => {
                        words.push(' ');
                        words.push_str(name);
                        words.push(' ');
                    }
                    None => words.push(other),
                }
            }
        }
    }
    let mut sum = vader::valence_sum(&words, emoji_token_valence);
    let emphasis = punctuation_emphasis(exclamations, questions);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    if !sum.is_finite() {
        return 0.0;
    }
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

fn emoji_valence(character: char) -> Option<f64> {
    EMOJI_VALENCE
        .iter()
        .find(|(emoji, _)| *emoji == character)
        .map(|(_, valence)| *valence)
}

fn emoji_token_valence(token: &str) -> Option<f64> {
    let mut characters = token.chars();
    match (characters.next(), characters.next()) {
        (Some(character), None) => emoji_valence(character),
        _ => None,
    }
}

fn punctuation_emphasis(exclamations: usize, questions: usize) -> f64 {
    let exclamation = exclamations.min(MAX_EXCLAMATIONS) as f64 * EXCLAMATION_BOOST;
    let question = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * QUESTION_BOOST,
        _ => MAX_QUESTION_BOOST,
    };
    exclamation + question
}

/// When a conversation counts as having turned negative.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TurnRule {
    /// Weight of the newest message in the rolling score (an exponentially weighted mean):
    /// at 0.5 the last message counts half, the one before a quarter, and so on, so one
    /// sour message in a friendly conversation does not flip it but two or three do.
    pub weight: f64,
    /// The rolling score crossing below this turns the conversation negative. −0.35 sits
    /// below a single mild complaint ("not good" ≈ −0.34) and above plain anger
    /// ("this is terrible" ≈ −0.48).
    pub threshold: f64,
    /// Once negative, the conversation must climb above this before it can turn negative
    /// again, so a score wobbling around the threshold does not raise an alert each time.
    pub recover_above: f64,
    /// Messages with sentiment needed before any alert; 1 lets an angry opening message
    /// alert at once — a conversation is presumed neutral before the fan's first word.
    pub min_messages: u32,
}

impl TurnRule {
    pub const DEFAULT: TurnRule = TurnRule {
        weight: 0.5,
        threshold: -0.35,
        recover_above: -0.1,
        min_messages: 1,
    };
}

impl Default for TurnRule {
    fn default() -> TurnRule {
        TurnRule::DEFAULT
    }
}

/// A conversation's rolling sentiment over the fan's messages; the service stores it with
/// the conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RollingSentiment {
    /// The exponentially weighted mean of the scores so far (0 before any).
    pub score: f64,
    /// Fan messages that carried sentiment.
    pub messages: u32,
    /// Turned negative and not yet recovered.
    pub negative: bool,
}

impl RollingSentiment {
    /// Folds in one fan message's score; true exactly when the conversation has just
    /// turned negative (raise `negative_sentiment`). Neutral messages ("order #123",
    /// "see you at 8") leave the score alone: giving an order number does not make a fan
    /// less upset.
    pub fn observe(&mut self, message_score: f64, rule: &TurnRule) -> bool {
        if !message_score.is_finite() || message_score.abs() < NEUTRAL_BAND {
            return false;
        }
        self.score = if self.messages == 0 {
            message_score
        } else {
            rule.weight * message_score + (1.0 - rule.weight) * self.score
        };
        self.messages = self.messages.saturating_add(1);
        if self.negative {
            self.negative = self.score <= rule.recover_above;
            return false;
        }
        self.negative = self.score < rule.threshold && self.messages >= rule.min_messages;
        self.negative
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Polarity {
        Positive,
        Neutral,
        Negative,
    }

    fn check(text: &str, expected: Polarity) {
        let score = message_score(text);
        let got = if score > NEUTRAL_BAND {
            Polarity::Positive
        } else if score < -NEUTRAL_BAND {
            Polarity::Negative
        } else {
            Polarity::Neutral
        };
        assert_eq!(got, expected, "{text:?} scored {score}");
        assert!((-1.0..=1.0).contains(&score), "{text:?} scored {score}");
    }

    #[test]
    fn message_scores() {
        use Polarity::*;
        let cases = [
            ("good", Positive),
            ("I love this stream", Positive),
            ("thank you so much!!!", Positive),
            ("not bad at all", Positive),
            ("ＧＲＥＡＴ show", Positive),
            ("this is terrible", Negative),
            ("not good", Negative),
            ("I don’t like it", Negative),
            ("I want a refund, this is the worst", Negative),
            ("see you tomorrow!!!", Neutral),
            ("can I get a refund?", Neutral),
            ("what time is the stream??", Neutral),
            ("order #12345", Neutral),
            ("", Neutral),
            // Emoji alone, and the ones VADER's names get wrong (module docs).
            ("😡", Negative),
            ("💔", Negative),
            ("👎", Negative),
            ("😍", Positive),
            ("❤️", Positive),
            ("👍🏽", Positive),
            ("🔥🔥🔥", Positive),
            ("worst stream ever 😡", Negative),
            ("love it ❤️", Positive),
            ("not 👍", Negative),
            ("great show but 👎", Negative),
            ("😀", Positive),
            ("😱", Negative),
        ];
        for (text, expected) in cases {
            check(text, expected);
        }
    }

    #[test]
    fn published_examples_with_punctuation() {
        // vaderSentiment's README values: our `!` handling matches VADER's.
        let cases = [
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            (
                "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
                0.9469,
            ),
            ("Today SUX!", -0.5461),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
        ];
        for (text, expected) in cases {
            let score = message_score(text);
            assert!(
                (score - expected).abs() < 0.0005,
                "{text:?}: {score} ≠ {expected}"
            );
        }
    }

    #[test]
    fn emphasis_makes_scores_stronger() {
        let pairs = [
            ("very good", "good"),
            ("this is GREAT", "this is great"),
            ("I HATE this", "I hate this"),
            ("good!!!", "good"),
            ("awful!!", "awful"),
            ("this is really bad", "this is bad"),
            ("😡😡😡", "😡"),
        ];
        for (stronger, weaker) in pairs {
            let (strong, weak) = (message_score(stronger), message_score(weaker));
            assert!(
                strong.abs() > weak.abs(),
                "{stronger:?} {strong} vs {weaker:?} {weak}"
            );
            assert_eq!(strong.signum(), weak.signum(), "{stronger:?} vs {weaker:?}");
        }
    }

    /// Feeds `scores` in order; `expected[i]`: whether message `i` turned it negative.
    fn check_turns(rule: TurnRule, scores: &[f64], expected: &[bool]) {
        let mut rolling = RollingSentiment::default();
        let got: Vec<bool> = scores
            .iter()
            .map(|score| rolling.observe(*score, &rule))
            .collect();
        assert_eq!(got, expected, "{scores:?} → {rolling:?}");
    }

    #[test]
    fn turning_negative() {
        let rule = TurnRule::DEFAULT;
        // A friendly conversation going sour alerts once it has clearly turned.
        check_turns(
            rule,
            &[0.6, 0.5, -0.5, -0.6, -0.6],
            &[false, false, false, false, true],
        );
        // One sour message in a friendly conversation does not.
        check_turns(rule, &[0.6, -0.6], &[false, false]);
        // An angry opening message alerts at once; a mild one does not.
        check_turns(rule, &[-0.5], &[true]);
        check_turns(rule, &[message_score("not good")], &[false]);
        // Neutral messages neither dilute nor repeat the alert.
        check_turns(rule, &[-0.5, 0.0, 0.01, -0.5], &[true, false, false, false]);
        // Wobbling below the recovery line stays one alert; recovering re-arms it.
        check_turns(
            rule,
            &[-0.5, -0.3, -0.2, -0.5],
            &[true, false, false, false],
        );
        check_turns(rule, &[-0.5, 0.5, -0.8], &[true, false, true]);
        // A rule may wait for more evidence.
        let patient = TurnRule {
            min_messages: 3,
            ..TurnRule::DEFAULT
        };
        check_turns(patient, &[-0.6, -0.6, -0.6], &[false, false, true]);
        check_turns(rule, &[f64::NAN, -0.5], &[false, true]);
    }
}
