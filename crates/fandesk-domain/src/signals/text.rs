//! How the signals read text: NFKC + lowercase folding that remembers where each folded
//! byte came from, and which characters make up words (docs/product.md › Signals).

use std::ops::Range;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};

/// Text folded for matching (NFKC, lowercase, invisible format characters dropped, runs
/// of whitespace made one space), with a way back to the original so alerts can quote
/// what the fan actually typed.
#[derive(Clone, Debug)]
pub(crate) struct Folded {
    pub(crate) text: String,
    /// Sorted by `folded`: where each folded segment starts and which original bytes it
    /// came from.
    segments: Vec<Segment>,
}

#[derive(Clone, Debug)]
struct Segment {
    folded: usize,
    original: Range<usize>,
}

impl Folded {
    /// Folds `original` one segment at a time — a starter and the combining marks after it
    /// — so every folded byte maps back to whole original characters. Segments are
    /// normalised independently: the same as NFKC of the whole string except for the rare
    /// compositions of two starters, of which the Hangul jamo (by far the most common) are
    /// kept together on purpose.
    pub(crate) fn new(original: &str) -> Folded {
        let mut folded = Folded {
            text: String::with_capacity(original.len()),
            segments: Vec::new(),
        };
        let mut segment_start = 0;
        for (index, character) in original.char_indices() {
            if index > 0 && starts_segment(character) {
                folded.push_segment(original, segment_start..index);
                segment_start = index;
            }
        }
        if segment_start < original.len() {
            folded.push_segment(original, segment_start..original.len());
        }
        folded
    }

    fn push_segment(&mut self, original: &str, range: Range<usize>) {
        let start = self.text.len();
        for character in original[range.clone()].nfkc().filter(|c| !is_invisible(*c)) {
            if character.is_whitespace() {
                // Any run of whitespace is one space, so `cancel  my\norder` still meets a
                // multi-word pattern.
                if !self.text.ends_with(' ') {
                    self.text.push(' ');
                }
            } else {
                self.text.extend(character.to_lowercase());
            }
        }
        if self.text.len() > start {
            self.segments.push(Segment {
                folded: start,
                original: range,
            });
        }
    }

    /// The original byte range that a folded byte range came from, widened to whole
    /// original characters.
    pub(crate) fn original_range(&self, folded: Range<usize>) -> Range<usize> {
        if self.segments.is_empty() {
            return 0..0;
        }
        let segment_at = |offset: usize| {
            let index = self
                .segments
                .partition_point(|segment| segment.folded <= offset);
            &self.segments[index.saturating_sub(1)]
        };
        let start = segment_at(folded.start).original.start;
        let end = segment_at(folded.end.saturating_sub(1).max(folded.start))
            .original
            .end;
        start..end
    }
}

/// Folds a rule's pattern the same way as the text it will be matched against; a pattern
/// left unnormalised would miss (a full-width or decomposed pattern never equals the
/// folded text).
pub(crate) fn fold(text: &str) -> String {
    Folded::new(text).text
}

fn starts_segment(character: char) -> bool {
    // Hangul medial vowels and final consonants compose with the jamo before them.
    canonical_combining_class(character) == 0 && !matches!(character, '\u{1160}'..='\u{11FF}')
}

/// Characters that are invisible in chat and only ever split a word by accident (or to
/// dodge a filter): soft hyphen, zero-width space and joiners, word joiner, BOM.
fn is_invisible(character: char) -> bool {
    matches!(
        character,
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// A letter, digit or combining mark: the stuff words are made of.
pub(crate) fn is_word_char(character: char) -> bool {
    character.is_alphanumeric() || is_combining_mark(character)
}

/// Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, Han).
/// Word boundaries cannot be seen there, so a keyword in such a script matches anywhere.
pub(crate) fn is_unspaced(character: char) -> bool {
    matches!(
        character,
        '\u{0E00}'..='\u{0EFF}'
            | '\u{1000}'..='\u{109F}'
            | '\u{1780}'..='\u{17FF}'
            | '\u{3040}'..='\u{30FF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3FFFF}'
    )
}

/// Han and kana, where one character is close to one word for counting purposes.
pub(crate) fn is_ideographic(character: char) -> bool {
    is_unspaced(character) && !matches!(character, '\u{0E00}'..='\u{17FF}')
}

/// Emoji and the pictographic symbols used like them.
pub(crate) fn is_pictographic(character: char) -> bool {
    matches!(
        character,
        '\u{A9}'
            | '\u{AE}'
            | '\u{203C}'
            | '\u{2049}'
            | '\u{2122}'
            | '\u{2139}'
            | '\u{2190}'..='\u{21FF}'
            | '\u{2300}'..='\u{23FF}'
            | '\u{25A0}'..='\u{27BF}'
            | '\u{2B00}'..='\u{2BFF}'
            | '\u{3030}'
            | '\u{303D}'
            | '\u{3297}'
            | '\u{3299}'
            | '\u{1F000}'..='\u{1FAFF}'
    )
}

/// Characters that glue an emoji sequence together without being one themselves:
/// zero-width joiner, variation selectors, tag characters.
pub(crate) fn is_emoji_joiner(character: char) -> bool {
    matches!(
        character,
        '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected_folded`, then the original text behind the folded range of `needle`.
    fn check(original: &str, expected_folded: &str, needle: &str, expected_original: &str) {
        let folded = Folded::new(original);
        assert_eq!(folded.text, expected_folded, "{original:?}");
        let start = folded.text.find(needle).expect("needle in folded text");
        let range = folded.original_range(start..start + needle.len());
        assert_eq!(
            &original[range], expected_original,
            "{original:?} › {needle:?}"
        );
    }

    #[test]
    fn folding() {
        check("I want to CANCEL", "i want to cancel", "cancel", "CANCEL");
        check("ｃａｎｃｅｌ now", "cancel now", "cancel", "ｃａｎｃｅｌ");
        check("𝐫𝐞𝐟𝐮𝐧𝐝!", "refund!", "refund", "𝐫𝐞𝐟𝐮𝐧𝐝");
        check("ⓒⓐⓝⓒⓔⓛ", "cancel", "cancel", "ⓒⓐⓝⓒⓔⓛ");
        check("can\u{AD}cel", "cancel", "cancel", "can\u{AD}cel");
        check("re\u{200B}fund", "refund", "refund", "re\u{200B}fund");
        check("ﬁne", "fine", "i", "ﬁ");
        check("cafe\u{301} ok", "café ok", "é", "e\u{301}");
        check("", "", "", "");
        check(
            "cancel \n\t my  order",
            "cancel my order",
            "l m",
            "l \n\t m",
        );
        check("Straße", "straße", "ß", "ß");
        check(
            "\u{1100}\u{1161}\u{11A8}",
            "각",
            "각",
            "\u{1100}\u{1161}\u{11A8}",
        );
    }

    #[test]
    fn character_classes() {
        assert!(is_word_char('é') && is_word_char('7') && is_word_char('\u{301}'));
        assert!(!is_word_char('-') && !is_word_char('\'') && !is_word_char('😀'));
        assert!(is_unspaced('退') && is_unspaced('ก') && !is_unspaced('a'));
        assert!(is_ideographic('退') && is_ideographic('カ') && !is_ideographic('ก'));
        assert!(is_pictographic('😡') && is_pictographic('❤') && !is_pictographic('a'));
        assert!(is_emoji_joiner('\u{FE0F}') && !is_emoji_joiner('a'));
    }
}
