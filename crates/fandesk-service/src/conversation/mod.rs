//! Conversations (docs/product.md › Conversations): open, read, list, resolve, reopen and
//! the other changes; snoozing ([`snooze`]); sending ([`message`]), the group-commit batch that decides and
//! publishes them ([`commit`]), supervision ([`supervision`]), the collision view
//! ([`presence`]) and the JSON views ([`view`]).

pub(crate) mod commit;
pub(crate) mod message;
pub(crate) mod presence;
pub(crate) mod snooze;
pub(crate) mod supervision;
pub(crate) mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::live::publish::{Audiences, publish_conversation};
use crate::{App, new_id};
use fandesk_domain::conversation::Transition;
use fandesk_domain::snooze::fan_status;
use fandesk_domain::{
    Audience, Capability, ConversationId, MessageId, Principal, can_read_conversation,
};
use fandesk_store::{ConversationFilter, ConversationRow, StoreError, WriteOp, WriteOutcome};
use view::{ConversationView, MessageView};

/// Largest page of conversations or messages.
pub const MAX_PAGE: u32 = 200;

pub(crate) fn audience_of(principal: &Principal) -> Audience {
    if principal.is_fan() {
        Audience::Fan
    } else {
        Audience::Team
    }
}

impl App {
    /// A fan opens a conversation or continues their unresolved one. Returns the view and
    /// whether it was created.
    pub async fn open_conversation(
        &self,
        actor: &Principal,
    ) -> ServiceResult<(ConversationView, bool)> {
        let Principal::Fan { id: fan_id, .. } = actor else {
            return Err(ServiceError::Forbidden(
                "only fans open conversations".into(),
            ));
        };
        if let Some(existing) = self.store().find_active_conversation(fan_id).await? {
            return Ok((ConversationView::new(&existing, Audience::Fan), false));
        }
        let now = self.now();
        let row = ConversationRow::new_open(ConversationId(new_id("cnv")), fan_id.clone(), now);
        match self.store().insert_conversation(&row).await {
            Ok(()) => {
                publish_conversation(self.bus().as_ref(), &row, Audiences::TeamAndFan);
                commit::emit_conversation(&self.inner.integrations.emitter, &row);
                self.desk_opened(&row.id, row.created_at);
                Ok((ConversationView::new(&row, Audience::Fan), true))
            }
            // A concurrent open won the race: the one-unresolved-per-fan index kept a
            // single conversation, which is the one to continue.
            Err(StoreError::Conflict(_)) => {
                let existing = self
                    .store()
                    .find_active_conversation(fan_id)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Conflict("conversation changed concurrently; retry".into())
                    })?;
                Ok((ConversationView::new(&existing, Audience::Fan), false))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Loads a conversation the actor may read; others' conversations are `not_found`.
    pub(crate) async fn readable_conversation(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ConversationRow> {
        let row = self
            .store()
            .find_conversation(&ConversationId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        can_read_conversation(actor, &row.state())?;
        Ok(row)
    }

    pub async fn get_conversation(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ConversationView> {
        let row = self.readable_conversation(actor, id).await?;
        Ok(ConversationView::new(&row, audience_of(actor)))
    }

    /// The team lists any conversations; a fan lists only their own.
    pub async fn list_conversations(
        &self,
        actor: &Principal,
        mut filter: ConversationFilter,
    ) -> ServiceResult<Vec<ConversationView>> {
        if let Principal::Fan { id, .. } = actor {
            // Tags, names and priorities are team-only facts: a fan must not probe them.
            let desk_filter = filter.fan_name.is_some()
                || filter.tag.is_some()
                || filter.text.is_some()
                || filter.min_priority.is_some();
            if filter.assignee_id.is_some()
                || filter.unassigned
                || filter.fan_id.is_some()
                || desk_filter
            {
                return Err(ServiceError::Forbidden("fans filter only by status".into()));
            }
            filter.fan_id = Some(id.clone());
        }
        filter.limit = filter.limit.clamp(1, MAX_PAGE);
        let audience = audience_of(actor);
        // Fans filter by the status they are shown: a snoozed conversation is `open` to
        // them, and none is `snoozed`.
        // They are filtered here from a full page of their own conversations (a fan has few),
        // so a small `limit` still finds a matching older one.
        let limit = filter.limit as usize;
        let fan_wants = match (audience, filter.status) {
            (Audience::Fan, Some(status)) => {
                filter.status = None;
                filter.limit = MAX_PAGE;
                Some(status)
            }
            _ => None,
        };
        let rows = self.store().list_conversations(&filter).await?;
        Ok(rows
            .iter()
            .filter(|row| fan_wants.is_none_or(|wanted| fan_status(row.status) == wanted))
            .take(limit)
            .map(|row| ConversationView::new(row, audience))
            .collect())
    }

    pub async fn resolve(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        let view = self.transition(actor, id, Transition::Resolve).await?;
        // The assignee has capacity again: the desk offers them queued conversations.
        self.desk_rebalance();
        Ok(view)
    }

    pub async fn reopen(&self, actor: &Principal, id: &str) -> ServiceResult<ConversationView> {
        let view = self.transition(actor, id, Transition::Reopen).await?;
        // A new opening: scored, routed and timed afresh (docs/product.md › Routing,
        // priority and shifts).
        if let ConversationView::Team(team) = &view {
            self.desk_opened(&ConversationId::from(team.id.as_str()), team.updated_at);
        }
        Ok(view)
    }

    pub(crate) async fn transition(
        &self,
        actor: &Principal,
        id: &str,
        transition: Transition,
    ) -> ServiceResult<ConversationView> {
        actor.require(Capability::ChangeConversations)?;
        let row = self.readable_conversation(actor, id).await?;
        let op = WriteOp::Transition {
            message_id: MessageId(new_id("msg")),
            conversation_id: row.id,
            actor: actor.clone(),
            transition,
            at: self.now(),
        };
        match self.inner.writer.submit(op).await? {
            WriteOutcome::Created { conversation, .. } => {
                Ok(ConversationView::new(&conversation, Audience::Team))
            }
            WriteOutcome::Duplicate { .. } => Err(ServiceError::Internal(
                "status change reported as duplicate".into(),
            )),
        }
    }

    /// `GET /conversations/{id}/messages`: the timeline after `after_seq`, as the actor
    /// may see it (fans: public messages, numbered by the public sequence).
    pub async fn list_messages(
        &self,
        actor: &Principal,
        conversation_id: &str,
        after_seq: u64,
        limit: u32,
    ) -> ServiceResult<Vec<MessageView>> {
        let row = self.readable_conversation(actor, conversation_id).await?;
        let audience = audience_of(actor);
        let rows = self
            .store()
            .list_messages(&row.id, audience, after_seq, limit.clamp(1, MAX_PAGE))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|message| MessageView::new(message, audience))
            .collect())
    }
}
