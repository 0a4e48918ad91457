//! Members, fans and bearer tokens (docs/api.md › Authentication): team members and
//! their passwords ([`members`]), changing them ([`member_change`]), fan sessions, bearer tokens and their revocation
//! ([`sessions`]), the owner's integration API tokens ([`api_tokens`]), and their JSON
//! views ([`view`]). Passwords are argon2id hashes; tokens
//! are 256 random bits handed out once and stored as their SHA-256.

pub(crate) mod api_tokens;
mod hashing;
pub(crate) mod member_change;
pub(crate) mod members;
pub(crate) mod sessions;
pub(crate) mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::jobs::{FirstRun, JobsConfig, Registry};
use fandesk_domain::Principal;
use jiff::Timestamp;
use view::MemberView;

/// An authenticated bearer.
#[derive(Clone, Debug)]
pub struct Session {
    pub principal: Principal,
    /// SHA-256 of the token: identifies the session without holding the secret.
    pub token_hash: String,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct LoginResult {
    pub token: String,
    pub member: MemberView,
}

#[derive(Clone, Debug)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// A change of a member (`PATCH /members/{id}`): each field present is changed.
#[derive(Clone, Debug, Default)]
pub struct MemberUpdate {
    pub name: Option<String>,
    pub role: Option<String>,
    /// `false` deactivates (sessions end, login refused); `true` reactivates.
    pub active: Option<bool>,
    /// A new password set by the owner; the member's sessions end.
    pub password: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewFanSession {
    pub display_name: String,
    pub external_id: Option<String>,
    pub timezone: Option<String>,
    pub signature: Option<String>,
}

fn check_text(field: &str, value: &str, max_chars: usize) -> ServiceResult<String> {
    let trimmed = value.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Expired sessions are refused anyway; deleting them keeps the sessions table small.
pub(crate) fn register_jobs(jobs: &mut Registry, config: &JobsConfig) {
    jobs.every(
        "session purge",
        config.session_purge_every,
        FirstRun::AtStart,
        |app| {
            Box::pin(async move {
                match app.purge_expired_sessions().await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "purged expired sessions"),
                    Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
                }
                if let Err(error) = app.purge_login_failures().await {
                    tracing::warn!(%error, "could not purge old failed-login counts");
                }
            })
        },
    );
}
