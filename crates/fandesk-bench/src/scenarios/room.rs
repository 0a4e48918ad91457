//! Room fan-out: one publisher, many viewers of one room.
//!
//! - `room-frames`: closed loop (the publisher keeps a few messages ahead of the slowest
//!   viewer), one frame per message; deliveries/s and server CPU per delivery.
//! - `room-latency`: a fixed 10 msg/s; send → receive percentiles.
//! - `room-coalesced`: a fixed 100 msg/s to 10,000 viewers (≈ 1M deliveries/s offered).
//!
//! fandesk's viewers are fans subscribed to `room:{id}` ([`crate::loadgen`] times its
//! `event` frames); its publisher is the owner sending over WebSocket ([`fandesk`]).

mod cells;
mod fandesk;
mod viewers;

pub(super) use viewers::{Viewers, all_connected, drain};

use super::{Trial, interleaved_items};
use crate::Ctx;
use crate::cluster::{Cluster, Listen};
use crate::genctl::{self, Gens};
use crate::loadgen::Proto;
use crate::nats;
use crate::report::{Samples, Table, fmt};
use crate::servers::{COALESCE_MS, Kind, Server};
use crate::stamp;
use crate::wsraw::{self, Client};
use anyhow::{Context, Result, bail};
use cells::{add_notes, cells, row_verdict};
use std::time::Duration;
use tokio::time::Instant;

pub(super) const PER_GEN: usize = 5_000;
pub(super) const BODY_LEN: usize = 128;
/// Drain polls (250 ms apart) without a new delivery before the drain counts as over.
pub(super) const STILL_POLLS: u32 = 20;

#[derive(Clone, Copy)]
pub(super) struct Plan {
    pub(super) viewers: usize,
    /// Messages per second; `None` = closed loop against the slowest viewer.
    pub(super) rate: Option<f64>,
    /// Closed loop: messages the publisher may be ahead of the slowest viewer.
    pub(super) window: u64,
    pub(super) duration: Duration,
    /// The first message's index (its `client_msg_id` is `bench-{index}`): a later phase
    /// on the same room continues after the earlier ones, or its sends would be repeats.
    pub(super) first_index: u64,
}

fn kinds(ctx: &Ctx, coalesced: bool) -> Vec<Kind> {
    let mut kinds = vec![Kind::Fandesk, Kind::Naive, Kind::Ceiling];
    if coalesced {
        kinds.push(Kind::CeilingCoalesced);
        kinds.push(Kind::FandeskCluster);
    }
    ctx.kinds(&[kinds, vec![Kind::Nats]].concat())
}

fn columns(kinds: &[Kind]) -> Vec<&'static str> {
    kinds.iter().map(|kind| kind.label()).collect()
}

fn items(kinds: &[Kind], plans: &[(String, Plan)]) -> Vec<(String, (Kind, Plan, String))> {
    let mut items = Vec::new();
    for (name, plan) in plans {
        for kind in kinds {
            items.push((
                format!("{name}/{}", kind.label()),
                (*kind, *plan, name.clone()),
            ));
        }
    }
    items
}

