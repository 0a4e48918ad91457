//! `dm-durable`: fans and agents in 1:1 conversations, both sides on WebSocket, every send
//! acknowledged only after its group commit. Closed loop (a few sends in flight per
//! connection, a new one per ack) for throughput, and a fixed offered rate for latency.

use super::{Trial, interleaved_items};
use crate::Ctx;
use crate::api::{Api, prometheus_value};
use crate::genctl::{self, Gens};
use crate::loadgen::{DmSpec, Mode, Spec};
use crate::report::{Table, fmt, verdict};
use crate::servers::{Kind, Server};
use crate::stamp::now_us;
use anyhow::{Result, bail};
use std::time::Duration;

#[derive(Clone, Copy)]
pub(super) struct Plan {
    pub conversations: usize,
    pub agents: usize,
    pub window: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub body_len: usize,
    pub gens: usize,
}

impl Plan {
    /// The plan of a DM scenario: a small fixed one under `--smoke`, otherwise
    /// `conversations` with `agents`; 4 sends in flight, 10 s measured after 2 s.
    pub(super) fn sized(ctx: &Ctx, conversations: usize, agents: usize) -> Plan {
        if ctx.smoke {
            Plan {
                conversations: 8,
                agents: 2,
                window: 4,
                warmup: Duration::from_millis(300),
                duration: Duration::from_millis(1500),
                body_len: 100,
                gens: 2,
            }
        } else {
            Plan {
                conversations,
                agents,
                window: 4,
                warmup: Duration::from_secs(2),
                duration: Duration::from_secs(10),
                body_len: 100,
                gens: 2,
            }
        }
    }
}

/// The rows every DM table has: delivery to the other side (p50, p99 with `p99_note`).
pub(super) fn delivery_rows(table: &mut Table, samples: &crate::report::Samples, p99_note: &str) {
    let rows = [
        ("delivery_p50_ms", "p50", ""),
        ("delivery_p99_ms", "p99", p99_note),
    ];
    for (key, quantile, note) in rows {
        let label = format!("send → peer's event {quantile} (ms)");
        table.sample_row(samples, key, &label, 2, "", note);
    }
}

/// The integrity rows every DM table ends with: error frames and acks out of order.
pub(super) fn integrity_rows(table: &mut Table, samples: &crate::report::Samples) {
    table.sample_row(samples, "error_frames", "error frames", 0, "0", "");
    let label = "acks out of order / unmatched";
    table.sample_row(samples, "ack_mismatches", label, 0, "0", "");
}

#[derive(Clone, Copy)]
pub(super) struct Variant {
    pub kind: Kind,
    /// Offered messages per second over all senders; `None` = closed loop.
    pub rate: Option<f64>,
    /// Closed loop: sends in flight per connection, instead of the plan's.
    pub window: Option<usize>,
    pub subscribe: bool,
}

const TARGET_RATE: f64 = 20_000.0;
const FIXED_RATE: f64 = 5_000.0;
const TARGET_P99_MS: f64 = 15.0;

