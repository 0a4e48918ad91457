//! `dm-history`: does a direct message cost more as history grows? One server per backend
//! keeps its database from level to level of stored messages (0, 1M and 10M by default).
//! At each level two probes run, each with fresh fans and agents in 1:1 conversations over
//! WebSocket (ack after commit): a closed loop (throughput and its ack percentiles) and a
//! light load (20 senders, one send in flight each: ack p50/p99). Between levels, fill
//! rounds write through the same path (closed loop, fresh fans every round) until the
//! server's `fandesk_messages_written_total` reaches the next level; each round's rate is
//! kept too, a throughput curve at finer steps.

use super::dm::{Plan, Variant, run_trial};
use super::{Trial, label};
use crate::Ctx;
use crate::api::{Api, prometheus_value};
use crate::report::{Samples, Table, fmt, verdict};
use crate::servers::{Kind, Server};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

/// PostgreSQL's light-load target, at every level.
const PG_LIGHT_P50_MS: f64 = 5.0;
const PG_LIGHT_P99_MS: f64 = 20.0;
/// The longest fill round; a level takes as many rounds as it needs.
const FILL_ROUND_MAX: Duration = Duration::from_secs(120);

/// One fill round: stored messages at its start and its end, its acked messages/s.
struct FillRound {
    from: f64,
    to: f64,
    rate: f64,
}

pub async fn dm_history(ctx: &Ctx) -> Result<Vec<Table>> {
    let levels = levels(ctx);
    let mut tables = Vec::new();
    for kind in ctx.kinds(&[Kind::Fandesk, Kind::FandeskPostgres]) {
        tables.push(backend(ctx, kind, &levels).await?);
    }
    Ok(tables)
}

fn levels(ctx: &Ctx) -> Vec<u64> {
    let mut levels = if !ctx.history_levels.is_empty() {
        ctx.history_levels.clone()
    } else if ctx.smoke {
        vec![0, 3_000]
    } else {
        vec![0, 1_000_000, 10_000_000]
    };
    levels.sort_unstable();
    levels.dedup();
    levels
}

fn level_label(level: u64) -> String {
    match level {
        0 => "empty".to_owned(),
        n if n >= 1_000_000 => format!("{}M stored", fmt(n as f64 / 1e6, 1)),
        n => format!("{} stored", fmt(n as f64, 0)),
    }
}

/// The probes' plans and the fill rounds' plan.
struct Plans {
    closed: Plan,
    light: Plan,
    fill: Plan,
}

fn plans(ctx: &Ctx) -> Plans {
    let closed = Plan::sized(ctx, 200, 20);
    let mut light = Plan::sized(ctx, 10, 2);
    light.window = 1;
    light.conversations = if ctx.smoke { 4 } else { 10 };
    let mut fill = Plan::sized(ctx, 500, 20);
    if ctx.smoke {
        fill.conversations = 8;
    }
    fill.warmup = Duration::from_secs(1);
    Plans {
        closed,
        light,
        fill,
    }
}

async fn backend(ctx: &Ctx, kind: Kind, levels: &[u64]) -> Result<Table> {
    let name = label(kind);
    let plans = plans(ctx);
    let mut server = Server::start(ctx, kind).await?;
    let api = Api::new(server.addr);
    let closed = Variant {
        kind,
        rate: None,
        window: None,
        subscribe: true,
    };
    let mut samples = Samples::default();
    let mut columns = Vec::new();
    let mut rounds: Vec<FillRound> = Vec::new();
    let mut problems = Vec::new();
    let started = Instant::now();
    for &level in levels {
        let column = level_label(level);
        fill_to(
            ctx,
            &mut server,
            &api,
            closed,
            &plans.fill,
            level,
            &mut rounds,
        )
        .await
        .with_context(|| format!("{name}: filling to {level} messages"))?;
        let stored = written(&api).await?;
        samples.add("stored", &column, stored);
        if let Some(bytes) = server.storage_bytes().await {
            samples.add("storage_mib", &column, bytes as f64 / (1024.0 * 1024.0));
            if stored > 0.0 {
                samples.add("bytes_per_msg", &column, bytes as f64 / stored);
            }
        }
        eprintln!("[dm-history] {name}, {column}: {stored:.0} stored; closed-loop probe …");
        let trial = run_trial(ctx, &mut server, None, closed, &plans.closed, None).await?;
        keep(&mut samples, &column, "closed", &trial, &mut problems);
        eprintln!("[dm-history] {name}, {column}: light-load probe …");
        let light = Variant {
            window: Some(1),
            ..closed
        };
        let trial = run_trial(ctx, &mut server, None, light, &plans.light, None).await?;
        keep(&mut samples, &column, "light", &trial, &mut problems);
        columns.push(column);
        if !server.alive() {
            problems.push(format!(
                "{name} died; log: {}",
                crate::servers::tail(&server.log)
            ));
            break;
        }
    }
    server.stop().await;
    for problem in problems {
        ctx.problem(format!("dm-history / {name}: {problem}"));
    }
    Ok(table(kind, &plans, &columns, &samples, &rounds, started))
}

