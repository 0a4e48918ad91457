//! `fandesk-bench crash-soak`: a "total queue" crash test of the real binary. Clients
//! send messages with `client_msg_id` while `fandesk serve` is SIGKILLed every few
//! seconds and restarted on the same data; unanswered sends are retried with the same id.
//! At the end every timeline is read back and the checker (`checker.rs`) reports lost,
//! unexpected, duplicated and reordered messages, wrong acks, and the recovery times.
//! RELIABILITY.md › Crash soak has the figures.

mod checker;
mod client;
mod history;
mod process;

use crate::api::Api;
use crate::servers::psql;
use anyhow::{Context, Result, bail};
use checker::{Report, Stored};
use client::{Sender, ms_since};
use history::{Entry, ServerEvent};
use process::Soaked;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(clap::Args, Clone, Debug)]
pub struct SoakArgs {
    /// The database the server runs on (PostgreSQL: a fresh database on `--postgres`).
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: Backend,
    /// Messages in all, spread over the senders.
    #[arg(long, default_value_t = 100_000)]
    pub messages: usize,
    /// Conversations; each has two senders (its fan, public; an agent, internal notes).
    #[arg(long, default_value_t = 8)]
    pub conversations: usize,
    /// Mean time between kills, ms.
    #[arg(long, default_value_t = 5000)]
    pub kill_every_ms: u64,
    /// Each interval is the mean ± up to this many ms (uniform).
    #[arg(long, default_value_t = 2000)]
    pub kill_jitter_ms: u64,
    /// Fail when fewer kills happened (so a run too short to crash cannot pass).
    #[arg(long, default_value_t = 1)]
    pub min_kills: usize,
    /// Seed of the kill intervals.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the whole history (JSON lines: every attempt, ack, error, kill) here.
    #[arg(long)]
    pub history: Option<PathBuf>,
}

/// What the run passes on from the global options.
pub struct Setup {
    pub fandesk_bin: PathBuf,
    pub postgres: String,
    pub results: Option<PathBuf>,
    pub keep_work: bool,
}

/// Uniform intervals from a fixed seed (xorshift64*), so a run's kill times repeat.
struct Intervals {
    state: u64,
    mean: u64,
    jitter: u64,
}

impl Intervals {
    fn next(&mut self) -> Duration {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let random = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let span = 2 * self.jitter + 1;
        let ms = self.mean.saturating_sub(self.jitter) + random % span;
        Duration::from_millis(ms.max(1))
    }
}

pub fn run(setup: Setup, args: SoakArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(soak(setup, args))
}

