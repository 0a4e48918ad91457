//! `scheduled-send` (not in `all`): live chat while a scheduled message goes out to a
//! 100,000-fan segment. The delivery job writes its recipients in batches through the same
//! group commit the live messages use, so this measures whether a big send stalls live
//! chat: the DM ack latency at a fixed offered rate, alone and during the send, on the
//! same server in the same invocation.
//!
//! Per backend: import 2 × N fans (two tags of N), send to the first tag with no live
//! chat (how long N recipients take alone: the calibration), then run live chat for a
//! window as long as that send took — once alone, once with the second tag's send started
//! at the window's start — so the measured window lies inside the send. Every recipient of
//! the measured send is then checked through its delivery list.

use super::Trial;
use super::dm::{Plan, Variant, run_trial};
use crate::Ctx;
use crate::api::Api;
use crate::report::{Table, fmt};
use crate::servers::{Kind, Server};
use crate::stamp::now_us;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Live chat beside the send: messages per second offered over all senders.
const LIVE_RATE: f64 = 1_000.0;
/// Fans per import request (each request is one JSON-lines body under the 16 MiB cap).
const IMPORT_CHUNK: usize = 20_000;
const CAL_TAG: &str = "bench-calibration";
const SEND_TAG: &str = "bench-send";

pub async fn scheduled_send(ctx: &Ctx) -> Result<Vec<Table>> {
    let recipients = ctx
        .recipients
        .unwrap_or(if ctx.smoke { 2_000 } else { 100_000 })
        .max(1);
    let kinds = ctx.kinds(&[Kind::Fandesk, Kind::FandeskPostgres]);
    let mut columns = Vec::new();
    let mut results = Vec::new();
    for kind in kinds {
        let backend = if kind == Kind::Fandesk {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        eprintln!("[scheduled-send] {backend}: {recipients} recipients …");
        match one_backend(ctx, kind, recipients).await {
            Ok((alone, during)) => {
                columns.push(format!("{backend}, live chat alone"));
                columns.push(format!("{backend}, during the send"));
                results.push(alone);
                results.push(during);
            }
            Err(error) => ctx.problem(format!("scheduled-send / {backend}: {error:#}")),
        }
    }
    let column_refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!(
            "scheduled-send — live chat at {} msg/s while a scheduled message goes to {} fans",
            fmt(LIVE_RATE, 0),
            fmt(recipients as f64, 0)
        ),
        &column_refs,
    );
    table.note(format!(
        "one run per backend on one server: {} fans imported (two tags of {}); the first tag's send \
         runs alone (calibration); then {} conversations (fan + agent on WebSocket, both subscribed) \
         send at a fixed {} msg/s offered for a window as long as the calibration send took, once \
         alone and once with the second tag's send (`at` = now, segment by tag) started at the \
         window's start; every recipient then checked in the delivery list",
        fmt(2.0 * recipients as f64, 0),
        fmt(recipients as f64, 0),
        if ctx.smoke { 8 } else { 200 },
        fmt(LIVE_RATE, 0),
    ));
    let rows: &[(&str, &str, usize)] = &[
        ("throughput", "live chat: acked messages/s", 0),
        ("ack_p50_ms", "live chat: ack latency p50 (ms)", 2),
        ("ack_p99_ms", "live chat: ack latency p99 (ms)", 2),
        ("ack_max_ms", "live chat: ack latency max (ms)", 1),
        (
            "delivery_p99_ms",
            "live chat: send → peer's event p99 (ms)",
            2,
        ),
        ("window_secs", "measured window (s)", 1),
        (
            "send_secs_alone",
            "the send alone (calibration): duration (s)",
            1,
        ),
        ("send_rate_alone", "the send alone: recipients/s", 0),
        ("send_secs", "the send beside live chat: duration (s)", 1),
        ("send_rate", "the send beside live chat: recipients/s", 0),
        (
            "sent_in_window",
            "recipients sent by the window's end (%)",
            0,
        ),
        (
            "delivered",
            "recipients with a delivered message (checked)",
            0,
        ),
        ("server_cores", "server CPU (cores)", 2),
        ("error_frames", "live chat: error frames", 0),
    ];
    for (metric, label, decimals) in rows {
        let cells = results
            .iter()
            .map(|trial| {
                trial
                    .values
                    .iter()
                    .find(|(name, _)| name == metric)
                    .map(|(_, value)| fmt(*value, *decimals))
                    .unwrap_or_else(|| "–".into())
            })
            .collect();
        table.row(label, cells, "", "");
    }
    for (column, trial) in columns.iter().zip(&results) {
        for note in &trial.notes {
            table.note(format!("{column}: {note}"));
        }
    }
    Ok(vec![table])
}