/// Writes fill rounds until the server has written at least `level` messages.
async fn fill_to(
    ctx: &Ctx,
    server: &mut Server,
    api: &Api,
    variant: Variant,
    plan: &Plan,
    level: u64,
    rounds: &mut Vec<FillRound>,
) -> Result<()> {
    let level = level as f64;
    let mut rate_guess = rounds.last().map_or(8_000.0, |round| round.rate);
    loop {
        let from = written(api).await?;
        if from >= level {
            return Ok(());
        }
        // Long enough to reach the level at the last round's rate, within bounds.
        let secs = ((level - from) / rate_guess.max(100.0) + 1.0).ceil();
        let mut round_plan = *plan;
        round_plan.duration = Duration::from_secs_f64(secs)
            .clamp(Duration::from_secs(3), FILL_ROUND_MAX)
            + plan.warmup;
        let began = Instant::now();
        let trial = run_trial(ctx, server, None, variant, &round_plan, None).await?;
        if !trial.problems.is_empty() {
            anyhow::bail!("fill round: {}", trial.problems.join("; "));
        }
        let to = written(api).await?;
        let rate = (to - from) / began.elapsed().as_secs_f64().max(1e-3);
        eprintln!(
            "[dm-history] fill: {from:.0} → {to:.0} stored, {rate:.0} written/s over the round"
        );
        rate_guess = trial
            .values
            .iter()
            .find(|(name, _)| name == "throughput")
            .map_or(rate, |(_, v)| *v);
        rounds.push(FillRound {
            from,
            to,
            rate: rate_guess,
        });
    }
}

/// Messages the server has written since it started (`fandesk_messages_written_total`).
async fn written(api: &Api) -> Result<f64> {
    let text = api.metrics().await?;
    prometheus_value(&text, "fandesk_messages_written_total")
        .context("/metrics has no fandesk_messages_written_total")
}

/// Copies a probe's figures into `samples` under `prefix`.
fn keep(
    samples: &mut Samples,
    column: &str,
    prefix: &str,
    trial: &Trial,
    problems: &mut Vec<String>,
) {
    for (metric, value) in &trial.values {
        samples.add(&format!("{prefix}_{metric}"), column, *value);
    }
    problems.extend(
        trial
            .problems
            .iter()
            .map(|p| format!("{column}, {prefix} probe: {p}")),
    );
}

