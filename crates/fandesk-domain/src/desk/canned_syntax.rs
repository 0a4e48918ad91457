//! The canned-template language (docs/product.md › Canned responses): minijinja syntax cut
//! down to what a chat reply needs, plus the Liquid-style filter arguments docs/product.md
//! writes (`{{ fan.first_name | default: "there" }}` becomes `default("there")`). This
//! module checks a template and rewrites it for minijinja; `desk::canned` compiles and
//! renders.
//!
//! Allowed: `{{ expression }}`; `{% if %}`, `{% elif %}`, `{% else %}`, `{% endif %}`,
//! `{% for x in … %}`, `{% endfor %}`; `{% raw %}…{% endraw %}`; `{# comments #}`; the
//! filters in [`ALLOWED_FILTERS`] and the tests in [`ALLOWED_TESTS`].
//! Refused with a position: every other statement (`set`, `macro`, `include`, …), function
//! and method calls, recursive loops, and the `*` / `**` operators. Fuel bounds the
//! *number* of steps a render takes, not the memory one step allocates, so anything that
//! multiplies text in a single step (`"x" * 99999999`, `replace`, `join`, `center`, a `set`
//! doubling a string) stays out of the language; loops only repeat output, which the
//! renderer caps.
//!
//! The rewrite keeps every newline where it was, so minijinja's line numbers are the
//! author's line numbers.

use crate::desk::canned::{Position, TemplateError};
use crate::desk::canned_lexer::{Kind, Token, find_close, position, syntax, tokenize};
use std::fmt::Write as _;

/// Filters a template may use. `upcase`, `downcase` and `strip` are the Liquid names.
pub const ALLOWED_FILTERS: &[&str] = &[
    "default",
    "upper",
    "lower",
    "capitalize",
    "title",
    "trim",
    "upcase",
    "downcase",
    "strip",
];

/// Tests a template may use after `is` / `is not`.
pub const ALLOWED_TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "string",
    "number",
    "eq",
    "ne",
    "startingwith",
    "endingwith",
];

const STATEMENTS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor"];

/// Words that are syntax, never variables or calls.
const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "elif", "else", "for", "true", "false", "none", "True",
    "False", "None",
];

/// The filter that guards every `{{ … }}` against rendering blank (`desk::canned`). Its
/// name is not in [`ALLOWED_FILTERS`], so templates cannot call it themselves.
pub(crate) const GUARD_FILTER: &str = "__fandesk_required";

/// A template rewritten for minijinja.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub(crate) source: String,
    /// Every variable path (`fan.attributes.tier`) with where it starts, in source order:
    /// lets `desk::canned` point at an unknown variable.
    pub(crate) paths: Vec<(String, Position)>,
}

pub(crate) fn prepare(template: &str) -> Result<Prepared, TemplateError> {
    let mut prepared = Prepared {
        source: String::with_capacity(template.len() + 64),
        paths: Vec::new(),
    };
    let bytes = template.as_bytes();
    let mut copied = 0;
    let mut cursor = 0;
    while let Some(found) = template[cursor..].find('{') {
        let open = cursor + found;
        match bytes.get(open + 1) {
            Some(b'{') => {
                prepared.source.push_str(&template[copied..open]);
                let close = find_close(template, open, "}}")?;
                output_tag(template, open, close, &mut prepared)?;
                cursor = close + 2;
                copied = cursor;
            }
            Some(b'%') => {
                prepared.source.push_str(&template[copied..open]);
                let close = find_close(template, open, "%}")?;
                cursor = statement_tag(template, open, close, &mut prepared)?;
                copied = cursor;
            }
            Some(b'#') => {
                let Some(length) = template[open + 2..].find("#}") else {
                    return Err(syntax(template, open, "comment is not closed with #}"));
                };
                // Comments are copied as they are, with the surrounding text.
                cursor = open + 2 + length + 2;
            }
            _ => cursor = open + 1,
        }
    }
    prepared.source.push_str(&template[copied..]);
    Ok(prepared)
}

