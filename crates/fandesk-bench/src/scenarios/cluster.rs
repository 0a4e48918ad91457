//! Several nodes on one PostgreSQL database with NATS between them.
//!
//! - `cluster-capacity`: N `fandesk serve --reuse-port` processes on one port of this
//!   machine hold authenticated, idle WebSocket connections together, past what one
//!   process's 20,000 descriptors allow.
//! - `cluster-dm`: 1:1 conversations at a fixed offered rate, acked after commit, with the
//!   fan and the agent on one node, and on two different nodes (every message crosses
//!   NATS), beside one node without NATS.

use super::dm::{Plan, Variant, delivery_rows, integrity_rows, run_trial};
use super::{Trial, interleaved_items};
use crate::Ctx;
use crate::api::Api;
use crate::cluster::{Cluster, Listen};
use crate::genctl::{self, Gens};
use crate::loadgen::{Mode, Spec};
use crate::report::{Table, fmt, verdict};
use crate::servers::{Kind, Server};
use anyhow::Result;
use std::time::Duration;

/// Connections per generator process (each from its own source address).
const PER_GEN: usize = 5_000;
/// Fan sessions whose tokens the connections share.
const TOKENS: usize = 200;
/// What one box must hold across processes.
const TARGET_CONNECTIONS: usize = 75_000;

pub async fn capacity(ctx: &Ctx) -> Result<Vec<Table>> {
    if ctx.postgres.is_none() || ctx.nats_bin.is_none() {
        eprintln!("note: cluster-capacity needs PostgreSQL and nats-server; skipped");
        return Ok(Vec::new());
    }
    // Five processes: each then holds about 15,200, well under its descriptor limit even
    // when the kernel's spread is uneven.
    let (nodes, count): (usize, usize) = if ctx.smoke { (2, 400) } else { (5, 76_000) };
    let gens = count.div_ceil(PER_GEN);
    let items = vec![(format!("{nodes} nodes, one port"), ())];
    let samples = interleaved_items(ctx, "cluster-capacity", &items, |()| async move {
        hold_trial(ctx, nodes, count, gens).await
    })
    .await;
    let column = items[0].0.clone();
    let mut table = Table::new(
        format!("cluster-capacity — {count} idle authenticated WebSocket connections on one box"),
        &[column.as_str()],
    );
    table.note(format!(
        "{nodes} `fandesk serve --reuse-port --nats … --database postgres://…` processes on one \
         address (the kernel spreads connections over them), one PostgreSQL database, one nats-server; \
         {gens} generator processes, each from its own 127.0.x.y source address; connections \
         authenticate with `Authorization: Bearer` ({TOKENS} fan sessions shared) and are held 5 s"
    ));
    for note in samples.notes(&column) {
        table.note(note);
    }
    let alive = samples.median("alive_after_hold", &column);
    let errors = samples
        .runs("errors", &column)
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let target = if ctx.smoke { count } else { TARGET_CONNECTIONS };
    table.sample_row(
        &samples,
        "alive_after_hold",
        "connections alive after the hold",
        0,
        &format!("≥ {}, 0 errors", fmt(target as f64, 0)),
        &verdict(alive, |v| v >= target as f64 && errors == 0.0),
    );
    table.sample_row(&samples, "connected", "connections established", 0, "", "");
    table.sample_row(&samples, "errors", "connect errors", 0, "0", "");
    table.sample_row(
        &samples,
        "closed",
        "closed by a server during the hold",
        0,
        "0",
        "",
    );
    table.sample_row(
        &samples,
        "max_per_node",
        "open descriptors, busiest node",
        0,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "min_per_node",
        "open descriptors, least busy node",
        0,
        "",
        "",
    );
    table.sample_row(
        &samples,
        "connect_secs",
        "time to connect all (s)",
        1,
        "",
        "",
    );
    table.sample_row(&samples, "rss_mib", "RSS of all nodes (MiB)", 0, "", "");
    Ok(vec![table])
}

