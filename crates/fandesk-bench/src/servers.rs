//! The servers under test, each a separate child process: fandesk itself, the two
//! baselines (subcommands of this binary) and our own nats-server instance.

use crate::Ctx;
use crate::loadgen::Proto;
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub const OWNER_EMAIL: &str = "owner@bench.invalid";
pub const OWNER_PASSWORD: &str = "bench-owner-password-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Fandesk,
    FandeskPostgres,
    /// Three fandesk nodes on one PostgreSQL database with NATS between them
    /// ([`crate::cluster::Cluster`]; not started by [`Server::start`]).
    FandeskCluster,
    Naive,
    Ceiling,
    /// The ceiling server writing once per 50 ms tick (the ceiling for coalesced fan-out).
    CeilingCoalesced,
    Nats,
}

pub const COALESCE_MS: u64 = 50;

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Fandesk => "fandesk",
            Kind::FandeskPostgres => "fandesk (PostgreSQL)",
            Kind::FandeskCluster => "fandesk (3 nodes, NATS)",
            Kind::Naive => "naive (tokio broadcast)",
            Kind::Ceiling => "ceiling",
            Kind::CeilingCoalesced => "ceiling (50 ms ticks)",
            Kind::Nats => "nats-server",
        }
    }

    pub fn proto(self) -> Proto {
        match self {
            Kind::Fandesk | Kind::FandeskPostgres | Kind::FandeskCluster => Proto::Fandesk,
            Kind::Naive | Kind::Ceiling | Kind::CeilingCoalesced => Proto::Raw,
            Kind::Nats => Proto::Nats,
        }
    }

    /// Where viewers connect.
    pub fn ws_path(self) -> &'static str {
        match self {
            Kind::Fandesk | Kind::FandeskPostgres | Kind::FandeskCluster => "/api/v1/ws",
            _ => "/",
        }
    }

    /// Where a room publisher connects (the ceiling reads only `/pub` connections).
    pub fn publish_path(self) -> &'static str {
        match self {
            Kind::Ceiling | Kind::CeilingCoalesced => "/pub",
            other => other.ws_path(),
        }
    }

    pub fn is_fandesk(self) -> bool {
        matches!(
            self,
            Kind::Fandesk | Kind::FandeskPostgres | Kind::FandeskCluster
        )
    }
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// Kept open: the child may print more, and a closed pipe would kill it.
    _stdout: Option<Lines<BufReader<ChildStdout>>>,
    database: Option<(String, String)>,
    pub log: PathBuf,
    /// nats-server's monitoring endpoint (`/varz`).
    pub monitor: Option<SocketAddr>,
    /// nats-server's client port (NATS protocol), for fandesk nodes.
    pub client: Option<SocketAddr>,
    /// A fandesk server's data directory (its SQLite files when not on PostgreSQL).
    pub data_dir: Option<PathBuf>,
}

impl Server {
    pub async fn start(ctx: &Ctx, kind: Kind) -> Result<Server> {
        let n = ctx.next_serial();
        let log = ctx.work.path().join(format!(
            "{}-{n}.log",
            kind.label().split(' ').next().unwrap_or("server")
        ));
        let log_file = std::fs::File::create(&log)?;
        let exe = std::env::current_exe()?;
        let mut database = None;
        let command = match kind {
            Kind::Fandesk | Kind::FandeskPostgres => {
                let mut command = fandesk_command(ctx, n);
                command.arg("--listen").arg("127.0.0.1:0");
                if kind == Kind::FandeskPostgres {
                    let base = ctx
                        .postgres
                        .as_deref()
                        .context("PostgreSQL is not available")?;
                    let name = format!("fandesk_bench_{}_{n}", std::process::id());
                    psql(base, &format!("CREATE DATABASE {name}")).await?;
                    let url = format!("{}/{name}", base.trim_end_matches('/'));
                    command.arg("--database").arg(&url);
                    database = Some((base.to_owned(), name));
                }
                command
            }
            Kind::Naive => {
                let mut command = Command::new(&exe);
                command
                    .arg("baseline-naive")
                    .arg("--listen")
                    .arg("127.0.0.1:0");
                command
            }
            Kind::Ceiling | Kind::CeilingCoalesced => {
                let mut command = Command::new(&exe);
                command
                    .arg("baseline-ceiling")
                    .arg("--listen")
                    .arg("127.0.0.1:0");
                if kind == Kind::CeilingCoalesced {
                    command.arg("--coalesce-ms").arg(COALESCE_MS.to_string());
                }
                command
            }
            Kind::Nats => return start_nats(ctx, n, log).await,
            Kind::FandeskCluster => bail!("a cluster is started with Cluster::start"),
        };
        let mut server = Server::launch(kind, command, log, log_file, database).await?;
        if kind.is_fandesk() {
            server.data_dir = Some(fandesk_data_dir(ctx, n));
        }
        Ok(server)
    }

    /// The bytes the server's database takes: `pg_database_size` on PostgreSQL, otherwise
    /// SQLite's database file (its WAL, a transient log of the latest commits, left out).
    pub async fn storage_bytes(&self) -> Option<u64> {
        if let Some((base, name)) = &self.database {
            let size = psql_value(base, &format!("SELECT pg_database_size('{name}')")).await;
            return size.ok()?.trim().parse().ok();
        }
        let file = self.data_dir.as_ref()?.join("fandesk.db");
        Some(std::fs::metadata(file).ok()?.len())
    }

