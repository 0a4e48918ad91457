//! `fandesk-bench`: fandesk against baseline servers, side by side. See BENCHMARKS.md
//! for what each scenario measures and the numbers.
//!
//! ```text
//! cargo build --release -p fandesk -p fandesk-bench
//! target/release/fandesk-bench all                 # every scenario, full size (~15 min)
//! target/release/fandesk-bench idle --runs 5       # one scenario
//! target/release/fandesk-bench all --smoke         # tiny sizes, seconds (CI)
//! ```
//!
//! Every server and every load generator is its own process (each may hold at most 20,000
//! descriptors); generators bind distinct 127.0.0.x source addresses. All traffic stays on
//! 127.0.0.0/8.

mod abuse;
mod api;
mod ceiling;
mod cluster;
mod crash_soak;
mod genctl;
mod loadgen;
mod naive;
mod nats;
mod procfs;
mod report;
mod scenarios;
mod servers;
mod stamp;
mod wsraw;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use servers::Kind;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Parser)]
#[command(
    name = "fandesk-bench",
    about = "fandesk benchmarks against baselines, side by side"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    options: Options,
}

#[derive(clap::Args, Clone, Debug)]
struct Options {
    /// Tiny sizes and one run: checks that every scenario works, in seconds.
    #[arg(long, global = true)]
    smoke: bool,
    /// Runs per server (the median is reported). Default: 3, or 1 with --smoke.
    #[arg(long, global = true)]
    runs: Option<usize>,
    /// Also append the Markdown tables to this file.
    #[arg(long, global = true)]
    results: Option<PathBuf>,
    /// The fandesk binary (default: `fandesk` next to this executable).
    #[arg(long, global = true, env = "FANDESK_BENCH_FANDESK_BIN")]
    fandesk_bin: Option<PathBuf>,
    /// nats-server binary for the outside peer (skipped when missing).
    #[arg(long, global = true, default_value = "/usr/sbin/nats-server")]
    nats_bin: PathBuf,
    /// PostgreSQL server (user with CREATE DATABASE) for dm-durable; a fresh database per run.
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// Skip nats-server.
    #[arg(long, global = true)]
    no_nats: bool,
    /// Skip PostgreSQL.
    #[arg(long, global = true)]
    no_postgres: bool,
    /// Keep the work directory (server logs, databases, generator specs) and print it.
    #[arg(long, global = true)]
    keep_work: bool,
    /// Only these servers (comma-separated: fandesk, naive, ceiling, nats), for exploring.
    #[arg(long, global = true, value_delimiter = ',')]
    servers: Vec<String>,
    /// dm-durable: conversations (default 200; 8 with --smoke), for exploring.
    #[arg(long, global = true)]
    dm_conversations: Option<usize>,
    /// dm-durable: closed-loop sends in flight per connection (default 4).
    #[arg(long, global = true)]
    dm_window: Option<usize>,
    /// dm-history: stored-message levels to probe at (default 0,1000000,10000000; 0,3000
    /// with --smoke).
    #[arg(long, global = true, value_delimiter = ',')]
    history_levels: Vec<u64>,
    /// scheduled-send: fans in the segment (default 100,000; 2,000 with --smoke).
    #[arg(long, global = true)]
    recipients: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario, in order.
    All,
    /// N authenticated idle connections: user-space RSS per connection.
    Idle,
    /// 19,000 connections held by one server process.
    Capacity,
    /// 1:1 conversations acked after commit, SQLite and PostgreSQL.
    DmDurable,
    /// One room, 1,000 and 10,000 viewers: deliveries/s, CPU per delivery.
    RoomFrames,
    /// One room, 1,000 viewers, 10 msg/s: send → receive percentiles.
    RoomLatency,
    /// One room, 10,000 viewers, 100 msg/s: deliveries/s, p99, CPU.
    RoomCoalesced,
    /// 1:1 conversations on two nodes with NATS (fan and agent apart) beside one node.
    ClusterDm,
    /// 76,000 connections held by five `--reuse-port` nodes on one box.
    ClusterCapacity,
    /// Memory as history grows (not in `all`): rounds of fresh fans on one server, its
    /// RssAnon after each.
    SoakMemory,
    /// A direct message's cost as history grows (not in `all`): throughput and ack
    /// latency at 0, 1M and 10M stored messages (`--history-levels`), SQLite and PostgreSQL.
    DmHistory,
    /// Live chat's ack latency while a scheduled message goes to a 100,000-fan segment,
    /// beside the same live chat alone (not in `all`).
    ScheduledSend,
    /// A Q&A burst (not in `all`): 10,000 viewers of one event, its chat at 100 msg/s,
    /// with and without 1,000 upvotes/s on one question; the chat's p99 ratio.
    QaBurst,
    /// Diagnostic (not in `all`): ack latency with and without event frames on the socket.
    DmAckDiagnosis,
    /// Baseline server (a): naive tokio-tungstenite broadcast.
    BaselineNaive {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Baseline server (b): encode once, write to every socket in a tight loop.
    BaselineCeiling {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 2)]
        shards: usize,
        /// Write each viewer once per tick of this many ms (0 = every frame at once).
        #[arg(long, default_value_t = 0)]
        coalesce_ms: u64,
    },
    /// Crash soak: clients send while fandesk is SIGKILLed every few seconds and
    /// restarted; a checker then finds lost, duplicated or reordered messages
    /// (RELIABILITY.md). Not in `all`.
    CrashSoak(crash_soak::SoakArgs),
    /// Abuse: normal clients alone, then beside abusive ones (slowloris, floods, oversize
    /// frames, reconnect storms, …); their p99 ratio and disconnections (RELIABILITY.md).
    /// Not in `all`.
    Abuse(abuse::AbuseArgs),
    /// The abusive clients' process (started by `abuse`).
    #[command(hide = true)]
    AbuseClients(abuse::ClientsArgs),
    /// A load-generator process (started by the scenarios).
    Gen {
        #[arg(long)]
        spec_file: PathBuf,
    },
}

