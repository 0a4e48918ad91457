//! Posting in a channel and reading it (docs/api.md › Team channels): messages are
//! idempotent by author and `client_msg_id` like conversation messages, tagged by their
//! prefix (`DECISION:`, `ACTION:`, `ACTION(@Name):` — a name that matches no member is
//! refused to the author, never dropped silently), threaded on a root message, and a
//! thread's summary is posted back to the channel, linked to it. Writes go through the
//! channels' group commit, so a message is acknowledged only once it is committed and
//! published on `channel:{id}`.

use crate::app::error::{ServiceError, ServiceResult};
use crate::channel::commit::ChannelOutcomeExt;
use crate::channel::view::ChannelMessageView;
use crate::commit::Queued;
use crate::conversation::MAX_PAGE;
use crate::live::frame::channel_message_frame;
use crate::{App, SendMessage, new_id};
use bytes::Bytes;
use fandesk_domain::channel::tag::resolve_owner;
use fandesk_domain::channel::{ChannelId, DecisionId, may_post, parse_tag};
use fandesk_domain::{AuthorKind, MessageId, Principal, validate_body, validate_client_msg_id};
use fandesk_store::{
    ChannelMessageFilter, ChannelMessageRow, ChannelOp, ChannelOutcome, NewDecision,
};

/// A channel message to post.
#[derive(Clone, Debug, Default)]
pub struct ChannelPost {
    /// Required for messages; optional for a thread's summary.
    pub client_msg_id: Option<String>,
    pub body: String,
    pub thread_root_id: Option<String>,
    pub summary_of: Option<String>,
}

/// The acknowledged channel message.
#[derive(Clone, Debug)]
pub struct ChannelSent {
    pub message: ChannelMessageView,
    /// False when this `client_msg_id` had been sent before (the original is returned).
    pub created: bool,
}

/// A channel post queued for commit; [`PendingChannelSend::wait`] yields it.
pub struct PendingChannelSend(Queued<ChannelOutcome>);

impl PendingChannelSend {
    pub async fn wait(self) -> ServiceResult<ChannelSent> {
        let (message, created) = self.0.wait().await?.message()?;
        Ok(ChannelSent { message, created })
    }
}

impl App {
    /// `POST /channels/{id}/messages`: posts and waits for the commit.
    pub async fn post_channel_message(
        &self,
        actor: &Principal,
        channel_id: &str,
        post: ChannelPost,
    ) -> ServiceResult<ChannelSent> {
        self.begin_channel_post(actor, channel_id, post)
            .await?
            .wait()
            .await
    }

    /// `POST /channels/{id}/threads/{root_id}/summary`: the summary is a channel message
    /// (not a reply) linked to the thread by `summary_of`.
    pub async fn post_thread_summary(
        &self,
        actor: &Principal,
        channel_id: &str,
        root_id: &str,
        client_msg_id: Option<String>,
        body: &str,
    ) -> ServiceResult<ChannelSent> {
        let post = ChannelPost {
            client_msg_id,
            body: body.to_owned(),
            thread_root_id: None,
            summary_of: Some(root_id.to_owned()),
        };
        self.post_channel_message(actor, channel_id, post).await
    }

    /// A WebSocket `send` on `channel:{id}`: queued without waiting, acknowledged after
    /// the commit. Conversation-only fields are refused.
    pub async fn begin_channel_send(
        &self,
        actor: &Principal,
        channel_id: &str,
        input: SendMessage,
    ) -> ServiceResult<PendingChannelSend> {
        let fields = [
            ("visibility", input.visibility.is_some()),
            ("template_id", input.template_id.is_some()),
            ("to", input.to.is_some()),
        ];
        if let Some((field, _)) = fields.into_iter().find(|(_, present)| *present) {
            return Err(ServiceError::invalid(field, "is not taken by a channel"));
        }
        let post = ChannelPost {
            client_msg_id: Some(input.client_msg_id),
            body: input.body,
            thread_root_id: None,
            summary_of: None,
        };
        self.begin_channel_post(actor, channel_id, post).await
    }

