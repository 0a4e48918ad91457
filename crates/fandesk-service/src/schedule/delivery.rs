//! Delivering a scheduled message (docs/api.md › Scheduled messages): a durable job takes
//! the recipients due on the service's clock a batch at a time. For each batch the store
//! chooses every fan's conversation once (the one they have, or a new `pending` one) and
//! writes the choice on the recipient's row; then every message of the batch is queued to
//! the conversation writer at once, so the group commit puts many fans' messages in one
//! transaction, each as the creator's message marked automated, with the idempotency key
//! `scheduled-{id}` in that fan's conversation. A batch cut short by a crash, a second node
//! holding an expired lease, or a retry is answered with the messages already committed,
//! so nobody gets the message twice; the recipients are marked sent after the commit.
//! A run stops after [`RUN_BUDGET`] (or half the job lease) and leaves the rest to a follow-up job (pass `n + 1`),
//! which is also how recipients due later (other time zones) are reached.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::commit::emit_conversation;
use crate::jobs::JobKind;
use crate::live::publish::{Audiences, publish_conversation};
use crate::{App, new_id};
use fandesk_domain::{ConversationId, FanId, MessageId, Principal, Visibility};
use fandesk_store::{JobRow, NewJob, PostOrigin, ScheduledSent, WriteOp, WriteOutcome};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Recipients taken per batch: their messages are queued to the writer together.
const BATCH: u32 = 500;
/// How long one run delivers at most before it hands over to a follow-up job; never more
/// than half the job lease, so no other node takes the job while it still runs.
const RUN_BUDGET: Duration = Duration::from_secs(15);
/// Attempts for one recipient whose conversation refused the message (resolved meanwhile)
/// before it is marked `failed`.
const MAX_ATTEMPTS: i64 = 5;

/// The job's facts: which message, and which run of it.
#[derive(Serialize, Deserialize)]
pub(crate) struct MessageJob {
    scheduled_id: String,
    pass: u64,
}

impl MessageJob {
    /// Run `pass` of message `id`, due at `due_at`; its key is unique per run, so two
    /// nodes finishing the same run schedule one follow-up.
    pub(crate) fn new_job(id: &str, pass: u64, due_at: Timestamp) -> ServiceResult<NewJob> {
        let facts = MessageJob {
            scheduled_id: id.to_owned(),
            pass,
        };
        Ok(NewJob {
            id: new_id("job"),
            kind: JobKind::ScheduledMessage.as_str().into(),
            key: format!("scheduled:{id}:{pass}"),
            payload: serde_json::to_string(&facts)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            due_at,
        })
    }
}

/// What became of one batch.
#[derive(Default)]
struct BatchOutcome {
    sent: Vec<ScheduledSent>,
    retry: Vec<FanId>,
    /// An error that is not the conversation's refusal: the job is retried later.
    error: Option<ServiceError>,
}

impl App {
    /// Delivers what is due of one scheduled message, then schedules the next run when
    /// recipients remain.
    pub(crate) async fn run_scheduled_message_job(&self, job: &JobRow) -> ServiceResult<()> {
        let Ok(facts) = serde_json::from_str::<MessageJob>(&job.payload) else {
            tracing::warn!(job = %job.id, "unreadable scheduled-message job; dropped");
            return Ok(());
        };
        let id = facts.scheduled_id.as_str();
        let started = Instant::now();
        let budget = RUN_BUDGET.min(self.inner.config.jobs.lease / 2);
        loop {
            let Some(message) = self.store().find_scheduled_message(id).await? else {
                return Ok(());
            };
            if message.state != "scheduled" {
                return Ok(());
            }
            let due = self
                .store()
                .due_scheduled_deliveries(id, self.now(), BATCH)
                .await?;
            if due.is_empty() {
                break;
            }
            let author = Principal::Member {
                id: message.created_by.clone(),
                role: message.author_role,
                name: message.author_name.clone(),
            };
            let fans: Vec<FanId> = due.into_iter().map(|row| row.fan_id).collect();
            let outcome = self
                .deliver_batch(id, &author, &message.body, &fans)
                .await?;
            self.store()
                .record_scheduled_outcomes(id, &outcome.sent, &outcome.retry, MAX_ATTEMPTS)
                .await?;
            if let Some(error) = outcome.error {
                return Err(error);
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        if let Some(next) = self.store().next_scheduled_due(id).await? {
            let job = MessageJob::new_job(id, facts.pass + 1, next)?;
            self.store().insert_job(&job, self.now()).await?;
            if next <= self.now() {
                self.inner.jobs.wake();
            }
        }
        Ok(())
    }

    /// Posts `body` to each of `fans` in their conversation, all queued before any is
    /// awaited so the writer commits them in a few transactions.
    async fn deliver_batch(
        &self,
        id: &str,
        author: &Principal,
        body: &str,
        fans: &[FanId],
    ) -> ServiceResult<BatchOutcome> {
        let now = self.now();
        let new_ids: Vec<ConversationId> =
            fans.iter().map(|_| ConversationId(new_id("cnv"))).collect();
        let (chosen, opened) = self
            .store()
            .assign_scheduled_conversations(id, fans, &new_ids, now)
            .await?;
        for row in &opened {
            publish_conversation(self.bus().as_ref(), row, Audiences::TeamAndFan);
            emit_conversation(&self.inner.integrations.emitter, row);
        }
        // The charter's restricted words as they are now (a `block` refuses the message:
        // its recipients end `failed`, see below).
        let extras = match self
            .post_extras(author, Visibility::Public, body, None)
            .await
        {
            Ok(extras) => extras,
            Err(error @ ServiceError::InvalidRequest { .. }) => {
                tracing::warn!(scheduled = id, %error, "a scheduled message is now blocked");
                self.store()
                    .record_scheduled_outcomes(id, &[], fans, 0)
                    .await?;
                return Ok(BatchOutcome::default());
            }
            Err(error) => return Err(error),
        };
        let extras = fandesk_store::PostExtras {
            origin: PostOrigin::Scheduled,
            ..extras
        };
        let mut outcome = BatchOutcome::default();
        let mut queued = Vec::with_capacity(fans.len());
        for fan in fans {
            let Some(conversation) = chosen.get(fan) else {
                outcome.retry.push(fan.clone());
                continue;
            };
            let op = WriteOp::Post {
                message_id: MessageId(new_id("msg")),
                conversation_id: conversation.clone(),
                author: author.clone(),
                client_msg_id: Some(format!("scheduled-{id}")),
                body: body.to_owned(),
                visibility: Visibility::Public,
                at: now,
                extras: extras.clone(),
            };
            match self.inner.writer.enqueue(op).await {
                Ok(waiting) => queued.push((fan, waiting)),
                Err(error) => {
                    outcome.error.get_or_insert(error);
                    break;
                }
            }
        }
        for (fan, waiting) in queued {
            match waiting.wait().await {
                Ok(WriteOutcome::Created { message, .. } | WriteOutcome::Duplicate { message }) => {
                    outcome.sent.push(ScheduledSent {
                        fan_id: fan.clone(),
                        message_id: message.id,
                        at: message.created_at,
                    })
                }
                // The conversation refused it (resolved since it was chosen): another
                // conversation is chosen next time.
                Err(
                    ServiceError::Conflict(_)
                    | ServiceError::Forbidden(_)
                    | ServiceError::NotFound(_)
                    | ServiceError::InvalidRequest { .. }
                    | ServiceError::BotRuleViolation(_),
                ) => outcome.retry.push(fan.clone()),
                Err(error) => {
                    outcome.error.get_or_insert(error);
                }
            }
        }
        Ok(outcome)
    }
}