pub async fn frames(ctx: &Ctx) -> Result<Vec<Table>> {
    let sizes: &[usize] = if ctx.smoke {
        &[50, 200]
    } else {
        &[1_000, 10_000]
    };
    let duration = Duration::from_millis(if ctx.smoke { 1_000 } else { 5_000 });
    let plans: Vec<(String, Plan)> = sizes
        .iter()
        .map(|&viewers| {
            (
                format!("{viewers}"),
                Plan {
                    viewers,
                    rate: None,
                    window: 32,
                    first_index: 0,
                    duration,
                },
            )
        })
        .collect();
    let kinds = kinds(ctx, false);
    let samples = run_items(ctx, "room-frames", &items(&kinds, &plans)).await;
    let mut tables = Vec::new();
    for (group, plan) in &plans {
        let mut table = Table::new(
            format!(
                "room-frames — one room, {} viewers, one frame per message",
                fmt(plan.viewers as f64, 0)
            ),
            &columns(&kinds),
        );
        table.note(format!(
            "closed loop: the publisher stays at most {} messages ahead of the slowest viewer; {} s of publishing; \
             {BODY_LEN}-byte messages; viewers over {} generator process(es)",
            plan.window,
            plan.duration.as_secs_f64(),
            plan.viewers.div_ceil(PER_GEN).max(2)
        ));
        let rows: [(&str, &str, usize, &str); 9] = [
            (
                "deliveries_per_sec",
                "deliveries/s",
                0,
                "≥ 0.8× ceiling, ≥ 1.0× naive",
            ),
            ("cpu_us_per_delivery", "server CPU per delivery (µs)", 3, ""),
            ("server_cores", "server CPU (cores)", 2, ""),
            ("msgs_per_sec", "messages published/s", 0, ""),
            ("loss_pct", "deliveries lost (%)", 2, "0"),
            ("p50_ms", "send → receive p50 (ms)", 1, ""),
            ("p99_ms", "send → receive p99 (ms)", 1, ""),
            ("gen_cores", "load generators' CPU (cores)", 2, ""),
            ("rss_mib", "server RSS (MiB)", 1, ""),
        ];
        add_notes(&mut table, &samples, group, &kinds);
        for (metric, name, decimals, target) in rows {
            table.row(
                name,
                cells(&samples, group, metric, &kinds, decimals),
                target,
                &row_verdict(&samples, group, metric),
            );
        }
        tables.push(table);
    }
    Ok(tables)
}

pub async fn latency(ctx: &Ctx) -> Result<Vec<Table>> {
    let viewers = if ctx.smoke { 50 } else { 1_000 };
    let duration = Duration::from_millis(if ctx.smoke { 1_500 } else { 8_000 });
    let plans = vec![(
        "latency".to_owned(),
        Plan {
            viewers,
            rate: Some(10.0),
            window: 0,
            first_index: 0,
            duration,
        },
    )];
    let kinds = kinds(ctx, false);
    let samples = run_items(ctx, "room-latency", &items(&kinds, &plans)).await;
    let mut table = Table::new(
        format!(
            "room-latency — {} viewers, 10 msg/s",
            fmt(viewers as f64, 0)
        ),
        &columns(&kinds),
    );
    table.note(format!("{} s of publishing at a fixed rate; latency = receive time − send time stamped in the body (same clock)", duration.as_secs_f64()));
    let rows: [(&str, &str, usize, &str); 7] = [
        ("p50_ms", "send → receive p50 (ms)", 2, ""),
        (
            "p99_ms",
            "send → receive p99 (ms)",
            2,
            "≤ 1.2× ceiling and < nats-server",
        ),
        ("max_ms", "send → receive max (ms)", 2, ""),
        ("loss_pct", "deliveries lost (%)", 2, "0"),
        ("server_cores", "server CPU (cores)", 3, ""),
        ("gen_cores", "load generators' CPU (cores)", 2, ""),
        ("rss_mib", "server RSS (MiB)", 1, ""),
    ];
    add_notes(&mut table, &samples, "latency", &kinds);
    for (metric, name, decimals, target) in rows {
        table.row(
            name,
            cells(&samples, "latency", metric, &kinds, decimals),
            target,
            &row_verdict(&samples, "latency", metric),
        );
    }
    Ok(vec![table])
}

