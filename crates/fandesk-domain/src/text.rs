//! Stored text: the one rule every text field obeys whatever its own limits — no U+0000
//! (PostgreSQL cannot store it, and SQLite would store what PostgreSQL refuses, so both
//! backends refuse it alike; docs/api.md › Errors).

use crate::RuleViolation;

/// Refuses `text` when it contains U+0000, naming `field`.
pub fn refuse_nul(field: &'static str, text: &str) -> Result<(), RuleViolation> {
    if text.contains('\0') {
        return Err(RuleViolation::invalid(field, NUL_REASON));
    }
    Ok(())
}

/// The reason given for a refused U+0000, the same in every layer.
pub const NUL_REASON: &str = "must not contain U+0000";

/// The first of `fields` whose text contains U+0000, refused.
pub fn refuse_nul_in<'a>(
    fields: impl IntoIterator<Item = (&'static str, &'a str)>,
) -> Result<(), RuleViolation> {
    fields
        .into_iter()
        .try_for_each(|(field, text)| refuse_nul(field, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(fields: &[(&'static str, &str)], refused: Option<&str>) {
        let result = refuse_nul_in(fields.iter().copied());
        match (result, refused) {
            (Ok(()), None) => {}
            (Err(RuleViolation::Invalid { field, reason }), Some(expected)) => {
                assert_eq!(field, expected, "{fields:?}");
                assert_eq!(reason, NUL_REASON);
            }
            (other, _) => panic!("{fields:?}: {other:?}"),
        }
    }

    #[test]
    fn only_u0000_is_refused_and_the_first_field_is_named() {
        check(&[("body", "hello"), ("reason", "")], None);
        check(&[("body", "\u{1}\u{200b}\u{301}\u{7f}")], None);
        check(&[("body", "a\0b")], Some("body"));
        check(&[("body", "ok"), ("reason", "\0")], Some("reason"));
        check(&[("body", "\0"), ("reason", "\0")], Some("body"));
    }
}
