//! "Reply later" (docs/api.md › Scheduled messages): a team member writes a public reply
//! now and it is sent at `send_at` as their own message — a human message, not an
//! automated one — unless they cancel it first. The reply and its job are written in one
//! transaction; the job posts it through the group commit with the idempotency key
//! `later-{id}`, so a retry after a crash answers with the message already sent. A reply
//! the conversation no longer takes (resolved meanwhile, the author no longer allowed)
//! ends `failed` with the reason instead of being retried.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::message::SendMessage;
use crate::jobs::JobKind;
use crate::{App, new_id};
use fandesk_domain::schedule::validate_send_at;
use fandesk_domain::{Capability, MemberId, Principal, validate_body, validate_client_msg_id};
use fandesk_store::{JobRow, NewJob, ScheduledReplyRow, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Pending and past scheduled replies listed per conversation at most.
const LIST_MAX: u32 = 200;

/// A reply to be sent later, as the team sees it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ScheduledReplyView {
    /// Its id (`DELETE /api/v1/scheduled-replies/{id}` cancels it while pending).
    pub scheduled_id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub client_msg_id: String,
    pub body: String,
    #[schema(value_type = String, format = DateTime)]
    pub send_at: Timestamp,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub status: String,
    /// The message once sent.
    pub message_id: Option<String>,
    /// Why a `failed` reply was not sent.
    pub failure: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl ScheduledReplyView {
    fn new(row: &ScheduledReplyRow) -> ScheduledReplyView {
        ScheduledReplyView {
            scheduled_id: row.id.clone(),
            conversation_id: row.conversation_id.0.clone(),
            author_id: row.author_id.0.clone(),
            client_msg_id: row.client_msg_id.clone(),
            body: row.body.clone(),
            send_at: row.send_at,
            status: row.status.clone(),
            message_id: row.message_id.as_ref().map(|id| id.0.clone()),
            failure: row.failure.clone(),
            created_at: row.created_at,
        }
    }
}

/// The job's facts: which reply.
#[derive(Serialize, Deserialize)]
struct ReplyJob {
    reply_id: String,
}

/// The team member behind `actor`, who may schedule replies (humans: fans and bots may
/// not).
fn scheduling_member(actor: &Principal) -> ServiceResult<&MemberId> {
    actor.require(Capability::ScheduleReplies)?;
    match actor {
        Principal::Member { id, .. } => Ok(id),
        Principal::Fan { .. } => Err(ServiceError::Forbidden(
            "only team members schedule replies".into(),
        )),
    }
}

impl App {
    /// Schedules `input` (public) in `conversation_id` for `send_at`. The same
    /// `client_msg_id` from the same member in the same conversation again returns the
    /// reply scheduled first (`false`).
    pub async fn schedule_reply(
        &self,
        actor: &Principal,
        conversation_id: &str,
        input: SendMessage,
        send_at: Timestamp,
    ) -> ServiceResult<(ScheduledReplyView, bool)> {
        let author = scheduling_member(actor)?;
        validate_client_msg_id(&input.client_msg_id)?;
        let body = validate_body(&input.body)?;
        if input.visibility.as_deref().is_some_and(|v| v != "public") {
            return Err(ServiceError::invalid(
                "visibility",
                "a reply sent later is public",
            ));
        }
        if input.to.is_some() {
            return Err(ServiceError::invalid("to", "a reply sent later is public"));
        }
        let now = self.now();
        validate_send_at(send_at, now)?;
        let conversation = self.readable_conversation(actor, conversation_id).await?;
        if let Some(first) = self
            .store()
            .find_scheduled_reply_by_key(author, &input.client_msg_id, &conversation.id)
            .await?
        {
            return Ok((ScheduledReplyView::new(&first), false));
        }
        let row = ScheduledReplyRow {
            id: new_id("sch"),
            conversation_id: conversation.id.clone(),
            author_id: author.clone(),
            client_msg_id: input.client_msg_id.clone(),
            body,
            template_id: input.template_id.clone(),
            canned_unedited: false,
            send_at,
            status: "pending".into(),
            message_id: None,
            failure: None,
            created_at: now,
            updated_at: now,
        };
        let payload = serde_json::to_string(&ReplyJob {
            reply_id: row.id.clone(),
        })
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
        let job = NewJob {
            id: new_id("job"),
            kind: JobKind::ScheduledReply.as_str().into(),
            key: format!("reply:{}", row.id),
            payload,
            due_at: send_at,
        };
        match self.store().insert_scheduled_reply(&row, &job).await {
            Ok(()) => Ok((ScheduledReplyView::new(&row), true)),
            // The same request raced itself: the first one stands.
            Err(StoreError::Conflict(_)) => {
                let first = self
                    .store()
                    .find_scheduled_reply_by_key(author, &input.client_msg_id, &conversation.id)
                    .await?
                    .ok_or_else(|| ServiceError::Internal("scheduled reply vanished".into()))?;
                Ok((ScheduledReplyView::new(&first), false))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// A conversation's scheduled replies (pending, then the rest), for the team.
    pub async fn list_scheduled_replies(
        &self,
        actor: &Principal,
        conversation_id: &str,
    ) -> ServiceResult<Vec<ScheduledReplyView>> {
        scheduling_member(actor)?;
        let conversation = self.readable_conversation(actor, conversation_id).await?;
        let rows = self
            .store()
            .list_scheduled_replies(&conversation.id, false, LIST_MAX)
            .await?;
        Ok(rows.iter().map(ScheduledReplyView::new).collect())
    }

    /// Cancels a pending reply: its author, or an owner or supervisor. A reply already
    /// sent, failed or cancelled is `409 conflict`.
    pub async fn cancel_scheduled_reply(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ScheduledReplyView> {
        let member = scheduling_member(actor)?;
        let row = self
            .store()
            .find_scheduled_reply(id)
            .await?
            .ok_or(ServiceError::NotFound("scheduled reply"))?;
        // Only those who may read the conversation learn that the reply exists.
        self.readable_conversation(actor, row.conversation_id.as_str())
            .await
            .map_err(|_| ServiceError::NotFound("scheduled reply"))?;
        if row.author_id != *member && !actor.may(Capability::SuperviseConversations) {
            return Err(ServiceError::Forbidden(
                "only its author, an owner or a supervisor cancels a scheduled reply".into(),
            ));
        }
        if !self.store().cancel_scheduled_reply(id, self.now()).await? {
            return Err(ServiceError::Conflict(format!(
                "the reply is already {}",
                row.status
            )));
        }
        let row = self
            .store()
            .find_scheduled_reply(id)
            .await?
            .ok_or(ServiceError::NotFound("scheduled reply"))?;
        Ok(ScheduledReplyView::new(&row))
    }

    /// Sends a due reply as its author. Refusals the conversation gives (resolved, the
    /// author may no longer post there) end the reply `failed`; anything else is retried.
    pub(crate) async fn run_scheduled_reply_job(&self, job: &JobRow) -> ServiceResult<()> {
        let Ok(facts) = serde_json::from_str::<ReplyJob>(&job.payload) else {
            tracing::warn!(job = %job.id, "unreadable scheduled-reply job; dropped");
            return Ok(());
        };
        let Some(reply) = self.store().find_scheduled_reply(&facts.reply_id).await? else {
            return Ok(());
        };
        if reply.status != "pending" {
            return Ok(());
        }
        let Some(member) = self.store().find_member(&reply.author_id).await? else {
            return self
                .fail_reply(&reply, "its author is no longer a team member")
                .await;
        };
        let author = Principal::Member {
            id: member.id,
            role: member.role,
            name: member.name,
        };
        let input = SendMessage {
            client_msg_id: format!("later-{}", reply.id),
            body: reply.body.clone(),
            visibility: None,
            template_id: None,
            to: None,
        };
        match self
            .send_message(&author, reply.conversation_id.as_str(), input)
            .await
        {
            Ok(sent) => {
                let message_id = fandesk_domain::MessageId(sent.message.id.clone());
                self.store()
                    .finish_scheduled_reply(&reply.id, "sent", Some(&message_id), None, self.now())
                    .await?;
                Ok(())
            }
            Err(
                error @ (ServiceError::Forbidden(_)
                | ServiceError::NotFound(_)
                | ServiceError::Conflict(_)
                | ServiceError::InvalidRequest { .. }
                | ServiceError::BotRuleViolation(_)
                | ServiceError::CannedFirstLineUnedited),
            ) => self.fail_reply(&reply, &error.to_string()).await,
            Err(error) => Err(error),
        }
    }

    async fn fail_reply(&self, reply: &ScheduledReplyRow, why: &str) -> ServiceResult<()> {
        tracing::info!(reply = %reply.id, why, "a scheduled reply could not be sent");
        self.store()
            .finish_scheduled_reply(&reply.id, "failed", None, Some(why), self.now())
            .await?;
        Ok(())
    }
}
