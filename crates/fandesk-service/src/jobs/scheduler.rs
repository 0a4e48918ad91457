//! The scheduler: on each pass it claims the jobs due on the injected `Clock`, runs each
//! through its kind's handler and marks it done, or gives it back with a backoff when the
//! handler fails; then it runs the recurring tasks whose period has passed on that same
//! clock. It passes every `JobsConfig::poll`, at once when a `ManualClock` is advanced
//! (so tests move time instead of sleeping), and at once when a feature adds a job due
//! now (`Jobs::wake`). The jobs of one pass run concurrently, at most
//! `JobsConfig::concurrency` at a time, so one slow handler (a webhook receiver taking
//! its time) does not hold up the others.

use crate::app::error::{ServiceError, ServiceResult};
use crate::jobs::{FirstRun, JobKind, Recurring};
use crate::{App, Inner};
use fandesk_store::JobRow;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(weak: Weak<Inner>, woken: Arc<Notify>, stop: CancellationToken) {
    let Some(inner) = weak.upgrade() else { return };
    let clock = inner.clock.clone();
    let poll = inner.config.jobs.poll;
    let mut schedule = Schedule::new(inner.jobs.registry.recurring(), clock.now());
    drop(inner);
    loop {
        // Registered before the pass, so an advance during the pass is not missed.
        let changed = clock.changed().map(|notify| notify.notified());
        let mut changed = std::pin::pin!(async move {
            match changed {
                Some(notified) => notified.await,
                None => std::future::pending().await,
            }
        });
        let Some(inner) = weak.upgrade() else { return };
        let app = App { inner };
        if let Err(error) = app.run_due_jobs().await {
            tracing::warn!(%error, "scheduler pass failed");
        }
        for task in schedule.due(app.inner.jobs.registry.recurring(), clock.now()) {
            tracing::debug!(task = task.name, "recurring task");
            (task.task)(app.clone()).await;
        }
        drop(app);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(poll) => {}
            () = &mut changed => {}
            () = woken.notified() => {}
        }
    }
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// When each recurring task runs next, on the service's clock.
struct Schedule {
    next: Vec<Timestamp>,
}

impl Schedule {
    fn new(tasks: &[Recurring], now: Timestamp) -> Schedule {
        let next = tasks
            .iter()
            .map(|task| match task.first {
                FirstRun::AtStart => now,
                FirstRun::AfterOnePeriod => now.saturating_add(signed(task.every)).unwrap_or(now),
            })
            .collect();
        Schedule { next }
    }

    /// The tasks due at `now`, each rescheduled one period on. A clock stepped back by more
    /// than a period (a rewound demo clock) reschedules from `now` rather than waiting for
    /// the old time to come round again.
    fn due<'a>(&mut self, tasks: &'a [Recurring], now: Timestamp) -> Vec<&'a Recurring> {
        let mut due = Vec::new();
        for (task, next) in tasks.iter().zip(self.next.iter_mut()) {
            let every = signed(task.every);
            let following = now.saturating_add(every).unwrap_or(now);
            if now >= *next {
                due.push(task);
                *next = following;
            } else if *next > following {
                *next = following;
            }
        }
        due
    }
}