async fn soak(setup: Setup, args: SoakArgs) -> Result<()> {
    if !setup.fandesk_bin.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p fandesk -p fandesk-bench) or pass --fandesk-bin",
            setup.fandesk_bin.display()
        );
    }
    let work = tempfile::Builder::new()
        .prefix("fandesk-crash-soak-")
        .tempdir()?;
    let mut database = None;
    if args.backend == Backend::Postgres {
        let name = format!("fandesk_soak_{}", std::process::id());
        psql(&setup.postgres, &format!("CREATE DATABASE {name}")).await?;
        database = Some((
            format!("{}/{name}", setup.postgres.trim_end_matches('/')),
            name,
        ));
    }
    let mut server = Soaked::new(
        setup.fandesk_bin.clone(),
        work.path().join("data"),
        database.as_ref().map(|(url, _)| url.clone()),
        work.path().join("fandesk.log"),
    );
    let outcome = drive(&mut server, &args).await;
    let _ = server.kill().await;
    if let Some((_, name)) = &database {
        for _ in 0..10 {
            if psql(&setup.postgres, &format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let kept = setup.keep_work.then(|| work.keep());
    if let Some(path) = &kept {
        eprintln!("work directory kept: {}", path.display());
    }
    let (report, summary) = outcome?;
    print!("{summary}");
    if let Some(path) = &setup.results {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(file, "{summary}")?;
    }
    let mut failures = report.failures();
    let kills = report.recoveries.len();
    if kills < args.min_kills {
        failures.push(format!(
            "only {kills} kill(s), fewer than --min-kills {}",
            args.min_kills
        ));
    }
    if !failures.is_empty() {
        bail!("crash soak failed:\n- {}", failures.join("\n- "));
    }
    Ok(())
}

/// Sets up, sends under kills, reads back and checks. Returns the report and its
/// Markdown summary.
async fn drive(server: &mut Soaked, args: &SoakArgs) -> Result<(Report, String)> {
    let start = Instant::now();
    let addr = server.start().await?;
    let api = Api::new(addr);
    let owner = api.owner_token().await?;
    let agent = api
        .agents(&owner, 1)
        .await?
        .pop()
        .context("no agent token")?;
    let mut senders = Vec::new();
    for index in 0..args.conversations.max(1) {
        let fan = api.fan(&format!("Soak Fan {index}")).await?;
        let conversation = api.open_conversation(&fan).await?;
        senders.push(Sender {
            label: format!("fan{index}"),
            token: fan,
            conversation: conversation.clone(),
            visibility: "public",
            fan: true,
        });
        senders.push(Sender {
            label: format!("agent{index}"),
            token: agent.clone(),
            conversation,
            visibility: "internal",
            fan: false,
        });
    }

    let shared = Arc::new(RwLock::new(addr));
    let sending = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    let per_sender = args.messages / senders.len();
    let extra = args.messages % senders.len();
    for (index, sender) in senders.iter().enumerate() {
        let count = per_sender + usize::from(index < extra);
        clients.spawn(client::run(sender.clone(), count, shared.clone(), start));
    }

    let mut intervals = Intervals {
        state: args.seed.max(1),
        mean: args.kill_every_ms,
        jitter: args.kill_jitter_ms.min(args.kill_every_ms),
    };
    let mut events: Vec<ServerEvent> = Vec::new();
    let mut history: Vec<Entry> = Vec::new();
    let mut next_kill = tokio::time::Instant::now() + intervals.next();
    let mut client_error = None;
    loop {
        tokio::select! {
            finished = clients.join_next() => match finished {
                None => break,
                Some(Ok(Ok(entries))) => history.extend(entries),
                Some(Ok(Err(error))) => { client_error.get_or_insert(error); clients.abort_all(); }
                Some(Err(error)) if error.is_cancelled() => {}
                Some(Err(error)) => { client_error.get_or_insert(error.into()); clients.abort_all(); }
            },
            _ = tokio::time::sleep_until(next_kill) => {
                if let Some(status) = server.exited() {
                    bail!("fandesk exited on its own ({status}); log: {}", crate::servers::tail(&server.log));
                }
                events.push(ServerEvent::Kill { at_ms: ms_since(start) });
                server.kill().await?;
                let addr = server.start().await?;
                *shared.write().unwrap_or_else(|poison| poison.into_inner()) = addr;
                events.push(ServerEvent::Ready { at_ms: ms_since(start), addr: addr.to_string() });
                next_kill = tokio::time::Instant::now() + intervals.next();
            }
        }
    }
    if let Some(error) = client_error {
        return Err(error.context("a client failed"));
    }
    let sending_s = sending.elapsed().as_secs_f64();
    history.sort_by_key(|entry| entry.at_ms);

    // Read everything back from the running server (restarted after the last kill).
    let addr = *shared.read().unwrap_or_else(|poison| poison.into_inner());
    let api = Api::new(addr);
    let owner = api.owner_token().await?;
    let mut timelines = BTreeMap::new();
    for sender in senders.iter().step_by(2) {
        let messages = timeline(addr, &owner, &sender.conversation).await?;
        timelines.insert(sender.conversation.clone(), messages);
    }
    let kills: Vec<u64> = events
        .iter()
        .filter_map(|event| match event {
            ServerEvent::Kill { at_ms } => Some(*at_ms),
            ServerEvent::Ready { .. } => None,
        })
        .collect();
    let report = checker::check(&history, &kills, &timelines);
    if let Some(path) = &args.history {
        write_history(path, &history, &events)?;
    }
    let restart_ms = restart_times(&events);
    let text = summary(&report, args, sending_s, &restart_ms);
    Ok((report, text))
}

/// The whole team timeline of a conversation, read with the owner's token.
async fn timeline(addr: SocketAddr, token: &str, conversation: &str) -> Result<Vec<Stored>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut stored: Vec<Stored> = Vec::new();
    loop {
        let after = stored.last().map_or(0, |message| message.seq);
        let url = format!(
            "http://{addr}/api/v1/conversations/{conversation}/messages?after_seq={after}&limit=200"
        );
        let response = http.get(&url).bearer_auth(token).send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("GET {url}: {status} {text}");
        }
        let page: Value = serde_json::from_str(&text)?;
        let messages = page["messages"]
            .as_array()
            .context("no messages in the answer")?;
        for message in messages {
            stored.push(Stored {
                client_msg_id: message["client_msg_id"].as_str().map(str::to_owned),
                seq: message["seq"].as_u64().context("message without seq")?,
                public_seq: message["public_seq"].as_u64(),
            });
        }
        if messages.len() < 200 {
            return Ok(stored);
        }
    }
}

