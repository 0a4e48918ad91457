//! `idle` and `capacity`: many authenticated, idle WebSocket connections held by one
//! server process. Memory per connection, connect cost, and whether all of them stay up.

use super::{Trial, interleaved, label};
use crate::Ctx;
use crate::api::Api;
use crate::genctl::{self, Gens};
use crate::loadgen::{Mode, Spec};
use crate::report::{Samples, Table, verdict};
use crate::servers::{Kind, Server};
use anyhow::Result;
use std::time::Duration;

/// Connections per generator process (well under its 20,000 descriptors, and under one
/// source address's ~28k ephemeral ports).
const PER_GEN: usize = 5_000;
/// Fan sessions whose tokens the idle connections share (each upgrade is still
/// authenticated by the server).
const TOKENS: usize = 100;

struct Hold {
    count: usize,
    hold: Duration,
    gens: usize,
}

pub async fn idle(ctx: &Ctx) -> Result<Vec<Table>> {
    let count = if ctx.smoke { 200 } else { 5_000 };
    let plan = Hold {
        count,
        hold: Duration::from_secs(1),
        gens: count.div_ceil(PER_GEN).max(1),
    };
    let kinds = ctx.kinds(&[Kind::Fandesk, Kind::Naive, Kind::Ceiling, Kind::Nats]);
    let samples = interleaved(ctx, &kinds, |kind| {
        let plan = &plan;
        async move { hold_trial(ctx, kind, plan).await }
    })
    .await?;
    let columns: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
    let mut table = Table::new(
        format!("idle — {count} authenticated idle WebSocket connections"),
        &columns,
    );
    table.note(format!(
        "{} generator process(es), each from its own 127.0.0.x source address; fandesk connections \
         authenticate with `Authorization: Bearer` ({TOKENS} fan sessions shared); RSS measured 1 s after \
         the last connection is up",
        plan.gens
    ));
    let fandesk = samples.median("rss_per_conn_kib", Kind::Fandesk.label());
    table.sample_row(
        &samples,
        "rss_per_conn_kib",
        "user-space RSS per connection (KiB)",
        2,
        "≤ 4 KiB",
        &verdict(fandesk, |v| v <= 4.0),
    );
    common_rows(&mut table, &samples, false);
    Ok(vec![table])
}

pub async fn capacity(ctx: &Ctx) -> Result<Vec<Table>> {
    let count = if ctx.smoke { 500 } else { 19_000 };
    let gens = if ctx.smoke { 1 } else { 4 };
    let hold = Duration::from_secs(if ctx.smoke { 1 } else { 3 });
    let plan = Hold { count, hold, gens };
    let kinds = ctx.kinds(&[Kind::Fandesk, Kind::Naive, Kind::Ceiling, Kind::Nats]);
    let samples = interleaved(ctx, &kinds, |kind| {
        let plan = &plan;
        async move { hold_trial(ctx, kind, plan).await }
    })
    .await?;
    let columns: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
    let mut table = Table::new(
        format!("capacity — {count} connections held by one server process"),
        &columns,
    );
    table.note(format!(
        "{gens} generator processes × {} connections, held {} s; every server process runs with \
         `ulimit -n` = {} (its own descriptor limit)",
        count / gens,
        hold.as_secs(),
        samples
            .median("fd_limit", Kind::Fandesk.label())
            .map_or("?".into(), |v| format!("{v:.0}"))
    ));
    let connected = samples.median("alive_after_hold", Kind::Fandesk.label());
    let errors = samples
        .runs("errors", Kind::Fandesk.label())
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let ok = connected.map(|c| c >= count as f64 && errors == 0.0);
    table.sample_row(
        &samples,
        "alive_after_hold",
        "connections alive after the hold",
        0,
        &format!("{}, 0 errors", crate::report::fmt(count as f64, 0)),
        match ok {
            Some(true) => "met",
            Some(false) => "**not met**",
            None => "n/a",
        },
    );
    common_rows(&mut table, &samples, true);
    Ok(vec![table])
}

