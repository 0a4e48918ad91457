//! `fandesk-bench abuse`: normal clients alone, then the same normal clients beside many
//! abusive ones (slowloris, silent connections, message floods, oversize frames, bad
//! UTF-8, invalid JSON, reconnect storms, login guessing), against one real `fandesk
//! serve`. Reports the normal clients' latency in both phases and their ratio, how many of
//! them were disconnected, what the server did with each abusive kind, 5xx answers and
//! `/healthz` latency. RELIABILITY.md › Abuse has the figures; `--check` fails the run
//! when a target is missed.

mod attack;
mod clients;
mod normal;
mod report;
mod tally;

use crate::Ctx;
use crate::servers::{Kind as ServerKind, Server, fandesk_command};
use crate::stamp::now_us;
use anyhow::{Context, Result, bail};
pub use clients::{ClientsArgs, run as clients_command};
use std::sync::Arc;
use std::time::Duration;
use tally::{Tally, Timeline};
use tokio::sync::watch;

#[derive(clap::Args, Clone, Debug)]
pub struct AbuseArgs {
    /// Normal clients: fans, each in a conversation with an agent (both on WebSocket).
    #[arg(long, default_value_t = 100)]
    pub normal: usize,
    /// Abusive clients, spread evenly over the eight kinds.
    #[arg(long, default_value_t = 1000)]
    pub abusive: usize,
    /// Seconds of each measured phase (alone, then beside the abusive clients).
    #[arg(long, default_value_t = 60)]
    pub phase_secs: u64,
    /// Seconds of warm-up before the first phase (not measured).
    #[arg(long, default_value_t = 3)]
    pub warmup_secs: u64,
    /// Each normal fan and agent sends one message this often (ms). 3,000 = 20 a minute,
    /// under the fan limit of 30.
    #[arg(long, default_value_t = 3000)]
    pub send_every_ms: u64,
    /// Agents answering the normal conversations.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Only these abusive kinds (comma-separated; default: all eight), to find which one
    /// costs the normal clients most.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub kinds: Vec<attack::Kind>,
    /// Loopback addresses the abusive clients come from (127.0.1.1 …), round robin.
    #[arg(long, default_value_t = 4)]
    pub abusive_addresses: usize,
    /// `send` frames each flooding client writes per second.
    #[arg(long, default_value_t = 50)]
    pub flood_rate: u64,
    /// CPU priority of the abusive clients' process (`nice`, 0–19). 19: they use only the
    /// CPU the server and the normal clients leave idle, as remote attackers' own machines
    /// would; 0: they compete for this machine's cores like everything else.
    #[arg(long, default_value_t = 19)]
    pub abusers_nice: u32,
    /// Fail (exit non-zero) when a target is missed: normal p99 under abuse > ratio × alone,
    /// a normal client disconnected, a 5xx answer, the server gone, or an abusive kind the
    /// server did not visibly refuse.
    #[arg(long)]
    pub check: bool,
    /// The p99 ratio `--check` allows (the requirement is 2).
    #[arg(long, default_value_t = 2.0)]
    pub max_ratio: f64,
    /// The least share of their intended volume the rate-driven abusive kinds (message
    /// flood, invalid JSON) must deliver for `--check` to accept the run.
    #[arg(long, default_value_t = 0.8)]
    pub min_delivered: f64,
    /// Server setting: seconds a connection may take to send a request's headers.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Server setting: open connections per client address.
    #[arg(long, default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Server setting: open connections in all.
    #[arg(long, default_value_t = 19_000)]
    pub max_connections: usize,
    /// Server setting: descriptors kept free.
    #[arg(long, default_value_t = 128)]
    pub fd_reserve: usize,
    /// Server setting: failed logins per address per minute.
    #[arg(long, default_value_t = 100)]
    pub login_failures_per_ip: u32,
    /// Server setting: fan sessions per address per minute.
    #[arg(long, default_value_t = 60)]
    pub fan_sessions_per_ip: u32,
    /// Server setting: messages per fan per minute.
    #[arg(long, default_value_t = 30)]
    pub fan_messages_per_fan: u32,
    /// Server setting: messages of the fans at one address per minute.
    #[arg(long, default_value_t = 300)]
    pub fan_messages_per_ip: u32,
}