pub async fn dm_durable(ctx: &Ctx) -> Result<Vec<Table>> {
    let mut plan = Plan::sized(ctx, 200, 20);
    if let Some(conversations) = ctx.dm_conversations {
        plan.conversations = conversations.max(1);
        plan.agents = plan.agents.min(plan.conversations);
    }
    if let Some(window) = ctx.dm_window {
        plan.window = window.clamp(1, 64);
    }
    let fixed = if ctx.smoke { 500.0 } else { FIXED_RATE };
    let mut items = vec![
        (
            "SQLite, closed loop".to_owned(),
            Variant {
                kind: Kind::Fandesk,
                rate: None,
                window: None,
                subscribe: true,
            },
        ),
        (
            format!("SQLite, {} msg/s offered", fmt(fixed, 0)),
            Variant {
                kind: Kind::Fandesk,
                rate: Some(fixed),
                window: None,
                subscribe: true,
            },
        ),
    ];
    if ctx.postgres.is_some() {
        items.push((
            "PostgreSQL, closed loop".to_owned(),
            Variant {
                kind: Kind::FandeskPostgres,
                rate: None,
                window: None,
                subscribe: true,
            },
        ));
    } else {
        eprintln!("note: dm-durable: PostgreSQL not reachable, its variant is skipped");
    }
    let samples = interleaved_items(ctx, "dm-durable", &items, |variant| {
        let plan = &plan;
        async move { trial(ctx, variant, plan).await }
    })
    .await;
    let columns: Vec<&str> = items.iter().map(|(label, _)| label.as_str()).collect();
    let mut table = Table::new(
        format!(
            "dm-durable — {} conversations, fan + agent each on WebSocket, ack after commit",
            plan.conversations
        ),
        &columns,
    );
    table.note(format!(
        "{} fans and {} agents; {} WebSocket connections over {} generator processes; closed loop = {} sends in \
         flight per connection (a new send per ack); fixed rate = open loop, latency from the intended send time; \
         {} s measured after {} s warm-up; {}-byte bodies; SQLite in WAL with synchronous=FULL (the server's \
         default and assertion); PostgreSQL (when listed) on 127.0.0.1, a fresh database per run",
        plan.conversations,
        plan.agents,
        plan.conversations * 2,
        plan.gens,
        plan.window,
        (plan.duration - plan.warmup).as_secs_f64(),
        plan.warmup.as_secs_f64(),
        plan.body_len
    ));
    table.note(
        "no baseline server for the durable path: raw database probes on this machine class \
         (SQLite FULL 100-row commits 24–26k rows/s, PostgreSQL 100-row batches ~48k rows/s) \
         are the reference",
    );
    for (label, _) in &items {
        for note in samples.notes(label) {
            table.note(format!("{label}, last run: {note}"));
        }
    }
    let sqlite_closed = &items[0].0;
    let sqlite_fixed = &items[1].0;
    let pg_closed = items.get(2).map(|(label, _)| label.clone());
    let rate_verdict = {
        let sqlite = verdict(samples.median("throughput", sqlite_closed), |v| {
            v >= TARGET_RATE
        });
        let pg = pg_closed
            .as_ref()
            .map(|label| verdict(samples.median("throughput", label), |v| v >= TARGET_RATE))
            .unwrap_or_else(|| "n/a".into());
        format!("SQLite: {sqlite}; PostgreSQL: {pg}")
    };
    table.sample_row(
        &samples,
        "throughput",
        "acked messages/s",
        0,
        "≥ 20,000 (closed loop, each backend)",
        &rate_verdict,
    );
    let p99_verdict = if ctx.smoke {
        "n/a (smoke rate)".to_owned()
    } else {
        format!(
            "SQLite: {}",
            verdict(samples.median("ack_p99_ms", sqlite_fixed), |v| v
                <= TARGET_P99_MS)
        )
    };
    table.sample_row(&samples, "ack_p50_ms", "ack latency p50 (ms)", 2, "", "");
    table.sample_row(
        &samples,
        "ack_p99_ms",
        "ack latency p99 (ms)",
        2,
        "≤ 15 ms at 5,000 msg/s on SQLite",
        &p99_verdict,
    );
    table.sample_row(&samples, "ack_max_ms", "ack latency max (ms)", 1, "", "");
    delivery_rows(&mut table, &samples, "");
    table.sample_row(
        &samples,
        "batch_mean",
        "mean group-commit batch (ops, server metrics)",
        1,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "commit_mean_ms",
        "mean commit time (ms, server metrics)",
        2,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "server_cores",
        "server CPU (cores, utime+stime / wall)",
        2,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "server_user_cores",
        "… of which user (cores)",
        2,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "server_system_cores",
        "… of which system/kernel (cores)",
        2,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "server_cpu_us_per_msg",
        "server CPU per acked message (µs)",
        1,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "gen_cores",
        "load generators' CPU (cores)",
        2,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "rss_mib",
        "server RSS at the end (MiB; mostly argon2 memory from the setup's logins, see notes)",
        1,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "rss_growth_mib",
        "server RSS growth during the measured window (MiB)",
        1,
        "",
        "",
    );
    integrity_rows(&mut table, &samples);
    Ok(vec![table])
}

async fn trial(ctx: &Ctx, variant: Variant, plan: &Plan) -> Result<Trial> {
    let mut server = Server::start(ctx, variant.kind).await?;
    let result = run_trial(ctx, &mut server, None, variant, plan, None).await;
    server.stop().await;
    result
}