/// The tag's whitespace-control markers and inner range: `{{- x -}}` → (`-`, x, `-`).
fn markers(template: &str, open: usize, close: usize) -> (&str, usize, usize, &str) {
    let mut start = open + 2;
    let mut end = close;
    let mut lead = "";
    let mut trail = "";
    if start < end && matches!(template.as_bytes()[start], b'-' | b'+') {
        lead = &template[start..start + 1];
        start += 1;
    }
    if start < end && matches!(template.as_bytes()[end - 1], b'-' | b'+') {
        trail = &template[end - 1..end];
        end -= 1;
    }
    (lead, start, end, trail)
}

/// `{{ expr }}` → `{{ (expr) | __fandesk_required("first.variable") }}`.
fn output_tag(
    template: &str,
    open: usize,
    close: usize,
    prepared: &mut Prepared,
) -> Result<(), TemplateError> {
    let (lead, start, end, trail) = markers(template, open, close);
    let tokens = tokenize(template, start, end)?;
    if tokens.is_empty() {
        return Err(syntax(
            template,
            open,
            "{{ }} needs a variable, e.g. {{ fan.first_name }}",
        ));
    }
    let first_path = prepared.paths.len();
    let expression = translate(template, start, end, &tokens, prepared)?;
    let name = match prepared.paths.get(first_path) {
        Some((path, _)) => path.clone(),
        None => template[start..end].trim().to_owned(),
    };
    let _ = write!(
        prepared.source,
        "{{{{{lead} ({expression}) | {GUARD_FILTER}({}) {trail}}}}}",
        string_literal(&name)
    );
    Ok(())
}

/// Checks the statement keyword and rewrites the rest; returns where scanning resumes
/// (after `{% endraw %}` for a raw block).
fn statement_tag(
    template: &str,
    open: usize,
    close: usize,
    prepared: &mut Prepared,
) -> Result<usize, TemplateError> {
    let (lead, start, end, trail) = markers(template, open, close);
    let tokens = tokenize(template, start, end)?;
    let Some(first) = tokens.first() else {
        return Err(syntax(
            template,
            open,
            "{% %} needs a statement, e.g. {% if … %}",
        ));
    };
    let keyword = first.text(template);
    if keyword == "raw" && tokens.len() == 1 {
        let Some(raw_end) = find_endraw(template, close + 2) else {
            return Err(syntax(
                template,
                open,
                "raw block is not closed with {% endraw %}",
            ));
        };
        prepared.source.push_str(&template[open..raw_end]);
        return Ok(raw_end);
    }
    if first.kind != Kind::Ident || !STATEMENTS.contains(&keyword) {
        return Err(TemplateError::NotAllowed {
            what: format!("{{% {keyword} %}}"),
            position: position(template, first.start),
        });
    }
    let statement = translate(template, start, end, &tokens, prepared)?;
    let _ = write!(prepared.source, "{{%{lead}{statement}{trail}%}}");
    Ok(close + 2)
}

/// The end (exclusive) of the first `{% endraw %}` tag at or after `from`.
fn find_endraw(template: &str, from: usize) -> Option<usize> {
    let mut cursor = from;
    while let Some(found) = template[cursor..].find("{%") {
        let open = cursor + found;
        let close = open + 2 + template[open + 2..].find("%}")?;
        let inner = template[open + 2..close].trim_matches(|c: char| c == '-' || c == '+');
        if inner.trim() == "endraw" {
            return Some(close + 2);
        }
        cursor = open + 2;
    }
    None
}

