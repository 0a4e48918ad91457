//! `fandesk report --week 2026-W47 [--format html|csv|json] [--out FILE]`: the weekly report
//! (docs/metrics.md › Weekly report) read straight from the database, no server needed.

use anyhow::Context;
use clap::ValueEnum;
use fandesk_service::report::{IsoWeek, to_csv, to_html, to_json};
use fandesk_service::{ReportDelivery, ReportWebhook};
use fandesk_store::Store;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReportFormat {
    Html,
    Csv,
    Json,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ReportArgs {
    /// ISO week, e.g. 2026-W47; default the last complete week.
    #[arg(long)]
    pub week: Option<String>,
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// IANA time zone of the week and of the shifts (the creator's).
    #[arg(long, env = "FANDESK_CREATOR_TIMEZONE", default_value = "UTC")]
    pub tz: String,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "FANDESK_DATA_DIR", default_value = "./fandesk-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); when set, SQLite is not used.
    #[arg(long, env = "FANDESK_DATABASE_URL")]
    pub database: Option<String>,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let zone = jiff::tz::TimeZone::get(&args.tz)
        .with_context(|| format!("unknown time zone {:?}", args.tz))?;
    let now = jiff::Timestamp::now();
    let week = match &args.week {
        Some(text) => IsoWeek::parse(text).map_err(anyhow::Error::msg)?,
        None => IsoWeek::containing(now, &zone).previous(),
    };
    let store = match &args.database {
        Some(url) => Store::connect_postgres(url, None)
            .await
            .context("connecting to PostgreSQL")?,
        None => {
            // A report reads an existing database: a mistyped directory must not become
            // a fresh, empty one reported as an all-zero week.
            let file = args.data_dir.join(fandesk_store::SQLITE_FILE);
            if !file.is_file() {
                anyhow::bail!(
                    "no fandesk database in {} (expected {}): pass the data directory of \
                     `fandesk serve` with --data-dir, or --database for PostgreSQL",
                    args.data_dir.display(),
                    file.display()
                );
            }
            Store::open_sqlite(&args.data_dir)
                .await
                .with_context(|| format!("opening the database in {}", args.data_dir.display()))?
        }
    };
    let report = fandesk_service::build_weekly_report(&store, week, &zone, &zone, now).await;
    store.close().await;
    let report = report.map_err(|error| anyhow::anyhow!("building the report: {error}"))?;
    let text = match args.format {
        ReportFormat::Html => to_html(&report),
        ReportFormat::Csv => to_csv(&report),
        ReportFormat::Json => to_json(&report),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `fandesk serve`'s scheduled weekly report delivery (docs/api.md › Metrics and reports):
/// last week's report is written to `--report-dir` and/or posted to `--report-webhook` on
/// `--report-weekday` at `--report-hour`:00 in `--report-timezone`. Off unless a directory
/// or webhook is given.
/// The webhook secret comes from `FANDESK_REPORT_WEBHOOK_SECRET` only.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DeliveryArgs {
    /// Directory the weekly report files go to (`fandesk-report-2026-W47.html`, …).
    #[arg(long, env = "FANDESK_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,
    /// Formats written to the directory, comma-separated: html, csv, json.
    #[arg(
        long,
        env = "FANDESK_REPORT_FORMAT",
        value_delimiter = ',',
        default_value = "html"
    )]
    pub report_format: Vec<String>,
    /// `http://` URL the weekly report is POSTed to, signed with HMAC-SHA256.
    #[arg(long, env = "FANDESK_REPORT_WEBHOOK_URL")]
    pub report_webhook: Option<String>,
    /// Format of the webhook body: json, csv or html.
    #[arg(long, env = "FANDESK_REPORT_WEBHOOK_FORMAT", default_value = "json")]
    pub report_webhook_format: String,
    /// Weekday of the delivery (monday … sunday), after the reported week ends.
    #[arg(long, env = "FANDESK_REPORT_WEEKDAY", default_value = "monday")]
    pub report_weekday: String,
    /// Local hour of the delivery, 0–23.
    #[arg(long, env = "FANDESK_REPORT_HOUR", default_value_t = 8)]
    pub report_hour: u8,
    /// IANA time zone of the weeks and the schedule (default: the creator's).
    #[arg(long, env = "FANDESK_REPORT_TIMEZONE")]
    pub report_timezone: Option<String>,
}