/// One trial against `server`; the agents connect to `agent_server` instead when given
/// (another node of the same cluster). `window`, when given, is told the measured
/// window's start and end (µs since the epoch) as it begins.
pub(super) async fn run_trial(
    ctx: &Ctx,
    server: &mut Server,
    agent_server: Option<std::net::SocketAddr>,
    variant: Variant,
    plan: &Plan,
    window: Option<tokio::sync::oneshot::Sender<(u64, u64)>>,
) -> Result<Trial> {
    let api = Api::new(server.addr);
    let pairs = api.dm_pairs(plan.conversations, plan.agents).await?;
    let senders = (pairs.len() * 2) as f64;
    let mut specs = Vec::new();
    let per_gen = pairs.len().div_ceil(plan.gens.max(1));
    for (g, chunk) in pairs.chunks(per_gen.max(1)).enumerate() {
        specs.push(Spec {
            label: format!("g{g}"),
            server: server.addr,
            path: Kind::Fandesk.ws_path().into(),
            source_ip: ctx.next_ip(),
            proto: Kind::Fandesk.proto(),
            connect_concurrency: 32,
            connect_timeout_secs: 30,
            lifetime_secs: 120 + plan.duration.as_secs(),
            read_buffer: 16 * 1024,
            mode: Mode::Dm(DmSpec {
                pairs: chunk.to_vec(),
                window: variant.window.unwrap_or(plan.window),
                rate_per_sender: variant.rate.map(|rate| rate / senders),
                in_flight_cap: 64,
                warmup_ms: plan.warmup.as_millis() as u64,
                duration_ms: plan.duration.as_millis() as u64,
                body_len: plan.body_len,
                subscribe: variant.subscribe,
                agent_server,
            }),
        });
    }
    let mut gens = Gens::spawn(&specs, ctx.work.path()).await?;
    let result = async {
        let ready = gens.ready(Duration::from_secs(60)).await?;
        if ready.errors > 0 {
            bail!(
                "{} connections failed: {:?}",
                ready.errors,
                ready.error_samples
            );
        }
        let metrics_before = api.metrics().await.unwrap_or_default();
        let start_at = now_us() + 300_000;
        gens.ask_all(
            &format!("start {start_at}"),
            "started",
            Duration::from_secs(10),
        )
        .await?;
        let sleep_to =
            |us: u64| tokio::time::sleep(Duration::from_micros(us.saturating_sub(now_us())));
        sleep_to(start_at + plan.warmup.as_micros() as u64).await;
        if let Some(window) = window {
            let end = start_at + plan.duration.as_micros() as u64;
            let _ = window.send((start_at + plan.warmup.as_micros() as u64, end));
        }
        let before = server.usage()?;
        let threads_before = crate::procfs::threads_cpu(server.pid);
        let gen_before = gens.cpu_secs();
        sleep_to(start_at + plan.duration.as_micros() as u64).await;
        let after = server.usage()?;
        let threads_after = crate::procfs::threads_cpu(server.pid);
        let gen_after = gens.cpu_secs();
        // Senders stop at the end of the window and wait for their last acks (bounded).
        for _ in 0..60 {
            let counts = gens
                .ask_all("count", "count", Duration::from_secs(10))
                .await?;
            if genctl::sum(&counts, "senders_done") + genctl::sum(&counts, "closed")
                >= ready.connected
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let metrics_after = api.metrics().await.unwrap_or_default();
        let reports = gens
            .ask_all("report", "report", Duration::from_secs(30))
            .await?;
        let window = (plan.duration - plan.warmup).as_secs_f64();
        let acks = genctl::sum(&reports, "acks_in_window") as f64;
        let ack_latency = genctl::merged_histogram(&reports, "ack_latency")?;
        let delivery = genctl::merged_histogram(&reports, "latency")?;
        let mut trial = Trial::default();
        trial.set("throughput", acks / window);
        if !ack_latency.is_empty() {
            trial.set(
                "ack_p50_ms",
                ack_latency.value_at_quantile(0.50) as f64 / 1000.0,
            );
            trial.set(
                "ack_p99_ms",
                ack_latency.value_at_quantile(0.99) as f64 / 1000.0,
            );
            trial.set("ack_max_ms", ack_latency.max() as f64 / 1000.0);
        }
        if !delivery.is_empty() {
            trial.set(
                "delivery_p50_ms",
                delivery.value_at_quantile(0.50) as f64 / 1000.0,
            );
            trial.set(
                "delivery_p99_ms",
                delivery.value_at_quantile(0.99) as f64 / 1000.0,
            );
        }
        let wall = after.at.duration_since(before.at).as_secs_f64().max(1e-3);
        let server_cpu = after.cpu_secs - before.cpu_secs;
        trial.set("server_cores", server_cpu / wall);
        trial.set(
            "server_user_cores",
            (after.user_secs - before.user_secs) / wall,
        );
        trial.set(
            "server_system_cores",
            (after.system_secs - before.system_secs) / wall,
        );
        // Where the server's CPU went, by thread name (the last run's, as a note).
        let mut by_thread: Vec<(String, f64)> = threads_after
            .iter()
            .map(|(name, secs)| {
                (
                    name.clone(),
                    (secs - threads_before.get(name).unwrap_or(&0.0)) / wall,
                )
            })
            .filter(|(_, cores)| *cores >= 0.01)
            .collect();
        by_thread.sort_by(|a, b| b.1.total_cmp(&a.1));
        let listed: Vec<String> = by_thread
            .iter()
            .map(|(name, cores)| format!("`{name}` {cores:.2}"))
            .collect();
        if !listed.is_empty() {
            trial.notes.push(format!(
                "server CPU by thread (cores): {}",
                listed.join(", ")
            ));
        }
        if acks > 0.0 {
            trial.set("server_cpu_us_per_msg", server_cpu * 1e6 / acks);
            let per_msg = |bytes: u64| bytes as f64 / 1024.0 / acks;
            let read = after.read_bytes.saturating_sub(before.read_bytes);
            let written = after.written_bytes.saturating_sub(before.written_bytes);
            trial.set("server_read_kib_per_msg", per_msg(read));
            trial.set("server_written_kib_per_msg", per_msg(written));
        }
        trial.set("gen_cores", (gen_after - gen_before) / wall);
        let end_rss = server.usage()?.rss_kib as f64;
        trial.set("rss_mib", end_rss / 1024.0);
        trial.set("rss_growth_mib", (end_rss - before.rss_kib as f64) / 1024.0);
        let error_frames = genctl::sum(&reports, "error_frames");
        let mismatches = genctl::sum(&reports, "ack_mismatches");
        trial.set("error_frames", error_frames as f64);
        trial.set("ack_mismatches", mismatches as f64);
        let delta = |name: &str| {
            prometheus_value(&metrics_after, name).unwrap_or(0.0)
                - prometheus_value(&metrics_before, name).unwrap_or(0.0)
        };
        let batches = delta(r#"fandesk_write_batch_size_count{writer="conversation"}"#);
        if batches > 0.0 {
            trial.set(
                "batch_mean",
                delta(r#"fandesk_write_batch_size_sum{writer="conversation"}"#) / batches,
            );
        }
        let commits = delta(r#"fandesk_commit_seconds_count{writer="conversation"}"#);
        if commits > 0.0 {
            trial.set(
                "commit_mean_ms",
                delta(r#"fandesk_commit_seconds_sum{writer="conversation"}"#) * 1000.0 / commits,
            );
        }
        if acks == 0.0 {
            trial.problem("no acknowledged message in the measurement window".into());
        }
        if error_frames > 0 || mismatches > 0 {
            trial.problem(format!(
                "{error_frames} error frames, {mismatches} mismatched acks, e.g. {:?}",
                genctl::samples(&reports, "close_samples")
            ));
        }
        let closed = genctl::sum(&reports, "closed");
        if closed > 0 {
            trial.problem(format!(
                "{closed} connections closed, e.g. {:?}",
                genctl::samples(&reports, "close_samples")
            ));
        }
        if !server.alive() {
            trial.problem(format!(
                "fandesk died; log: {}",
                crate::servers::tail(&server.log)
            ));
        }
        Ok(trial)
    }
    .await;
    gens.quit().await;
    result
}

/// `dm-ack-diagnosis` (not part of `all`): why an ack takes longer than its commit. One
/// send in flight per connection on SQLite, with and without the conversation
/// subscriptions (without them the server writes only the ack to a sender's socket).
pub async fn diagnose(ctx: &Ctx) -> Result<Vec<Table>> {
    let plan = Plan {
        conversations: ctx
            .dm_conversations
            .unwrap_or(if ctx.smoke { 8 } else { 10 })
            .max(1),
        agents: 2,
        window: 1,
        warmup: Duration::from_millis(if ctx.smoke { 300 } else { 1_000 }),
        duration: Duration::from_millis(if ctx.smoke { 1_500 } else { 6_000 }),
        body_len: 100,
        gens: 2,
    };
    let variant = |window, subscribe| Variant {
        kind: Kind::Fandesk,
        rate: None,
        window: Some(window),
        subscribe,
    };
    let items = vec![
        ("1 in flight, subscribed".to_owned(), variant(1, true)),
        ("1 in flight, not subscribed".to_owned(), variant(1, false)),
        ("4 in flight, not subscribed".to_owned(), variant(4, false)),
    ];
    let samples = interleaved_items(ctx, "dm-ack-diagnosis", &items, |variant| {
        let plan = &plan;
        async move { trial(ctx, variant, plan).await }
    })
    .await;
    let columns: Vec<&str> = items.iter().map(|(label, _)| label.as_str()).collect();
    let mut table = Table::new(
        format!(
            "dm-ack-diagnosis — {} conversations on SQLite, closed loop",
            plan.conversations
        ),
        &columns,
    );
    table.note(
        "diagnostic, not a target: \"subscribed\" = both sides subscribe to their conversation, so the server \
         writes an event frame and then the ack to the sender's socket; \"not subscribed\" = only acks",
    );
    for (metric, name, decimals) in [
        ("throughput", "acked messages/s", 0),
        ("ack_p50_ms", "ack latency p50 (ms)", 2),
        ("ack_p99_ms", "ack latency p99 (ms)", 2),
        ("commit_mean_ms", "mean commit time (ms, server metrics)", 2),
        ("batch_mean", "mean group-commit batch (ops)", 1),
        ("server_cores", "server CPU (cores)", 2),
    ] {
        table.sample_row(&samples, metric, name, decimals, "", "");
    }
    Ok(vec![table])
}