fn common_rows(table: &mut Table, samples: &Samples, with_rss_per_conn: bool) {
    table.sample_row(samples, "connected", "connections established", 0, "", "");
    table.sample_row(samples, "errors", "connect errors", 0, "0", "");
    table.sample_row(
        samples,
        "closed",
        "closed by the server during the hold",
        0,
        "0",
        "",
    );
    table.sample_row(
        samples,
        "connect_secs",
        "time to connect all (s)",
        2,
        "",
        "",
    );
    table.sample_row(
        samples,
        "cpu_us_per_conn",
        "server CPU per connect (µs, utime+stime)",
        1,
        "",
        "",
    );
    table.sample_row(
        samples,
        "rss_mib",
        "server RSS with all connected (MiB)",
        1,
        "",
        "",
    );
    if with_rss_per_conn {
        table.sample_row(
            samples,
            "rss_per_conn_kib",
            "user-space RSS per connection (KiB)",
            2,
            "",
            "",
        );
    }
}

async fn hold_trial(ctx: &Ctx, kind: Kind, plan: &Hold) -> Result<Trial> {
    let mut server = Server::start(ctx, kind).await?;
    let tokens = if kind.is_fandesk() {
        Api::new(server.addr).fans(TOKENS.min(plan.count)).await?
    } else {
        Vec::new()
    };
    // Let setup's allocations settle before the baseline reading.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.usage()?;
    let fd_limit = crate::procfs::max_open_files(server.pid).unwrap_or(0);
    let mut specs = Vec::new();
    let mut remaining = plan.count;
    for g in 0..plan.gens {
        let share = remaining / (plan.gens - g);
        remaining -= share;
        specs.push(Spec {
            label: format!("g{g}"),
            server: server.addr,
            path: kind.ws_path().into(),
            source_ip: ctx.next_ip(),
            proto: kind.proto(),
            connect_concurrency: 64,
            connect_timeout_secs: 60,
            lifetime_secs: 300,
            read_buffer: 1024,
            mode: Mode::Hold {
                count: share,
                tokens: tokens.clone(),
            },
        });
    }
    let mut gens = Gens::spawn(&specs, ctx.work.path()).await?;
    let result = async {
        let ready = gens.ready(Duration::from_secs(180)).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = server.usage()?;
        let fds = crate::procfs::open_fds(server.pid).unwrap_or(0);
        tokio::time::sleep(plan.hold.saturating_sub(Duration::from_secs(1))).await;
        let counts = gens
            .ask_all("count", "count", Duration::from_secs(30))
            .await?;
        let alive = genctl::sum(&counts, "alive");
        let closed = genctl::sum(&counts, "closed");
        let mut trial = Trial::default();
        let connected = ready.connected as f64;
        trial.set("connected", connected);
        trial.set("errors", ready.errors as f64);
        trial.set("closed", closed as f64);
        trial.set("alive_after_hold", alive as f64);
        trial.set("connect_secs", ready.connect_secs);
        trial.set("rss_mib", after.rss_kib as f64 / 1024.0);
        trial.set("fd_limit", fd_limit as f64);
        trial.set("open_fds", fds as f64);
        if connected > 0.0 {
            trial.set(
                "rss_per_conn_kib",
                (after.rss_kib as f64 - before.rss_kib as f64) / connected,
            );
            trial.set(
                "cpu_us_per_conn",
                (after.cpu_secs - before.cpu_secs) * 1e6 / connected,
            );
        }
        if ready.errors > 0 {
            trial.problem(format!(
                "{}: {} connect errors, e.g. {:?}",
                label(kind),
                ready.errors,
                ready.error_samples
            ));
        }
        if closed > 0 {
            trial.problem(format!(
                "{}: {closed} closed during the hold, e.g. {:?}",
                label(kind),
                genctl::samples(&counts, "close_samples")
            ));
        }
        if !server.alive() {
            trial.problem(format!(
                "{} died; log: {}",
                label(kind),
                crate::servers::tail(&server.log)
            ));
        }
        Ok(trial)
    }
    .await;
    gens.quit().await;
    server.stop().await;
    result
}
