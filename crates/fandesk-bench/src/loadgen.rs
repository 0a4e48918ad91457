//! `fandesk-bench gen`: one load-generator process. The coordinator starts several (each
//! process may hold at most 20,000 descriptors) and drives them over stdin/stdout with one
//! JSON line per message. A generator runs on one thread (tokio current-thread runtime):
//! on a 2-core box the generators compete with the server, so they must stay cheap.
//!
//! stdout: `{"kind":"ready",…}` once every connection was attempted, then one line per
//! command. stdin commands: `count`, `reset`, `report`, `start <µs since epoch>` (DM
//! senders), `quit`.

use crate::nats;
use crate::stamp;
use crate::wsraw::{self, Client};
use anyhow::{Context, Result, bail};
use dm::dm_sender;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

mod dm;

/// How a connection talks to its server.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// fandesk: Bearer token on the upgrade, JSON frames (docs/api.md › WebSocket).
    Fandesk,
    /// The baselines: every frame is one message body.
    Raw,
    /// nats-server's WebSocket listener: the NATS text protocol inside frames.
    Nats,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Spec {
    pub label: String,
    pub server: SocketAddr,
    pub path: String,
    pub source_ip: Ipv4Addr,
    pub proto: Proto,
    pub connect_concurrency: usize,
    pub connect_timeout_secs: u64,
    /// Hard limit on this process's life, whatever the coordinator does.
    pub lifetime_secs: u64,
    pub read_buffer: usize,
    pub mode: Mode,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub enum Mode {
    /// Idle authenticated connections (answering pings, counting unexpected closes).
    Hold { count: usize, tokens: Vec<String> },
    /// Room viewers: subscribe to `topic` and time every stamped message received; also
    /// subscribe to `also` (fandesk: an event's `event:{id}`), whose frames are counted.
    Viewers {
        count: usize,
        tokens: Vec<String>,
        topic: String,
        #[serde(default)]
        also: Vec<String>,
    },
    /// 1:1 conversations: a fan and an agent connection per pair, both sending.
    Dm(DmSpec),
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DmSpec {
    pub pairs: Vec<DmPair>,
    /// Closed loop: sends in flight per connection (a new send per ack).
    pub window: usize,
    /// Open loop instead: sends per second per connection, latency measured from the
    /// intended send time (no coordinated omission).
    pub rate_per_sender: Option<f64>,
    /// Open loop: sends a connection may have unacknowledged before it waits.
    pub in_flight_cap: usize,
    pub warmup_ms: u64,
    pub duration_ms: u64,
    pub body_len: usize,
    /// Whether both sides subscribe to their conversation (and so get every message as
    /// an event besides their own acks).
    pub subscribe: bool,
    /// Where the agents connect, when not to the fans' server (another node).
    #[serde(default)]
    pub agent_server: Option<SocketAddr>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DmPair {
    pub conversation_id: String,
    pub fan_token: String,
    pub agent_token: String,
}

struct State {
    connected: usize,
    failed: usize,
    error_samples: Vec<String>,
    closed: usize,
    close_samples: Vec<String>,
    deliveries: u64,
    first_recv_us: u64,
    last_recv_us: u64,
    /// Send → receive (viewers) or send → event at the peer (DM), µs.
    latency: Histogram<u64>,
    // DM senders.
    sent: u64,
    acks: u64,
    acks_in_window: u64,
    error_frames: u64,
    ack_mismatches: u64,
    outstanding_at_end: u64,
    ack_latency: Histogram<u64>,
    senders_done: usize,
    /// Measurement window (µs since the epoch) for DM latencies and counts.
    window: (u64, u64),
    /// Viewers: the highest message index + 1 each connection has seen (`u64::MAX` once
    /// it is gone, so it holds nobody back); the minimum paces a closed-loop publisher.
    highest: Vec<u64>,
    /// Viewers: frames received on an `event:{id}` topic (an event's questions).
    question_frames: u64,
}

impl State {
    fn new() -> State {
        State {
            connected: 0,
            failed: 0,
            error_samples: Vec::new(),
            closed: 0,
            close_samples: Vec::new(),
            deliveries: 0,
            first_recv_us: 0,
            last_recv_us: 0,
            latency: new_histogram(),
            sent: 0,
            acks: 0,
            acks_in_window: 0,
            error_frames: 0,
            ack_mismatches: 0,
            outstanding_at_end: 0,
            ack_latency: new_histogram(),
            senders_done: 0,
            window: (0, u64::MAX),
            highest: Vec::new(),
            question_frames: 0,
        }
    }

    fn fail(&mut self, error: &anyhow::Error) {
        self.failed += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(format!("{error:#}"));
        }
    }

    fn lost(&mut self, why: String) {
        self.closed += 1;
        if self.close_samples.len() < 5 {
            self.close_samples.push(why);
        }
    }

    /// A viewer received message `index` (sent at `sent_at`).
    fn viewed(&mut self, slot: usize, now: u64, sent_at: u64, index: u64) {
        if let Some(highest) = self.highest.get_mut(slot)
            && *highest != u64::MAX
        {
            *highest = (*highest).max(index + 1);
        }
        self.delivered(now, sent_at, true);
    }

    fn delivered(&mut self, now: u64, sent_at: u64, in_window: bool) {
        self.deliveries += 1;
        if self.first_recv_us == 0 {
            self.first_recv_us = now;
        }
        self.last_recv_us = self.last_recv_us.max(now);
        if in_window {
            let _ = self.latency.record(now.saturating_sub(sent_at).max(1));
        }
    }
}

/// 1 µs … 100 s at 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// A histogram as `[[value, count], …]` (what the coordinator merges).
pub fn histogram_json(histogram: &Histogram<u64>) -> serde_json::Value {
    let pairs: Vec<[u64; 2]> = histogram
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect();
    json!(pairs)
}

type Shared = Rc<RefCell<State>>;

fn emit(value: serde_json::Value) {
    // One line per message; the coordinator reads them in order.
    println!("{value}");
}

pub fn run(spec_file: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(spec_file)
        .with_context(|| format!("reading {}", spec_file.display()))?;
    let spec: Spec = serde_json::from_str(&text).context("parsing the generator spec")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let lifetime = Duration::from_secs(spec.lifetime_secs.max(1));
    let outcome = local.block_on(&runtime, async move {
        tokio::time::timeout(lifetime, main(spec)).await
    });
    match outcome {
        Ok(result) => result,
        Err(_) => {
            eprintln!("generator: lifetime exceeded, exiting");
            std::process::exit(3);
        }
    }
}

async fn main(spec: Spec) -> Result<()> {
    let state: Shared = Rc::new(RefCell::new(State::new()));
    let (start_tx, start_rx) = watch::channel::<Option<u64>>(None);
    let started = Instant::now();
    let total = match &spec.mode {
        Mode::Hold { count, .. } | Mode::Viewers { count, .. } => *count,
        Mode::Dm(dm) => dm.pairs.len() * 2,
    };
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(spec.connect_concurrency.max(1)));
    for index in 0..total {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let spec = spec.clone();
        let state = state.clone();
        let start_rx = start_rx.clone();
        tokio::task::spawn_local(async move {
            let timeout = Duration::from_secs(spec.connect_timeout_secs.max(1));
            let setup = tokio::time::timeout(timeout, open(&spec, index)).await;
            drop(permit);
            let client = match setup {
                Ok(Ok(client)) => client,
                Ok(Err(error)) => return state.borrow_mut().fail(&error),
                Err(_) => {
                    return state
                        .borrow_mut()
                        .fail(&anyhow::anyhow!("connection setup timed out"));
                }
            };
            state.borrow_mut().connected += 1;
            match &spec.mode {
                Mode::Hold { .. } | Mode::Viewers { .. } => {
                    let slot = {
                        let mut state = state.borrow_mut();
                        state.highest.push(0);
                        state.highest.len() - 1
                    };
                    viewer(client, spec.proto, state, slot).await
                }
                Mode::Dm(dm) => {
                    let pair = &dm.pairs[index / 2];
                    let role = if index.is_multiple_of(2) { 'f' } else { 'a' };
                    let tag = format!("{}{}{}", spec.label, role, index / 2);
                    dm_sender(client, dm, pair, tag, state, start_rx).await;
                }
            }
        });
    }
    // Every attempt finishes within its timeout; wait for the last ones (bounded).
    let deadline = Instant::now() + Duration::from_secs(spec.connect_timeout_secs.max(1) + 5);
    while Instant::now() < deadline {
        let done = {
            let state = state.borrow();
            state.connected + state.failed >= total
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    {
        let state = state.borrow();
        emit(json!({
            "kind": "ready",
            "connected": state.connected,
            "errors": state.failed,
            "error_samples": state.error_samples,
            "connect_secs": started.elapsed().as_secs_f64(),
        }));
    }
    if let Mode::Viewers { .. } = spec.mode {
        tokio::task::spawn_local(report_progress(state.clone()));
    }
    let mut lines = stdin_lines();
    // Bounded: one command per line, the process lifetime bounds the rest.
    while let Some(line) = lines.recv().await {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("count") => {
                let state = state.borrow();
                emit(json!({
                    "kind": "count",
                    "deliveries": state.deliveries,
                    "alive": state.connected - state.closed.min(state.connected),
                    "closed": state.closed,
                    "close_samples": state.close_samples,
                    "senders_done": state.senders_done,
                }));
            }
            Some("reset") => {
                let mut state = state.borrow_mut();
                state.deliveries = 0;
                state.first_recv_us = 0;
                state.last_recv_us = 0;
                state.latency.reset();
                state.question_frames = 0;
                emit(json!({"kind": "reset"}));
            }
            Some("start") => {
                let at: u64 = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .context("start needs a time")?;
                if let Mode::Dm(dm) = &spec.mode {
                    let from = at + dm.warmup_ms * 1000;
                    state.borrow_mut().window = (from, at + dm.duration_ms * 1000);
                }
                let _ = start_tx.send(Some(at));
                emit(json!({"kind": "started"}));
            }
            Some("report") => {
                let state = state.borrow();
                emit(json!({
                    "kind": "report",
                    "connected": state.connected,
                    "closed": state.closed,
                    "close_samples": state.close_samples,
                    "deliveries": state.deliveries,
                    "first_recv_us": state.first_recv_us,
                    "last_recv_us": state.last_recv_us,
                    "latency": histogram_json(&state.latency),
                    "sent": state.sent,
                    "acks": state.acks,
                    "acks_in_window": state.acks_in_window,
                    "error_frames": state.error_frames,
                    "ack_mismatches": state.ack_mismatches,
                    "outstanding_at_end": state.outstanding_at_end,
                    "ack_latency": histogram_json(&state.ack_latency),
                    "senders_done": state.senders_done,
                    "question_frames": state.question_frames,
                }));
            }
            Some("quit") | None => break,
            Some(other) => eprintln!("generator: unknown command {other:?}"),
        }
    }
    // Exiting closes every socket at once (faster than orderly closes).
    std::process::exit(0);
}

/// Viewers: prints `progress N` on stderr whenever N — the lowest "highest index + 1"
/// over this process's viewers — grows, so a closed-loop publisher can pace itself by
/// the slowest viewer. Runs until the process exits (its lifetime bounds it).
async fn report_progress(state: Shared) {
    let mut reported = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    loop {
        tick.tick().await;
        let lowest = state
            .borrow()
            .highest
            .iter()
            .copied()
            .min()
            .unwrap_or(u64::MAX);
        if lowest != u64::MAX && lowest > reported {
            reported = lowest;
            eprintln!("progress {lowest}");
        }
    }
}

/// stdin's lines, read by a plain thread (the runtime's single thread stays on sockets).
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Connects connection number `index` and performs the protocol's setup.
async fn open(spec: &Spec, index: usize) -> Result<Client> {
    let connect_timeout = Duration::from_secs(spec.connect_timeout_secs.max(1));
    let token = match &spec.mode {
        Mode::Hold { tokens, .. } | Mode::Viewers { tokens, .. } => {
            (!tokens.is_empty()).then(|| tokens[index % tokens.len()].clone())
        }
        Mode::Dm(dm) => {
            let pair = &dm.pairs[index / 2];
            Some(if index.is_multiple_of(2) {
                pair.fan_token.clone()
            } else {
                pair.agent_token.clone()
            })
        }
    };
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut headers = Vec::new();
    if let Some(value) = &authorization {
        headers.push(("Authorization", value.as_str()));
    }
    let server = match &spec.mode {
        Mode::Dm(dm) if !index.is_multiple_of(2) => dm.agent_server.unwrap_or(spec.server),
        _ => spec.server,
    };
    let mut client = Client::connect(
        server,
        Some(spec.source_ip),
        &spec.path,
        &headers,
        spec.read_buffer,
        connect_timeout,
    )
    .await?;
    let topics = match &spec.mode {
        Mode::Hold { .. } => Vec::new(),
        Mode::Viewers { topic, also, .. } => [std::slice::from_ref(topic), also].concat(),
        Mode::Dm(dm) if !dm.subscribe => Vec::new(),
        Mode::Dm(dm) => vec![format!(
            "conversation:{}",
            dm.pairs[index / 2].conversation_id
        )],
    };
    match spec.proto {
        Proto::Raw => {}
        Proto::Fandesk => {
            for topic in topics {
                let frame = json!({"type": "subscribe", "topic": topic}).to_string();
                client.send_text(frame.as_bytes()).await?;
                wait_for(&mut client, b"\"subscribed\"").await?;
            }
        }
        Proto::Nats => {
            let greeting = if !topics.is_empty() {
                nats::connect_and_subscribe()
            } else {
                nats::connect_only()
            };
            client.send(wsraw::OP_BINARY, greeting.as_bytes()).await?;
            let mut parser = nats::Parser::default();
            // INFO, then PONG once CONNECT (and SUB) are processed. Bounded by the
            // caller's timeout and by this count.
            for _ in 0..64 {
                let frame = client.next().await?.context("closed during NATS setup")?;
                parser.feed(client.payload(&frame));
                while let Some(op) = parser.next() {
                    match op {
                        nats::Op::Pong => return Ok(client),
                        nats::Op::Err(error) => bail!("nats: {error}"),
                        _ => {}
                    }
                }
            }
            bail!("no PONG from nats-server");
        }
    }
    Ok(client)
}

/// Reads frames until one contains `needle` (bounded by count; the caller bounds time).
async fn wait_for(client: &mut Client, needle: &[u8]) -> Result<()> {
    for _ in 0..1000 {
        let frame = client
            .next()
            .await?
            .context("closed before the expected frame")?;
        let payload = client.payload(&frame);
        if payload.windows(needle.len()).any(|w| w == needle) {
            return Ok(());
        }
        if payload.starts_with(b"{\"type\":\"error\"") {
            bail!("server error frame: {}", String::from_utf8_lossy(payload));
        }
    }
    bail!("expected frame never came");
}

/// How every frame on an event's topic starts (docs/api.md › WebSocket › Event frames).
const QUESTION_FRAME: &[u8] = b"{\"type\":\"event\",\"topic\":\"event:";

/// A viewer (or idle holder): reads until the connection ends, timing stamped messages.
async fn viewer(mut client: Client, proto: Proto, state: Shared, slot: usize) {
    let mut parser = nats::Parser::default();
    let gone = |state: &Shared, why: String| {
        let mut state = state.borrow_mut();
        state.highest[slot] = u64::MAX;
        state.lost(why);
    };
    loop {
        let frame = match client.next().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return gone(&state, "closed by the server".into()),
            Err(error) => return gone(&state, format!("{error:#}")),
        };
        let now = stamp::now_us();
        let payload = client.payload(&frame);
        let mut pings = 0;
        match proto {
            Proto::Raw => {
                if let Some((sent, index)) = stamp::parse(payload) {
                    state.borrow_mut().viewed(slot, now, sent, index);
                }
            }
            Proto::Fandesk => {
                if payload.starts_with(QUESTION_FRAME) {
                    state.borrow_mut().question_frames += 1;
                } else if payload.starts_with(b"{\"type\":\"event\"")
                    && let Some((sent, index)) = stamp::find(payload)
                {
                    state.borrow_mut().viewed(slot, now, sent, index);
                }
            }
            Proto::Nats => {
                parser.feed(payload);
                let mut state = state.borrow_mut();
                while let Some(op) = parser.next() {
                    match op {
                        nats::Op::Msg { start, end } => {
                            if let Some((sent, index)) = stamp::parse(&parser.buffer()[start..end])
                            {
                                state.viewed(slot, now, sent, index);
                            }
                        }
                        nats::Op::Ping => pings += 1,
                        _ => {}
                    }
                }
            }
        }
        for _ in 0..pings {
            if client.send(wsraw::OP_BINARY, b"PONG\r\n").await.is_err() {
                return gone(&state, "pong failed".into());
            }
        }
    }
}
