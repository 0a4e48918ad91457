//! Reading a parsed TOML document key by key, with the position of every key and value,
//! so each problem is reported with its dotted key (`channels.limit`, array items as
//! `keywords.rules[2].patterns`) and its line. Problems are collected, not returned at
//! the first one, so an editor can mark them all; a key nobody asked for is an error.

use super::CharterError;
use std::ops::{Range, RangeInclusive};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The document's text, to turn byte offsets into lines and columns, and the problems
/// found so far.
pub(super) struct Report<'s> {
    text: &'s str,
    errors: Vec<CharterError>,
}

impl<'s> Report<'s> {
    pub(super) fn new(text: &'s str) -> Report<'s> {
        Report {
            text,
            errors: Vec::new(),
        }
    }

    /// Records a problem with `field` at byte `offset`.
    pub(super) fn error(&mut self, field: &str, offset: usize, message: impl Into<String>) {
        let (line, column) = position(self.text, offset);
        self.errors.push(CharterError {
            field: field.to_owned(),
            line,
            column,
            message: message.into(),
        });
    }

    pub(super) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The problems in document order.
    pub(super) fn into_errors(mut self) -> Vec<CharterError> {
        self.errors
            .sort_by(|a, b| (a.line, a.column, &a.field).cmp(&(b.line, b.column, &b.field)));
        self.errors
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |rest| rest.chars().count())
        + 1;
    (line, column)
}

/// One value of the document: where it is and its dotted key.
#[derive(Clone, Copy)]
pub(super) struct Node<'a, 'i> {
    pub value: &'a DeValue<'i>,
    pub span: (usize, usize),
}

impl<'a, 'i> Node<'a, 'i> {
    fn new(spanned: &'a Spanned<DeValue<'i>>) -> Node<'a, 'i> {
        let span: Range<usize> = spanned.span();
        Node {
            value: spanned.get_ref(),
            span: (span.start, span.end),
        }
    }

    pub(super) fn start(&self) -> usize {
        self.span.0
    }
}

/// A table being read: its dotted path and which keys were asked for.
pub(super) struct Table<'a, 'i> {
    path: String,
    table: &'a DeTable<'i>,
    asked: Vec<&'static str>,
}

impl<'a, 'i> Table<'a, 'i> {
    pub(super) fn root(table: &'a DeTable<'i>) -> Table<'a, 'i> {
        Table {
            path: String::new(),
            table,
            asked: Vec::new(),
        }
    }

    /// The dotted key of `key` in this table.
    pub(super) fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value under `key`, if present; `key` counts as known either way.
    pub(super) fn node(&mut self, key: &'static str) -> Option<Node<'a, 'i>> {
        if !self.asked.contains(&key) {
            self.asked.push(key);
        }
        self.table
            .iter()
            .find(|(name, _)| name.get_ref().as_ref() == key)
            .map(|(_, value)| Node::new(value))
    }

    /// A sub-table (`[channels]` or an inline `{ … }`).
    pub(super) fn table(
        &mut self,
        report: &mut Report,
        key: &'static str,
    ) -> Option<Table<'a, 'i>> {
        let field = self.field(key);
        let node = self.node(key)?;
        as_table(report, &field, node)
    }