    async fn begin_channel_post(
        &self,
        actor: &Principal,
        channel_id: &str,
        post: ChannelPost,
    ) -> ServiceResult<PendingChannelSend> {
        let channel = self.readable_channel(actor, channel_id).await?;
        may_post(actor, channel.kind)?;
        match &post.client_msg_id {
            Some(key) => validate_client_msg_id(key)?,
            None if post.summary_of.is_none() => {
                return Err(ServiceError::invalid("client_msg_id", "is required"));
            }
            None => {}
        }
        let body = validate_body(&post.body)?;
        // Ids are visible ASCII like idempotency keys; a summary's root is in the path, so
        // a malformed one is simply not found.
        if let Some(id) = &post.thread_root_id {
            validate_client_msg_id(id).map_err(|_| {
                ServiceError::invalid("thread_root_id", "must be a message id of this channel")
            })?;
        }
        if let Some(id) = &post.summary_of {
            validate_client_msg_id(id).map_err(|_| ServiceError::NotFound("message"))?;
        }
        let decision = self.decision_of(actor, &body).await?;
        let message = ChannelMessageRow {
            id: MessageId(new_id("cmsg")),
            channel_id: channel.id,
            seq: 0,
            author_kind: AuthorKind::Member,
            author_id: actor.author_id().to_owned(),
            author_name: actor.name().to_owned(),
            client_msg_id: post.client_msg_id,
            body,
            thread_root_id: post.thread_root_id.map(MessageId),
            summary_of: post.summary_of.map(MessageId),
            tag: decision.as_ref().map(|decision| decision.kind),
            created_at: self.now(),
        };
        let queued = self
            .inner
            .channels
            .enqueue(ChannelOp::Post { message, decision })
            .await?;
        Ok(PendingChannelSend(queued))
    }

    /// The decision-log entry a body's prefix asks for; an `ACTION(@Name):` naming no
    /// active member is refused (422 on `body`).
    async fn decision_of(
        &self,
        actor: &Principal,
        body: &str,
    ) -> ServiceResult<Option<NewDecision>> {
        let Some(tag) = parse_tag(body)? else {
            return Ok(None);
        };
        let owner_id = match (tag.kind, &tag.owner_name) {
            (fandesk_domain::channel::DecisionKind::Decision, _) => None,
            (_, None) => Some(actor.author_id().to_owned()),
            (_, Some(name)) => {
                let team = self.store().list_member_names().await?;
                let owner = resolve_owner(name, &team).ok_or_else(|| {
                    ServiceError::invalid(
                        "body",
                        format!("ACTION(@{name}): no active team member is named {name:?}"),
                    )
                })?;
                Some(owner.to_owned())
            }
        };
        Ok(Some(NewDecision {
            id: DecisionId(new_id("dec")),
            kind: tag.kind,
            text: tag.text,
            owner_id,
        }))
    }

    /// `GET /channels/{id}/messages?after_seq=&thread_root_id=&limit=`.
    pub async fn list_channel_messages(
        &self,
        actor: &Principal,
        channel_id: &str,
        filter: ChannelMessageFilter,
        limit: u32,
    ) -> ServiceResult<Vec<ChannelMessageView>> {
        let channel = self.readable_channel(actor, channel_id).await?;
        let rows = self
            .store()
            .list_channel_messages(&channel.id, &filter, limit.clamp(1, MAX_PAGE))
            .await?;
        Ok(rows.iter().map(ChannelMessageView::new).collect())
    }

    /// A channel's last `seq` for a subscription of `actor`, checking `after_seq`.
    pub(crate) async fn channel_for_subscription(
        &self,
        actor: &Principal,
        id: &str,
        after_seq: Option<u64>,
    ) -> ServiceResult<ChannelId> {
        let channel = self.readable_channel(actor, id).await?;
        if after_seq.is_some_and(|after| after > channel.last_seq) {
            return Err(past_the_end(channel.last_seq));
        }
        Ok(channel.id)
    }

    /// One page of a channel's timeline after `after_seq`, framed, and whether it was the
    /// last.
    pub(crate) async fn channel_replay_page(
        &self,
        id: &ChannelId,
        topic: &str,
        after_seq: u64,
    ) -> ServiceResult<(Vec<(u64, Bytes)>, bool)> {
        let filter = ChannelMessageFilter {
            after_seq,
            thread_root_id: None,
        };
        let rows = self
            .store()
            .list_channel_messages(id, &filter, MAX_PAGE)
            .await?;
        let exhausted = rows.len() < MAX_PAGE as usize;
        Ok((
            rows.iter()
                .map(|row| (row.seq, channel_message_frame(topic, row)))
                .collect(),
            exhausted,
        ))
    }
}

fn past_the_end(last: u64) -> ServiceError {
    ServiceError::invalid(
        "after_seq",
        format!("is past the end of this timeline (last seq is {last})"),
    )
}
