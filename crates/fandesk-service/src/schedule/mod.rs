//! Sending later: "reply later" (a team member's public reply sent at `send_at`,
//! [`reply`]) and scheduled messages to fans and segments ([`message`], delivered by
//! [`delivery`]). Each is stored with its durable job in one transaction and sent through
//! the group commit with an idempotency key, so it is sent once whatever restarts or
//! nodes come between.

pub(crate) mod delivery;
pub(crate) mod message;
pub(crate) mod reply;

use crate::jobs::{JobKind, Registry};

pub use message::{
    AudienceInput, AudienceView, LocalInput, LocalTimeView, NewScheduledMessage, QuietHoursView,
    QuietInput, SchedulePreview, ScheduledDeliveryView, ScheduledMessageView, ZonePreview,
};
pub use reply::ScheduledReplyView;

pub(crate) fn register_jobs(jobs: &mut Registry) {
    jobs.on_due(JobKind::ScheduledReply, |app, job| {
        Box::pin(async move { app.run_scheduled_reply_job(&job).await })
    });
    jobs.on_due(JobKind::ScheduledMessage, |app, job| {
        Box::pin(async move { app.run_scheduled_message_job(&job).await })
    });
}
