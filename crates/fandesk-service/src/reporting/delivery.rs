//! Scheduled weekly report delivery (docs/product.md › Metrics and reports): on a
//! configurable weekday and hour, to a file directory and/or a signed webhook.
//!
//! Each target of each week is one durable job (`jobs`, stored by `fandesk-store`) keyed
//! by target and ISO week, due at the configured weekday and hour after the week ends. The
//! key exists once, ever, so a week is delivered once per target even across restarts and
//! nodes; a failed delivery returns an error and the scheduler retries it with backoff. At
//! start, and after every delivery, the jobs of the previous and the current week are
//! ensured, so a report missed while the server was down goes out when it starts again.
//!
//! The webhook is a `POST` of the rendered report, signed and sent like every event
//! webhook (`integration::outbound`): `X-Fandesk-Timestamp` (Unix seconds) and
//! `X-Fandesk-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`, with
//! `X-Fandesk-Event: weekly_report` and `X-Fandesk-Week`. `X-Fandesk-Delivery` stays the
//! same across retries of one delivery (de-duplication).

use crate::app::error::{ServiceError, ServiceResult};
use crate::integration::outbound::{Answer, SignedPost};
use crate::jobs::JobKind;
use crate::reporting::summary::build_weekly_report;
use crate::{App, new_id};
use fandesk_analytics::report::{IsoWeek, WeeklyReport, to_csv, to_html, to_json};
use fandesk_domain::desk::local_instant;
use fandesk_store::{JobRow, NewJob};
use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A rendering of the weekly report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Csv,
    Json,
}

impl ReportFormat {
    pub fn parse(text: &str) -> Option<ReportFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "html" => Some(ReportFormat::Html),
            "csv" => Some(ReportFormat::Csv),
            "json" => Some(ReportFormat::Json),
            _ => None,
        }
    }

    /// The file extension, also the format's name.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Json => "application/json",
        }
    }

    pub fn render(self, report: &WeeklyReport) -> String {
        match self {
            ReportFormat::Html => to_html(report),
            ReportFormat::Csv => to_csv(report),
            ReportFormat::Json => to_json(report),
        }
    }
}

/// Where the webhook posts, and how it signs.
#[derive(Clone)]
pub struct ReportWebhook {
    /// `http://…` (the client is built without TLS; put an HTTPS proxy in front).
    pub url: String,
    /// The HMAC-SHA256 key of `X-Fandesk-Signature`.
    pub secret: Vec<u8>,
    pub format: ReportFormat,
    /// Per attempt; a timed-out attempt is retried like any failure.
    pub timeout: Duration,
}

impl std::fmt::Debug for ReportWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportWebhook")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("format", &self.format)
            .finish()
    }
}

/// When and where `fandesk serve` delivers last week's report.
#[derive(Clone, Debug)]
pub struct ReportDelivery {
    /// Delivered on this weekday at `hour`:00 local time, after the week ends.
    pub weekday: Weekday,
    pub hour: i8,
    /// The weeks' and the schedule's time zone (the creator's when `None`).
    pub time_zone: Option<TimeZone>,
    /// Files `fandesk-report-2026-W47.html` (one per format) are written here.
    pub dir: Option<PathBuf>,
    pub formats: Vec<ReportFormat>,
    pub webhook: Option<ReportWebhook>,
}

impl Default for ReportDelivery {
    fn default() -> Self {
        ReportDelivery {
            weekday: Weekday::Monday,
            hour: 8,
            time_zone: None,
            dir: None,
            formats: vec![ReportFormat::Html],
            webhook: None,
        }
    }
}

impl ReportDelivery {
    /// The first `weekday` `hour`:00 in `zone` at or after the end of `week` (DST gaps move
    /// to the first instant after them).
    pub fn due_at(&self, week: IsoWeek, zone: &TimeZone) -> Timestamp {
        let offset = i64::from(self.weekday.to_monday_zero_offset()) + 7;
        let day = week
            .monday()
            .checked_add(jiff::Span::new().days(offset))
            .unwrap_or(jiff::civil::Date::MAX);
        let time = Time::new(self.hour.clamp(0, 23), 0, 0, 0).unwrap_or(Time::midnight());
        local_instant(zone, day.to_datetime(time)).unwrap_or(Timestamp::MAX)
    }
}

#[derive(Serialize, Deserialize)]
struct ReportPayload {
    /// `YYYY-Www`.
    week: String,
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `"{timestamp}.{body}"`): the one signature of
/// every webhook (`integration::signature`).
pub use crate::integration::signature::webhook_signature as report_signature;

/// `fandesk-report-2026-W47.html`.
pub fn report_file_name(week: IsoWeek, format: ReportFormat) -> String {
    format!("fandesk-report-{week}.{}", format.extension())
}

impl App {
    fn report_zone(&self, delivery: &ReportDelivery) -> TimeZone {
        delivery
            .time_zone
            .clone()
            .unwrap_or_else(|| self.inner.config.desk.creator_timezone.clone())
    }

