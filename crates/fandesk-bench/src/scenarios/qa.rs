//! `qa-burst` (not in `all`): a Q&A burst beside a busy event chat. One live event with
//! Q&A; V viewers (fans) subscribed to its room and to `event:{id}`; the owner publishing
//! in the room at a fixed 100 msg/s (the `room-coalesced` load). Two phases on the same
//! server and the same viewers, in one invocation, their order turned round every run: the
//! chat alone, and the chat while distinct fans upvote one question over REST at a fixed
//! 1,000 upvotes/s. The requirement (BENCHMARKS.md): the chat's send → receive p99 with
//! the burst at most 1.5× the p99 without it.
//!
//! After each burst the question's count is read over REST (it must equal the upvotes
//! answered 201, counted) and a fan following `event:{id}` live must have been told that
//! count ([`qa_upvotes::Watcher`]).

use super::Trial;
use super::qa_table::table;
use super::qa_upvotes::{Upvotes, Watcher, spawn_upvoter};
use super::room::{Plan, Viewers, all_connected, drain, publish, room_client};
use crate::Ctx;
use crate::api::{Api, prometheus_value};
use crate::genctl::{self, Gens};
use crate::loadgen::Proto;
use crate::report::{Samples, Table};
use crate::servers::{Kind, Server};
use anyhow::{Context, Result};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use std::time::Duration;

/// The chat's fixed rate (the `room-coalesced` load).
pub(super) const CHAT_RATE: f64 = 100.0;
/// The requirement: chat p99 with the burst ≤ this × without it.
pub(super) const RATIO_TARGET: f64 = 1.5;
/// Fan sessions the viewers share (each upgrade is still authenticated).
const VIEWER_TOKENS: usize = 100;
pub(super) const WITHOUT: &str = "without burst";
pub(super) const WITH: &str = "with burst";

#[derive(Clone, Copy)]
pub(super) struct Size {
    pub(super) viewers: usize,
    pub(super) upvote_rate: f64,
    pub(super) phase: Duration,
}

impl Size {
    fn of(ctx: &Ctx) -> Size {
        if ctx.smoke {
            Size {
                viewers: 200,
                upvote_rate: 200.0,
                phase: Duration::from_secs(2),
            }
        } else {
            Size {
                viewers: 10_000,
                upvote_rate: 1_000.0,
                phase: Duration::from_secs(6),
            }
        }
    }

    /// Fans that upvote in one burst: each once.
    pub(super) fn upvoters(&self) -> usize {
        (self.upvote_rate * self.phase.as_secs_f64()).ceil() as usize
    }
}

pub async fn qa_burst(ctx: &Ctx) -> Result<Vec<Table>> {
    let size = Size::of(ctx);
    let mut samples = Samples::default();
    for run in 0..ctx.runs {
        let burst_first = run % 2 == 1;
        eprintln!(
            "[qa-burst] run {}/{}: {} first …",
            run + 1,
            ctx.runs,
            if burst_first { WITH } else { WITHOUT }
        );
        match one_run(ctx, size, burst_first).await {
            Ok((without, with)) => {
                let ratio = |trial: &Trial| {
                    trial
                        .values
                        .iter()
                        .find(|(name, _)| name == "p99_ms")
                        .map(|(_, value)| *value)
                };
                if let (Some(calm), Some(busy)) = (ratio(&without), ratio(&with)) {
                    samples.add("p99_ratio", WITH, busy / calm.max(1e-3));
                }
                for (column, trial) in [(WITHOUT, without), (WITH, with)] {
                    for (metric, value) in &trial.values {
                        samples.add(metric, column, *value);
                    }
                    for problem in trial.problems {
                        ctx.problem(format!("qa-burst / {column}: {problem}"));
                    }
                    samples.set_notes(column, trial.notes);
                }
            }
            Err(error) => ctx.problem(format!("qa-burst run {}: {error:#}", run + 1)),
        }
    }
    Ok(vec![table(&samples, &size)])
}

/// What a run sets up on its server.
struct Setup {
    owner: String,
    room_topic: String,
    event_topic: String,
    question_id: String,
    /// `/events/{id}/questions/{question_id}/upvote`.
    upvote_path: String,
    /// `/events/{id}/questions`.
    questions_path: String,
    viewer_tokens: Vec<String>,
    upvoter_tokens: Vec<String>,
}