pub async fn coalesced(ctx: &Ctx) -> Result<Vec<Table>> {
    let viewers = if ctx.smoke { 200 } else { 10_000 };
    let duration = Duration::from_millis(if ctx.smoke { 1_500 } else { 6_000 });
    let plans = vec![(
        "coalesced".to_owned(),
        Plan {
            viewers,
            rate: Some(100.0),
            window: 0,
            first_index: 0,
            duration,
        },
    )];
    let kinds = kinds(ctx, true);
    let samples = run_items(ctx, "room-coalesced", &items(&kinds, &plans)).await;
    let mut table = Table::new(
        format!(
            "room-coalesced — {} viewers, 100 msg/s (≈ {} deliveries/s offered)",
            fmt(viewers as f64, 0),
            fmt(viewers as f64 * 100.0, 0)
        ),
        &columns(&kinds),
    );
    table.note(format!(
        "{} s of publishing at a fixed rate; the ceiling (50 ms ticks) column is the ceiling server writing \
         every viewer once per {COALESCE_MS} ms tick (all frames of the tick in one write)",
        duration.as_secs_f64()
    ));
    let rows: [(&str, &str, usize, &str); 8] = [
        ("deliveries_per_sec", "deliveries/s", 0, ""),
        ("delivered_pct", "delivered (% of offered)", 1, "≥ 95%"),
        ("p50_ms", "send → receive p50 (ms)", 1, ""),
        ("p99_ms", "send → receive p99 (ms)", 1, "≤ 500 ms"),
        ("server_cores", "server CPU (cores)", 2, "≤ 1 core"),
        ("cpu_us_per_delivery", "server CPU per delivery (µs)", 3, ""),
        ("gen_cores", "load generators' CPU (cores)", 2, ""),
        ("rss_mib", "server RSS (MiB)", 1, ""),
    ];
    if kinds.contains(&Kind::FandeskCluster) {
        table.note(
            "fandesk (3 nodes, NATS): three `fandesk serve --nats` processes on one PostgreSQL database and \
             one nats-server, the viewers' generators spread over the nodes in turn, the publisher on the \
             first node (each message committed there, carried to the other two by NATS); CPU and RSS are \
             the three nodes' sum, nats-server's not included. The fandesk column is one node on SQLite",
        );
    }
    add_notes(&mut table, &samples, "coalesced", &kinds);
    for (metric, name, decimals, target) in rows {
        table.row(
            name,
            cells(&samples, "coalesced", metric, &kinds, decimals),
            target,
            &row_verdict(&samples, "coalesced", metric),
        );
    }
    Ok(vec![table])
}

async fn run_items(ctx: &Ctx, scenario: &str, items: &[(String, (Kind, Plan, String))]) -> Samples {
    interleaved_items(ctx, scenario, items, |(kind, plan, _group)| async move {
        trial(ctx, kind, plan).await
    })
    .await
}

async fn trial(ctx: &Ctx, kind: Kind, plan: Plan) -> Result<Trial> {
    if kind == Kind::FandeskCluster {
        let mut cluster = Cluster::start(ctx, 3, Listen::Apart).await?;
        let result = run_trial(ctx, kind, &mut cluster.nodes, plan).await;
        cluster.stop().await;
        return result;
    }
    let mut server = vec![Server::start(ctx, kind).await?];
    let result = run_trial(ctx, kind, &mut server, plan).await;
    for server in server {
        server.stop().await;
    }
    result
}

/// The sum of the servers' CPU and memory (one server, or every node of a cluster).
fn usage(servers: &[Server]) -> Result<crate::procfs::Usage> {
    let mut total = servers[0].usage()?;
    for server in &servers[1..] {
        let usage = server.usage()?;
        total.rss_kib += usage.rss_kib;
        total.cpu_secs += usage.cpu_secs;
        total.user_secs += usage.user_secs;
        total.system_secs += usage.system_secs;
    }
    Ok(total)
}