    /// Ensures the delivery jobs of the previous and the current week (idempotent: a job
    /// key exists once, ever). Returns how many were new.
    pub async fn schedule_report_deliveries(&self) -> ServiceResult<usize> {
        let Some(delivery) = self.inner.config.report_delivery.as_ref() else {
            return Ok(0);
        };
        let zone = self.report_zone(delivery);
        let current = IsoWeek::containing(self.now(), &zone);
        let mut kinds = Vec::new();
        if delivery.dir.is_some() && !delivery.formats.is_empty() {
            kinds.push((JobKind::WeeklyReportFile, "report-file"));
        }
        if delivery.webhook.is_some() {
            kinds.push((JobKind::WeeklyReportWebhook, "report-webhook"));
        }
        let mut scheduled = 0;
        for week in [current.previous(), current] {
            let payload = serde_json::to_string(&ReportPayload {
                week: week.to_string(),
            })
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
            for (kind, prefix) in &kinds {
                let job = NewJob {
                    id: new_id("job"),
                    kind: kind.as_str().to_owned(),
                    key: format!("{prefix}:{week}"),
                    payload: payload.clone(),
                    due_at: delivery.due_at(week, &zone),
                };
                scheduled += usize::from(self.store().insert_job(&job, self.now()).await?);
            }
        }
        Ok(scheduled)
    }

    /// A due delivery job: render the week's report and write or post it. An error makes
    /// the scheduler retry later; success schedules the next week.
    pub(crate) async fn run_report_job(&self, job: &JobRow) -> ServiceResult<()> {
        let Some(delivery) = self.inner.config.report_delivery.clone() else {
            tracing::warn!(job = %job.id, "report delivery is no longer configured; dropped");
            return Ok(());
        };
        let week = match serde_json::from_str::<ReportPayload>(&job.payload)
            .map_err(|error| error.to_string())
            .and_then(|payload| IsoWeek::parse(&payload.week))
        {
            Ok(week) => week,
            Err(error) => {
                tracing::warn!(%error, job = %job.id, "unreadable report job; dropped");
                return Ok(());
            }
        };
        let zone = self.report_zone(&delivery);
        let report = build_weekly_report(
            self.store(),
            week,
            &zone,
            &self.inner.config.desk.creator_timezone,
            self.now(),
        )
        .await?;
        match JobKind::parse(&job.kind) {
            Some(JobKind::WeeklyReportFile) => match &delivery.dir {
                Some(dir) => write_files(dir, week, &delivery.formats, &report).await?,
                None => tracing::warn!(job = %job.id, "no report directory; dropped"),
            },
            _ => match &delivery.webhook {
                Some(webhook) => self.post_report(webhook, week, &job.key, &report).await?,
                None => tracing::warn!(job = %job.id, "no report webhook; dropped"),
            },
        }
        tracing::info!(%week, kind = %job.kind, "weekly report delivered");
        self.schedule_report_deliveries().await?;
        Ok(())
    }

    async fn post_report(
        &self,
        webhook: &ReportWebhook,
        week: IsoWeek,
        delivery_id: &str,
        report: &WeeklyReport,
    ) -> ServiceResult<()> {
        let post = SignedPost {
            url: &webhook.url,
            secret: &webhook.secret,
            event: "weekly_report",
            delivery_id,
            timestamp: self.now().as_second(),
            content_type: webhook.format.content_type(),
            body: webhook.format.render(report).into_bytes(),
            headers: vec![("x-fandesk-week", week.to_string())],
            timeout: webhook.timeout,
        };
        // The URL comes from the operator's command line, not from an API client: it is
        // trusted, as an allow-listed host would be.
        match self.inner.integrations.outbound.post_trusted(post).await {
            answer if answer.is_success() => Ok(()),
            Answer::Status(code) => Err(ServiceError::Internal(format!(
                "report webhook: answered {code}"
            ))),
            Answer::Failed(why) => Err(ServiceError::Internal(format!("report webhook: {why}"))),
        }
    }
}

/// Writes one file per format, each through a temporary name and a rename, so a reader
/// never sees half a report and a retry simply replaces it.
async fn write_files(
    dir: &Path,
    week: IsoWeek,
    formats: &[ReportFormat],
    report: &WeeklyReport,
) -> ServiceResult<()> {
    let files: Vec<(String, String)> = formats
        .iter()
        .map(|format| (report_file_name(week, *format), format.render(report)))
        .collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        for (name, text) in files {
            let partial = dir.join(format!(".{name}.partial"));
            std::fs::write(&partial, text)?;
            std::fs::rename(&partial, dir.join(name))?;
        }
        Ok(())
    })
    .await
    .map_err(|error| ServiceError::Internal(error.to_string()))?
    .map_err(|error| ServiceError::Internal(format!("writing the weekly report: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_after_the_week_in_local_time() {
        let week = IsoWeek::parse("2026-W43").unwrap();
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let delivery = ReportDelivery {
            weekday: Weekday::Monday,
            hour: 9,
            ..ReportDelivery::default()
        };
        // Week 43 ends Sunday 25 October 2026; Berlin is on CET (UTC+1) from that day.
        assert_eq!(
            delivery.due_at(week, &zone).to_string(),
            "2026-10-26T08:00:00Z"
        );
        let sunday = ReportDelivery {
            weekday: Weekday::Sunday,
            hour: 23,
            ..ReportDelivery::default()
        };
        assert_eq!(
            sunday.due_at(week, &zone).to_string(),
            "2026-11-01T22:00:00Z"
        );
    }

    #[test]
    fn signature_covers_timestamp_and_body() {
        let signature = report_signature(b"secret", 1_700_000_000, b"{}");
        assert!(signature.starts_with("sha256="));
        // Python: hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature,
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(signature, report_signature(b"secret", 1_700_000_001, b"{}"));
        assert_ne!(signature, report_signature(b"secret", 1_700_000_000, b"[]"));
        assert_ne!(signature, report_signature(b"other", 1_700_000_000, b"{}"));
        assert_eq!(
            report_file_name(IsoWeek::parse("2026-W47").unwrap(), ReportFormat::Csv),
            "fandesk-report-2026-W47.csv"
        );
    }
}