fn table(
    kind: Kind,
    plans: &Plans,
    columns: &[String],
    samples: &Samples,
    rounds: &[FillRound],
    started: Instant,
) -> Table {
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let backend = if kind == Kind::FandeskPostgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut table = Table::new(
        format!("dm-history — {backend}: a direct message's cost as history grows"),
        &refs,
    );
    table.note(format!(
        "one `fandesk serve` on {backend} kept from level to level ({:.0} s in all); every probe and fill \
         round with fresh fans and agents, both sides on WebSocket, ack after commit, {}-byte bodies. \
         Closed-loop probe: {} conversations, {} sends in flight per connection, {} s measured after {} s. \
         Light-load probe: {} conversations = {} senders, 1 in flight, same window. One run per level: \
         the level is the history, so it cannot be rotated like the other scenarios' runs",
        started.elapsed().as_secs_f64(),
        plans.closed.body_len,
        plans.closed.conversations,
        plans.closed.window,
        (plans.closed.duration - plans.closed.warmup).as_secs_f64(),
        plans.closed.warmup.as_secs_f64(),
        plans.light.conversations,
        plans.light.conversations * 2,
    ));
    if !rounds.is_empty() {
        let listed: Vec<String> = rounds
            .iter()
            .map(|round| {
                format!(
                    "{} → {}: {}/s",
                    millions(round.from),
                    millions(round.to),
                    fmt(round.rate, 0)
                )
            })
            .collect();
        table.note(format!(
            "fill rounds ({} conversations each, closed loop; stored messages → acked msg/s): {}",
            plans.fill.conversations,
            listed.join(", ")
        ));
    }
    table.sample_row(samples, "stored", "messages stored at the probe", 0, "", "");
    table.sample_row(samples, "storage_mib", "database size (MiB)", 0, "", "");
    table.sample_row(
        samples,
        "bytes_per_msg",
        "… per stored message (bytes)",
        0,
        "",
        "",
    );
    let flat = |metric: &str| -> String {
        let first = refs.first().and_then(|c| samples.median(metric, c));
        let last = refs.last().and_then(|c| samples.median(metric, c));
        match (first, last) {
            (Some(a), Some(b)) if a > 0.0 && refs.len() > 1 => {
                format!("last / first: {}×", fmt(b / a, 2))
            }
            _ => String::new(),
        }
    };
    let rows = [
        ("closed_throughput", "closed loop: acked messages/s", 0),
        ("closed_ack_p50_ms", "closed loop: ack p50 (ms)", 2),
        ("closed_ack_p99_ms", "closed loop: ack p99 (ms)", 2),
        (
            "closed_server_cpu_us_per_msg",
            "closed loop: server CPU per message (µs)",
            1,
        ),
        ("closed_server_user_cores", "… server CPU, user (cores)", 2),
        (
            "closed_server_system_cores",
            "… server CPU, system (cores)",
            2,
        ),
        (
            "closed_server_read_kib_per_msg",
            "closed loop: bytes read per message (KiB, rchar)",
            1,
        ),
        (
            "closed_server_written_kib_per_msg",
            "closed loop: bytes written per message (KiB, wchar)",
            1,
        ),
        ("closed_commit_mean_ms", "closed loop: mean commit (ms)", 2),
        ("closed_batch_mean", "closed loop: mean batch (ops)", 1),
    ];
    for (metric, name, decimals) in rows {
        table.sample_row(samples, metric, name, decimals, "flat", &flat(metric));
    }
    let every = |metric: &str, limit: f64| -> String {
        let values: Vec<Option<f64>> = refs.iter().map(|c| samples.median(metric, c)).collect();
        let worst = values
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .and_then(|v| v.into_iter().reduce(f64::max));
        verdict(worst, |w| w <= limit)
    };
    let (p50_target, p50_verdict, p99_target, p99_verdict) = if kind == Kind::FandeskPostgres {
        (
            "≤ 5 ms at every level".to_owned(),
            every("light_ack_p50_ms", PG_LIGHT_P50_MS),
            "≤ 20 ms at every level".to_owned(),
            every("light_ack_p99_ms", PG_LIGHT_P99_MS),
        )
    } else {
        let p50 = flat("light_ack_p50_ms");
        let p99 = flat("light_ack_p99_ms");
        ("flat".to_owned(), p50, "flat".to_owned(), p99)
    };
    let name = format!(
        "light load ({} senders, 1 in flight): ack p50 (ms)",
        plans.light.conversations * 2
    );
    table.sample_row(
        samples,
        "light_ack_p50_ms",
        &name,
        2,
        &p50_target,
        &p50_verdict,
    );
    let name = "light load: ack p99 (ms)";
    table.sample_row(
        samples,
        "light_ack_p99_ms",
        name,
        2,
        &p99_target,
        &p99_verdict,
    );
    let name = "light load: acked messages/s";
    table.sample_row(samples, "light_throughput", name, 0, "", "");
    table
}

fn millions(n: f64) -> String {
    format!("{}M", fmt(n / 1e6, 2))
}