impl DeliveryArgs {
    /// The service's delivery settings; `None` when neither target is given.
    pub fn delivery(&self) -> anyhow::Result<Option<ReportDelivery>> {
        if self.report_dir.is_none() && self.report_webhook.is_none() {
            return Ok(None);
        }
        let format = |text: &str, flag: &str| {
            fandesk_service::ReportFormat::parse(text)
                .ok_or_else(|| anyhow::anyhow!("{flag}: html, csv or json, not {text:?}"))
        };
        let formats = self
            .report_format
            .iter()
            .filter(|text| !text.trim().is_empty())
            .map(|text| format(text, "--report-format"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let weekday = fandesk_domain::desk::parse_weekday(&self.report_weekday)
            .ok_or_else(|| anyhow::anyhow!("--report-weekday: monday … sunday"))?;
        let hour = i8::try_from(self.report_hour)
            .ok()
            .filter(|hour| (0..24).contains(hour))
            .ok_or_else(|| anyhow::anyhow!("--report-hour: 0 to 23"))?;
        let time_zone = self
            .report_timezone
            .as_deref()
            .map(|name| {
                jiff::tz::TimeZone::get(name)
                    .with_context(|| format!("--report-timezone: unknown time zone {name:?}"))
            })
            .transpose()?;
        let webhook = match &self.report_webhook {
            None => None,
            Some(url) => {
                anyhow::ensure!(
                    url.starts_with("http://"),
                    "--report-webhook: an http:// URL (this build has no TLS client; \
                     put an HTTPS proxy in front)"
                );
                let secret = std::env::var("FANDESK_REPORT_WEBHOOK_SECRET")
                    .ok()
                    .filter(|secret| !secret.is_empty())
                    .context("--report-webhook needs FANDESK_REPORT_WEBHOOK_SECRET")?;
                Some(ReportWebhook {
                    url: url.clone(),
                    secret: secret.into_bytes(),
                    format: format(&self.report_webhook_format, "--report-webhook-format")?,
                    timeout: std::time::Duration::from_secs(10),
                })
            }
        };
        Ok(Some(ReportDelivery {
            weekday,
            hour,
            time_zone,
            dir: self.report_dir.clone(),
            formats,
            webhook,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: Option<&str>, formats: &[&str]) -> DeliveryArgs {
        DeliveryArgs {
            report_dir: dir.map(PathBuf::from),
            report_format: formats.iter().map(|text| text.to_string()).collect(),
            report_webhook_format: "json".into(),
            report_weekday: "friday".into(),
            report_hour: 17,
            ..DeliveryArgs::default()
        }
    }

    #[test]
    fn delivery_settings_from_flags() {
        assert!(args(None, &["html"]).delivery().unwrap().is_none(), "off");
        let delivery = args(Some("/tmp/r"), &["html", "json"])
            .delivery()
            .unwrap()
            .unwrap();
        assert_eq!(delivery.weekday, jiff::civil::Weekday::Friday);
        assert_eq!(delivery.hour, 17);
        assert_eq!(
            delivery.formats,
            [
                fandesk_service::ReportFormat::Html,
                fandesk_service::ReportFormat::Json
            ]
        );
        assert!(delivery.webhook.is_none() && delivery.time_zone.is_none());
        assert!(args(Some("/tmp/r"), &["pdf"]).delivery().is_err());
        let mut late = args(Some("/tmp/r"), &["csv"]);
        late.report_hour = 24;
        assert!(late.delivery().is_err());
        let mut tls = args(None, &["html"]);
        tls.report_webhook = Some("https://example.test/hook".into());
        let error = tls.delivery().unwrap_err().to_string();
        assert!(error.contains("http://"), "{error}");
    }
}
