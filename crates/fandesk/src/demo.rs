//! `fandesk demo` (docs/api.md › Running; README › Quick start): the server on a fresh data
//! directory with a seeded workspace — team, rules, canned responses, shifts, 50 fans
//! with history across time zones — and a gentle simulated fan traffic generator, so a
//! newcomer watches a live console within a minute. Seeding goes through the service
//! layer (`App` methods), never SQL; history is dated in the past by a clock that the
//! demo winds back while it seeds ([`DemoClock`]), then runs on wall time.

mod script;
mod seed;
mod traffic;

use crate::{LogFormat, ServeArgs, serve};
use anyhow::Context;
use fandesk_service::Clock;
use jiff::{SignedDuration, Timestamp};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio_util::sync::CancellationToken;

/// Settings of `fandesk demo`. Deliberately no `FANDESK_DATA_DIR`: the demo must never
/// seed itself into a real workspace by accident.
#[derive(clap::Args, Clone, Debug)]
pub struct DemoArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// An empty (or new) directory for the demo database; by default a fresh temporary
    /// directory, deleted on exit.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Simulated fan messages per minute (0 turns the generator off).
    #[arg(long, default_value_t = 4)]
    pub fan_messages_per_minute: u32,
    /// Log format on stderr (warnings only unless `FANDESK_LOG` says otherwise).
    #[arg(long, env = "FANDESK_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// The password of every demo login (printed; the demo is for trying things out).
pub const PASSWORD: &str = "fandesk-demo";

/// Wall time shifted by an adjustable offset: seeding sets it into the past so the
/// history carries realistic dates, then puts it back to zero.
#[derive(Default)]
pub struct DemoClock {
    offset_micros: AtomicI64,
}

impl DemoClock {
    /// From now on, `now()` is `seconds_ago` seconds in the past (0: wall time).
    pub fn rewind_to(&self, seconds_ago: i64) {
        self.offset_micros
            .store(-seconds_ago.max(0) * 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_micros(self.offset_micros.load(Ordering::SeqCst));
        Timestamp::now()
            .saturating_add(offset)
            .unwrap_or_else(|_| Timestamp::now())
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    serve::init_logging(args.log_format, "warn");
    let (data_dir, temporary) = data_dir(args.data_dir.as_ref())?;
    let serve_args = ServeArgs {
        listen: args.listen,
        data_dir: data_dir.clone(),
        database: None,
        nats: None,
        node: None,
        reuse_port: false,
        log_format: args.log_format,
        allowed_origins: Vec::new(),
        charter: None,
        webhook_allow_hosts: Vec::new(),
        job_lease_secs: 60,
        report: Default::default(),
        edge: Default::default(),
    };
    let clock = Arc::new(DemoClock::default());
    let (store, app) = serve::start(&serve_args, clock.clone()).await?;
    eprintln!("Seeding the demo workspace…");
    let seeded = seed::seed(&app, &clock)
        .await
        .context("seeding the demo workspace")?;
    let listener = serve::bind(&serve_args, &store).await?;
    print_banner(
        listener.local_addr()?,
        &seeded,
        args.fan_messages_per_minute,
        (data_dir.as_path(), temporary),
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(serve::watch_signals(shutdown.clone()));
    let generator = tokio::spawn(traffic::run(
        app.clone(),
        seeded,
        args.fan_messages_per_minute,
        shutdown.clone(),
    ));
    let served = serve::serve_until(&serve_args, store, app, listener, shutdown.clone()).await;
    shutdown.cancel();
    let _ = generator.await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    served
}

/// The directory to use and whether the demo created it (and so deletes it).
fn data_dir(requested: Option<&PathBuf>) -> anyhow::Result<(PathBuf, bool)> {
    if let Some(dir) = requested {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
            Err(error) => return Err(error).with_context(|| format!("reading {}", dir.display())),
        };
        anyhow::ensure!(
            empty,
            "the demo seeds a fresh workspace: {} must be empty or absent",
            dir.display()
        );
        return Ok((dir.clone(), false));
    }
    let stamp = Timestamp::now().as_millisecond();
    let dir = std::env::temp_dir().join(format!("fandesk-demo-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok((dir, true))
}

fn print_banner(
    address: SocketAddr,
    seeded: &seed::Seeded,
    per_minute: u32,
    (data_dir, temporary): (&Path, bool),
) {
    let host = if address.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        address.ip().to_string()
    };
    let url = if address.is_ipv6() && !address.ip().is_unspecified() {
        format!("http://[{host}]:{}", address.port())
    } else {
        format!("http://{host}:{}", address.port())
    };
    println!();
    println!("  fandesk demo is running");
    println!();
    println!("  Team console   {url}/");
    println!("  Fan chat       {url}/chat");
    println!();
    println!("  Logins (password for all: {PASSWORD})");
    for (role, email) in &seeded.logins {
        println!("    {role:<16} {email}");
    }
    println!();
    println!("  Data directory {}", data_dir.display());
    println!(
        "  Weekly report  fandesk report --data-dir {} --week <YYYY-Www>{}",
        data_dir.display(),
        if temporary {
            " (while the demo runs: Ctrl-C deletes this directory)"
        } else {
            ""
        }
    );
    println!();
    println!(
        "  {} fans with history; {}. Ctrl-C stops.",
        seeded.fan_count,
        if per_minute == 0 {
            "simulated traffic is off".to_owned()
        } else {
            format!("about {per_minute} simulated fan messages a minute")
        }
    );
    println!();
}
