//! What clients see of the team and of fans: the JSON of members and of a fan's session.

use fandesk_store::{FanRow, MemberRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `owner`, `supervisor`, `escalation_lead`, `agent` or `bot`.
    pub role: String,
    /// `false` once the owner deactivated the member: they cannot log in.
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&MemberRow> for MemberView {
    fn from(row: &MemberRow) -> Self {
        MemberView {
            id: row.id.0.clone(),
            email: row.email.clone(),
            name: row.name.clone(),
            role: row.role.as_str().to_owned(),
            active: row.is_active(),
            created_at: row.created_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanView {
    pub id: String,
    pub display_name: String,
}

impl From<&FanRow> for FanView {
    fn from(row: &FanRow) -> Self {
        FanView {
            id: row.id.0.clone(),
            display_name: row.display_name.clone(),
        }
    }
}
