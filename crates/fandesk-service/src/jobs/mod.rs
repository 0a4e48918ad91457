//! Jobs (docs/product.md › SLA: timers are durable jobs in the database that survive
//! restarts and fire once; ARCHITECTURE.md › Code map): the durable jobs of the jobs table
//! — SLA timers, weekly report deliveries, webhook deliveries, scheduled replies and
//! messages, snooze wake-ups — and the recurring tasks every node runs — the
//! session purge, the desk's offer of the queue. Each feature registers what it runs
//! ([`Registry`]) when the `App` starts; the scheduler ([`scheduler`]) runs them on the
//! injected `Clock`, so a `ManualClock` being advanced drives every one of them and no test
//! sleeps.

pub(crate) mod scheduler;

use crate::App;
use crate::app::error::ServiceResult;
use fandesk_store::JobRow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The kinds of durable job, as stored in the jobs table's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum JobKind {
    /// An opening's first-response timer (`desk::sla`).
    SlaFirstResponse,
    /// Write a week's report files into the report directory (`reporting::delivery`).
    WeeklyReportFile,
    /// Post a week's report to the report webhook (`reporting::delivery`).
    WeeklyReportWebhook,
    /// Post one event to one webhook (`integration::delivery`).
    WebhookDelivery,
    /// Send a reply scheduled for later (`schedule::reply`).
    ScheduledReply,
    /// Deliver what is due of a scheduled message (`schedule::delivery`).
    ScheduledMessage,
    /// Wake a snoozed conversation (`conversation::snooze`).
    SnoozeWake,
}

impl JobKind {
    pub(crate) const ALL: [JobKind; 7] = [
        JobKind::SlaFirstResponse,
        JobKind::WeeklyReportFile,
        JobKind::WeeklyReportWebhook,
        JobKind::WebhookDelivery,
        JobKind::ScheduledReply,
        JobKind::ScheduledMessage,
        JobKind::SnoozeWake,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobKind::SlaFirstResponse => "sla_first_response",
            JobKind::WeeklyReportFile => "weekly_report_file",
            JobKind::WeeklyReportWebhook => "weekly_report_webhook",
            JobKind::WebhookDelivery => "webhook_delivery",
            JobKind::ScheduledReply => "scheduled_reply",
            JobKind::ScheduledMessage => "scheduled_message",
            JobKind::SnoozeWake => "snooze_wake",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Settings of the scheduler.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// How often the scheduler looks for due jobs on a clock that does not say when it
    /// moves (the wall clock). A `ManualClock` wakes it at once when advanced.
    pub poll: Duration,
    /// How long a claimed job is reserved for its node before another node may run it.
    pub lease: Duration,
    /// Jobs run per pass at most.
    pub pass_max: u32,
    /// The wait before a failed job runs again; it doubles with each failed attempt…
    pub retry_first: Duration,
    /// …up to this, so a failing handler never spins.
    pub retry_max: Duration,
    /// How often expired sessions are deleted (they are refused anyway; this keeps the
    /// sessions table small).
    pub session_purge_every: Duration,
    /// Jobs of one pass run at once at most, so a slow webhook receiver never holds up an
    /// SLA timer.
    pub concurrency: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            pass_max: 100,
            retry_first: Duration::from_secs(10),
            retry_max: Duration::from_secs(3_600),
            session_purge_every: Duration::from_secs(600),
            concurrency: 8,
        }
    }
}

type JobFuture = Pin<Box<dyn Future<Output = ServiceResult<()>> + Send>>;
/// Runs one due job. An error gives the job back to be retried after the backoff; a job
/// that can never succeed (unreadable, or its feature switched off) logs and returns `Ok`.
pub(crate) type JobHandler = fn(App, JobRow) -> JobFuture;

type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A recurring task: it logs its own failures, and runs again one period later.
pub(crate) type RecurringTask = fn(App) -> TaskFuture;

/// When a recurring task first runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstRun {
    /// At the scheduler's first pass.
    AtStart,
    /// One period after the scheduler starts.
    AfterOnePeriod,
}

pub(crate) struct Recurring {
    pub name: &'static str,
    pub every: Duration,
    pub first: FirstRun,
    pub task: RecurringTask,
}

/// What the scheduler runs, as registered by each feature.
#[derive(Default)]
pub(crate) struct Registry {
    handlers: HashMap<JobKind, JobHandler>,
    recurring: Vec<Recurring>,
}

impl Registry {
    /// Registers the handler of `kind` (one per kind).
    pub(crate) fn on_due(&mut self, kind: JobKind, handler: JobHandler) {
        let previous = self.handlers.insert(kind, handler);
        debug_assert!(previous.is_none(), "two handlers for {kind:?}");
    }

    /// Registers a task run every `every` on the service's clock.
    pub(crate) fn every(
        &mut self,
        name: &'static str,
        every: Duration,
        first: FirstRun,
        task: RecurringTask,
    ) {
        self.recurring.push(Recurring {
            name,
            every,
            first,
            task,
        });
    }

    pub(crate) fn handler(&self, kind: JobKind) -> Option<JobHandler> {
        self.handlers.get(&kind).copied()
    }

    pub(crate) fn recurring(&self) -> &[Recurring] {
        &self.recurring
    }
}

/// The scheduler an `App` owns: what it runs and its task.
pub(crate) struct Jobs {
    pub(crate) registry: Registry,
    /// Wakes the scheduler for a pass now (a feature just added jobs due now).
    pub(crate) woken: Arc<Notify>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Jobs {
    pub(crate) fn new(registry: Registry) -> Jobs {
        Jobs {
            registry,
            woken: Arc::new(Notify::new()),
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }

    /// Asks for a pass at once instead of at the next poll: jobs due now were added.
    pub(crate) fn wake(&self) {
        self.woken.notify_one();
    }

    /// Spawns the scheduler. It holds the `App` weakly, so dropping the last `App` ends it.
    pub(crate) fn start(app: &App) {
        let jobs = &app.inner.jobs;
        let task = tokio::spawn(scheduler::run(
            Arc::downgrade(&app.inner),
            jobs.woken.clone(),
            jobs.stop.clone(),
        ));
        *jobs
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(task);
    }

    /// Stops the scheduler after its current pass.
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests;