/// Checks the tokens of one tag against the allowed language, records variable paths, and
/// returns the tag's inner text with Liquid filter arguments turned into calls.
fn translate(
    template: &str,
    start: usize,
    end: usize,
    tokens: &[Token],
    prepared: &mut Prepared,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(end - start + 8);
    let mut cursor = start;
    let mut depth = 0_i32;
    // The bracket depth at which a Liquid argument list (`| default: "x"`) is open.
    let mut liquid_args: Option<i32> = None;
    let text_of = |index: usize| {
        tokens
            .get(index)
            .map(|token| token.text(template))
            .unwrap_or("")
    };
    for (index, &token) in tokens.iter().enumerate() {
        let text = token.text(template);
        let previous = index.checked_sub(1).map(text_of).unwrap_or("");
        let before_previous = index.checked_sub(2).map(text_of).unwrap_or("");
        let next = text_of(index + 1);
        let not_allowed = |what: String| TemplateError::NotAllowed {
            what,
            position: position(template, token.start),
        };
        if token.kind == Kind::Punct && text == "|" && liquid_args == Some(depth) {
            out.push(')');
            liquid_args = None;
        }
        out.push_str(&template[cursor..token.start]);
        cursor = token.end;
        match token.kind {
            Kind::Punct => match text {
                "*" | "**" => return Err(not_allowed(format!("the {text} operator"))),
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                ":" if previous_is_filter(tokens, index, template) => {
                    out.push('(');
                    liquid_args = Some(depth);
                    // `default: "x"` → `default("x")`, not `default( "x")`.
                    cursor = tokens.get(index + 1).map_or(token.end, |next| next.start);
                    continue;
                }
                _ => {}
            },
            Kind::Ident if previous == "|" => {
                allowed("filter", ALLOWED_FILTERS, text).map_err(not_allowed)?
            }
            Kind::Ident if previous == "is" && text == "not" => {}
            Kind::Ident if previous == "is" || (previous == "not" && before_previous == "is") => {
                allowed("test", ALLOWED_TESTS, text).map_err(not_allowed)?
            }
            // A recursive loop is the one way to recurse; a reply never needs it.
            Kind::Ident if text == "recursive" => {
                return Err(not_allowed("a recursive loop".to_owned()));
            }
            Kind::Ident if KEYWORDS.contains(&text) || STATEMENTS.contains(&text) => {}
            Kind::Ident if next == "(" => {
                return Err(not_allowed(format!("calling `{text}(…)`")));
            }
            Kind::Ident if previous != "." => {
                let path = variable_path(template, &tokens[index..]);
                prepared.paths.push((path, position(template, token.start)));
            }
            _ => {}
        }
        out.push_str(text);
    }
    if liquid_args.is_some() {
        out.push(')');
    }
    out.push_str(&template[cursor..end]);
    Ok(out)
}

/// Whether `name` is in the allow-list; the refusal names it ("the filter `replace`").
fn allowed(kind: &str, list: &[&str], name: &str) -> Result<(), String> {
    if list.contains(&name) {
        Ok(())
    } else {
        Err(format!("the {kind} `{name}`"))
    }
}

/// `| name :` — a Liquid filter argument list starts here.
fn previous_is_filter(tokens: &[Token], index: usize, template: &str) -> bool {
    index >= 2
        && tokens[index - 1].kind == Kind::Ident
        && tokens[index - 2].is(template, Kind::Punct, "|")
}

/// `fan.attributes["shoe size"]` → `fan.attributes.shoe size`.
fn variable_path(template: &str, tokens: &[Token]) -> String {
    let mut path = tokens[0].text(template).to_owned();
    let mut rest = &tokens[1..];
    loop {
        match rest {
            [dot, name, tail @ ..]
                if dot.is(template, Kind::Punct, ".") && name.kind == Kind::Ident =>
            {
                path.push('.');
                path.push_str(name.text(template));
                rest = tail;
            }
            [open, key, close, tail @ ..]
                if open.is(template, Kind::Punct, "[")
                    && key.kind == Kind::Str
                    && close.is(template, Kind::Punct, "]") =>
            {
                let quoted = key.text(template);
                path.push('.');
                path.push_str(&quoted[1..quoted.len() - 1]);
                rest = tail;
            }
            _ => return path,
        }
    }
}

