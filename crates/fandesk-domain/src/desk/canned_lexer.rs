//! Tokens of the canned-template language (`desk::canned_syntax`): where a tag ends,
//! the words and symbols inside it, and positions for error messages. String literals are
//! tracked so that `}}` inside quotes never ends a tag.

use crate::desk::canned::{Position, TemplateError};

/// Where the closing delimiter of the tag opened at `open` starts; string literals may
/// contain the delimiter.
pub(crate) fn find_close(
    template: &str,
    open: usize,
    closer: &str,
) -> Result<usize, TemplateError> {
    let bytes = template.as_bytes();
    let mut index = open + 2;
    let mut quote: Option<(u8, usize)> = None;
    while index < bytes.len() {
        let byte = bytes[index];
        match quote {
            Some(_) if byte == b'\\' => index += 1,
            Some((delimiter, _)) if byte == delimiter => quote = None,
            Some(_) => {}
            None if byte == b'"' || byte == b'\'' => quote = Some((byte, index)),
            None if bytes[index..].starts_with(closer.as_bytes()) => return Ok(index),
            None => {}
        }
        index += 1;
    }
    Err(match quote {
        Some((_, start)) => syntax(template, start, "string is not closed"),
        None => syntax(template, open, format!("tag is not closed with {closer}")),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Str,
    Number,
    Punct,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    pub(crate) fn text(self, template: &str) -> &str {
        &template[self.start..self.end]
    }

    pub(crate) fn is(self, template: &str, kind: Kind, text: &str) -> bool {
        self.kind == kind && self.text(template) == text
    }
}

pub(crate) fn tokenize(
    template: &str,
    start: usize,
    end: usize,
) -> Result<Vec<Token>, TemplateError> {
    let text = &template[start..end];
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut last = offset + c.len_utf8();
        let kind = if c.is_alphabetic() || c == '_' || c.is_ascii_digit() {
            while let Some(&(next_offset, next)) = chars.peek() {
                let continues =
                    next.is_alphanumeric() || next == '_' || (c.is_ascii_digit() && next == '.');
                if !continues {
                    break;
                }
                last = next_offset + next.len_utf8();
                chars.next();
            }
            if c.is_ascii_digit() {
                Kind::Number
            } else {
                Kind::Ident
            }
        } else if c == '"' || c == '\'' {
            let mut closed = false;
            while let Some((next_offset, next)) = chars.next() {
                last = next_offset + next.len_utf8();
                if next == '\\' {
                    chars.next();
                } else if next == c {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err(syntax(template, start + offset, "string is not closed"));
            }
            Kind::Str
        } else {
            let pair = text[offset..].get(..2).unwrap_or("");
            if ["**", "//", "==", "!=", "<=", ">="].contains(&pair) {
                chars.next();
                last = offset + 2;
            }
            Kind::Punct
        };
        tokens.push(Token {
            kind,
            start: start + offset,
            end: start + last,
        });
    }
    Ok(tokens)
}
/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn position(template: &str, byte: usize) -> Position {
    let before = &template[..byte];
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: Some(before[line_start..].chars().count() + 1),
    }
}

pub(crate) fn syntax(template: &str, byte: usize, message: impl Into<String>) -> TemplateError {
    TemplateError::Syntax {
        position: position(template, byte),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected`: the tokens as `kind:text`, space separated.
    fn check(expression: &str, expected: &str) {
        let tokens = tokenize(expression, 0, expression.len()).unwrap();
        let got: Vec<String> = tokens
            .iter()
            .map(|token| format!("{:?}:{}", token.kind, token.text(expression)).to_lowercase())
            .collect();
        assert_eq!(got.join(" "), expected, "{expression:?}");
    }

    #[test]
    fn tokens() {
        check("fan.first_name", "ident:fan punct:. ident:first_name");
        check(
            r#"x | default: "a \" }}" "#,
            r#"ident:x punct:| ident:default punct:: str:"a \" }}""#,
        );
        check(
            "a**2 // 3 >= 1.5",
            "ident:a punct:** number:2 punct:// number:3 punct:>= number:1.5",
        );
        check("n != 'é'", "ident:n punct:!= str:'é'");
        check("  ", "");
    }

    #[test]
    fn tag_ends_and_positions() {
        assert_eq!(find_close("{{ '}}' }}", 0, "}}"), Ok(8));
        assert_eq!(find_close(r#"{{ "\"}}" }}"#, 0, "}}"), Ok(10));
        assert!(find_close("{{ x", 0, "}}").is_err());
        let at = position("ab\ncdé f", 8);
        assert_eq!((at.line, at.column), (2, Some(5)));
    }
}