    /// A whole number within `range`.
    pub(super) fn integer(
        &mut self,
        report: &mut Report,
        key: &'static str,
        range: RangeInclusive<i64>,
        unit: &str,
    ) -> Option<i64> {
        let field = self.field(key);
        let node = self.node(key)?;
        let number = match node.value {
            DeValue::Integer(integer) => {
                i64::from_str_radix(integer.as_str(), integer.radix()).ok()
            }
            _ => None,
        };
        match number {
            Some(number) if range.contains(&number) => Some(number),
            _ => {
                report.error(
                    &field,
                    node.start(),
                    format!(
                        "must be a whole number of {unit} from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// Text of at most `max_chars` characters; line breaks only when `multiline`.
    pub(super) fn text(
        &mut self,
        report: &mut Report,
        key: &'static str,
        max_chars: usize,
        multiline: bool,
    ) -> Option<String> {
        let field = self.field(key);
        let node = self.node(key)?;
        as_text(report, &field, node, max_chars, multiline)
    }

    /// A list of short texts (one line each).
    pub(super) fn texts(
        &mut self,
        report: &mut Report,
        key: &'static str,
        max_items: usize,
        max_chars: usize,
    ) -> Option<Vec<String>> {
        let field = self.field(key);
        let node = self.node(key)?;
        let items = as_array(report, &field, node, max_items)?;
        let mut texts = Vec::with_capacity(items.len());
        let mut ok = true;
        for (index, item) in items.into_iter().enumerate() {
            match as_text(report, &format!("{field}[{index}]"), item, max_chars, false) {
                Some(text) => texts.push(text),
                None => ok = false,
            }
        }
        ok.then_some(texts)
    }

    /// The items of a list (`[…]` or `[[…]]`) of at most `max_items`, each with its dotted
    /// key (`…[i]`).
    pub(super) fn array(
        &mut self,
        report: &mut Report,
        key: &'static str,
        max_items: usize,
    ) -> Option<Vec<(String, Node<'a, 'i>)>> {
        let field = self.field(key);
        let node = self.node(key)?;
        let items = as_array(report, &field, node, max_items)?;
        Some(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| (format!("{field}[{index}]"), item))
                .collect(),
        )
    }

    /// Reports every key of this table that nobody asked for.
    pub(super) fn finish(self, report: &mut Report) {
        for (name, _) in self.table.iter() {
            let key = name.get_ref().as_ref();
            if !self.asked.contains(&key) {
                let known = if self.asked.is_empty() {
                    String::new()
                } else {
                    format!("; known keys here: {}", self.asked.join(", "))
                };
                report.error(
                    &self.field(key),
                    name.span().start,
                    format!("unknown key{known}"),
                );
            }
        }
    }
}

/// `node` as a table whose keys are read under `field`.
pub(super) fn as_table<'a, 'i>(
    report: &mut Report,
    field: &str,
    node: Node<'a, 'i>,
) -> Option<Table<'a, 'i>> {
    match node.value {
        DeValue::Table(table) => Some(Table {
            path: field.to_owned(),
            table,
            asked: Vec::new(),
        }),
        other => {
            report.error(
                field,
                node.start(),
                format!("must be a table, not {}", other.type_str()),
            );
            None
        }
    }
}

fn as_array<'a, 'i>(
    report: &mut Report,
    field: &str,
    node: Node<'a, 'i>,
    max_items: usize,
) -> Option<Vec<Node<'a, 'i>>> {
    match node.value {
        DeValue::Array(items) if items.len() <= max_items => {
            Some(items.iter().map(Node::new).collect())
        }
        DeValue::Array(_) => {
            report.error(
                field,
                node.start(),
                format!("lists at most {max_items} items"),
            );
            None
        }
        other => {
            report.error(
                field,
                node.start(),
                format!("must be a list, not {}", other.type_str()),
            );
            None
        }
    }
}

/// A string: at most `max_chars` characters, no control characters (U+0000 above all,
/// which PostgreSQL cannot store) except line breaks and tabs in `multiline` text.
pub(super) fn as_text(
    report: &mut Report,
    field: &str,
    node: Node<'_, '_>,
    max_chars: usize,
    multiline: bool,
) -> Option<String> {
    let DeValue::String(text) = node.value else {
        report.error(
            field,
            node.start(),
            format!("must be a string, not {}", node.value.type_str()),
        );
        return None;
    };
    let allowed = |c: char| multiline && (c == '\n' || c == '\t' || c == '\r');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        let what = if multiline {
            "must not contain control characters other than line breaks and tabs"
        } else {
            "must be one line without control characters"
        };
        report.error(field, node.start(), what);
        return None;
    }
    if text.chars().count() > max_chars {
        report.error(
            field,
            node.start(),
            format!("must be at most {max_chars} characters"),
        );
        return None;
    }
    Some(text.to_string())
}

/// The line and column of the value at `field` (a dotted key as errors name them, list
/// items as `[i]`) in `text`, if the document parses and has it.
pub(super) fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let document = DeTable::parse(text).ok()?;
    let mut steps = Vec::new();
    for part in field.split('.') {
        let mut rest = part;
        let key_end = rest.find('[').unwrap_or(rest.len());
        steps.push(Step::Key(&rest[..key_end]));
        rest = &rest[key_end..];
        while let Some(inner) = rest.strip_prefix('[') {
            let (index, after) = inner.split_once(']')?;
            steps.push(Step::Index(index.parse().ok()?));
            rest = after;
        }
    }
    let mut current: Option<&Spanned<DeValue>> = None;
    let root = document.get_ref();
    for step in steps {
        current = match (step, current.map(Spanned::get_ref)) {
            (Step::Key(key), None) => root
                .iter()
                .find(|(name, _)| name.get_ref() == key)
                .map(|(_, value)| value),
            (Step::Key(key), Some(DeValue::Table(table))) => table
                .iter()
                .find(|(name, _)| name.get_ref() == key)
                .map(|(_, value)| value),
            (Step::Index(index), Some(DeValue::Array(items))) => items.get(index),
            _ => None,
        };
        current?;
    }
    current.map(|value| position(text, value.span().start))
}

enum Step<'f> {
    Key(&'f str),
    Index(usize),
}
