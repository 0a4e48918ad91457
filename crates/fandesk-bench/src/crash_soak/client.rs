//! One crash soak client: sends its messages one at a time over REST, each with its own
//! `client_msg_id`, and retries a send that got no answer (or a 5xx) with the same id
//! until it is acknowledged — across kills and restarts of the server, at whatever
//! address the server has now. Logs every attempt and its outcome.

use super::history::{Entry, Op};
use anyhow::{Result, bail};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Who sends where.
#[derive(Clone, Debug)]
pub struct Sender {
    pub label: String,
    pub token: String,
    pub conversation: String,
    pub visibility: &'static str,
    /// A fan is acked with the public sequence.
    pub fan: bool,
}

/// How long one message may stay unacknowledged before the run fails.
const GIVE_UP: Duration = Duration::from_secs(120);
/// One request's time limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before retrying after a failure (the server is probably restarting).
const RETRY_PAUSE: Duration = Duration::from_millis(20);

pub fn ms_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// Sends `count` messages; returns the history of this client.
pub async fn run(
    sender: Sender,
    count: usize,
    server: Arc<RwLock<SocketAddr>>,
    start: Instant,
) -> Result<Vec<Entry>> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    let mut history = Vec::with_capacity(count * 2 + 16);
    let log = |history: &mut Vec<Entry>, id: &str, op: Op| {
        history.push(Entry {
            at_ms: ms_since(start),
            sender: sender.label.clone(),
            conversation: sender.conversation.clone(),
            client_msg_id: id.to_owned(),
            op,
        });
    };
    for number in 0..count {
        let id = format!("{}-{number}", sender.label);
        let body = json!({
            "client_msg_id": id,
            "body": format!("{} #{number}", sender.label),
            "visibility": sender.visibility,
        });
        let first_try = Instant::now();
        loop {
            if first_try.elapsed() > GIVE_UP {
                bail!("{id}: not acknowledged within {GIVE_UP:?}");
            }
            let addr = *server.read().unwrap_or_else(|poison| poison.into_inner());
            let url = format!(
                "http://{addr}/api/v1/conversations/{}/messages",
                sender.conversation
            );
            log(&mut history, &id, Op::Send);
            let answer = http
                .post(&url)
                .bearer_auth(&sender.token)
                .json(&body)
                .send()
                .await;
            let response = match answer {
                Ok(response) => response,
                Err(error) => {
                    let op = if error.is_timeout() {
                        Op::Timeout
                    } else {
                        Op::Error {
                            detail: short(&error),
                        }
                    };
                    log(&mut history, &id, op);
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            let status = response.status();
            let text = match response.text().await {
                Ok(text) => text,
                Err(error) => {
                    log(
                        &mut history,
                        &id,
                        Op::Error {
                            detail: format!("reading the answer: {}", short(&error)),
                        },
                    );
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            if status.is_server_error() {
                log(
                    &mut history,
                    &id,
                    Op::Error {
                        detail: format!("{status}"),
                    },
                );
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            if !status.is_success() {
                bail!("{id}: {status} {text}");
            }
            let message: Value = serde_json::from_str(&text)?;
            let Some(seq) = message["seq"].as_u64() else {
                bail!("{id}: answer without seq: {text}");
            };
            log(
                &mut history,
                &id,
                Op::Ack {
                    seq,
                    public: sender.fan,
                },
            );
            break;
        }
    }
    Ok(history)
}

/// An error's outermost cause, without the URL (it repeats on every line).
fn short(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    text
}