/// The two trials of one backend: live chat alone, and live chat during the send.
async fn one_backend(ctx: &Ctx, kind: Kind, recipients: usize) -> Result<(Trial, Trial)> {
    let mut server = Server::start(ctx, kind).await?;
    let result = async {
        let api = Api::new(server.addr);
        let owner = api.owner_token().await?;
        seed_fans(&api, &owner, recipients).await?;

        let calibration = send(&api, &owner, CAL_TAG, recipients).await?;
        let cal_done = wait_sent(&api, &owner, &calibration, recipients, None).await?;
        let alone_secs = cal_done.finished_secs;
        let mut plan = Plan::sized(ctx, 200, 20);
        let window = Duration::from_secs_f64(alone_secs.clamp(2.0, 120.0));
        plan.duration = plan.warmup + window;
        let variant = Variant {
            kind,
            rate: Some(if ctx.smoke { 200.0 } else { LIVE_RATE }),
            window: None,
            subscribe: true,
        };

        let mut alone = run_trial(ctx, &mut server, None, variant, &plan, None).await?;
        alone.set("window_secs", window.as_secs_f64());
        alone.set("send_secs_alone", alone_secs);
        alone.set("send_rate_alone", recipients as f64 / alone_secs.max(1e-3));

        let (window_tx, window_rx) = tokio::sync::oneshot::channel();
        let sender = {
            let api = api.clone();
            let owner = owner.clone();
            tokio::spawn(async move {
                let (start, end) = window_rx.await.context("the trial never started")?;
                let id = send(&api, &owner, SEND_TAG, recipients).await?;
                let done = wait_sent(&api, &owner, &id, recipients, Some(end)).await?;
                Ok::<_, anyhow::Error>((id, start, done))
            })
        };
        let mut during = run_trial(ctx, &mut server, None, variant, &plan, Some(window_tx)).await?;
        let (id, _start, done) = sender.await.context("the sender task")??;
        during.set("window_secs", window.as_secs_f64());
        during.set("send_secs", done.finished_secs);
        during.set(
            "send_rate",
            recipients as f64 / done.finished_secs.max(1e-3),
        );
        let in_window = done.sent_at_window_end.unwrap_or(recipients);
        during.set(
            "sent_in_window",
            100.0 * in_window as f64 / recipients as f64,
        );
        if in_window >= recipients {
            during.notes.push(
                "the send finished before the window ended: part of the window had no send".into(),
            );
        }
        let delivered = check_deliveries(&api, &owner, &id).await?;
        during.set("delivered", delivered as f64);
        if delivered != recipients {
            during.problem(format!(
                "{delivered} of {recipients} recipients have a delivered message"
            ));
        }
        if !server.alive() {
            bail!("fandesk died; log: {}", crate::servers::tail(&server.log));
        }
        Ok((alone, during))
    }
    .await;
    server.stop().await;
    result
}

