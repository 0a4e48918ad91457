//! Tags by prefix (docs/product.md › Team channels): a channel message whose body starts
//! with `DECISION:` is a decision, one starting with `ACTION:` or `ACTION(@Name):` an
//! action owned by the member named (else by its author). Prefixes are matched without
//! regard to case and after leading whitespace; the text after the prefix is what the
//! decision log shows.

use super::decision::DecisionKind;
use crate::error::RuleViolation;

/// What a message's prefix says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub kind: DecisionKind,
    /// `ACTION(@Name):` names its owner: the name as written, trimmed.
    pub owner_name: Option<String>,
    /// The text after the prefix, trimmed (the message body itself when that is empty).
    pub text: String,
}

/// Strips `prefix` from the start of `text`, ignoring ASCII case.
fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The tag of a message body, if it has one. An `ACTION(@…):` prefix whose name is empty
/// or whose parenthesis is not closed by `):` is refused (422 on the `body` field), so
/// the author learns the action was not logged rather than seeing it silently dropped.
pub fn parse_tag(body: &str) -> Result<Option<Tag>, RuleViolation> {
    let start = body.trim_start();
    let text_of = |rest: &str| {
        let rest = rest.trim();
        if rest.is_empty() { body.trim() } else { rest }.to_owned()
    };
    if let Some(rest) = strip_prefix_ignoring_case(start, "DECISION:") {
        return Ok(Some(Tag {
            kind: DecisionKind::Decision,
            owner_name: None,
            text: text_of(rest),
        }));
    }
    if let Some(rest) = strip_prefix_ignoring_case(start, "ACTION:") {
        return Ok(Some(Tag {
            kind: DecisionKind::Action,
            owner_name: None,
            text: text_of(rest),
        }));
    }
    if let Some(rest) = strip_prefix_ignoring_case(start, "ACTION(@") {
        let Some((name, rest)) = rest.split_once("):") else {
            return Err(RuleViolation::invalid(
                "body",
                "an ACTION(@Name): prefix needs its closing `):`",
            ));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(['(', ')', '\n']) {
            return Err(RuleViolation::invalid(
                "body",
                "ACTION(@Name): must name a member of the team",
            ));
        }
        return Ok(Some(Tag {
            kind: DecisionKind::Action,
            owner_name: Some(name.to_owned()),
            text: text_of(rest),
        }));
    }
    Ok(None)
}

/// The member a tag's owner name designates among `members` (id, name): names compare
/// without regard to case and surrounding spaces. `None` when no member has that name;
/// two members with the name: the first listed.
pub fn resolve_owner<'a>(name: &str, members: &'a [(String, String)]) -> Option<&'a str> {
    let wanted = name.trim().to_lowercase();
    members
        .iter()
        .find(|(_, candidate)| candidate.trim().to_lowercase() == wanted)
        .map(|(id, _)| id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecisionKind::*;

    /// What a body should parse to: a tag as (kind, owner, text), no tag, or a refusal.
    type Expected<'a> = Result<Option<(DecisionKind, Option<&'a str>, &'a str)>, ()>;

    fn check(body: &str, expected: Expected<'_>) {
        let got = parse_tag(body)
            .map(|tag| tag.map(|tag| (tag.kind, tag.owner_name, tag.text)))
            .map_err(|_| ());
        let expected = expected.map(|tag| {
            tag.map(|(kind, owner, text)| (kind, owner.map(str::to_owned), text.to_owned()))
        });
        assert_eq!(got, expected, "{body:?}");
    }

    #[test]
    fn prefixes() {
        let cases: &[(&str, Expected<'_>)] = &[
            (
                "DECISION: ship on Friday",
                Ok(Some((Decision, None, "ship on Friday"))),
            ),
            (
                "decision: lowercase too",
                Ok(Some((Decision, None, "lowercase too"))),
            ),
            (
                "   Decision:leading spaces",
                Ok(Some((Decision, None, "leading spaces"))),
            ),
            (
                "\n\tDECISION: after a newline",
                Ok(Some((Decision, None, "after a newline"))),
            ),
            (
                "ACTION: call the venue",
                Ok(Some((Action, None, "call the venue"))),
            ),
            ("action: lowercase", Ok(Some((Action, None, "lowercase")))),
            (
                "ACTION(@Ana Silva): book the studio",
                Ok(Some((Action, Some("Ana Silva"), "book the studio"))),
            ),
            (
                "  action(@ana silva):  lowercase, spaced",
                Ok(Some((Action, Some("ana silva"), "lowercase, spaced"))),
            ),
            ("ACTION(@Bo):x", Ok(Some((Action, Some("Bo"), "x")))),
            ("ACTION(@): nobody", Err(())),
            ("ACTION(@  ): blank", Err(())),
            ("ACTION(@Ana: unclosed", Err(())),
            ("DECISION:", Ok(Some((Decision, None, "DECISION:")))),
            ("We made a DECISION: not a tag", Ok(None)),
            ("DECISIONS: plural is not a tag", Ok(None)),
            ("ACTIONS: neither", Ok(None)),
            ("ACTION (@Ana): a space breaks it", Ok(None)),
            ("plain words", Ok(None)),
            ("", Ok(None)),
            ("é", Ok(None)),
            ("DÉCISION: not ASCII", Ok(None)),
        ];
        for (body, expected) in cases {
            check(body, *expected);
        }
    }

    #[test]
    fn owners_by_name() {
        let members = vec![
            ("m1".to_owned(), "Ana Silva".to_owned()),
            ("m2".to_owned(), "Bo".to_owned()),
        ];
        let cases = [
            ("Ana Silva", Some("m1")),
            ("ana silva", Some("m1")),
            (" ANA SILVA ", Some("m1")),
            ("bo", Some("m2")),
            ("Ana", None),
            ("Nobody", None),
        ];
        for (name, expected) in cases {
            assert_eq!(resolve_owner(name, &members), expected, "{name:?}");
        }
    }
}
