//! `soak-memory`: does the server's memory stay flat as history grows? One fandesk on
//! SQLite; every round, fresh fans and agents hold 1:1 conversations over WebSocket
//! (closed loop, ack after commit) and then disconnect; after each round the server's
//! anonymous resident memory (`RssAnon`) is read with no client connected. The target:
//! at most 64 MiB of growth from round 2 to the last round.

use super::dm::{Plan, Variant, run_trial};
use crate::Ctx;
use crate::api::{Api, prometheus_value};
use crate::report::{Table, fmt, verdict};
use crate::servers::{Kind, Server};
use anyhow::Result;
use std::time::Duration;

/// Growth allowed from the end of round 2 to the end of the last round.
const TARGET_GROWTH_MIB: f64 = 64.0;

pub async fn soak_memory(ctx: &Ctx) -> Result<Vec<Table>> {
    let (rounds, mut plan) = if ctx.smoke {
        (3, Plan::sized(ctx, 8, 2))
    } else {
        (10, Plan::sized(ctx, 100, 10))
    };
    if !ctx.smoke {
        // About 100k acked messages a round at this machine's closed-loop rate.
        plan.duration = Duration::from_secs(25);
        plan.warmup = Duration::from_secs(1);
    }
    let variant = Variant {
        kind: Kind::Fandesk,
        rate: None,
        window: None,
        subscribe: true,
    };
    let mut server = Server::start(ctx, Kind::Fandesk).await?;
    let start_anon = crate::procfs::rss_anon_kib(server.pid)? as f64 / 1024.0;
    let api = Api::new(server.addr);
    let mut anon = Vec::new();
    // The allocator's live and resident bytes (MiB) after each round, when the server
    // reports them: what it holds, apart from what the allocator keeps for reuse.
    let mut heap: Vec<Option<(f64, f64)>> = Vec::new();
    let mut messages = Vec::new();
    let mut problems = Vec::new();
    for round in 1..=rounds {
        let trial = run_trial(ctx, &mut server, None, variant, &plan, None).await?;
        let acked = trial
            .values
            .iter()
            .find(|(name, _)| name == "throughput")
            .map(|(_, rate)| rate * (plan.duration - plan.warmup).as_secs_f64())
            .unwrap_or(0.0);
        problems.extend(trial.problems.iter().map(|p| format!("round {round}: {p}")));
        // The round's sockets are closed; give the server a moment to drop their state.
        tokio::time::sleep(Duration::from_secs(2)).await;
        anon.push(crate::procfs::rss_anon_kib(server.pid)? as f64 / 1024.0);
        let figures = heap_mib(&api).await;
        heap.push(figures);
        messages.push(acked);
        eprintln!(
            "soak-memory: round {round}/{rounds}: ~{acked:.0} acked messages, RssAnon {:.1} MiB{}",
            anon[anon.len() - 1],
            figures.map_or(String::new(), |(allocated, resident)| format!(
                ", allocator: {allocated:.1} MiB allocated, {resident:.1} MiB resident"
            ))
        );
    }
    terminate(&mut server).await;
    server.stop().await;
    for problem in &problems {
        ctx.problem(format!("soak-memory: {problem}"));
    }

    let columns: Vec<String> = (1..=rounds).map(|round| format!("round {round}")).collect();
    let column_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!(
            "soak-memory — {rounds} rounds of fresh fans, {} conversations a round, RssAnon after each",
            plan.conversations
        ),
        &column_refs,
    );
    table.note(format!(
        "one `fandesk serve` on SQLite (WAL, synchronous=FULL) for every round; each round: {} new fans and \
         {} new agents, both sides on WebSocket, closed loop ({} sends in flight per connection), {} s; then \
         every client disconnects and the server's RssAnon (/proc/PID/status) is read 2 s later, with the \
         allocator's allocated and resident bytes from /metrics. RssAnon at start: {} MiB. Messages are those acked in the measured window (the warm-up's are not counted)",
        plan.conversations,
        plan.agents,
        plan.window,
        plan.duration.as_secs_f64(),
        fmt(start_anon, 1)
    ));
    let cumulative: Vec<String> = messages
        .iter()
        .scan(0.0, |sum, m| {
            *sum += m;
            Some(fmt(*sum, 0))
        })
        .collect();
    table.row("acked messages so far (≈)", cumulative, "", "");
    let cells = anon.iter().map(|mib| fmt(*mib, 1)).collect();
    table.row("server RssAnon (MiB)", cells, "", "");
    if heap.iter().all(Option::is_some) {
        let cells = |pick: fn((f64, f64)) -> f64| -> Vec<String> {
            heap.iter()
                .map(|figures| figures.map_or(String::new(), |f| fmt(pick(f), 1)))
                .collect()
        };
        table.row("allocator: allocated (MiB)", cells(|(a, _)| a), "", "");
        table.row("allocator: resident (MiB)", cells(|(_, r)| r), "", "");
    }
    let growth = (rounds >= 3).then(|| anon[anon.len() - 1] - anon[1]);
    let verdict = verdict(growth, |g| g <= TARGET_GROWTH_MIB);
    let growth_cells = (0..rounds)
        .map(|i| {
            if i == rounds - 1 {
                growth.map(|g| fmt(g, 1)).unwrap_or_else(|| "n/a".into())
            } else {
                String::new()
            }
        })
        .collect();
    table.row(
        "growth from round 2 to the last (MiB)",
        growth_cells,
        "≤ 64 MiB",
        &verdict,
    );
    Ok(vec![table])
}

/// The server's `fandesk_heap_allocated_bytes` and `fandesk_heap_resident_bytes` in MiB;
/// `None` when `/metrics` does not carry them (a build with another allocator).
async fn heap_mib(api: &Api) -> Option<(f64, f64)> {
    let text = api.metrics().await.ok()?;
    let mib = |name| prometheus_value(&text, name).map(|bytes| bytes / (1024.0 * 1024.0));
    Some((
        mib("fandesk_heap_allocated_bytes")?,
        mib("fandesk_heap_resident_bytes")?,
    ))
}

/// Asks the server to shut down (SIGTERM) and waits for it, so that a build with the
/// `heap-profile` feature writes its profile of the state the rounds left behind
/// (README › Heap profile). Bounded: after 120 s the caller kills it.
async fn terminate(server: &mut Server) {
    let sent = tokio::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.pid.to_string())
        .status()
        .await;
    if !sent.is_ok_and(|status| status.success()) {
        return;
    }
    for _ in 0..1200 {
        if server.exited().is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("soak-memory: the server did not exit within 120 s of SIGTERM");
}
