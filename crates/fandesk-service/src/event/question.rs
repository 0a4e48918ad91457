//! An event's Q&A (docs/product.md › Events › Q&A): fans ask (idempotent by
//! `client_msg_id`, under the room's slow mode and timeouts) and upvote (once each); the
//! team answers, pins and hides. Writes go through the questions' group-commit writer
//! (`event::commit`); reads list what the audience may see — fans never a hidden question.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::{MAX_PAGE, audience_of};
use crate::event::commit::QuestionWriter;
use crate::live::frame::question_entry_frame;
use crate::{App, Config, Metrics, new_id};
use bytes::Bytes;
use fandesk_bus::Bus;
use fandesk_domain::event::EventId;
use fandesk_domain::question::{
    QuestionAction, QuestionId, QuestionOrder, may_ask, may_upvote, validate_question_body,
};
use fandesk_domain::room::may_moderate;
use fandesk_domain::text::refuse_nul_in;
use fandesk_domain::{Audience, Principal, validate_client_msg_id};
use fandesk_store::{QuestionOp, QuestionOutcome, QuestionRow, Store};
use jiff::Timestamp;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// A question as its audience sees it. Fans never get one that is hidden.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub event_id: String,
    pub body: String,
    /// The asker's display name.
    pub author_name: String,
    pub upvotes: u64,
    /// `open`, `answered` or `pinned`; the team also sees `hidden`.
    pub state: String,
    /// Team only: the fan who asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan_id: Option<String>,
    /// REST answers to fans only: whether this fan has upvoted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upvoted: Option<bool>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl QuestionView {
    /// `None` when `audience` may not see the question.
    pub fn new(row: &QuestionRow, audience: Audience) -> Option<QuestionView> {
        if !row.state.visible_to(audience) {
            return None;
        }
        Some(QuestionView {
            id: row.id.0.clone(),
            event_id: row.event_id.0.clone(),
            body: row.body.clone(),
            author_name: row.author_name.clone(),
            upvotes: row.upvotes,
            state: row.state.as_str().to_owned(),
            fan_id: (audience == Audience::Team).then(|| row.fan_id.0.clone()),
            upvoted: None,
            created_at: row.created_at,
        })
    }
}

/// A question answer and whether the call changed anything.
#[derive(Clone, Debug)]
pub struct QuestionChange {
    pub question: QuestionView,
    /// False for a repeated ask (same `client_msg_id`), upvote or action.
    pub changed: bool,
}

/// The questions' writer and its upvote tally, started with the `App`.
pub(crate) fn start_writer(
    store: Store,
    bus: Arc<dyn Bus>,
    metrics: &Metrics,
    config: &Config,
) -> QuestionWriter {
    QuestionWriter::spawn(store, bus, metrics, config)
}

impl App {
    /// `POST /events/{id}/questions` (fans).
    pub async fn ask_question(
        &self,
        actor: &Principal,
        event_id: &str,
        client_msg_id: &str,
        body: &str,
    ) -> ServiceResult<QuestionChange> {
        let event = self.existing_event(event_id).await?;
        may_ask(actor, event.qa)?;
        validate_client_msg_id(client_msg_id)?;
        let body = validate_question_body(body)?;
        refuse_nul_in([("client_msg_id", client_msg_id), ("body", body.as_str())])?;
        let Principal::Fan { id, name } = actor else {
            return Err(ServiceError::Forbidden("only fans ask questions".into()));
        };
        let op = QuestionOp::Ask {
            question_id: QuestionId(new_id("q")),
            event_id: event.id,
            fan_id: id.clone(),
            author_name: name.clone(),
            client_msg_id: client_msg_id.to_owned(),
            body,
            at: self.now(),
        };
        self.submit_question(actor, op).await
    }

    /// `POST /events/{id}/questions/{qid}/upvote` (fans): once per fan, answered with the
    /// new count; subscribers get it with the next tally (`event::tally`).
    pub async fn upvote_question(
        &self,
        actor: &Principal,
        event_id: &str,
        question_id: &str,
    ) -> ServiceResult<QuestionChange> {
        let event = self.existing_event(event_id).await?;
        may_upvote(actor)?;
        let Principal::Fan { id, .. } = actor else {
            return Err(ServiceError::Forbidden("only fans upvote questions".into()));
        };
        let op = QuestionOp::Upvote {
            event_id: event.id,
            question_id: QuestionId::from(question_id),
            fan_id: id.clone(),
            at: self.now(),
        };
        let mut change = self.submit_question(actor, op).await?;
        change.question.upvoted = Some(true);
        Ok(change)
    }

    /// `POST /events/{id}/questions/{qid}/answer|pin|hide` (team members who moderate).
    pub async fn act_on_question(
        &self,
        actor: &Principal,
        event_id: &str,
        question_id: &str,
        action: QuestionAction,
    ) -> ServiceResult<QuestionChange> {
        may_moderate(actor)?;
        let event = self.existing_event(event_id).await?;
        let op = QuestionOp::Act {
            event_id: event.id,
            question_id: QuestionId::from(question_id),
            actor: actor.clone(),
            action,
            at: self.now(),
        };
        self.submit_question(actor, op).await
    }

    /// `GET /events/{id}/questions?order=top|new`: what `actor` may see.
    pub async fn list_questions(
        &self,
        actor: &Principal,
        event_id: &str,
        order: QuestionOrder,
        limit: u32,
    ) -> ServiceResult<Vec<QuestionView>> {
        let event = self.existing_event(event_id).await?;
        let audience = audience_of(actor);
        let rows = self
            .store()
            .list_questions(&event.id, audience, order, limit.clamp(1, MAX_PAGE))
            .await?;
        let upvoted = match actor {
            Principal::Fan { id, .. } => Some(self.store().upvoted_by(id, &event.id).await?),
            Principal::Member { .. } => None,
        };
        Ok(rows
            .iter()
            .filter_map(|row| {
                let mut view = QuestionView::new(row, audience)?;
                view.upvoted = upvoted.as_ref().map(|ids| ids.contains(&row.id));
                Some(view)
            })
            .collect())
    }

    async fn submit_question(
        &self,
        actor: &Principal,
        op: QuestionOp,
    ) -> ServiceResult<QuestionChange> {
        let outcome = self.inner.questions.submit(op).await?;
        let changed = !matches!(outcome, QuestionOutcome::Unchanged(_));
        let question = QuestionView::new(outcome.question(), audience_of(actor))
            .ok_or(ServiceError::NotFound("question"))?;
        Ok(QuestionChange { question, changed })
    }

    /// The event's last `seq`, for a subscription's `after_seq` check.
    pub(crate) async fn event_last_seq(&self, id: &EventId) -> ServiceResult<u64> {
        self.store()
            .event_last_seq(id)
            .await?
            .ok_or(ServiceError::NotFound("event"))
    }

    /// One page of an event's timeline after `after_seq`, framed for `audience`, and
    /// whether it was the last.
    pub(crate) async fn event_replay_page(
        &self,
        id: &EventId,
        topic: &str,
        audience: Audience,
        after_seq: u64,
    ) -> ServiceResult<(Vec<(u64, Bytes)>, bool)> {
        let entries = self
            .store()
            .list_question_entries(id, after_seq, MAX_PAGE)
            .await?;
        let exhausted = entries.len() < MAX_PAGE as usize;
        Ok((
            entries
                .iter()
                .map(|entry| (entry.seq, question_entry_frame(topic, entry, audience)))
                .collect(),
            exhausted,
        ))
    }
}