    /// Spawns `command` (whose first stdout line is `listening on ADDR`), waiting for it
    /// to listen and, for fandesk, to be healthy.
    pub(crate) async fn launch(
        kind: Kind,
        mut command: Command,
        log: PathBuf,
        log_file: std::fs::File,
        database: Option<(String, String)>,
    ) -> Result<Server> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", kind.label()))?;
        let pid = child.id().context("no pid")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await;
        let addr = match first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("listening on ")
                .and_then(|addr| addr.trim().parse::<SocketAddr>().ok())
                .with_context(|| format!("unexpected first line {line:?}"))?,
            _ => {
                let _ = child.start_kill();
                bail!("{} did not start; log: {}", kind.label(), tail(&log));
            }
        };
        let server = Server {
            child,
            pid,
            addr,
            _stdout: Some(lines),
            database,
            log,
            monitor: None,
            client: None,
            data_dir: None,
        };
        if kind.is_fandesk() {
            server.wait_healthy().await?;
        }
        Ok(server)
    }

    async fn wait_healthy(&self) -> Result<()> {
        let api = crate::api::Api::new(self.addr);
        for _ in 0..100 {
            if api.healthy().await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("fandesk never became healthy; log: {}", tail(&self.log))
    }

    pub fn usage(&self) -> Result<crate::procfs::Usage> {
        crate::procfs::Usage::of(self.pid)
    }

    /// Whether the process is still running (a crash mid-trial must not go unnoticed).
    pub fn alive(&mut self) -> bool {
        self.exited().is_none()
    }

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        if let Some((base, name)) = self.database.take() {
            // The connections are gone with the process; drop the database (bounded retries).
            for _ in 0..10 {
                if psql(&base, &format!("DROP DATABASE IF EXISTS {name}"))
                    .await
                    .is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

/// `fandesk serve` with the harness's settings: its own data directory, warnings only,
/// the fan limits lifted (generators open thousands of connections per source address),
/// and the `/metrics` token the harness reads commit counters with. The caller adds
/// `--listen` and whatever else.
pub(crate) fn fandesk_command(ctx: &Ctx, n: u64) -> Command {
    fandesk_serve(&ctx.fandesk_bin, &fandesk_data_dir(ctx, n))
}

fn fandesk_data_dir(ctx: &Ctx, n: u64) -> PathBuf {
    ctx.work.path().join(format!("fandesk-data-{n}"))
}

/// `fandesk serve` of `exe` on `data_dir` with the settings of [`fandesk_command`].
pub(crate) fn fandesk_serve(exe: &std::path::Path, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(exe);
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .env("FANDESK_OWNER_EMAIL", OWNER_EMAIL)
        .env("FANDESK_OWNER_PASSWORD", OWNER_PASSWORD)
        // The servers' log filter: warnings unless `FANDESK_BENCH_SERVER_LOG` says more
        // (e.g. `warn,sqlx::query=debug` to time every statement; see --keep-work).
        .env(
            "FANDESK_LOG",
            std::env::var("FANDESK_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .env("FANDESK_MAX_CONNECTIONS_PER_IP", "1000000")
        .env("FANDESK_FAN_SESSIONS_PER_IP", "1000000000")
        .env("FANDESK_FAN_MESSAGES_PER_FAN", "1000000000")
        .env("FANDESK_FAN_MESSAGES_PER_IP", "1000000000")
        .env("FANDESK_METRICS_TOKEN", crate::api::METRICS_TOKEN)
        .env_remove("FANDESK_DATABASE_URL")
        .env_remove("FANDESK_LISTEN")
        .env_remove("FANDESK_DATA_DIR");
    command
}

/// The last lines of a log, for error messages.
pub fn tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

/// Runs one SQL statement with `psql` against the `postgres` maintenance database.
pub async fn psql(base: &str, sql: &str) -> Result<()> {
    psql_value(base, sql).await.map(drop)
}

/// Runs `sql` on the `postgres` database of `base`; its output, unaligned.
pub async fn psql_value(base: &str, sql: &str) -> Result<String> {
    let url = format!("{}/postgres", base.trim_end_matches('/'));
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("psql")
            .arg(&url)
            .arg("-qAtc")
            .arg(sql)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .context("psql timed out")?
    .context("running psql")?;
    if !output.status.success() {
        bail!(
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

pub(crate) async fn start_nats(ctx: &Ctx, n: u64, log: PathBuf) -> Result<Server> {
    let bin = ctx
        .nats_bin
        .as_ref()
        .context("nats-server is not available")?;
    let dir = ctx.work.path().join(format!("nats-{n}"));
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let ws_port = free_port()?;
    let monitor_port = free_port()?;
    let config = dir.join("nats.conf");
    std::fs::write(
        &config,
        crate::nats::config(port, ws_port, monitor_port, &dir),
    )?;
    let mut child = Command::new(bin)
        .arg("-c")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log)?))
        .kill_on_drop(true)
        .spawn()
        .context("starting nats-server")?;
    let pid = child.id().context("no pid")?;
    let addr: SocketAddr = ([127, 0, 0, 1], ws_port).into();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(Server {
                child,
                pid,
                addr,
                _stdout: None,
                database: None,
                log,
                monitor: Some(([127, 0, 0, 1], monitor_port).into()),
                client: Some(([127, 0, 0, 1], port).into()),
                data_dir: None,
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!("nats-server exited ({status}); log: {}", tail(&log));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.start_kill();
    bail!(
        "nats-server's WebSocket port never opened; log: {}",
        tail(&log)
    )
}
