//! The normal clients of the abuse scenario: fans, each in a 1:1 conversation with an
//! agent, both on WebSocket and both subscribed to it, each sending a stamped message
//! every few seconds (within the fan limits the server enforces). They time send → own
//! ack and send → the peer's event, and a probe times `GET /healthz`. They run on a
//! thread and runtime of their own, so the abusive clients' work in this process does not
//! delay them in the harness itself.

use super::tally::{NormalStats, Timeline};
use crate::api::Api;
use crate::stamp::now_us;
use crate::wsraw::Client;
use anyhow::{Context, Result, bail};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Fans per source address (the server limits messages per address: 300 a minute by
/// default, and each fan sends at most 30).
pub const FANS_PER_ADDRESS: usize = 10;
/// Agent connections per source address (under the per-address connection cap).
const AGENTS_PER_ADDRESS: usize = 100;

/// One normal conversation.
#[derive(Clone, Debug)]
pub struct Pair {
    pub conversation_id: String,
    pub fan_token: String,
    pub agent_token: String,
    pub fan_source: Ipv4Addr,
    pub agent_source: Ipv4Addr,
}

/// Where normal fan `i` connects from: 127.0.2.x, ten fans an address.
pub fn fan_source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 2, 1 + (i / FANS_PER_ADDRESS) as u8)
}

fn agent_source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 3, 1 + (i / AGENTS_PER_ADDRESS) as u8)
}

/// Creates `count` fans (each from its own source address, as a deployment would see
/// them), their conversations, and `agents` agents who claim them.
pub async fn setup(server: SocketAddr, count: usize, agents: usize) -> Result<Vec<Pair>> {
    if count > FANS_PER_ADDRESS * 250 {
        bail!("at most {} normal clients", FANS_PER_ADDRESS * 250);
    }
    let api = Api::new(server);
    let owner = api.owner_token().await?;
    let agent_tokens = api.agents(&owner, agents.max(1)).await?;
    let agent_tokens = &agent_tokens;
    stream::iter(0..count)
        .map(|i| async move {
            let fan_api = Api::from_source(server, Some(IpAddr::V4(fan_source(i))));
            let fan_token = fan_api.fan(&format!("Normal Fan {i}")).await?;
            let conversation_id = fan_api.open_conversation(&fan_token).await?;
            let agent_token = agent_tokens[i % agent_tokens.len()].clone();
            Api::new(server)
                .send(
                    &agent_token,
                    &conversation_id,
                    &format!("claim-{i}"),
                    "Hi, how can I help?",
                )
                .await?;
            Ok::<_, anyhow::Error>(Pair {
                conversation_id,
                fan_token,
                agent_token,
                fan_source: fan_source(i),
                agent_source: agent_source(i),
            })
        })
        .buffered(8)
        .try_collect()
        .await
}

/// Starts the normal clients on their own thread. `ready` fires once every connection is
/// subscribed; they then send from `timeline.warm_from` until `timeline.end`, every
/// `interval`, and read until `stop` turns true. The thread returns their figures.
pub fn spawn(
    server: SocketAddr,
    pairs: Vec<Pair>,
    timeline: watch::Receiver<Option<Timeline>>,
    interval: Duration,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
    stop: watch::Receiver<bool>,
) -> std::thread::JoinHandle<NormalStats> {
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = ready.send(Err(error.into()));
                return NormalStats::default();
            }
        };
        runtime.block_on(run(server, pairs, timeline, interval, ready, stop))
    })
}

