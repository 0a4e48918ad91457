//! The Q&A burst's two helpers: the upvoter (distinct fans upvoting one question over
//! REST at a fixed rate, latency from the intended time so a stalled server shows up) and
//! the watcher (one fan following `event:{id}` live, remembering the last count it was
//! told, so a run can check that the final count reached the subscribers).

use crate::loadgen::new_histogram;
use crate::wsraw::Client;
use anyhow::{Context, Result, bail};
use futures_util::stream::{FuturesUnordered, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Upvotes waiting for their answer before the next one waits too (its latency still
/// counts from its intended time). Real fans each wait for their own answer only, so
/// this is large: two seconds of the full rate, each on a connection of its own if need be.
const MAX_IN_FLIGHT: usize = 2_048;

/// What one burst of upvotes got back.
pub struct Upvotes {
    /// 201: counted.
    pub counted: u64,
    /// 200: this fan had upvoted already (never expected: every fan upvotes once).
    pub repeated: u64,
    pub failed: u64,
    pub error_samples: Vec<String>,
    /// Intended send → answer, µs.
    pub latency: Histogram<u64>,
    /// From the first intended send to the last answer.
    pub secs: f64,
}

/// One upvote per token, `rate` a second, each by its own fan, on a thread and runtime of
/// its own (so its work never delays the chat's publisher on the coordinator's runtime).
pub fn spawn_upvoter(
    server: SocketAddr,
    source: Ipv4Addr,
    path: String,
    tokens: Vec<String>,
    rate: f64,
) -> JoinHandle<Result<Upvotes>> {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(upvote(server, source, path, tokens, rate))
    })
}

async fn upvote(
    server: SocketAddr,
    source: Ipv4Addr,
    path: String,
    tokens: Vec<String>,
    rate: f64,
) -> Result<Upvotes> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .local_address(Some(source.into()))
        .build()?;
    let url = format!("http://{server}/api/v1{path}");
    let mut upvotes = Upvotes {
        counted: 0,
        repeated: 0,
        failed: 0,
        error_samples: Vec::new(),
        latency: new_histogram(),
        secs: 0.0,
    };
    let started = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    for (index, token) in tokens.into_iter().enumerate() {
        let due = started + Duration::from_secs_f64(index as f64 / rate.max(1e-3));
        // Bounded: every pass either reaches the due time or collects an answer.
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(due), if in_flight.len() < MAX_IN_FLIGHT => break,
                Some(answer) = in_flight.next(), if !in_flight.is_empty() => record(&mut upvotes, answer),
            }
        }
        let request = http.post(&url).bearer_auth(token).send();
        in_flight.push(async move {
            let status = match request.await {
                Ok(response) => Ok(response.status().as_u16()),
                Err(error) => Err(format!("{error}")),
            };
            (due, status)
        });
    }
    while let Some(answer) = in_flight.next().await {
        record(&mut upvotes, answer);
    }
    upvotes.secs = started.elapsed().as_secs_f64();
    Ok(upvotes)
}

fn record(upvotes: &mut Upvotes, (due, status): (Instant, Result<u16, String>)) {
    let micros = due.elapsed().as_micros() as u64;
    let _ = upvotes
        .latency
        .record(micros.clamp(1, upvotes.latency.high()));
    match status {
        Ok(201) => upvotes.counted += 1,
        Ok(200) => upvotes.repeated += 1,
        other => {
            upvotes.failed += 1;
            if upvotes.error_samples.len() < 5 {
                upvotes.error_samples.push(format!("{other:?}"));
            }
        }
    }
}

/// A fan following `event:{id}` live: the highest count of one question it was told.
pub struct Watcher {
    pub upvotes: Arc<AtomicU64>,
    pub frames: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Watcher {
    pub async fn start(
        server: SocketAddr,
        source: Ipv4Addr,
        token: &str,
        topic: &str,
        question_id: &str,
    ) -> Result<Watcher> {
        let authorization = format!("Bearer {token}");
        let headers = [("Authorization", authorization.as_str())];
        let mut client = Client::connect(
            server,
            Some(source),
            "/api/v1/ws",
            &headers,
            64 * 1024,
            Duration::from_secs(10),
        )
        .await?;
        let subscribe = json!({"type": "subscribe", "topic": topic}).to_string();
        client.send_text(subscribe.as_bytes()).await?;
        // The answer comes before any event of the topic (bounded by count and time).
        let subscribed = tokio::time::timeout(Duration::from_secs(10), async {
            for _ in 0..100 {
                let frame = client.next().await?.context("closed before subscribed")?;
                let payload = client.payload(&frame);
                if payload.starts_with(b"{\"type\":\"subscribed\"") {
                    return Ok(());
                }
                if payload.starts_with(b"{\"type\":\"error\"") {
                    bail!("subscribe refused: {}", String::from_utf8_lossy(payload));
                }
            }
            bail!("no subscribed frame")
        })
        .await;
        subscribed.context("subscribing the watcher")??;
        let upvotes = Arc::new(AtomicU64::new(0));
        let frames = Arc::new(AtomicU64::new(0));
        let question_id = question_id.to_owned();
        let (task_upvotes, task_frames) = (upvotes.clone(), frames.clone());
        // Ends when the connection does, or when the watcher is dropped (aborted).
        let task = tokio::spawn(async move {
            while let Ok(Some(frame)) = client.next().await {
                let Ok(value) = serde_json::from_slice::<Value>(client.payload(&frame)) else {
                    continue;
                };
                let question = &value["event"]["question"];
                if value["type"] == "event" && question["id"] == question_id.as_str() {
                    task_frames.fetch_add(1, Ordering::Relaxed);
                    let count = question["upvotes"].as_u64().unwrap_or(0);
                    task_upvotes.fetch_max(count, Ordering::Relaxed);
                }
            }
        });
        Ok(Watcher {
            upvotes,
            frames,
            task,
        })
    }

    /// Waits (at most `limit`) until the watcher has been told `count`; returns what it
    /// was told last.
    pub async fn wait_for(&self, count: u64, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline && self.upvotes.load(Ordering::Relaxed) < count {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.upvotes.load(Ordering::Relaxed)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