/// A double-quoted minijinja string literal with the same content.
fn string_literal(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for c in text.chars() {
        match c {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            _ => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected`: the rewritten source, or `Err("error display")`.
    fn check(template: &str, expected: Result<&str, &str>) {
        let got = prepare(template)
            .map(|prepared| prepared.source)
            .map_err(|error| error.to_string());
        assert_eq!(
            got.as_deref().map_err(String::as_str),
            expected,
            "{template:?}"
        );
    }

    #[test]
    fn rewrites() {
        check("Hi!", Ok("Hi!"));
        check("{ not a tag }", Ok("{ not a tag }"));
        check(
            "Hi {{fan.first_name}}",
            Ok(r#"Hi {{ (fan.first_name) | __fandesk_required("fan.first_name") }}"#),
        );
        check(
            r#"{{ fan.first_name | default: "there" }}"#,
            Ok(
                r#"{{ ( fan.first_name | default("there") ) | __fandesk_required("fan.first_name") }}"#,
            ),
        );
        check(
            "{{fan.name|default:'x'|upcase}}",
            Ok(r#"{{ (fan.name|default('x')|upcase) | __fandesk_required("fan.name") }}"#),
        );
        check(
            r#"{{- fan.attributes["shoe size"] -}}"#,
            Ok(
                r#"{{- ( fan.attributes["shoe size"] ) | __fandesk_required("fan.attributes.shoe size") -}}"#,
            ),
        );
        check(
            "{% if fan.attributes.tier == 'gold' %}VIP{% endif %}",
            Ok("{% if fan.attributes.tier == 'gold' %}VIP{% endif %}"),
        );
        check(
            "{%- for c in fan.name -%}{{ c }}{% endfor %}",
            Ok(r#"{%- for c in fan.name -%}{{ ( c ) | __fandesk_required("c") }}{% endfor %}"#),
        );
        check(
            r#"{{ "a}}b" }}"#,
            Ok(r#"{{ ( "a}}b" ) | __fandesk_required("\"a}}b\"") }}"#),
        );
        check(
            "{# {{ nope }} #}{% raw %}{{ x }}{% endraw %}",
            Ok("{# {{ nope }} #}{% raw %}{{ x }}{% endraw %}"),
        );
    }

    #[test]
    fn refusals_name_the_position() {
        check(
            "Hi {{ fan.name",
            Err("syntax error at line 1, column 4: tag is not closed with }}"),
        );
        check(
            "a\n  {{ 'oops }}",
            Err("syntax error at line 2, column 6: string is not closed"),
        );
        check(
            "{{ }}",
            Err(
                "syntax error at line 1, column 1: {{ }} needs a variable, e.g. {{ fan.first_name }}",
            ),
        );
        check(
            "{# open",
            Err("syntax error at line 1, column 1: comment is not closed with #}"),
        );
        check(
            "{% raw %}{{",
            Err("syntax error at line 1, column 1: raw block is not closed with {% endraw %}"),
        );
        check(
            "x\n{% set a = 1 %}",
            Err("{% set %} is not allowed in canned responses (line 2, column 4)"),
        );
        check(
            "{% include 'x' %}",
            Err("{% include %} is not allowed in canned responses (line 1, column 4)"),
        );
        check(
            "{{ 'x' * 9 }}",
            Err("the * operator is not allowed in canned responses (line 1, column 8)"),
        );
        check(
            "{{ fan.name | replace('a','bb') }}",
            Err("the filter `replace` is not allowed in canned responses (line 1, column 15)"),
        );
        check(
            "{{ range(9) }}",
            Err("calling `range(…)` is not allowed in canned responses (line 1, column 4)"),
        );
        check(
            "{{ fan.name.upper() }}",
            Err("calling `upper(…)` is not allowed in canned responses (line 1, column 13)"),
        );
        check(
            "{% for a in fan.name recursive %}{{ (loop)(a) }}{% endfor %}",
            Err("a recursive loop is not allowed in canned responses (line 1, column 22)"),
        );
        check(
            "{% if fan.name is sameas 'x' %}{% endif %}",
            Err("the test `sameas` is not allowed in canned responses (line 1, column 19)"),
        );
    }

    #[test]
    fn paths_in_source_order() {
        let template = concat!(
            "{{ agent.name }} {% if fan.attributes['vip level'] %}",
            "{{ creator.name | upper }}{% endif %}",
        );
        let prepared = prepare(template).unwrap();
        let paths: Vec<String> = prepared
            .paths
            .iter()
            .map(|(path, at)| format!("{path}@{}", at.column.unwrap_or(0)))
            .collect();
        assert_eq!(
            paths,
            [
                "agent.name@4",
                "fan.attributes.vip level@24",
                "creator.name@57"
            ]
        );
    }
}
