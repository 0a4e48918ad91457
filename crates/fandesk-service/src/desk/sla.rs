//! First-response SLA timers (docs/product.md › SLA; docs/metrics.md › SLA breach): when
//! the first fan message of an opening arrives, a durable job is scheduled for the
//! charter's target (`response.first_response_target_secs`, default 60 s); when it comes
//! due and no human has answered, an `sla_breach` alert goes to supervisors, once per
//! opening. The timer lives in the jobs table, so it survives restarts and fires on
//! exactly one node. A target changed in the charter applies to timers set from then on,
//! and a running timer is judged against the target in force when it fires.

use crate::app::error::{ServiceError, ServiceResult};
use crate::jobs::JobKind;
use crate::signals::alert_details::AlertDetails;
use crate::signals::alerts::NewAlert;
use crate::{App, new_id};
use fandesk_domain::{AlertKind, ConversationId};
use fandesk_store::{DeskConversationRow, JobRow, NewJob};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The `rule` of `sla_breach` alerts: which target was missed.
const SLA_RULE: &str = "first_response";

#[derive(Serialize, Deserialize)]
struct SlaPayload {
    conversation_id: String,
    /// The opening the timer belongs to.
    opening: Timestamp,
    /// The first fan message of the opening: the FRT clock starts here.
    first_message_at: Timestamp,
}

impl App {
    /// Schedules the opening's first-response timer, once: the job key names the opening,
    /// so later fan messages of the same opening schedule nothing (FRT counts from the
    /// first fan message after the opening).
    pub(crate) async fn schedule_first_response(
        &self,
        desk: &DeskConversationRow,
        first_message_at: Option<Timestamp>,
    ) -> ServiceResult<()> {
        let conversation = &desk.conversation;
        // Already answered (awaiting_since is cleared by a human's public reply).
        let (Some(first_message_at), Some(_)) = (first_message_at, conversation.awaiting_since)
        else {
            return Ok(());
        };
        let payload = SlaPayload {
            conversation_id: conversation.id.0.clone(),
            opening: desk.opening(),
            first_message_at,
        };
        let key = format!(
            "sla:{}:{}",
            conversation.id,
            payload.opening.as_microsecond()
        );
        let target = self.charter().await?.charter.first_response_target();
        self.schedule_sla_job(key, &payload, target).await
    }

    /// The timer of `payload`'s opening, due `target` after its first fan message.
    async fn schedule_sla_job(
        &self,
        key: String,
        payload: &SlaPayload,
        target: std::time::Duration,
    ) -> ServiceResult<()> {
        let target = SignedDuration::try_from(target).unwrap_or(SignedDuration::MAX);
        let job = NewJob {
            id: new_id("job"),
            kind: JobKind::SlaFirstResponse.as_str().to_owned(),
            key,
            payload: serde_json::to_string(payload)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            due_at: payload
                .first_message_at
                .saturating_add(target)
                .unwrap_or(payload.first_message_at),
        };
        self.store().insert_job(&job, self.now()).await?;
        Ok(())
    }

    /// A due first-response timer: alert when the opening's first fan message is still
    /// unanswered by a human. Re-checks everything, since a job can run twice after a crash.
    pub(crate) async fn run_sla_job(&self, job: &JobRow) -> ServiceResult<()> {
        let payload: SlaPayload = match serde_json::from_str(&job.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(%error, job = %job.id, "unreadable SLA job; dropped");
                return Ok(());
            }
        };
        let id = ConversationId(payload.conversation_id.clone());
        let Some(desk) = self.store().find_desk_conversation(&id).await? else {
            return Ok(());
        };
        let conversation = &desk.conversation;
        // Resolved, or reopened since (the new opening has a timer of its own).
        if !conversation.status.is_active() || desk.opening() != payload.opening {
            return Ok(());
        }
        // A human reply clears awaiting_since; a later fan message sets it anew, after ours.
        let unanswered = conversation
            .awaiting_since
            .is_some_and(|since| since <= payload.first_message_at);
        if !unanswered {
            return Ok(());
        }
        let raised = self
            .store()
            .last_alert_at(AlertKind::SlaBreach.as_str(), Some(&id), Some(SLA_RULE))
            .await?;
        if raised.is_some_and(|at| at >= payload.opening) {
            return Ok(());
        }
        // Judged against the charter in force now: a target raised since the timer was
        // set is not missed yet, so a timer for the new target takes over (its key names
        // the target, so it is scheduled once).
        let target = self.charter().await?.charter.first_response_target();
        let now = self.now();
        let waited = now.duration_since(payload.first_message_at);
        if waited < SignedDuration::try_from(target).unwrap_or(SignedDuration::MAX) {
            let key = format!("{}:{}", job.key, target.as_millis());
            return self.schedule_sla_job(key, &payload, target).await;
        }
        let target = target.as_secs();
        self.raise_alert(NewAlert {
            conversation_id: Some(id.clone()),
            rule: Some(SLA_RULE.to_owned()),
            excerpt: None,
            details: AlertDetails::SlaBreach {
                target_secs: target,
                waiting_since: payload.first_message_at,
                waited_secs: now.duration_since(payload.first_message_at).as_secs(),
                assignee_id: conversation
                    .assignee_id
                    .as_ref()
                    .map(|member| member.0.clone()),
                fan_id: conversation.fan_id.0.clone(),
            },
        })
        .await?;
        if conversation.assignee_id.is_none() {
            let entry = self.queue_entry(&desk).await?;
            self.publish_queue_entry(&id, Some(entry));
        }
        Ok(())
    }
}