async fn run(
    server: SocketAddr,
    pairs: Vec<Pair>,
    mut timeline: watch::Receiver<Option<Timeline>>,
    interval: Duration,
    ready: tokio::sync::oneshot::Sender<Result<()>>,
    stop: watch::Receiver<bool>,
) -> NormalStats {
    let stats = Arc::new(Mutex::new(NormalStats::default()));
    let connected = stream::iter(pairs.iter().enumerate())
        .map(|(i, pair)| async move {
            let topic = format!("conversation:{}", pair.conversation_id);
            let fan = connect(server, pair.fan_source, &pair.fan_token, &topic).await?;
            let agent = connect(server, pair.agent_source, &pair.agent_token, &topic).await?;
            Ok::<_, anyhow::Error>((i, topic, fan, agent))
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await;
    let connected = match connected {
        Ok(connected) => {
            let _ = ready.send(Ok(()));
            connected
        }
        Err(error) => {
            let _ = ready.send(Err(error));
            return NormalStats::default();
        }
    };
    let timeline = loop {
        if let Some(timeline) = *timeline.borrow_and_update() {
            break timeline;
        }
        if timeline.changed().await.is_err() {
            return NormalStats::default();
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (i, topic, fan, agent) in connected {
        for (side, client) in [("f", fan), ("a", agent)] {
            let peer = if side == "f" { "a" } else { "f" };
            let side = Side {
                tag: format!("{side}{i}"),
                peer_tag: format!("{peer}{i}"),
                topic: topic.clone(),
                timeline,
                interval,
                stats: stats.clone(),
            };
            tasks.spawn(side.run(client, stop.clone()));
        }
    }
    tasks.spawn(probe(server, timeline, stats.clone(), stop.clone()));
    while tasks.join_next().await.is_some() {}
    let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::take(&mut *stats)
}

async fn connect(server: SocketAddr, source: Ipv4Addr, token: &str, topic: &str) -> Result<Client> {
    let bearer = format!("Bearer {token}");
    let mut client = Client::connect(
        server,
        Some(source),
        "/api/v1/ws",
        &[("Authorization", bearer.as_str())],
        16 * 1024,
        Duration::from_secs(30),
    )
    .await?;
    let frame = json!({"type": "subscribe", "topic": topic}).to_string();
    client.send_text(frame.as_bytes()).await?;
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let frame = client.next().await?.context("closed while subscribing")?;
            let payload = client.payload(&frame);
            if payload.starts_with(br#"{"type":"subscribed""#) {
                return Ok::<_, anyhow::Error>(());
            }
            if payload.starts_with(br#"{"type":"error""#) {
                bail!("subscribe refused: {}", String::from_utf8_lossy(payload));
            }
        }
    })
    .await
    .context("subscribe timed out")??;
    Ok(client)
}

/// One side (fan or agent) of a normal conversation.
struct Side {
    tag: String,
    peer_tag: String,
    topic: String,
    timeline: Timeline,
    interval: Duration,
    stats: Arc<Mutex<NormalStats>>,
}

impl Side {
    async fn run(self, mut client: Client, mut stop: watch::Receiver<bool>) {
        let interval_us = self.interval.as_micros() as u64;
        // Spread the senders over one interval so they do not send in lockstep.
        let offset = fnv(&self.tag) % interval_us.max(1);
        let mut next_due = self.timeline.warm_from + offset;
        let mut number: u64 = 0;
        // (number, intended send time µs) of sends not yet answered, in send order.
        let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
        let own = format!("from={} ", self.tag);
        let peer = format!("from={} ", self.peer_tag);
        let mut text = String::new();
        loop {
            let sending = next_due < self.timeline.end;
            tokio::select! {
                frame = client.next() => {
                    let frame = match frame {
                        Ok(Some(frame)) => frame,
                        Ok(None) => {
                            let code = client.close_code.map_or("no close frame".into(), |c| c.to_string());
                            return self.lost(format!("{}: closed by the server ({code})", self.tag));
                        }
                        Err(error) => return self.lost(format!("{}: {error:#}", self.tag)),
                    };
                    let now = now_us();
                    let payload = client.payload(&frame);
                    let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
                    if payload.starts_with(br#"{"type":"ack""#) {
                        if let Some((_, at)) = pending.pop_front()
                            && let Some(phase) = self.timeline.phase_of(at)
                        {
                            stats.acked[phase as usize] += 1;
                            let _ = stats.ack[phase as usize].record(now.saturating_sub(at).max(1));
                        }
                    } else if payload.starts_with(br#"{"type":"error""#) {
                        pending.pop_front();
                        stats.error_frames += 1;
                        let text: String = String::from_utf8_lossy(payload).chars().take(200).collect();
                        stats.sample(format!("{}: {text}", self.tag));
                    } else if payload.starts_with(br#"{"type":"event""#)
                        && contains(payload, peer.as_bytes())
                        && let Some((at, _)) = crate::stamp::find(payload)
                        && let Some(phase) = self.timeline.phase_of(at)
                    {
                        let _ = stats.delivery[phase as usize].record(now.saturating_sub(at).max(1));
                    }
                }
                () = sleep_until_us(next_due), if sending => {
                    use std::fmt::Write;
                    // Stamped with the intended time: a late send shows as latency.
                    let at = next_due;
                    text.clear();
                    let _ = write!(
                        text,
                        r#"{{"type":"send","topic":"{}","client_msg_id":"{}-{number}","body":"t={at} i={number} {own}normal traffic"}}"#,
                        self.topic, self.tag
                    );
                    if let Err(error) = client.send_text(text.as_bytes()).await {
                        return self.lost(format!("{}: send failed: {error:#}", self.tag));
                    }
                    if let Some(phase) = self.timeline.phase_of(at) {
                        self.stats.lock().unwrap_or_else(|p| p.into_inner()).sent[phase as usize] += 1;
                    }
                    pending.push_back((number, at));
                    number += 1;
                    next_due += interval_us;
                }
                () = stopped(&mut stop) => {
                    self.stats.lock().unwrap_or_else(|p| p.into_inner()).unanswered += pending.len() as u64;
                    return;
                }
            }
        }
    }

    fn lost(&self, why: String) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.disconnected += 1;
        stats.sample(why);
    }
}

/// `GET /healthz` every 100 ms from 127.0.0.1, timed per phase.
async fn probe(
    server: SocketAddr,
    timeline: Timeline,
    stats: Arc<Mutex<NormalStats>>,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    else {
        return;
    };
    let url = format!("http://{server}/healthz");
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stopped(&mut stop) => return,
        }
        let at = now_us();
        let Some(phase) = timeline.phase_of(at) else {
            continue;
        };
        let ok = matches!(http.get(&url).send().await, Ok(r) if r.status().is_success());
        let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            let _ = stats.health[phase as usize].record(now_us().saturating_sub(at).max(1));
        } else {
            stats.health_failures[phase as usize] += 1;
        }
    }
}

/// Returns once `stop` is true (never, when its sender is gone without saying so).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if is_set(stop) {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn is_set(stop: &mut watch::Receiver<bool>) -> bool {
    *stop.borrow_and_update()
}

async fn sleep_until_us(us: u64) {
    let now = now_us();
    tokio::time::sleep_until(Instant::now() + Duration::from_micros(us.saturating_sub(now))).await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_fans_are_spread_ten_an_address() {
        assert_eq!(fan_source(0), Ipv4Addr::new(127, 0, 2, 1));
        assert_eq!(fan_source(9), Ipv4Addr::new(127, 0, 2, 1));
        assert_eq!(fan_source(10), Ipv4Addr::new(127, 0, 2, 2));
        assert_eq!(agent_source(99), Ipv4Addr::new(127, 0, 3, 1));
        assert_eq!(agent_source(100), Ipv4Addr::new(127, 0, 3, 2));
    }
}
