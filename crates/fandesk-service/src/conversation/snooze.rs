//! Snoozing (docs/product.md › Conversations; docs/api.md › Snooze): the assignee or a
//! supervisor sets a conversation aside until a time. Its wake-up is a durable job written
//! before the snooze is committed, so a snooze never outlives its timer; the job wakes the
//! conversation through the group commit only if that snooze is still the current one.
//! A fan writing wakes it at once (decided inside the commit). Once awake it is `open`
//! again: in its assignee's list, or back in the queue when nobody is assigned.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::view::ConversationView;
use crate::jobs::{JobKind, Registry};
use crate::{App, new_id};
use fandesk_domain::conversation::Transition;
use fandesk_domain::snooze::check_until;
use fandesk_domain::{Capability, ConversationId, MemberId, MessageId, Principal, Role};
use fandesk_store::{JobRow, NewJob, WriteOp};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What the wake-up job remembers: the conversation, the snooze it ends, and who set it
/// (the team-only "snooze ended" entry is recorded in their name).
#[derive(Serialize, Deserialize)]
struct WakePayload {
    conversation_id: String,
    until: Timestamp,
    member_id: String,
    member_name: String,
    role: Role,
}

pub(crate) fn register_jobs(jobs: &mut Registry) {
    jobs.on_due(JobKind::SnoozeWake, |app, job| {
        Box::pin(async move { app.run_wake_job(&job).await })
    });
}

impl App {
    /// `POST /conversations/{id}/snooze`: until `until`, at most 30 days ahead.
    pub async fn snooze(
        &self,
        actor: &Principal,
        id: &str,
        until: Timestamp,
    ) -> ServiceResult<ConversationView> {
        actor.require(Capability::ChangeConversations)?;
        let row = self.readable_conversation(actor, id).await?;
        check_until(self.now(), until)?;
        // Decided once here so a refused snooze schedules nothing; the commit decides
        // again against the state it commits on.
        Transition::Snooze { until }.apply_to(actor, &mut row.state())?;
        let Principal::Member {
            id: member,
            name,
            role,
        } = actor
        else {
            return Err(ServiceError::Forbidden("only members snooze".into()));
        };
        let payload = WakePayload {
            conversation_id: row.id.0.clone(),
            until,
            member_id: member.0.clone(),
            member_name: name.clone(),
            role: *role,
        };
        let job = NewJob {
            id: new_id("job"),
            kind: JobKind::SnoozeWake.as_str().to_owned(),
            key: format!("snooze:{}:{}", row.id, until.as_microsecond()),
            payload: serde_json::to_string(&payload)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            due_at: until,
        };
        self.store().insert_job(&job, self.now()).await?;
        self.transition(actor, id, Transition::Snooze { until })
            .await
    }

    /// A due wake-up: the conversation returns to `open` if it is still snoozed until
    /// this job's time; otherwise (woken by the fan, snoozed again for another time,
    /// resolved) there is nothing to do.
    pub(crate) async fn run_wake_job(&self, job: &JobRow) -> ServiceResult<()> {
        let payload: WakePayload = match serde_json::from_str(&job.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(%error, job = %job.id, "unreadable snooze job; dropped");
                return Ok(());
            }
        };
        let conversation_id = ConversationId(payload.conversation_id);
        let op = WriteOp::Transition {
            message_id: MessageId(new_id("msg")),
            conversation_id: conversation_id.clone(),
            actor: Principal::Member {
                id: MemberId(payload.member_id),
                role: payload.role,
                name: payload.member_name,
            },
            transition: Transition::Wake {
                until: payload.until,
            },
            at: self.now(),
        };
        match self.inner.writer.submit(op).await {
            Ok(_) => {
                // Back in its assignee's list, or scored and offered from the queue.
                self.desk_rescore(&conversation_id);
                self.desk_rebalance();
                Ok(())
            }
            Err(
                ServiceError::Conflict(_) | ServiceError::NotFound(_) | ServiceError::Forbidden(_),
            ) => Ok(()),
            Err(error) => Err(error),
        }
    }
}
