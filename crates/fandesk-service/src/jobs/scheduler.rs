//! The scheduler (issue 3 › SLA timers; STYLE.md › Tests): polls the jobs table for due
//! timers on the injected `Clock`, runs each, and marks it done, or gives it back with a
//! backoff when its handler fails. A `ManualClock` wakes it the moment it is advanced, so
//! tests move time instead of sleeping. It also offers the queue to agents now and then,
//! so a conversation waiting for a shift to start is assigned when the shift begins.

use crate::app::error::ServiceResult;
use crate::desk::sla::SLA_JOB;
use crate::reporting::delivery::{REPORT_FILE_JOB, REPORT_WEBHOOK_JOB};
use crate::{App, Inner};
use jiff::SignedDuration;
use std::sync::Weak;
use tokio_util::sync::CancellationToken;

/// How long a claimed job is reserved for its node before another may run it.
const LEASE: SignedDuration = SignedDuration::from_secs(60);
/// Jobs run per pass at most.
const PASS_MAX: u32 = 100;

pub(crate) async fn run(weak: Weak<Inner>, stop: CancellationToken) {
    let Some(inner) = weak.upgrade() else { return };
    let clock = inner.clock.clone();
    let (poll, rebalance_every) = (
        inner.config.desk.scheduler_poll,
        inner.config.desk.rebalance_every,
    );
    drop(inner);
    let mut last_rebalance = tokio::time::Instant::now();
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
        if last_rebalance.elapsed() >= rebalance_every {
            last_rebalance = tokio::time::Instant::now();
            app.desk_rebalance();
        }
        drop(app);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(poll) => {}
            () = &mut changed => {}
        }
    }
}

impl App {
    /// Runs every job due on the service's clock (SLA timers) and returns how many ran.
    /// The scheduler calls this each poll; tests may call it directly after advancing a
    /// `ManualClock`.
    pub async fn run_due_jobs(&self) -> ServiceResult<usize> {
        let jobs = self
            .store()
            .claim_due_jobs(self.now(), LEASE, PASS_MAX)
            .await?;
        for job in &jobs {
            let result = match job.kind.as_str() {
                SLA_JOB => self.run_sla_job(job).await,
                REPORT_FILE_JOB | REPORT_WEBHOOK_JOB => self.run_report_job(job).await,
                other => {
                    tracing::warn!(kind = other, job = %job.id, "unknown job kind; dropped");
                    Ok(())
                }
            };
            match result {
                Ok(()) => self.store().complete_job(&job.id, self.now()).await?,
                Err(error) => {
                    // 10 s, 20 s, 40 s … up to an hour: a failing handler must not spin.
                    let backoff = 10_i64.saturating_mul(1 << job.attempts.clamp(1, 9)) / 2;
                    let retry_at = self
                        .now()
                        .saturating_add(SignedDuration::from_secs(backoff.min(3_600)));
                    tracing::warn!(%error, job = %job.id, attempts = job.attempts, "job failed; retrying later");
                    self.store()
                        .release_job(&job.id, retry_at.unwrap_or_else(|_| self.now()))
                        .await?;
                }
            }
        }
        Ok(jobs.len())
    }
}
