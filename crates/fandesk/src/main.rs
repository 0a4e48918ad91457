//! The `fandesk` binary: command line, configuration, logging, and wiring of the layers.

mod allocator;
mod backup;
mod demo;
mod edge;
mod heap_profile;
mod report;
mod serve;
mod transfer;

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "fandesk",
    version,
    about = "Real-time chat operations for creator teams"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Write the weekly metrics report (HTML with SVG charts, CSV or JSON).
    Report(report::ReportArgs),
    /// Run the server with a seeded demo workspace and simulated fan traffic.
    Demo(demo::DemoArgs),
    /// Copy the SQLite database to a file while the server runs (PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Put a backup in place as a data directory's database (the server stopped).
    Restore(backup::RestoreArgs),
    /// Write the workspace's fans and conversations as JSON lines (docs/export.md).
    Export(transfer::ExportArgs),
    /// Read a JSON-lines export into this workspace; rows already there are skipped.
    Import(transfer::ImportArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings of `fandesk serve` (docs/api.md › Running). Secrets come from the
/// environment only, so they never show in a process list.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "FANDESK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Share the listening port with other fandesk processes on this machine
    /// (`SO_REUSEPORT`: the kernel spreads new connections over them), so several nodes on
    /// one PostgreSQL database and NATS serve one address past one process's descriptor
    /// limit.
    #[arg(long = "reuse-port", env = "FANDESK_REUSE_PORT")]
    pub reuse_port: bool,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "FANDESK_DATA_DIR", default_value = "./fandesk-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); when set, SQLite is not used.
    #[arg(long, env = "FANDESK_DATABASE_URL")]
    pub database: Option<String>,
    /// NATS server URL (nats://HOST:4222): live events reach every node on it, so several
    /// nodes can share one PostgreSQL database. Without it, events stay in this process.
    #[arg(long = "nats", env = "FANDESK_NATS_URL")]
    pub nats: Option<String>,
    /// This node's name in `/healthz` and on the bus (default: host name and process id).
    #[arg(long = "node", env = "FANDESK_NODE")]
    pub node: Option<String>,
    /// Log format on stderr.
    #[arg(long, env = "FANDESK_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Extra browser origins allowed to open WebSockets (comma-separated; `*` for any).
    #[arg(
        long = "allowed-origins",
        env = "FANDESK_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// A TOML charter that becomes the first version of a fresh charter (README ›
    /// Charter); ignored once the database has one, which is edited in the console or
    /// with `PUT /api/v1/charter`.
    #[arg(long = "charter", env = "FANDESK_CHARTER_FILE")]
    pub charter: Option<PathBuf>,
    /// Hosts outgoing webhooks may reach although they are not public (comma-separated
    /// host names or addresses, no ports), e.g. a receiver on this machine.
    #[arg(
        long = "webhook-allow-hosts",
        env = "FANDESK_WEBHOOK_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub webhook_allow_hosts: Vec<String>,
    /// How long (seconds) a node holds a claimed job — a scheduled message's delivery run,
    /// a webhook delivery, a timer — before another node, or this one restarted, may run
    /// it again: a node killed mid-job leaves it to the others after this.
    #[arg(
        long = "job-lease-secs",
        env = "FANDESK_JOB_LEASE_SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(2..=3600)
    )]
    pub job_lease_secs: u64,
    /// The edge's protections: the metrics token, connection and request limits.
    #[command(flatten)]
    pub edge: edge::EdgeArgs,
    /// Scheduled weekly report delivery (`--report-dir`, `--report-webhook`, …).
    #[command(flatten)]
    pub report: report::DeliveryArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Report(args) => report::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args).await,
        Command::Export(args) => transfer::export(args).await,
        Command::Import(args) => transfer::import(args).await,
    }
}