async fn setup(server: std::net::SocketAddr, upvoters: usize, viewers: usize) -> Result<Setup> {
    let api = Api::new(server);
    let owner = api.owner_token().await?;
    let starts_at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60);
    let event = api
        .post(
            "/events",
            Some(&owner),
            json!({"title": "Bench Q&A", "kind": "live", "qa": true, "slow_mode_secs": 0,
                "starts_at": starts_at.to_string(), "duration_secs": 3_600}),
        )
        .await?;
    let event_id = event["id"].as_str().context("event has no id")?.to_owned();
    let room_id = event["room_id"]
        .as_str()
        .context("event has no room_id")?
        .to_owned();
    let viewer_tokens = api.fans(VIEWER_TOKENS.min(viewers.max(1))).await?;
    let questions_path = format!("/events/{event_id}/questions");
    let question = api
        .post(
            &questions_path,
            Some(&viewer_tokens[0]),
            json!({"client_msg_id": "bench-question", "body": "Will the band tour next year?"}),
        )
        .await?;
    let question_id = question["id"]
        .as_str()
        .context("question has no id")?
        .to_owned();
    let upvoter_tokens = stream::iter(0..upvoters)
        .map(|i| {
            let api = api.clone();
            async move { api.fan(&format!("Bench Upvoter {i}")).await }
        })
        .buffered(16)
        .try_collect()
        .await?;
    Ok(Setup {
        owner,
        room_topic: format!("room:{room_id}"),
        event_topic: format!("event:{event_id}"),
        upvote_path: format!("{questions_path}/{question_id}/upvote"),
        question_id,
        questions_path,
        viewer_tokens,
        upvoter_tokens,
    })
}

async fn one_run(ctx: &Ctx, size: Size, burst_first: bool) -> Result<(Trial, Trial)> {
    let mut server = Server::start(ctx, Kind::Fandesk).await?;
    let result = run_on(ctx, &mut server, size, burst_first).await;
    server.stop().await;
    result
}

async fn run_on(
    ctx: &Ctx,
    server: &mut Server,
    size: Size,
    burst_first: bool,
) -> Result<(Trial, Trial)> {
    let started = std::time::Instant::now();
    let setup = setup(server.addr, size.upvoters(), size.viewers).await?;
    eprintln!(
        "[qa-burst]   event, question and {} upvoters' sessions in {:.1} s",
        setup.upvoter_tokens.len(),
        started.elapsed().as_secs_f64()
    );
    let also = [setup.event_topic.clone()];
    let viewers = Viewers {
        kind: Kind::Fandesk,
        count: size.viewers,
        tokens: &setup.viewer_tokens,
        topic: &setup.room_topic,
        also: &also,
        lifetime_secs: 300 + 4 * size.phase.as_secs(),
    };
    let mut gens = Gens::spawn(&viewers.specs(ctx, &[server.addr]), ctx.work.path()).await?;
    let result = async {
        let ready = all_connected(&mut gens).await?;
        let mut publisher = room_client(
            server.addr,
            Kind::Fandesk,
            Kind::Fandesk.publish_path(),
            Some(&setup.owner),
        )
        .await?;
        let watcher = Watcher::start(
            server.addr,
            ctx.next_ip(),
            &setup.viewer_tokens[0],
            &setup.event_topic,
            &setup.question_id,
        )
        .await?;
        let mut phases = Phases {
            ctx,
            server,
            gens: &mut gens,
            publisher: &mut publisher,
            setup: &setup,
            watcher: &watcher,
            size,
            viewers: ready.connected,
            closed: 0,
            sent: 0,
        };
        let (without, with) = if burst_first {
            let with = phases.run(true).await?;
            (phases.run(false).await?, with)
        } else {
            let without = phases.run(false).await?;
            (without, phases.run(true).await?)
        };
        Ok((without, with))
    }
    .await;
    gens.quit().await;
    result
}

/// What both phases of a run share.
struct Phases<'a> {
    ctx: &'a Ctx,
    server: &'a mut Server,
    gens: &'a mut Gens,
    publisher: &'a mut crate::wsraw::Client,
    setup: &'a Setup,
    watcher: &'a Watcher,
    size: Size,
    viewers: u64,
    /// Viewers disconnected before this phase.
    closed: u64,
    /// Chat messages sent in the earlier phases.
    sent: u64,
}

