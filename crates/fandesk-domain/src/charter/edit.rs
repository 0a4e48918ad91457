//! Narrow edits of a charter document that keep the rest of it as written (comments,
//! order, spacing): the keyword and restricted-word rule endpoints change one list and
//! leave everything else to the owner's editor.

use super::RestrictedWord;
use super::render::{keyword_rules, restricted_rules};
use crate::signals::KeywordRule;
use toml_edit::{DocumentMut, Item, Table, Value};

/// `text` with `keywords.rules` replaced by `rules`.
pub fn set_keyword_rules(text: &str, rules: &[KeywordRule]) -> Result<String, String> {
    replace_list(text, "keywords", &keyword_rules(rules))
}

/// `text` with `restricted.rules` replaced by `rules`.
pub fn set_restricted_rules(text: &str, rules: &[RestrictedWord]) -> Result<String, String> {
    replace_list(text, "restricted", &restricted_rules(rules))
}

/// Sets `{section}.rules` to the TOML value `list`, creating `[section]` when absent.
fn replace_list(text: &str, section: &str, list: &str) -> Result<String, String> {
    let mut document: DocumentMut = text.parse().map_err(|error| format!("{error}"))?;
    let mut value: Value = list.parse().map_err(|error| format!("{error}"))?;
    value.decor_mut().clear();
    let table = document
        .as_table_mut()
        .entry(section)
        .or_insert(Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| format!("{section} is not a table"))?;
    match table.get_mut("rules") {
        Some(item) => *item = Item::Value(value),
        None => {
            table.insert("rules", Item::Value(value));
        }
    }
    Ok(document.to_string())
}