/// One run against `servers`: one server, or the nodes of a cluster (the viewers'
/// generators spread over the nodes in turn, the publisher on the first).
async fn run_trial(ctx: &Ctx, kind: Kind, servers: &mut [Server], plan: Plan) -> Result<Trial> {
    let addrs: Vec<std::net::SocketAddr> = servers.iter().map(|server| server.addr).collect();
    let (topic, publisher_token, tokens) = if kind.is_fandesk() {
        let room = fandesk::fandesk_room(addrs[0], plan.viewers).await?;
        (room.topic, Some(room.publisher_token), room.viewer_tokens)
    } else {
        ("room:bench".to_owned(), None, Vec::new())
    };
    let viewers = Viewers {
        kind,
        count: plan.viewers,
        tokens: &tokens,
        topic: &topic,
        also: &[],
        lifetime_secs: 240 + plan.duration.as_secs(),
    };
    let mut gens = Gens::spawn(&viewers.specs(ctx, &addrs), ctx.work.path()).await?;
    let result = async {
        let ready = all_connected(&mut gens).await?;
        let mut publisher = room_client(
            addrs[0],
            kind,
            kind.publish_path(),
            publisher_token.as_deref(),
        )
        .await?;
        gens.ask_all("reset", "reset", Duration::from_secs(10))
            .await?;
        let before = usage(servers)?;
        let gen_before = gens.cpu_secs();
        let published = publish(&mut publisher, kind.proto(), &topic, &plan, &gens).await?;
        let expected = published.sent * ready.connected;
        drain(&mut gens, expected).await?;
        let after = usage(servers)?;
        let gen_after = gens.cpu_secs();
        let reports = gens
            .ask_all("report", "report", Duration::from_secs(30))
            .await?;
        let mut notes = Vec::new();
        if let Some(monitor) = servers[0].monitor {
            // nats-server's own counters: what it took in, sent out, and gave up on.
            if let Ok(varz) = nats_varz(monitor).await {
                let field = |name: &str| varz[name].as_u64().unwrap_or(0);
                notes.push(format!(
                    "nats-server /varz: in_msgs {}, out_msgs {}, slow_consumers {} (published {})",
                    field("in_msgs"),
                    field("out_msgs"),
                    field("slow_consumers"),
                    published.sent
                ));
            }
        }
        let deliveries = genctl::sum(&reports, "deliveries") as f64;
        let last_recv = genctl::max(&reports, "last_recv_us");
        let span = (last_recv.saturating_sub(published.first_us) as f64 / 1e6).max(1e-3);
        let wall = after.at.duration_since(before.at).as_secs_f64().max(1e-3);
        let server_cpu = after.cpu_secs - before.cpu_secs;
        let latency = genctl::merged_histogram(&reports, "latency")?;
        let mut trial = Trial {
            notes,
            ..Trial::default()
        };
        trial.set("deliveries_per_sec", deliveries / span);
        trial.set(
            "msgs_per_sec",
            published.sent as f64 / published.secs.max(1e-3),
        );
        trial.set("server_cores", server_cpu / wall);
        trial.set("gen_cores", (gen_after - gen_before) / wall);
        if deliveries > 0.0 {
            trial.set("cpu_us_per_delivery", server_cpu * 1e6 / deliveries);
        }
        if expected > 0 {
            trial.set("delivered_pct", 100.0 * deliveries / expected as f64);
            trial.set(
                "loss_pct",
                100.0 * (1.0 - deliveries / expected as f64).max(0.0),
            );
        }
        if !latency.is_empty() {
            trial.set("p50_ms", latency.value_at_quantile(0.50) as f64 / 1000.0);
            trial.set("p99_ms", latency.value_at_quantile(0.99) as f64 / 1000.0);
            trial.set("max_ms", latency.max() as f64 / 1000.0);
        }
        trial.set("rss_mib", usage(servers)?.rss_kib as f64 / 1024.0);
        trial.set("viewers", ready.connected as f64);
        if deliveries == 0.0 {
            trial.problem("nothing was delivered".into());
        }
        let closed = genctl::sum(&reports, "closed");
        if closed > 0 {
            trial.problem(format!(
                "{closed} viewers were disconnected, e.g. {:?}",
                genctl::samples(&reports, "close_samples")
            ));
        }
        for server in servers.iter_mut() {
            if !server.alive() {
                trial.problem(format!(
                    "{} died; log: {}",
                    kind.label(),
                    crate::servers::tail(&server.log)
                ));
            }
        }
        Ok(trial)
    }
    .await;
    gens.quit().await;
    result
}

async fn nats_varz(monitor: std::net::SocketAddr) -> Result<serde_json::Value> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    Ok(client
        .get(format!("http://{monitor}/varz"))
        .send()
        .await?
        .json()
        .await?)
}

