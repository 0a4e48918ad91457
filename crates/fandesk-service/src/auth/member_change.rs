//! Changing a team member (docs/api.md › Members): the owner renames, changes the role of,
//! deactivates, reactivates or sets a new password for a member. Deactivation and a new
//! password end the member's sessions (their WebSockets close with 4001 on every node); a
//! deactivated member cannot log in, is assigned nothing, and keeps their conversations
//! and messages. The last active owner cannot be demoted or deactivated
//! (`fandesk_domain::team`). Every change is audit-logged (`member_update`, who and what,
//! never the password) in the transaction that makes it.

use crate::app::error::{ServiceError, ServiceResult};
use crate::auth::members::{check_password, hash_password};
use crate::auth::view::MemberView;
use crate::auth::{MemberUpdate, check_text};
use crate::{App, new_id};
use fandesk_domain::team::MEMBER_UPDATE;
use fandesk_domain::{Capability, MemberId, Principal, Role};
use fandesk_store::{AuditRow, MemberChange};
use serde::Serialize;

/// The details of a `member_update` audit entry: whom, and what changed (never the
/// password itself).
#[derive(Serialize)]
struct MemberAudit<'a> {
    member_id: &'a str,
    member_name: &'a str,
    changes: &'a [String],
}

impl App {
    /// `PATCH /members/{id}`: owner only. Each field present is changed (none: nothing is); the
    /// member as changed.
    pub async fn update_member(
        &self,
        actor: &Principal,
        id: &str,
        input: MemberUpdate,
    ) -> ServiceResult<MemberView> {
        actor.require(Capability::ManageMembers)?;
        let name = input
            .name
            .as_deref()
            .map(|name| check_text("name", name, 100))
            .transpose()?;
        let role = input
            .role
            .as_deref()
            .map(|role| {
                Role::parse(role).ok_or_else(|| {
                    ServiceError::invalid(
                        "role",
                        "must be one of owner, supervisor, escalation_lead, agent, bot",
                    )
                })
            })
            .transpose()?;
        if let Some(password) = &input.password {
            check_password(password)?;
        }
        let mut member = self
            .store()
            .find_member(&MemberId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("member"))?;
        let mut revoke_sessions = false;
        let mut changes = Vec::new();
        if let Some(name) = name
            && name != member.name
        {
            changes.push(format!("renamed from {}", member.name));
            member.name = name;
        }
        if let Some(role) = role
            && role != member.role
        {
            changes.push(format!("role {} → {}", member.role.as_str(), role.as_str()));
            member.role = role;
        }
        match input.active {
            Some(false) if member.is_active() => {
                member.deactivated_at = Some(self.now());
                revoke_sessions = true;
                changes.push("deactivated".to_owned());
            }
            Some(true) if !member.is_active() => {
                member.deactivated_at = None;
                changes.push("reactivated".to_owned());
            }
            _ => {}
        }
        if input.password.is_some() {
            changes.push("new password".to_owned());
        }
        let audit = (!changes.is_empty()).then(|| AuditRow {
            id: new_id("aud"),
            actor_id: actor.author_id().to_owned(),
            actor_name: actor.name().to_owned(),
            action: MEMBER_UPDATE.to_owned(),
            conversation_id: None,
            details: serde_json::to_string(&MemberAudit {
                member_id: member.id.as_str(),
                member_name: &member.name,
                changes: &changes,
            })
            .unwrap_or_else(|_| "{}".to_owned()),
            created_at: self.now(),
        });
        if let Some(password) = input.password {
            member.password_hash = {
                let _slot = self.password_slot().await?;
                hash_password(password).await?
            };
            revoke_sessions = true;
        }
        let change = MemberChange {
            member,
            revoke_sessions,
            audit,
        };
        let revoked = self.store().update_member(&change).await?;
        for hash in revoked {
            self.announce_revoked(hash);
        }
        Ok(MemberView::from(&change.member))
    }
}