async fn hold_trial(ctx: &Ctx, nodes: usize, count: usize, gens: usize) -> Result<Trial> {
    let mut cluster = Cluster::start(ctx, nodes, Listen::Shared).await?;
    let addr = cluster.addrs()[0];
    let result = async {
        let tokens = Api::new(addr).fans(TOKENS.min(count)).await?;
        let mut specs = Vec::new();
        let mut remaining = count;
        for g in 0..gens {
            let share = remaining / (gens - g);
            remaining -= share;
            specs.push(Spec {
                label: format!("g{g}"),
                server: addr,
                path: Kind::Fandesk.ws_path().into(),
                source_ip: ctx.next_ip(),
                proto: Kind::Fandesk.proto(),
                connect_concurrency: 32,
                connect_timeout_secs: 120,
                lifetime_secs: 900,
                read_buffer: 1024,
                mode: Mode::Hold {
                    count: share,
                    tokens: tokens.clone(),
                },
            });
        }
        let mut generators = Gens::spawn(&specs, ctx.work.path()).await?;
        let outcome = async {
            let ready = generators.ready(Duration::from_secs(600)).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut per_node = Vec::new();
            let mut rss_kib = 0;
            for node in &cluster.nodes {
                // Descriptors beyond the listener, the database pool, NATS and the log:
                // close enough to the node's connection count for its share.
                per_node.push(crate::procfs::open_fds(node.pid).unwrap_or(0) as f64);
                rss_kib += node.usage()?.rss_kib;
            }
            tokio::time::sleep(Duration::from_secs(4)).await;
            let counts = generators
                .ask_all("count", "count", Duration::from_secs(60))
                .await?;
            let mut trial = Trial::default();
            trial.set("connected", ready.connected as f64);
            trial.set("errors", ready.errors as f64);
            trial.set("closed", genctl::sum(&counts, "closed") as f64);
            trial.set("alive_after_hold", genctl::sum(&counts, "alive") as f64);
            trial.set("connect_secs", ready.connect_secs);
            trial.set("rss_mib", rss_kib as f64 / 1024.0);
            trial.set("max_per_node", per_node.iter().copied().fold(0.0, f64::max));
            trial.set(
                "min_per_node",
                per_node.iter().copied().fold(f64::MAX, f64::min),
            );
            trial.notes.push(format!(
                "open descriptors per node at full load: {}",
                per_node
                    .iter()
                    .map(|fds| fmt(*fds, 0))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if ready.errors > 0 {
                trial.problem(format!(
                    "{} connect errors, e.g. {:?}",
                    ready.errors, ready.error_samples
                ));
            }
            if !cluster.all_alive() {
                trial.problem("a node died during the hold".into());
            }
            Ok(trial)
        }
        .await;
        generators.quit().await;
        outcome
    }
    .await;
    cluster.stop().await;
    result
}

/// Where the fan and the agent of each conversation are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// One node, no NATS (the single-node deployment on PostgreSQL).
    Alone,
    /// Two nodes with NATS; fan and agent on the same one.
    SameNode,
    /// Two nodes with NATS; the fan on one, the agent on the other.
    CrossNode,
}

pub async fn dm(ctx: &Ctx) -> Result<Vec<Table>> {
    if ctx.postgres.is_none() || ctx.nats_bin.is_none() {
        eprintln!("note: cluster-dm needs PostgreSQL and nats-server; skipped");
        return Ok(Vec::new());
    }
    let plan = Plan::sized(ctx, 100, 10);
    let rate = if ctx.smoke { 200.0 } else { 1_000.0 };
    let items = vec![
        ("1 node (no NATS)".to_owned(), Placement::Alone),
        ("2 nodes, same node".to_owned(), Placement::SameNode),
        (
            "2 nodes, fan on A, agent on B".to_owned(),
            Placement::CrossNode,
        ),
    ];
    let samples = interleaved_items(ctx, "cluster-dm", &items, |placement| {
        let plan = &plan;
        async move { dm_trial(ctx, placement, rate, plan).await }
    })
    .await;
    let columns: Vec<&str> = items.iter().map(|(label, _)| label.as_str()).collect();
    let mut table = Table::new(
        format!(
            "cluster-dm — {} conversations on PostgreSQL, {} msg/s offered, fan + agent on WebSocket",
            plan.conversations,
            fmt(rate, 0)
        ),
        &columns,
    );
    table.note(format!(
        "open loop (latency from the intended send time); {} s measured after {} s warm-up; the same \
         PostgreSQL server for every column; the 2-node columns run two `fandesk serve --nats` processes \
         and one nats-server on this machine. \"send → peer's event\" is the delivery to the other side \
         of the conversation: across nodes it is committed on A, published on NATS and delivered by B",
        (plan.duration - plan.warmup).as_secs_f64(),
        plan.warmup.as_secs_f64()
    ));
    let cross = &items[2].0;
    let alone = &items[0].0;
    let ratio = match (
        samples.median("delivery_p99_ms", cross),
        samples.median("delivery_p99_ms", alone),
    ) {
        (Some(cross), Some(alone)) if alone > 0.0 => format!("{:.2}× one node", cross / alone),
        _ => "n/a".into(),
    };
    table.sample_row(&samples, "throughput", "acked messages/s", 0, "", "");
    table.sample_row(&samples, "ack_p50_ms", "ack latency p50 (ms)", 2, "", "");
    table.sample_row(&samples, "ack_p99_ms", "ack latency p99 (ms)", 2, "", "");
    delivery_rows(&mut table, &samples, &format!("cross-node: {ratio}"));
    integrity_rows(&mut table, &samples);
    Ok(vec![table])
}

async fn dm_trial(ctx: &Ctx, placement: Placement, rate: f64, plan: &Plan) -> Result<Trial> {
    let variant = Variant {
        kind: Kind::FandeskPostgres,
        rate: Some(rate),
        window: None,
        subscribe: true,
    };
    if placement == Placement::Alone {
        let mut server = Server::start(ctx, Kind::FandeskPostgres).await?;
        let result = run_trial(ctx, &mut server, None, variant, plan, None).await;
        server.stop().await;
        return result;
    }
    let mut cluster = Cluster::start(ctx, 2, Listen::Apart).await?;
    let other = cluster.nodes[1].addr;
    let agents = (placement == Placement::CrossNode).then_some(other);
    let result = run_trial(ctx, &mut cluster.nodes[0], agents, variant, plan, None).await;
    cluster.stop().await;
    result
}
