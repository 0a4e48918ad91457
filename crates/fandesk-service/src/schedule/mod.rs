//! Sending later: "reply later" (a team member's public reply sent at `send_at`,
//! [`reply`]). Each is stored with its durable job in one transaction, so it is sent once
//! whatever restarts or nodes come between.

pub(crate) mod reply;

use crate::jobs::{JobKind, Registry};

pub use reply::ScheduledReplyView;

pub(crate) fn register_jobs(jobs: &mut Registry) {
    jobs.on_due(JobKind::ScheduledReply, |app, job| {
        Box::pin(async move { app.run_scheduled_reply_job(&job).await })
    });
}
