//! The alert excerpt (docs/api.md › Alerts): the matched words as the fan wrote them,
//! with a little context, on one line.

use std::ops::Range;

/// Characters of context kept on each side of a match.
pub const EXCERPT_CONTEXT_CHARS: usize = 40;

/// `range` of `text` with up to `EXCERPT_CONTEXT_CHARS` on each side, cut at a space
/// where possible, marked `…` where cut, on one line.
pub(crate) fn excerpt(text: &str, range: Range<usize>) -> String {
    let before = &text[..range.start];
    let mut start = before
        .char_indices()
        .rev()
        .nth(EXCERPT_CONTEXT_CHARS - 1)
        .map_or(0, |(index, _)| index);
    let cut_front = start > 0;
    let mid_word = |offset: usize| {
        !text[..offset].ends_with(char::is_whitespace)
            && !text[offset..].starts_with(char::is_whitespace)
    };
    if cut_front
        && mid_word(start)
        && let Some(space) = before[start..].find(char::is_whitespace)
    {
        start += space;
    }
    let after = &text[range.end..];
    let mut end = after
        .char_indices()
        .nth(EXCERPT_CONTEXT_CHARS)
        .map_or(text.len(), |(index, _)| range.end + index);
    let cut_back = end < text.len();
    if cut_back
        && mid_word(end)
        && let Some(space) = text[range.end..end].rfind(char::is_whitespace)
    {
        end = range.end + space;
    }
    let body = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{}{body}{}",
        if cut_front { "…" } else { "" },
        if cut_back { "…" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, word: &str, expected: &str) {
        let start = text.find(word).expect("word in text");
        assert_eq!(
            excerpt(text, start..start + word.len()),
            expected,
            "{text:?}"
        );
    }

    #[test]
    fn excerpts() {
        check("refund", "refund", "refund");
        check(
            "I want a\n\nREFUND  please",
            "REFUND",
            "I want a REFUND please",
        );
        let long = format!(
            "{} I want a refund now {}",
            "word ".repeat(20),
            "more ".repeat(20)
        );
        check(
            &long,
            "refund",
            &format!(
                "…{}I want a refund now{}…",
                "word ".repeat(6),
                " more".repeat(7)
            ),
        );
        // Cut mid-word: the partial word is dropped.
        let digits = format!("{}refund", "0123456789 ".repeat(5));
        check(
            &digits,
            "refund",
            "…0123456789 0123456789 0123456789 refund",
        );
        check(&format!("refund {}", "ü".repeat(60)), "refund", "refund…");
        check("ｒｅｆｕｎｄ", "ｒｅｆｕｎｄ", "ｒｅｆｕｎｄ");
    }
}
