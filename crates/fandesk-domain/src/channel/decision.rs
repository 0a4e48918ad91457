//! The decision log (docs/product.md › Team channels): every tagged channel message
//! becomes a decision or an action; actions have an owner and a status. The log lists
//! them across channels and exports them as Markdown or CSV.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DecisionId(pub String);

impl DecisionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DecisionId {
    fn from(value: &str) -> Self {
        DecisionId(value.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Decision,
    Action,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 2] = [DecisionKind::Decision, DecisionKind::Action];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Decision => "decision",
            DecisionKind::Action => "action",
        }
    }

    pub fn parse(text: &str) -> Option<DecisionKind> {
        DecisionKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    Open,
    Done,
}

impl DecisionStatus {
    pub const ALL: [DecisionStatus; 2] = [DecisionStatus::Open, DecisionStatus::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionStatus::Open => "open",
            DecisionStatus::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<DecisionStatus> {
        DecisionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180), and
/// prefixed with `'` when a spreadsheet would read it as a formula.
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Text for one Markdown table cell: pipes escaped, line breaks as spaces.
pub fn markdown_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip() {
        for kind in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(kind.as_str()), Some(kind));
        }
        for status in DecisionStatus::ALL {
            assert_eq!(DecisionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DecisionStatus::parse("closed"), None);
    }

    #[test]
    fn csv_and_markdown_escaping() {
        let cases = [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("=SUM(A1)", "'=SUM(A1)"),
            ("-1,2", "\"'-1,2\""),
        ];
        for (text, expected) in cases {
            assert_eq!(csv_field(text), expected, "{text:?}");
        }
        assert_eq!(markdown_cell("a|b\nc"), "a\\|b c");
    }
}
