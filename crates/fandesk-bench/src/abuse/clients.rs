//! The abusive clients' own process. Real attackers spend their own machines' CPU; on one
//! box the abusive clients would instead take the server's cores and the normal clients'
//! (the harness would measure its own contention, not the server's defences). So the
//! scenario starts them as a child process (`fandesk-bench abuse-clients`), by default at
//! the lowest CPU priority (`nice 19`): they still open every connection and send every
//! byte, but only on CPU the server and the normal clients leave idle. `--abusers-nice 0`
//! runs them at the same priority as everything else (the co-located figure).
//! The child prints its tally and CPU time as one JSON line when it ends.

use super::attack::{self, Abuser, Kind};
use super::tally::Tally;
use crate::stamp::now_us;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// `fandesk-bench abuse-clients`: what the parent passes to the child.
#[derive(clap::Args, Clone, Debug)]
pub struct ClientsArgs {
    #[arg(long)]
    pub server: SocketAddr,
    #[arg(long)]
    pub abusive: usize,
    #[arg(long, value_enum, value_delimiter = ',')]
    pub kinds: Vec<Kind>,
    #[arg(long)]
    pub abusive_addresses: usize,
    #[arg(long)]
    pub flood_rate: u64,
    #[arg(long)]
    pub victim_email: String,
    /// Start at this moment (µs since the epoch, `stamp::now_us`).
    #[arg(long)]
    pub from_us: u64,
    /// Stop at this moment.
    #[arg(long)]
    pub until_us: u64,
}

/// What the child reports.
#[derive(Serialize, Deserialize)]
pub struct ClientsReport {
    /// `(kind, outcome, count)`.
    pub counts: Vec<(String, String, u64)>,
    /// `(kind, longest held ms)`.
    pub held: Vec<(String, u64)>,
    /// The child's CPU seconds over its whole life.
    pub cpu_secs: f64,
}

/// Where abusive client `i` comes from when there are `kinds` kinds: client `i` is of
/// kind `i % kinds`, and each kind's clients are spread evenly over the addresses (the
/// address must not follow from the kind, or each kind would have an address to itself).
pub fn abusive_source(i: usize, kinds: usize, addresses: usize) -> Ipv4Addr {
    let spread = (i / kinds.max(1) + i % kinds.max(1)) % addresses.clamp(1, 250);
    Ipv4Addr::new(127, 0, 1, 1 + spread as u8)
}

/// The child: runs the abusive clients from `from_us` to `until_us`, then prints its report.
pub fn run(args: ClientsArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tally = Arc::new(Tally::default());
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_micros(args.from_us.saturating_sub(now_us()))).await;
        let mut abusers = tokio::task::JoinSet::new();
        let kinds = if args.kinds.is_empty() {
            attack::KINDS.to_vec()
        } else {
            args.kinds.clone()
        };
        for i in 0..args.abusive {
            let abuser = Abuser {
                kind: kinds[i % kinds.len()],
                index: i / kinds.len(),
                server: args.server,
                source: abusive_source(i, kinds.len(), args.abusive_addresses),
                tally: tally.clone(),
                victim_email: args.victim_email.clone(),
                flood_rate: args.flood_rate,
            };
            abusers.spawn(abuser.run());
        }
        tokio::time::sleep(Duration::from_micros(
            args.until_us.saturating_sub(now_us()),
        ))
        .await;
        abusers.abort_all();
        while abusers.join_next().await.is_some() {}
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = ClientsReport {
        counts: tally.all_counts(),
        held: tally.all_held(),
        cpu_secs: crate::procfs::Usage::of(std::process::id())?.cpu_secs,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// The parent's handle on the child.
pub struct Child {
    child: tokio::process::Child,
}

/// Starts the child at CPU priority `nice` (0–19).
pub fn spawn(
    args: &super::AbuseArgs,
    server: SocketAddr,
    victim_email: &str,
    from_us: u64,
    until_us: u64,
) -> Result<Child> {
    let exe = std::env::current_exe().context("finding fandesk-bench")?;
    let kinds: Vec<String> = args
        .kinds()
        .iter()
        .filter_map(clap::ValueEnum::to_possible_value)
        .map(|value| value.get_name().to_owned())
        .collect();
    let mut command = tokio::process::Command::new("nice");
    command
        .arg("-n")
        .arg(args.abusers_nice.min(19).to_string())
        .arg(exe)
        .arg("abuse-clients")
        .arg("--server")
        .arg(server.to_string())
        .arg("--abusive")
        .arg(args.abusive.to_string())
        .arg("--kinds")
        .arg(kinds.join(","))
        .arg("--abusive-addresses")
        .arg(args.abusive_addresses.to_string())
        .arg("--flood-rate")
        .arg(args.flood_rate.to_string())
        .arg("--victim-email")
        .arg(victim_email)
        .arg("--from-us")
        .arg(from_us.to_string())
        .arg("--until-us")
        .arg(until_us.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .context("starting the abusive clients' process (nice)")?;
    Ok(Child { child })
}

impl Child {
    /// Waits for the child's report (it ends a moment after `until_us`) and adds its
    /// counts to `tally`; returns the child's CPU seconds.
    pub async fn finish(self, tally: &Tally) -> Result<f64> {
        let output = tokio::time::timeout(Duration::from_secs(30), self.child.wait_with_output())
            .await
            .context("the abusive clients' process did not end")??;
        if !output.status.success() {
            bail!("the abusive clients' process failed: {}", output.status);
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().last().unwrap_or_default();
        let report: ClientsReport =
            serde_json::from_str(line).context("reading the abusive clients' report")?;
        for (kind, outcome, count) in report.counts {
            if let Some(kind) = Kind::named(&kind) {
                tally.add_many(kind.name(), outcome, count);
            }
        }
        for (kind, ms) in report.held {
            if let Some(kind) = Kind::named(&kind) {
                tally.held(kind.name(), ms);
            }
        }
        Ok(report.cpu_secs)
    }
}