/// Kill → healthy again, per restart, ms.
fn restart_times(events: &[ServerEvent]) -> Vec<u64> {
    let mut times = Vec::new();
    let mut killed = None;
    for event in events {
        match event {
            ServerEvent::Kill { at_ms } => killed = Some(*at_ms),
            ServerEvent::Ready { at_ms, .. } => {
                if let Some(kill) = killed.take() {
                    times.push(at_ms - kill);
                }
            }
        }
    }
    times
}

fn write_history(path: &PathBuf, history: &[Entry], events: &[ServerEvent]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for event in events {
        serde_json::to_writer(&mut out, event)?;
        out.write_all(b"\n")?;
    }
    for entry in history {
        serde_json::to_writer(&mut out, entry)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn ms(value: Option<u64>) -> String {
    value.map_or("—".into(), |ms| format!("{ms} ms"))
}

fn summary(report: &Report, args: &SoakArgs, sending_s: f64, restart_ms: &[u64]) -> String {
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let mut restarts = restart_ms.to_vec();
    restarts.sort_unstable();
    let unrecovered = report.recoveries.iter().filter(|r| r.is_none()).count();
    format!(
        "## crash soak ({backend:?}) — {date}\n\n\
         - command: `{command}`\n\
         - {senders} senders in {conversations} conversations; {kills} kills every {every} ± {jitter} ms\n\n\
         | figure | value |\n|---|---|\n\
         | messages sent / acked / indeterminate | {sent} / {acked} / {indeterminate} |\n\
         | attempts (sends + retries) | {attempts} |\n\
         | lost / unexpected / duplicated / reordered / ack mismatch | {lost} / {unexpected} / {duplicated} / {reordered} / {mismatch} |\n\
         | other timeline entries (system, bot) | {other} |\n\
         | recovery, kill → first ack: p50 / max | {p50} / {max} |\n\
         | kills with no ack before the next kill | {unrecovered} |\n\
         | restart, kill → healthy: p50 / max | {restart50} / {restart_max} |\n\
         | sending time, acked messages per second | {sending_s:.1} s, {rate:.0}/s |\n\n",
        backend = args.backend,
        senders = args.conversations.max(1) * 2,
        conversations = args.conversations.max(1),
        kills = report.recoveries.len(),
        every = args.kill_every_ms,
        jitter = args.kill_jitter_ms,
        sent = report.sent,
        acked = report.acked,
        indeterminate = report.indeterminate,
        attempts = report.attempts,
        lost = report.lost.len(),
        unexpected = report.unexpected.len(),
        duplicated = report.duplicated.len(),
        reordered = report.reordered.len(),
        mismatch = report.ack_mismatch.len(),
        other = report.other_entries,
        p50 = ms(report.recovery_percentile(50)),
        max = ms(report.recovery_percentile(100)),
        restart50 = ms(restarts.get(restarts.len().saturating_sub(1) / 2).copied()),
        restart_max = ms(restarts.last().copied()),
        rate = report.acked as f64 / sending_s.max(0.001),
    )
}