/// What every scenario shares.
pub struct Ctx {
    pub smoke: bool,
    pub runs: usize,
    pub fandesk_bin: PathBuf,
    pub nats_bin: Option<PathBuf>,
    /// `postgres://user@host:port` when reachable.
    pub postgres: Option<String>,
    pub work: tempfile::TempDir,
    pub dm_conversations: Option<usize>,
    pub dm_window: Option<usize>,
    pub recipients: Option<usize>,
    pub history_levels: Vec<u64>,
    servers: Vec<String>,
    serial: AtomicU64,
    ip: AtomicU64,
    problems: Mutex<Vec<String>>,
    scenario: Mutex<String>,
}

impl Ctx {
    pub fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh loopback source address per generator (127.0.B.A, never 127.0.0.1), so
    /// TIME_WAIT sockets of earlier runs never exhaust a source's ephemeral ports.
    pub fn next_ip(&self) -> Ipv4Addr {
        let n = self.ip.fetch_add(1, Ordering::Relaxed);
        let a = 2 + (n % 250) as u8;
        let b = ((n / 250) % 250) as u8;
        Ipv4Addr::new(127, 0, b, a)
    }

    pub fn problem(&self, text: String) {
        eprintln!("problem: {text}");
        self.problems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(text);
    }

    pub fn problems(&self) -> Vec<String> {
        self.problems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_scenario(&self, name: &str) {
        *self.scenario.lock().unwrap_or_else(|p| p.into_inner()) = name.to_owned();
    }

    pub fn current_scenario(&self) -> String {
        self.scenario
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The servers of `wanted` that can run here.
    pub fn kinds(&self, wanted: &[Kind]) -> Vec<Kind> {
        wanted
            .iter()
            .copied()
            .filter(|kind| match kind {
                Kind::Nats => self.nats_bin.is_some(),
                Kind::FandeskPostgres => self.postgres.is_some(),
                Kind::FandeskCluster => self.postgres.is_some() && self.nats_bin.is_some(),
                _ => true,
            })
            .filter(|kind| {
                self.servers.is_empty()
                    || self
                        .servers
                        .iter()
                        .any(|name| kind.label().starts_with(name.as_str()))
            })
            .collect()
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::BaselineNaive { listen, threads } => naive::run(listen, threads),
        Command::BaselineCeiling {
            listen,
            shards,
            coalesce_ms,
        } => ceiling::run(listen, shards, coalesce_ms),
        Command::Gen { spec_file } => loadgen::run(&spec_file),
        Command::CrashSoak(args) => crash_soak::run(soak_setup(&cli.options)?, args),
        Command::Abuse(args) => abuse_command(cli.options, args),
        Command::AbuseClients(args) => abuse::clients_command(args),
        Command::All => coordinate(cli.options, scenarios::SCENARIOS),
        Command::Idle => coordinate(cli.options, &["idle"]),
        Command::Capacity => coordinate(cli.options, &["capacity"]),
        Command::DmDurable => coordinate(cli.options, &["dm-durable"]),
        Command::RoomFrames => coordinate(cli.options, &["room-frames"]),
        Command::RoomLatency => coordinate(cli.options, &["room-latency"]),
        Command::RoomCoalesced => coordinate(cli.options, &["room-coalesced"]),
        Command::DmAckDiagnosis => coordinate(cli.options, &["dm-ack-diagnosis"]),
        Command::ClusterDm => coordinate(cli.options, &["cluster-dm"]),
        Command::SoakMemory => coordinate(cli.options, &["soak-memory"]),
        Command::DmHistory => coordinate(cli.options, &["dm-history"]),
        Command::ScheduledSend => coordinate(cli.options, &["scheduled-send"]),
        Command::QaBurst => coordinate(cli.options, &["qa-burst"]),
        Command::ClusterCapacity => coordinate(cli.options, &["cluster-capacity"]),
    }
}

fn soak_setup(options: &Options) -> Result<crash_soak::Setup> {
    let fandesk_bin = match &options.fandesk_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("fandesk"),
    };
    Ok(crash_soak::Setup {
        fandesk_bin,
        postgres: options.postgres.clone(),
        results: options.results.clone(),
        keep_work: options.keep_work,
    })
}

fn abuse_command(options: Options, args: abuse::AbuseArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ctx = context(&options).await?;
        let started = std::time::Instant::now();
        let mut out = header(&ctx, &["abuse"]);
        print!("{out}");
        let (markdown, failures) = abuse::run(&ctx, &args).await?;
        print!("{markdown}");
        out.push_str(&markdown);
        let footer = format!(
            "Total: {:.0} s. Load average at the end: {}.\n",
            started.elapsed().as_secs_f64(),
            loadavg()
        );
        finish_report(&options, ctx, out, &footer)?;
        if !failures.is_empty() {
            anyhow::bail!("abuse targets missed:\n- {}", failures.join("\n- "));
        }
        Ok(())
    })
}

