//! The JSON of the charter routes (docs/api.md › Charter).

use fandesk_domain::charter::{DiffLine, DiffTag};
use fandesk_store::{CharterReviewRow, CharterVersionRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The charter in force.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CharterView {
    /// 1, 2, …: send it back as `base_version` to save on top of this version.
    pub version: i64,
    /// The document as its author wrote it.
    pub toml: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Member id of who saved it; `null` for the version the server wrote itself.
    pub updated_by: Option<String>,
    pub updated_by_name: String,
    /// `review.every_days` after the last review (or after the first version).
    #[schema(value_type = String, format = DateTime)]
    pub review_due_at: Timestamp,
    /// Whether `review_due_at` has passed.
    pub review_due: bool,
    pub last_review: Option<CharterReviewView>,
    /// Every key's value in force, defaults filled in (`voice`, `response`, …).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
}

/// One version in the history: who saved it and when.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CharterVersionView {
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub updated_by: Option<String>,
    pub updated_by_name: String,
}

impl From<&CharterVersionRow> for CharterVersionView {
    fn from(row: &CharterVersionRow) -> Self {
        CharterVersionView {
            version: row.version,
            updated_at: row.created_at,
            updated_by: row.created_by.clone(),
            updated_by_name: row.created_by_name.clone(),
        }
    }
}

/// One version with its document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CharterVersionDocument {
    pub version: i64,
    pub toml: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub updated_by: Option<String>,
    pub updated_by_name: String,
}

impl From<CharterVersionRow> for CharterVersionDocument {
    fn from(row: CharterVersionRow) -> Self {
        CharterVersionDocument {
            version: row.version,
            toml: row.toml,
            updated_at: row.created_at,
            updated_by: row.created_by,
            updated_by_name: row.created_by_name,
        }
    }
}

/// What changed from one version to another.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CharterDiffView {
    pub from: i64,
    pub to: i64,
    /// A unified diff (`--- v1`, `+++ v2`, three lines of context); empty when equal.
    pub unified: String,
    /// Every line of both versions in order.
    pub lines: Vec<DiffLineView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DiffLineView {
    /// `equal`, `insert` (only in `to`) or `delete` (only in `from`).
    pub tag: String,
    /// 1-based line number in `from`, when the line is there.
    pub old_line: Option<usize>,
    pub new_line: Option<usize>,
    pub text: String,
}

impl From<DiffLine> for DiffLineView {
    fn from(line: DiffLine) -> Self {
        let tag = match line.tag {
            DiffTag::Equal => "equal",
            DiffTag::Insert => "insert",
            DiffTag::Delete => "delete",
        };
        DiffLineView {
            tag: tag.to_owned(),
            old_line: line.old_line,
            new_line: line.new_line,
            text: line.text,
        }
    }
}

/// A recorded review (sign-off) of the charter.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CharterReviewView {
    pub id: String,
    /// The version that was reviewed.
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub reviewed_at: Timestamp,
    pub reviewed_by: String,
    pub reviewed_by_name: String,
    pub note: String,
}

impl From<&CharterReviewRow> for CharterReviewView {
    fn from(row: &CharterReviewRow) -> Self {
        CharterReviewView {
            id: row.id.clone(),
            version: row.version,
            reviewed_at: row.reviewed_at,
            reviewed_by: row.reviewed_by.clone(),
            reviewed_by_name: row.reviewed_by_name.clone(),
            note: row.note.clone(),
        }
    }
}
