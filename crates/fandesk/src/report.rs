//! `fandesk report --week 2026-W47 [--format html|csv|json] [--out FILE]`: the weekly report
//! (PRODUCT.md › C9; issue 6 › 4) read straight from the database, no server needed.

use anyhow::Context;
use clap::ValueEnum;
use fandesk_service::report::{IsoWeek, to_csv, to_html, to_json};
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
        None => Store::open_sqlite(&args.data_dir)
            .await
            .with_context(|| format!("opening the database in {}", args.data_dir.display()))?,
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