fn coordinate(options: Options, names: &[&str]) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_scenarios(options, names))
}

async fn run_scenarios(options: Options, names: &[&str]) -> Result<()> {
    let ctx = context(&options).await?;
    let started = std::time::Instant::now();
    let mut out = header(&ctx, names);
    print!("{out}");
    for name in names {
        let scenario_started = std::time::Instant::now();
        match scenarios::run(&ctx, name).await {
            Ok(tables) => {
                for table in tables {
                    let markdown = format!("{}\n", table.markdown());
                    print!("{markdown}");
                    out.push_str(&markdown);
                }
                let note = format!(
                    "_{name}: {:.0} s_\n\n",
                    scenario_started.elapsed().as_secs_f64()
                );
                print!("{note}");
                out.push_str(&note);
            }
            Err(error) => ctx.problem(format!("{name}: {error:#}")),
        }
    }
    let problems = ctx.problems();
    let mut footer = format!(
        "Total: {:.0} s. Load average at the end: {}.\n",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    if !problems.is_empty() {
        footer.push_str("\nProblems seen during the run:\n\n");
        for problem in &problems {
            footer.push_str(&format!("- {problem}\n"));
        }
    }
    finish_report(&options, ctx, out, &footer)?;
    if !problems.is_empty() {
        anyhow::bail!(
            "{} problem(s) during the run (listed above)",
            problems.len()
        );
    }
    Ok(())
}

async fn context(options: &Options) -> Result<Ctx> {
    let fandesk_bin = match &options.fandesk_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("fandesk"),
    };
    if !fandesk_bin.exists() {
        anyhow::bail!(
            "{} not found: build it first (cargo build --release -p fandesk -p fandesk-bench) or pass --fandesk-bin",
            fandesk_bin.display()
        );
    }
    let nats_bin =
        (!options.no_nats && options.nats_bin.exists()).then(|| options.nats_bin.clone());
    if nats_bin.is_none() && !options.no_nats {
        eprintln!(
            "note: {} not found; nats-server columns are skipped",
            options.nats_bin.display()
        );
    }
    let postgres = if options.no_postgres {
        None
    } else {
        match servers::psql(&options.postgres, "SELECT 1").await {
            Ok(()) => Some(options.postgres.clone()),
            Err(error) => {
                eprintln!("note: PostgreSQL unavailable ({error:#}); its variants are skipped");
                None
            }
        }
    };
    let runs = options
        .runs
        .unwrap_or(if options.smoke { 1 } else { 3 })
        .max(1);
    let work = tempfile::Builder::new()
        .prefix("fandesk-bench-")
        .tempdir()
        .context("creating a work directory")?;
    Ok(Ctx {
        smoke: options.smoke,
        runs,
        fandesk_bin,
        nats_bin,
        postgres,
        work,
        dm_conversations: options.dm_conversations,
        dm_window: options.dm_window,
        recipients: options.recipients,
        history_levels: options.history_levels.clone(),
        servers: options.servers.clone(),
        serial: AtomicU64::new(0),
        ip: AtomicU64::new(u64::from(std::process::id() % 200) * 250),
        problems: Mutex::new(Vec::new()),
        scenario: Mutex::new(String::new()),
    })
}