impl App {
    /// Runs every job due on the service's clock (SLA timers, report and webhook
    /// deliveries, scheduled messages) and returns how many ran. The scheduler calls this
    /// each pass; tests may call it directly after advancing a `ManualClock`.
    pub async fn run_due_jobs(&self) -> ServiceResult<usize> {
        let config = &self.inner.config.jobs;
        let jobs = self
            .store()
            .claim_due_jobs(self.now(), signed(config.lease), config.pass_max)
            .await?;
        let concurrency = config.concurrency.max(1);
        let mut waiting = jobs.iter().cloned();
        let mut running = tokio::task::JoinSet::new();
        let mut first_error = None;
        loop {
            while running.len() < concurrency {
                let Some(job) = waiting.next() else { break };
                let app = self.clone();
                running.spawn(async move { app.run_job(&job).await });
            }
            let Some(finished) = running.join_next().await else {
                break;
            };
            let outcome = finished
                .map_err(|error| ServiceError::Internal(format!("job task: {error}")))
                .and_then(|outcome| outcome);
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        Ok(jobs.len())
    }

    /// Runs one claimed job through its kind's handler: done when it succeeds, given back
    /// with the backoff when it fails.
    async fn run_job(&self, job: &JobRow) -> ServiceResult<()> {
        let config = &self.inner.config.jobs;
        let handler =
            JobKind::parse(&job.kind).and_then(|kind| self.inner.jobs.registry.handler(kind));
        let Some(handler) = handler else {
            tracing::warn!(kind = %job.kind, job = %job.id, "no handler for this job kind; dropped");
            self.store().complete_job(&job.id, self.now()).await?;
            return Ok(());
        };
        match handler(self.clone(), job.clone()).await {
            Ok(()) => self.store().complete_job(&job.id, self.now()).await?,
            Err(error) => {
                let retry_at = self
                    .now()
                    .saturating_add(signed(retry_delay(config, job.attempts)));
                tracing::warn!(%error, job = %job.id, attempts = job.attempts, "job failed; retrying later");
                self.store()
                    .release_job(&job.id, retry_at.unwrap_or_else(|_| self.now()))
                    .await?;
            }
        }
        Ok(())
    }
}

/// The wait after a job's `attempts`-th failure: `retry_first`, doubled per earlier
/// attempt (at most 2⁸ times), capped at `retry_max` — 10 s, 20 s, 40 s … up to an hour
/// by default.
fn retry_delay(config: &crate::jobs::JobsConfig, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.clamp(1, 9) - 1).unwrap_or(0);
    config
        .retry_first
        .saturating_mul(1 << doublings)
        .min(config.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobsConfig;

    #[test]
    fn retries_back_off_to_an_hour() {
        let config = JobsConfig::default();
        let delays: Vec<u64> = [0, 1, 2, 3, 9, 12]
            .into_iter()
            .map(|attempts| retry_delay(&config, attempts).as_secs())
            .collect();
        assert_eq!(delays, [10, 10, 20, 40, 2_560, 2_560]);
        let short = JobsConfig {
            retry_max: Duration::from_secs(30),
            ..JobsConfig::default()
        };
        assert_eq!(retry_delay(&short, 4).as_secs(), 30);
    }

    fn noop(_: App) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async {})
    }

    #[test]
    fn recurring_tasks_follow_the_clock() {
        let tasks = [
            Recurring {
                name: "now",
                every: Duration::from_secs(600),
                first: FirstRun::AtStart,
                task: noop,
            },
            Recurring {
                name: "later",
                every: Duration::from_secs(15),
                first: FirstRun::AfterOnePeriod,
                task: noop,
            },
        ];
        let start: Timestamp = "2026-01-12T12:00:00Z".parse().unwrap();
        let at = |secs: i64| start + SignedDuration::from_secs(secs);
        let names = |due: Vec<&Recurring>| due.iter().map(|task| task.name).collect::<Vec<_>>();
        let mut schedule = Schedule::new(&tasks, start);
        assert_eq!(names(schedule.due(&tasks, at(0))), ["now"]);
        assert!(schedule.due(&tasks, at(14)).is_empty());
        assert_eq!(names(schedule.due(&tasks, at(15))), ["later"]);
        assert_eq!(names(schedule.due(&tasks, at(700))), ["now", "later"]);
        // Stepped back a day: rescheduled from then, not a day of silence.
        assert!(schedule.due(&tasks, at(-86_400)).is_empty());
        assert_eq!(names(schedule.due(&tasks, at(-86_400 + 15))), ["later"]);
        assert_eq!(
            names(schedule.due(&tasks, at(-86_400 + 600))),
            ["now", "later"]
        );
    }
}