impl AbuseArgs {
    /// The abusive kinds of this run.
    fn kinds(&self) -> Vec<attack::Kind> {
        if self.kinds.is_empty() {
            attack::KINDS.to_vec()
        } else {
            self.kinds.clone()
        }
    }

    /// The server's settings as `(environment variable, value)`, set explicitly so the
    /// figures say under which they hold.
    fn server_settings(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "FANDESK_HEADER_TIMEOUT_SECS",
                self.header_timeout_secs.to_string(),
            ),
            (
                "FANDESK_MAX_CONNECTIONS_PER_IP",
                self.max_connections_per_ip.to_string(),
            ),
            ("FANDESK_MAX_CONNECTIONS", self.max_connections.to_string()),
            ("FANDESK_FD_RESERVE", self.fd_reserve.to_string()),
            (
                "FANDESK_LOGIN_FAILURES_PER_IP",
                self.login_failures_per_ip.to_string(),
            ),
            (
                "FANDESK_FAN_SESSIONS_PER_IP",
                self.fan_sessions_per_ip.to_string(),
            ),
            (
                "FANDESK_FAN_MESSAGES_PER_FAN",
                self.fan_messages_per_fan.to_string(),
            ),
            (
                "FANDESK_FAN_MESSAGES_PER_IP",
                self.fan_messages_per_ip.to_string(),
            ),
        ]
    }
}

/// The victim of the login guessers: a real account no normal client uses.
const VICTIM_EMAIL: &str = "victim@bench.invalid";

pub async fn run(ctx: &Ctx, args: &AbuseArgs) -> Result<(String, Vec<String>)> {
    if args.normal == 0 {
        bail!("--normal must be at least 1");
    }
    let n = ctx.next_serial();
    let log = ctx.work.path().join(format!("fandesk-abuse-{n}.log"));
    let log_file = std::fs::File::create(&log)?;
    let mut command = fandesk_command(ctx, n);
    command.arg("--listen").arg("127.0.0.1:0");
    for (name, value) in args.server_settings() {
        command.env(name, value);
    }
    let mut server = Server::launch(ServerKind::Fandesk, command, log, log_file, None).await?;
    let outcome = drive(&mut server, args).await;
    let alive = server.alive();
    let log_tail = crate::servers::tail(&server.log);
    server.stop().await;
    let mut outcome = outcome?;
    if !alive {
        outcome
            .failures
            .push(format!("fandesk died; log: {log_tail}"));
    }
    Ok((outcome.markdown, outcome.failures))
}

struct Outcome {
    markdown: String,
    failures: Vec<String>,
}