/// Opens a publisher connection (authenticated with `token` when given) and performs the
/// protocol's setup.
pub(super) async fn room_client(
    addr: std::net::SocketAddr,
    kind: Kind,
    path: &str,
    token: Option<&str>,
) -> Result<Client> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    let mut client = Client::connect(
        addr,
        None,
        path,
        &headers,
        64 * 1024,
        Duration::from_secs(10),
    )
    .await?;
    match kind.proto() {
        // fandesk: the upgrade carried the token; a publisher subscribes to nothing.
        Proto::Raw | Proto::Fandesk => {}
        Proto::Nats => {
            let greeting = nats::connect_only();
            client.send(wsraw::OP_BINARY, greeting.as_bytes()).await?;
            let mut parser = nats::Parser::default();
            let mut ready = false;
            for _ in 0..64 {
                let frame = client
                    .next()
                    .await?
                    .context("nats-server closed during setup")?;
                parser.feed(client.payload(&frame));
                while let Some(op) = parser.next() {
                    match op {
                        nats::Op::Pong => ready = true,
                        nats::Op::Err(error) => bail!("nats: {error}"),
                        _ => {}
                    }
                }
                if ready {
                    break;
                }
            }
            if !ready {
                bail!("no PONG from nats-server");
            }
        }
    }
    Ok(client)
}

pub(super) struct Published {
    pub(super) sent: u64,
    pub(super) first_us: u64,
    pub(super) secs: f64,
}

/// Publishes for `plan.duration`: at a fixed rate, or (closed loop) at most
/// `plan.window` messages ahead of the slowest viewer of every generator.
pub(super) async fn publish(
    client: &mut Client,
    proto: Proto,
    topic: &str,
    plan: &Plan,
    gens: &Gens,
) -> Result<Published> {
    let started = Instant::now();
    let first_us = stamp::now_us();
    let deadline = started + plan.duration;
    let mut sent: u64 = 0;
    let closed_loop = plan.rate.is_none();
    // A floor under the viewers' progress, moved on when nothing moves for a second
    // (a viewer that lost messages for good must not stall the loop).
    let mut floor: u64 = 0;
    let mut last_progress = (0u64, Instant::now());
    let max_messages = 10_000_000u64;
    let mut parser = nats::Parser::default();
    while Instant::now() < deadline && sent < max_messages {
        let progress = gens.progress();
        if progress != last_progress.0 {
            last_progress = (progress, Instant::now());
        } else if closed_loop && last_progress.1.elapsed() > Duration::from_secs(1) {
            floor = floor.max(sent.saturating_sub(plan.window / 2));
            last_progress = (progress, Instant::now());
        }
        let may_send = !closed_loop || sent < progress.max(floor) + plan.window;
        let due = match plan.rate {
            Some(rate) => started + Duration::from_secs_f64(sent as f64 / rate),
            None => Instant::now(),
        };
        tokio::select! {
            () = tokio::time::sleep_until(due), if may_send => {
                let index = plan.first_index + sent;
                let body = stamp::body(index, BODY_LEN);
                match proto {
                    Proto::Raw => client.send_text(body.as_bytes()).await?,
                    Proto::Nats => client.send(wsraw::OP_BINARY, nats::publish(&body).as_bytes()).await?,
                    Proto::Fandesk => {
                        let frame = fandesk::send_frame(topic, index, &body);
                        client.send_text(frame.as_bytes()).await?;
                    }
                }
                sent += 1;
            }
            // Closed loop, window full: look at the viewers' progress again shortly.
            () = tokio::time::sleep(Duration::from_micros(500)), if !may_send => {}
            frame = client.next() => {
                // Echoes (the naive server sends everything to everyone) and pings.
                let frame = frame?.context("the server closed the publisher")?;
                // fandesk: acks; a refused send makes the run invalid.
                if proto == Proto::Fandesk && fandesk::is_error_frame(client.payload(&frame)) {
                    bail!("send refused: {}", String::from_utf8_lossy(client.payload(&frame)));
                }
                if proto == Proto::Nats {
                    parser.feed(client.payload(&frame));
                    let mut pings = 0;
                    while let Some(op) = parser.next() {
                        if op == nats::Op::Ping {
                            pings += 1;
                        }
                    }
                    for _ in 0..pings {
                        client.send(wsraw::OP_BINARY, b"PONG\r\n").await?;
                    }
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    Ok(Published {
        sent,
        first_us,
        secs: started.elapsed().as_secs_f64(),
    })
}
