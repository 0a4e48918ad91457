//! The agent desk (docs/product.md › Routing, priority and shifts; Canned responses): fan
//! profiles, the priority score and the queue, automatic assignment and escalation,
//! shifts and coverage, first-response SLA timers, canned responses, and the worker that
//! runs the desk after each commit, off the write path.

pub(crate) mod canned;
mod config;
pub(crate) mod fan_profile;
pub(crate) mod floor;
pub(crate) mod inbox;
pub(crate) mod priority;
pub(crate) mod queue;
pub(crate) mod roster;
pub(crate) mod routing;
pub(crate) mod shifts;
pub(crate) mod sla;
mod worker;
mod worker_queue;

pub use config::DeskConfig;
pub(crate) use worker::{AfterSend, DeskRuntime, HandoffNotifier};

use crate::jobs::{FirstRun, JobKind, Registry};

/// The desk's jobs: first-response timers, and offering the queue now and then, so a
/// conversation waiting for a shift to start is assigned when the shift begins.
pub(crate) fn register_jobs(jobs: &mut Registry, config: &DeskConfig) {
    jobs.on_due(JobKind::SlaFirstResponse, |app, job| {
        Box::pin(async move { app.run_sla_job(&job).await })
    });
    jobs.every(
        "desk rebalance",
        config.rebalance_every,
        FirstRun::AfterOnePeriod,
        |app| Box::pin(async move { app.desk_rebalance() }),
    );
}
