//! Who uses fandesk: team members, fans, the bearer-token sessions of both, and the
//! owner's integration API tokens. The rows
//! live here; each table's queries have a file of their own.

mod api_token;
mod fan;
mod login_failure;
mod member;
mod member_change;
mod session;

pub use api_token::ApiTokenRow;
pub use member_change::MemberChange;

use crate::statement::Columns;
use fandesk_domain::{FanId, MemberId, Role};
use jiff::Timestamp;
use sqlx::FromRow;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow {
    pub id: MemberId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Timestamp,
    /// When the owner deactivated the member (they cannot log in); `None` while active.
    pub deactivated_at: Option<Timestamp>,
}

impl MemberRow {
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FanRow {
    pub id: FanId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub timezone: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// An account's consecutive failed logins (the login backoff's state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginFailures {
    pub failures: u32,
    pub last_failed_at: Timestamp,
}

/// Whom a bearer token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Member(MemberId),
    Fan(FanId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub subject: Subject,
    pub expires_at: Timestamp,
}

pub(crate) const MEMBER_COLUMNS: &str =
    "id, email, name, role, password_hash, created_at, deactivated_at";
pub(crate) const FAN_COLUMNS: &str =
    "id, display_name, external_id, timezone, created_at, last_seen_at";

impl<'r, R: Columns> FromRow<'r, R> for MemberRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(MemberRow {
            id: MemberId(row.text("id")?),
            email: row.text("email")?,
            name: row.text("name")?,
            role: row.parsed("role", "role", Role::parse)?,
            password_hash: row.text("password_hash")?,
            created_at: row.time("created_at")?,
            deactivated_at: row.optional_time("deactivated_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for FanRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FanRow {
            id: FanId(row.text("id")?),
            display_name: row.text("display_name")?,
            external_id: row.optional_text("external_id")?,
            timezone: row.optional_text("timezone")?,
            created_at: row.time("created_at")?,
            last_seen_at: row.time("last_seen_at")?,
        })
    }
}
