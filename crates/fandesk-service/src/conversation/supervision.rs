//! Supervision (docs/product.md › Supervision): monitor, assign, escalate, take over, hand
//! back, the audit log and the message review. Changes go through the group commit as
//! timeline entries; the audit rows are written in the same transaction.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::MAX_PAGE;
use crate::conversation::view::{ConversationView, MessageView};
use crate::live::event::{PresenceState, ServerEvent};
use crate::{App, new_id};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{Audience, Capability, MemberId, Principal, Role, Topic};
use fandesk_store::{AuditFilter, AuditRow, ReviewFilter};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: String,
    pub actor_id: String,
    pub actor_name: String,
    /// `monitor`, `whisper`, `takeover`, `handback`, `reassign`, `escalate`, `member_update`.
    pub action: String,
    pub conversation_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&AuditRow> for AuditView {
    fn from(row: &AuditRow) -> Self {
        AuditView {
            id: row.id.clone(),
            actor_id: row.actor_id.clone(),
            actor_name: row.actor_name.clone(),
            action: row.action.clone(),
            conversation_id: row.conversation_id.as_ref().map(|id| id.0.clone()),
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            created_at: row.created_at,
        }
    }
}

impl App {
    /// Silent join: audited, announced to the team only (collision view), never to the
    /// fan. The live events themselves arrive through `subscribe conversation:{id}`.
    pub async fn monitor(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        actor.require(Capability::Monitor)?;
        let row = self.readable_conversation(actor, id).await?;
        if actor.role() == Some(Role::EscalationLead) && !row.escalated {
            return Err(ServiceError::Forbidden(
                "escalation leads monitor escalated conversations".into(),
            ));
        }
        let now = self.now();
        self.store()
            .insert_audit(&AuditRow {
                id: new_id("aud"),
                actor_id: actor.author_id().to_owned(),
                actor_name: actor.name().to_owned(),
                action: "monitor".to_owned(),
                conversation_id: Some(row.id.clone()),
                details: "{}".to_owned(),
                created_at: now,
            })
            .await?;
        let topic = Topic::Conversation(row.id.clone()).to_string();
        let event = ServerEvent::Presence {
            member_id: actor.author_id(),
            name: actor.name(),
            state: PresenceState::Monitoring,
        };
        self.publish_team(&topic, &event);
        Ok(ConversationView::new(&row, Audience::Team))
    }

    /// Assigns to `member_id` (supervisors) or picks from the queue (an agent assigning
    /// themselves an unassigned conversation).
    pub async fn assign(
        &self,
        actor: &Principal,
        id: &str,
        member_id: &str,
    ) -> ServiceResult<ConversationView> {
        let member = self
            .store()
            .find_member(&MemberId::from(member_id))
            .await?
            .filter(|member| member.is_active())
            .ok_or_else(|| ServiceError::invalid("member_id", "no active member with this id"))?;
        let transition = Transition::Assign {
            member: member.id,
            name: member.name,
            role: member.role,
        };
        self.transition(actor, id, transition).await
    }

    pub async fn unassign(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        self.transition(actor, id, Transition::Unassign).await
    }

    /// Hands the conversation to `lead_id`, or to the least loaded escalation lead on
    /// shift, on the charter's escalation path for `reason` if one matches
    /// (`App::choose_lead`).
    pub async fn escalate(
        &self,
        actor: &Principal,
        id: &str,
        reason: &str,
        lead_id: Option<&str>,
    ) -> ServiceResult<ConversationView> {
        // Authorize first: a caller who may not escalate never reaches the lead choice,
        // whose roster reads and off-shift alert would otherwise be theirs to trigger.
        actor.require(Capability::ChangeConversations)?;
        let row = self.readable_conversation(actor, id).await?;
        Transition::check_escalation(actor, &row.state(), reason)?;
        let (lead, off_shift) = match lead_id {
            Some(lead_id) => {
                let lead = self
                    .store()
                    .find_member(&MemberId::from(lead_id))
                    .await?
                    .filter(|lead| lead.is_active())
                    .ok_or_else(|| {
                        ServiceError::invalid("lead_id", "no active member with this id")
                    })?;
                if lead.role != Role::EscalationLead {
                    return Err(ServiceError::invalid(
                        "lead_id",
                        "is not an escalation lead",
                    ));
                }
                (lead, false)
            }
            None => {
                let choice = self.choose_lead(actor, reason).await?;
                (choice.lead, choice.off_shift)
            }
        };
        let lead_id = lead.id.clone();
        let transition = Transition::Escalate {
            lead: lead.id,
            name: lead.name,
            reason: reason.to_owned(),
        };
        let view = self.transition(actor, id, transition).await?;
        if off_shift {
            self.alert_off_shift_escalation(&row.id.0, &lead_id).await;
        }
        Ok(view)
    }

    pub async fn take_over(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        self.transition(actor, id, Transition::TakeOver).await
    }

    pub async fn hand_back(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        self.transition(actor, id, Transition::HandBack).await
    }

    /// The audit log, newest first (owner and supervisors), filtered by action, by who
    /// acted and by conversation.
    pub async fn list_audit(
        &self,
        actor: &Principal,
        mut filter: AuditFilter,
    ) -> ServiceResult<Vec<AuditView>> {
        actor.require(Capability::ReadAudit)?;
        if let Some(action) = &filter.action
            && !fandesk_domain::team::AUDITED_ACTIONS.contains(&action.as_str())
        {
            return Err(ServiceError::invalid(
                "action",
                format!(
                    "must be one of {}",
                    fandesk_domain::team::AUDITED_ACTIONS.join(", ")
                ),
            ));
        }
        for (field, value) in [
            ("actor_id", &filter.actor_id),
            ("conversation_id", &filter.conversation_id),
        ] {
            if value.as_deref().is_some_and(|id| {
                id.is_empty() || id.chars().count() > 100 || id.chars().any(char::is_control)
            }) {
                return Err(ServiceError::invalid(
                    field,
                    "must be 1 to 100 characters without control characters",
                ));
            }
        }
        filter.limit = filter.limit.clamp(1, MAX_PAGE);
        let rows = self.store().list_audit(&filter).await?;
        Ok(rows.iter().map(AuditView::from).collect())
    }

    /// Team messages with their reply times, newest first (docs/product.md › Supervision
    /// Message review).
    pub async fn review_messages(
        &self,
        actor: &Principal,
        mut filter: ReviewFilter,
    ) -> ServiceResult<Vec<MessageView>> {
        actor.require(Capability::ReviewMessages)?;
        filter.limit = filter.limit.clamp(1, MAX_PAGE);
        let rows = self.store().list_review_messages(&filter).await?;
        Ok(rows
            .iter()
            .filter_map(|row| MessageView::new(row, Audience::Team))
            .collect())
    }
}
