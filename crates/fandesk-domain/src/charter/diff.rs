//! What changed between two versions of a charter, line by line: the list the console's
//! diff view shows, and the same as a unified diff for people and tools.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// Whether a line is in both versions, only the newer one, or only the older one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffTag {
    Equal,
    Insert,
    Delete,
}

/// One line of the comparison, with its 1-based number in each version that has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: DiffTag,
    pub old_line: Option<usize>,
    pub new_line: Option<usize>,
    /// The line without its line break.
    pub text: String,
}

/// Every line of both versions in order, each tagged.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            tag: match change.tag() {
                ChangeTag::Equal => DiffTag::Equal,
                ChangeTag::Insert => DiffTag::Insert,
                ChangeTag::Delete => DiffTag::Delete,
            },
            old_line: change.old_index().map(|index| index + 1),
            new_line: change.new_index().map(|index| index + 1),
            text: change
                .value()
                .trim_end_matches('\n')
                .trim_end_matches('\r')
                .to_owned(),
        })
        .collect()
}

/// A unified diff (three lines of context) from `old_name` to `new_name`; empty when
/// the versions are equal.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}
