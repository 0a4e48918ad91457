//! Reporting (docs/product.md › Metrics and reports): metric summaries and the weekly
//! report read from the metric rows the group commit maintains ([`summary`]), and the
//! report's scheduled delivery to a directory or a signed webhook ([`delivery`]). The
//! Prometheus registry is `app::metrics`.

pub(crate) mod delivery;
pub(crate) mod summary;

pub use delivery::ReportDelivery;

use crate::jobs::{JobKind, Registry};

/// One durable job per delivery target and week.
pub(crate) fn register_jobs(jobs: &mut Registry) {
    for kind in [JobKind::WeeklyReportFile, JobKind::WeeklyReportWebhook] {
        jobs.on_due(kind, |app, job| {
            Box::pin(async move { app.run_report_job(&job).await })
        });
    }
}