async fn drive(server: &mut Server, args: &AbuseArgs) -> Result<Outcome> {
    let addr = server.addr;
    eprintln!("[abuse] setting up {} normal conversations …", args.normal);
    let api = crate::api::Api::new(addr);
    let owner = api.owner_token().await?;
    let victim = serde_json::json!({
        "email": VICTIM_EMAIL, "name": "Victim", "role": "agent",
        "password": "victim-password-long-and-unguessed"
    });
    api.post("/members", Some(&owner), victim).await?;
    let pairs = normal::setup(addr, args.normal, args.agents).await?;

    let (timeline_tx, timeline_rx) = watch::channel(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let normal = normal::spawn(
        addr,
        pairs,
        timeline_rx,
        Duration::from_millis(args.send_every_ms.max(100)),
        ready_tx,
        stop_rx,
    );
    ready_rx
        .await
        .context("the normal clients' thread ended")?
        .context("connecting the normal clients")?;
    let start = now_us() + 500_000;
    let phase_us = args.phase_secs.max(1) * 1_000_000;
    let timeline = Timeline {
        warm_from: start,
        alone_from: start + args.warmup_secs * 1_000_000,
        abuse_from: start + args.warmup_secs * 1_000_000 + phase_us,
        end: start + args.warmup_secs * 1_000_000 + 2 * phase_us,
    };
    let _ = timeline_tx.send(Some(timeline));
    eprintln!(
        "[abuse] {} normal clients connected; {} s warm-up, {} s alone, {} s beside {} abusive clients",
        args.normal * 2,
        args.warmup_secs,
        args.phase_secs,
        args.phase_secs,
        args.abusive
    );
    sleep_until_us(timeline.alone_from).await;
    let alone_before = server.usage()?;
    let harness_alone_before = crate::procfs::Usage::of(std::process::id())?;
    let metrics_alone = api.metrics().await.unwrap_or_default();
    sleep_until_us(timeline.abuse_from).await;
    let alone_after = server.usage()?;
    let harness_alone_after = crate::procfs::Usage::of(std::process::id())?;
    let metrics_abuse = api.metrics().await.unwrap_or_default();

    let tally = Arc::new(Tally::default());
    let abusers = clients::spawn(args, addr, VICTIM_EMAIL, timeline.abuse_from, timeline.end)?;
    let mut peak_fds = 0;
    let mut peak_rss_kib = 0;
    while now_us() < timeline.end {
        if let Ok(fds) = crate::procfs::open_fds(server.pid) {
            peak_fds = peak_fds.max(fds);
        }
        if let Ok(rss) = crate::procfs::rss_kib(server.pid) {
            peak_rss_kib = peak_rss_kib.max(rss);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let abuse_after = server.usage()?;
    let harness_abuse_after = crate::procfs::Usage::of(std::process::id())?;
    let metrics_end = api.metrics().await.unwrap_or_default();
    let abusers_cpu_secs = abusers.finish(&tally).await?;
    // Let the last answers to normal sends arrive, then stop the normal clients.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let stats = tokio::task::spawn_blocking(move || normal.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the normal clients' thread panicked"))?;
    let cpu = |before: &crate::procfs::Usage, after: &crate::procfs::Usage| {
        (after.cpu_secs - before.cpu_secs)
            / after.at.duration_since(before.at).as_secs_f64().max(1e-3)
    };
    let figures = report::Figures {
        args: args.clone(),
        stats,
        tally,
        server_cores: [
            cpu(&alone_before, &alone_after),
            cpu(&alone_after, &abuse_after),
        ],
        harness_cores: [
            cpu(&harness_alone_before, &harness_alone_after),
            cpu(&harness_alone_after, &harness_abuse_after),
        ],
        abusers_cores: abusers_cpu_secs / args.phase_secs.max(1) as f64,
        load_average: std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        commits: [
            report::Commits::between(&metrics_alone, &metrics_abuse, args.phase_secs),
            report::Commits::between(&metrics_abuse, &metrics_end, args.phase_secs),
        ],
        peak_fds,
        peak_rss_mib: peak_rss_kib as f64 / 1024.0,
        log_warnings: count_warnings(&server.log),
    };
    let markdown = report::markdown(&figures);
    let failures = if args.check {
        report::failures(&figures)
    } else {
        Vec::new()
    };
    Ok(Outcome { markdown, failures })
}

/// Warnings and errors in the server's log (it logs at `warn`).
fn count_warnings(log: &std::path::Path) -> (usize, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let warnings = text.lines().filter(|l| l.contains(" WARN ")).count();
    let errors = text
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains("panicked"))
        .count();
    (warnings, errors)
}

async fn sleep_until_us(us: u64) {
    tokio::time::sleep(Duration::from_micros(us.saturating_sub(now_us()))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abusers_come_from_their_own_addresses() {
        // 8 kinds over 4 addresses: every kind uses every address, evenly.
        for kind in 0..8 {
            let mut per_address = [0; 4];
            for i in (kind..800).step_by(8) {
                let source = clients::abusive_source(i, 8, 4);
                assert_eq!(&source.octets()[..3], &[127, 0, 1]);
                per_address[usize::from(source.octets()[3]) - 1] += 1;
            }
            assert_eq!(per_address, [25; 4], "kind {kind}");
        }
        assert_ne!(clients::abusive_source(3, 8, 4), normal::fan_source(0));
    }
}