/// Imports `2 × recipients` fans: the first half tagged for the calibration send, the second
/// for the measured one, spread over a few time zones.
async fn seed_fans(api: &Api, owner: &str, recipients: usize) -> Result<()> {
    const ZONES: [&str; 4] = [
        "Europe/Berlin",
        "America/New_York",
        "Asia/Tokyo",
        "Asia/Kathmandu",
    ];
    let started = Instant::now();
    let created = now_us();
    let total = 2 * recipients;
    let header = r#"{"type":"header","format":"fandesk-export","version":1,"counts":{}}"#;
    for chunk_start in (0..total).step_by(IMPORT_CHUNK) {
        let mut body = String::with_capacity(IMPORT_CHUNK * 260);
        body.push_str(header);
        body.push('\n');
        for i in chunk_start..(chunk_start + IMPORT_CHUNK).min(total) {
            let tag = if i < recipients { CAL_TAG } else { SEND_TAG };
            let line = json!({
                "type": "fan", "id": format!("bench-fan-{i:07}"),
                "display_name": format!("Segment Fan {i}"), "external_id": null,
                "timezone": ZONES[i % ZONES.len()], "tags": [tag],
                "lifetime_spend_cents": 0, "notes": "", "attributes": {},
                "created_at": created, "last_seen_at": created,
            });
            body.push_str(&line.to_string());
            body.push('\n');
        }
        let answer = api.import(owner, body).await?;
        if answer["fans"].as_u64().unwrap_or(0) == 0 {
            bail!("the import inserted no fans: {answer}");
        }
    }
    eprintln!(
        "[scheduled-send]   {total} fans imported in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Schedules a message for every fan tagged `tag`, due now; returns its id.
async fn send(api: &Api, owner: &str, tag: &str, recipients: usize) -> Result<String> {
    let body = json!({
        "body": "The premiere starts in one hour: see you there!",
        "audience": {"tags": [tag]},
        "at": jiff::Timestamp::now().to_string(),
    });
    let created = api.post("/scheduled-messages", Some(owner), body).await?;
    let count = created["recipients"].as_u64().unwrap_or(0) as usize;
    if count != recipients {
        bail!("the segment has {count} recipients, expected {recipients}");
    }
    created["id"]
        .as_str()
        .map(str::to_owned)
        .context("the scheduled message has no id")
}

struct Done {
    /// Seconds from the request to the last recipient sent.
    finished_secs: f64,
    /// Recipients sent by `window_end`, when asked (None: not reached yet when it ended).
    sent_at_window_end: Option<usize>,
}

/// Polls the message until nobody is pending (at most 15 minutes).
async fn wait_sent(
    api: &Api,
    owner: &str,
    id: &str,
    recipients: usize,
    window_end: Option<u64>,
) -> Result<Done> {
    let started = Instant::now();
    let mut sent_at_window_end = None;
    loop {
        let message: Value = api.get(&format!("/scheduled-messages/{id}"), owner).await?;
        let sent = message["sent"].as_u64().unwrap_or(0) as usize;
        if let Some(end) = window_end
            && sent_at_window_end.is_none()
            && now_us() >= end
        {
            sent_at_window_end = Some(sent);
        }
        match message["status"].as_str() {
            Some("sent") => {
                if sent != recipients || message["failed"].as_u64().unwrap_or(0) > 0 {
                    bail!("the send ended with {sent} of {recipients} sent: {message}");
                }
                return Ok(Done {
                    finished_secs: started.elapsed().as_secs_f64(),
                    sent_at_window_end,
                });
            }
            Some("scheduled" | "sending") => {}
            other => bail!("the send ended {other:?}: {message}"),
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("the send did not finish in 15 minutes ({sent} of {recipients} sent)");
        }
        // As often as a console showing progress would ask, not more: each answer counts
        // the message's recipients by status.
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// Recipients whose delivery is `sent` with a message id, read through the paged list.
async fn check_deliveries(api: &Api, owner: &str, id: &str) -> Result<usize> {
    let mut delivered = 0;
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(fan) => format!("/scheduled-messages/{id}/deliveries?limit=1000&after={fan}"),
            None => format!("/scheduled-messages/{id}/deliveries?limit=1000"),
        };
        let page = api.get(&path, owner).await?;
        let rows = page["deliveries"].as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            return Ok(delivered);
        }
        for row in &rows {
            if row["status"] == "sent" && row["message_id"].is_string() {
                delivered += 1;
            }
        }
        after = Some(
            rows.last()
                .and_then(|row| row["fan_id"].as_str())
                .context("a delivery without fan_id")?
                .to_owned(),
        );
    }
}