fn header(ctx: &Ctx, names: &[&str]) -> String {
    let command = std::env::args()
        .map(|arg| arg.replace(' ', "\\ "))
        .collect::<Vec<_>>()
        .join(" ");
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let fd_limit = procfs::max_open_files(std::process::id()).unwrap_or(0);
    let git = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".into());
    format!(
        "## fandesk-bench {} — {date}\n\n\
         - command: `{command}` (scenarios: {})\n\
         - machine: {cores} cores (nproc), kernel {}, `ulimit -n` {fd_limit} per process; load average at start {}\n\
         - fandesk binary: `{}` (check its commit: the working tree here is at {git}); runs per server: {} (median, with min–max of the runs)\n\n",
        if ctx.smoke { "smoke" } else { "run" },
        names.join(", "),
        kernel.trim(),
        loadavg(),
        ctx.fandesk_bin.display(),
        ctx.runs,
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Prints the report's footer, appends the whole report to `--results` if given, and
/// keeps the work directory when asked to.
fn finish_report(options: &Options, ctx: Ctx, mut out: String, footer: &str) -> Result<()> {
    print!("{footer}");
    out.push_str(footer);
    if let Some(path) = &options.results {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(file, "{out}")?;
    }
    if options.keep_work {
        let path = ctx.work.keep();
        eprintln!("work directory kept: {}", path.display());
    }
    Ok(())
}
