//! The scenarios. Each runs every server of its comparison in the same invocation,
//! interleaved A/B (the order rotates every run), at least `--runs` times, and reports the
//! median with the spread of the runs.

pub mod cluster;
pub mod conns;
pub mod dm;
pub mod history;
pub mod memory;
pub mod qa;
mod qa_table;
mod qa_upvotes;
pub mod room;
pub mod scheduled;

use crate::Ctx;
use crate::report::{Samples, Table};
use crate::servers::Kind;
use anyhow::Result;
use std::future::Future;
use std::time::Instant;

/// The numbers of one run against one server.
#[derive(Default, Debug)]
pub struct Trial {
    pub values: Vec<(String, f64)>,
    pub problems: Vec<String>,
    /// Free-text observations (the last run's are kept per column).
    pub notes: Vec<String>,
}

impl Trial {
    pub fn set(&mut self, metric: &str, value: f64) {
        self.values.push((metric.to_owned(), value));
    }

    pub fn problem(&mut self, text: String) {
        self.problems.push(text);
    }
}

pub fn label(kind: Kind) -> &'static str {
    kind.label()
}

/// Runs `trial` for every item, `ctx.runs` times, rotating the order every run so no
/// server always goes first (or runs right after the heaviest one).
pub async fn interleaved_items<T, F, Fut>(
    ctx: &Ctx,
    scenario: &str,
    items: &[(String, T)],
    mut trial: F,
) -> Samples
where
    T: Clone,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<Trial>>,
{
    let mut samples = Samples::default();
    for run in 0..ctx.runs {
        for i in 0..items.len() {
            let (column, item) = &items[(i + run) % items.len()];
            let started = Instant::now();
            eprintln!("[{scenario}] run {}/{}: {column} …", run + 1, ctx.runs);
            match trial(item.clone()).await {
                Ok(result) => {
                    for (metric, value) in &result.values {
                        samples.add(metric, column, *value);
                    }
                    samples.set_notes(column, result.notes);
                    for problem in result.problems {
                        ctx.problem(format!("{scenario} / {column}: {problem}"));
                    }
                    eprintln!(
                        "[{scenario}]   done in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                Err(error) => {
                    ctx.problem(format!("{scenario} / {column} run {}: {error:#}", run + 1));
                    eprintln!("[{scenario}]   failed: {error:#}");
                }
            }
        }
    }
    samples
}

/// [`interleaved_items`] over servers, one column per server.
pub async fn interleaved<F, Fut>(ctx: &Ctx, kinds: &[Kind], trial: F) -> Result<Samples>
where
    F: FnMut(Kind) -> Fut,
    Fut: Future<Output = Result<Trial>>,
{
    let items: Vec<(String, Kind)> = kinds
        .iter()
        .map(|kind| (kind.label().to_owned(), *kind))
        .collect();
    let scenario = ctx.current_scenario();
    Ok(interleaved_items(ctx, &scenario, &items, trial).await)
}

pub const SCENARIOS: &[&str] = &[
    "idle",
    "capacity",
    "dm-durable",
    "room-frames",
    "room-latency",
    "room-coalesced",
    "cluster-dm",
    "cluster-capacity",
];

pub async fn run(ctx: &Ctx, name: &str) -> Result<Vec<Table>> {
    ctx.set_scenario(name);
    match name {
        "idle" => conns::idle(ctx).await,
        "capacity" => conns::capacity(ctx).await,
        "dm-durable" => dm::dm_durable(ctx).await,
        "room-frames" => room::frames(ctx).await,
        "room-latency" => room::latency(ctx).await,
        "room-coalesced" => room::coalesced(ctx).await,
        "dm-ack-diagnosis" => dm::diagnose(ctx).await,
        "cluster-dm" => cluster::dm(ctx).await,
        "cluster-capacity" => cluster::capacity(ctx).await,
        "soak-memory" => memory::soak_memory(ctx).await,
        "dm-history" => history::dm_history(ctx).await,
        "scheduled-send" => scheduled::scheduled_send(ctx).await,
        "qa-burst" => qa::qa_burst(ctx).await,
        other => anyhow::bail!("unknown scenario {other:?}; one of {SCENARIOS:?}"),
    }
}
