//! Sending messages (docs/api.md › Conversations and messages): validated here, decided
//! and sequenced inside the group commit, acknowledged after it.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::audience_of;
use crate::conversation::commit::ConversationQueued;
use crate::conversation::view::MessageView;
use crate::{App, new_id};
use fandesk_domain::{
    ConversationId, MessageId, Principal, Visibility, validate_body, validate_client_msg_id,
};
use fandesk_store::{WriteOp, WriteOutcome};

#[derive(Clone, Debug)]
pub struct SendMessage {
    pub client_msg_id: String,
    pub body: String,
    /// `public` when absent.
    pub visibility: Option<String>,
    pub template_id: Option<String>,
    /// A whisper's addressee: a team member id (internal messages only).
    pub to: Option<String>,
}

/// The acknowledged message, as the sender sees it.
#[derive(Clone, Debug)]
pub struct Sent {
    pub message: MessageView,
    /// False when this `client_msg_id` had been sent before (the original is returned).
    pub created: bool,
}

/// A send queued for commit; [`PendingSend::wait`] yields the acknowledgement.
pub struct PendingSend {
    queued: ConversationQueued,
    audience: fandesk_domain::Audience,
    metrics: std::sync::Arc<crate::Metrics>,
    /// The agent desk's follow-up once committed (routing, SLA timer, canned usage).
    desk: Option<crate::desk::AfterSend>,
}

impl PendingSend {
    /// Waits for the commit. Resolves only after the message is durable.
    pub async fn wait(self) -> ServiceResult<Sent> {
        let (row, created) = match self.queued.wait().await? {
            WriteOutcome::Created { message, .. } => (message, true),
            WriteOutcome::Duplicate { message } => (message, false),
        };
        self.metrics.acks.inc();
        if created && let Some(desk) = self.desk {
            desk.committed(&row);
        }
        let message = MessageView::new(&row, self.audience)
            .ok_or_else(|| ServiceError::Internal("sender cannot see own message".into()))?;
        Ok(Sent { message, created })
    }
}

impl App {
    /// Validates and queues a send without waiting for its commit, so one connection can
    /// pipeline sends while their acknowledgements keep the send order.
    pub async fn begin_send(
        &self,
        actor: &Principal,
        conversation_id: &str,
        input: SendMessage,
    ) -> ServiceResult<PendingSend> {
        validate_client_msg_id(&input.client_msg_id)?;
        let body = validate_body(&input.body)?;
        let visibility = match input.visibility.as_deref() {
            None => Visibility::Public,
            Some(text) => Visibility::parse(text).ok_or_else(|| {
                ServiceError::invalid("visibility", "must be \"public\" or \"internal\"")
            })?,
        };
        // Existence, read access and posting rules are decided once, inside the commit
        // (an unknown or another fan's conversation is `Hidden` there, a plain 404): the
        // hot path does not read the conversation twice. Shift-scoped access and the canned
        // first-line rule (docs/api.md › Canned responses) read it only for a template.
        let canned = self
            .check_desk_send(actor, conversation_id, &body, input.template_id.as_deref())
            .await?;
        let extras = self
            .post_extras(actor, visibility, &body, input.to.as_deref())
            .await?;
        let op = WriteOp::Post {
            message_id: MessageId(new_id("msg")),
            conversation_id: ConversationId::from(conversation_id),
            author: actor.clone(),
            client_msg_id: Some(input.client_msg_id),
            body,
            visibility,
            at: self.now(),
            extras,
        };
        let queued = self.inner.writer.enqueue(op).await?;
        let desk = self.after_send(actor.is_fan(), canned);
        Ok(PendingSend {
            queued,
            audience: audience_of(actor),
            metrics: self.inner.metrics.clone(),
            desk,
        })
    }

    /// Sends and waits for the acknowledgement (REST).
    pub async fn send_message(
        &self,
        actor: &Principal,
        conversation_id: &str,
        input: SendMessage,
    ) -> ServiceResult<Sent> {
        self.begin_send(actor, conversation_id, input)
            .await?
            .wait()
            .await
    }
}