impl Phases<'_> {
    /// One phase: the chat for `size.phase` at a fixed rate, with the burst or without.
    async fn run(&mut self, burst: bool) -> Result<Trial> {
        self.gens
            .ask_all("reset", "reset", Duration::from_secs(10))
            .await?;
        let api = Api::new(self.server.addr);
        let metrics_before = api.metrics().await?;
        let before = self.server.usage()?;
        let gen_before = self.gens.cpu_secs();
        let upvoter = burst.then(|| {
            spawn_upvoter(
                self.server.addr,
                self.ctx.next_ip(),
                self.setup.upvote_path.clone(),
                self.setup.upvoter_tokens.clone(),
                self.size.upvote_rate,
            )
        });
        let plan = Plan {
            viewers: self.size.viewers,
            rate: Some(CHAT_RATE),
            window: 0,
            duration: self.size.phase,
            first_index: self.sent,
        };
        let published = publish(
            self.publisher,
            Proto::Fandesk,
            &self.setup.room_topic,
            &plan,
            self.gens,
        )
        .await?;
        self.sent += published.sent;
        // CPU over the publishing window (the burst lies inside it).
        let after = self.server.usage()?;
        let gen_after = self.gens.cpu_secs();
        let upvotes = match upvoter {
            Some(task) => Some(task.await.context("the upvoter thread")??),
            None => None,
        };
        let expected = published.sent * self.viewers;
        drain(self.gens, expected).await?;
        let reports = self
            .gens
            .ask_all("report", "report", Duration::from_secs(30))
            .await?;
        let mut trial = Trial::default();
        writer_figures(&mut trial, &metrics_before, &api.metrics().await?);
        let wall = after.at.duration_since(before.at).as_secs_f64().max(1e-3);
        trial.set("server_cores", (after.cpu_secs - before.cpu_secs) / wall);
        trial.set("gen_cores", (gen_after - gen_before) / wall);
        trial.set("rss_mib", after.rss_kib as f64 / 1024.0);
        trial.set(
            "msgs_per_sec",
            published.sent as f64 / published.secs.max(1e-3),
        );
        let deliveries = genctl::sum(&reports, "deliveries") as f64;
        if expected > 0 {
            trial.set("delivered_pct", 100.0 * deliveries / expected as f64);
        }
        let latency = genctl::merged_histogram(&reports, "latency")?;
        if latency.is_empty() {
            trial.problem("no chat message was delivered".into());
        } else {
            trial.set("p50_ms", latency.value_at_quantile(0.50) as f64 / 1000.0);
            trial.set("p99_ms", latency.value_at_quantile(0.99) as f64 / 1000.0);
            trial.set("max_ms", latency.max() as f64 / 1000.0);
        }
        trial.set(
            "question_frames_per_viewer",
            genctl::sum(&reports, "question_frames") as f64 / self.viewers.max(1) as f64,
        );
        let closed = genctl::sum(&reports, "closed");
        trial.set("closed", closed.saturating_sub(self.closed) as f64);
        if closed > self.closed {
            trial.problem(format!(
                "{} viewers were disconnected, e.g. {:?}",
                closed - self.closed,
                genctl::samples(&reports, "close_samples")
            ));
        }
        self.closed = closed;
        if let Some(upvotes) = upvotes {
            self.check_count(&mut trial, &upvotes).await?;
        }
        if !self.server.alive() {
            trial.problem(format!(
                "fandesk died; log: {}",
                crate::servers::tail(&self.server.log)
            ));
        }
        Ok(trial)
    }

    /// The burst's figures, and the count checked: over REST it equals the upvotes
    /// answered 201, and a live subscriber was told it.
    async fn check_count(&self, trial: &mut Trial, upvotes: &Upvotes) -> Result<()> {
        // Over the phase, or over as long as the answers took when the server fell behind.
        let secs = upvotes.secs.max(self.size.phase.as_secs_f64());
        trial.set("upvotes_per_sec", upvotes.counted as f64 / secs);
        if !upvotes.latency.is_empty() {
            trial.set(
                "upvote_p99_ms",
                upvotes.latency.value_at_quantile(0.99) as f64 / 1000.0,
            );
        }
        if upvotes.failed > 0 || upvotes.repeated > 0 {
            trial.problem(format!(
                "{} upvotes failed and {} were answered as repeats, e.g. {:?}",
                upvotes.failed, upvotes.repeated, upvotes.error_samples
            ));
        }
        let api = Api::new(self.server.addr);
        let listed = api
            .get(&self.setup.questions_path, &self.setup.owner)
            .await?;
        let stored = listed["questions"]
            .as_array()
            .and_then(|questions| {
                questions
                    .iter()
                    .find(|question| question["id"] == self.setup.question_id.as_str())
            })
            .and_then(|question| question["upvotes"].as_u64())
            .context("the question is not listed")?;
        if stored != upvotes.counted {
            trial.problem(format!(
                "the question lists {stored} upvotes; {} were answered 201",
                upvotes.counted
            ));
        }
        let told = self.watcher.wait_for(stored, Duration::from_secs(10)).await;
        if told != stored {
            trial.problem(format!(
                "a live subscriber of the event was last told {told} upvotes, not {stored}"
            ));
        }
        trial.notes.push(format!(
            "{} upvotes in {:.1} s; the watcher got {} frames about the question, the last with {told}",
            upvotes.counted,
            upvotes.secs,
            self.watcher
                .frames
                .load(std::sync::atomic::Ordering::Relaxed),
        ));
        Ok(())
    }
}

/// The group-commit writers' batches during the phase: the questions' (the upvotes) and
/// the room's (the chat), which share SQLite's one write connection.
fn writer_figures(trial: &mut Trial, before: &str, after: &str) {
    let delta = |name: String| {
        prometheus_value(after, &name).unwrap_or(0.0)
            - prometheus_value(before, &name).unwrap_or(0.0)
    };
    for writer in ["question", "room"] {
        let batches = delta(format!(
            r#"fandesk_write_batch_size_count{{writer="{writer}"}}"#
        ));
        if batches > 0.0 {
            let size = delta(format!(
                r#"fandesk_write_batch_size_sum{{writer="{writer}"}}"#
            ));
            let secs = delta(format!(
                r#"fandesk_commit_seconds_sum{{writer="{writer}"}}"#
            ));
            trial.set(&format!("{writer}_batch_mean"), size / batches);
            trial.set(&format!("{writer}_commit_ms"), secs * 1000.0 / batches);
        }
    }
}
