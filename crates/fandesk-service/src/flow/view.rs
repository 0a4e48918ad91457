//! The JSON views of flows and their versions (docs/api.md › Flows).

use fandesk_domain::flow::Flow;
use fandesk_store::{FlowRow, FlowVersionRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlowView {
    pub id: String,
    /// The document's `name` in its newest version.
    pub name: String,
    /// New conversations start this flow.
    pub active: bool,
    /// The version they start, when active.
    pub active_version: Option<i64>,
    pub latest_version: i64,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&FlowRow> for FlowView {
    fn from(row: &FlowRow) -> Self {
        FlowView {
            id: row.id.clone(),
            name: row.name.clone(),
            active: row.active_version.is_some(),
            active_version: row.active_version,
            latest_version: row.latest_version,
            created_by: row.created_by.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One version in a flow's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlowVersionView {
    pub version: i64,
    /// `yaml` or `json`.
    pub format: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&FlowVersionRow> for FlowVersionView {
    fn from(row: &FlowVersionRow) -> Self {
        FlowVersionView {
            version: row.version,
            format: row.format.clone(),
            created_by: row.created_by.clone(),
            created_at: row.created_at,
        }
    }
}

/// A flow with one version's source and its parsed document (the editor's preview draws
/// the tree from it), and the flow's versions, newest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FlowDetailView {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub active_version: Option<i64>,
    pub latest_version: i64,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The version shown.
    pub version: i64,
    /// `yaml` or `json`.
    pub format: String,
    pub source: String,
    /// The validated document: `name`, `start` and `steps` (docs/api.md › Flows).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    pub versions: Vec<FlowVersionView>,
}

impl FlowDetailView {
    pub(crate) fn new(
        flow: &FlowRow,
        row: &FlowVersionRow,
        document: &Flow,
        versions: Vec<FlowVersionView>,
    ) -> Self {
        let FlowView {
            id,
            name,
            active,
            active_version,
            latest_version,
            created_by,
            created_at,
            updated_at,
        } = FlowView::from(flow);
        FlowDetailView {
            id,
            name,
            active,
            active_version,
            latest_version,
            created_by,
            created_at,
            updated_at,
            version: row.version,
            format: row.format.clone(),
            source: row.source.clone(),
            document: serde_json::to_value(document).unwrap_or_default(),
            versions,
        }
    }
}
