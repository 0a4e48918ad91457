//! fandesk's REST API, as much as the scenarios need to set themselves up.

use crate::loadgen::DmPair;
use crate::servers::{OWNER_EMAIL, OWNER_PASSWORD};
use anyhow::{Context, Result, bail};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// Parallel REST calls during setup (the server's argon2 and commits are the limit).
const SETUP_CONCURRENCY: usize = 8;

impl Api {
    pub fn new(addr: SocketAddr) -> Api {
        Api::from_source(addr, None)
    }

    /// An API client whose connections leave from `source` (a loopback address of its
    /// own, so the server's per-address limits count it apart).
    pub fn from_source(addr: SocketAddr, source: Option<std::net::IpAddr>) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .local_address(source)
            .build()
            .unwrap_or_default();
        Api {
            http,
            base: format!("http://{addr}"),
        }
    }

    pub async fn healthy(&self) -> bool {
        matches!(self.http.get(format!("{}/healthz", self.base)).send().await, Ok(r) if r.status().is_success())
    }

    /// `POST /api/v1{path}`; a non-2xx answer is an error carrying the server's body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET /api/v1{path}` with a bearer token; a non-2xx answer is an error.
    pub async fn get(&self, path: &str, token: &str) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("GET {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /api/v1/import` of a JSON-lines body (the owner's token).
    pub async fn import(&self, owner: &str, lines: String) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/api/v1/import", self.base))
            .bearer_auth(owner)
            .header("content-type", "application/x-ndjson")
            .timeout(Duration::from_secs(300))
            .body(lines)
            .send()
            .await
            .context("POST /import")?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST /import: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<String> {
        let answer = self
            .post(
                "/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await?;
        answer["token"]
            .as_str()
            .map(str::to_owned)
            .context("login answer has no token")
    }

    pub async fn owner_token(&self) -> Result<String> {
        self.login(OWNER_EMAIL, OWNER_PASSWORD).await
    }

    /// A fan session's token.
    pub async fn fan(&self, name: &str) -> Result<String> {
        let answer = self
            .post("/fan-sessions", None, json!({"display_name": name}))
            .await?;
        answer["token"]
            .as_str()
            .map(str::to_owned)
            .context("fan session has no token")
    }

    pub async fn fans(&self, count: usize) -> Result<Vec<String>> {
        stream::iter(0..count)
            .map(|i| async move { self.fan(&format!("Bench Fan {i}")).await })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    pub async fn open_conversation(&self, fan_token: &str) -> Result<String> {
        let answer = self
            .post("/conversations", Some(fan_token), json!({}))
            .await?;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .context("conversation has no id")
    }

    pub async fn send(
        &self,
        token: &str,
        conversation: &str,
        client_msg_id: &str,
        body: &str,
    ) -> Result<()> {
        let path = format!("/conversations/{conversation}/messages");
        let body = json!({"client_msg_id": client_msg_id, "body": body, "visibility": "public"});
        self.post(&path, Some(token), body).await.map(|_| ())
    }

    /// Creates `count` agents and returns their tokens.
    pub async fn agents(&self, owner: &str, count: usize) -> Result<Vec<String>> {
        // A scenario may ask one server for agents several times: each call's are new.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        stream::iter(0..count)
            .map(|i| async move {
                let email = if call == 0 {
                    format!("agent{i}@bench.invalid")
                } else {
                    format!("agent{i}-{call}@bench.invalid")
                };
                let password = format!("bench-agent-password-{i}");
                let member = json!({"email": email, "name": format!("Agent {i}"), "role": "agent", "password": password});
                self.post("/members", Some(owner), member).await?;
                self.login(&email, &password).await
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// `conversations` fans, each with an open conversation claimed by one of `agents`
    /// agents (the agent's first public reply assigns it), ready for both to send.
    pub async fn dm_pairs(&self, conversations: usize, agents: usize) -> Result<Vec<DmPair>> {
        let owner = self.owner_token().await?;
        let agent_tokens = self.agents(&owner, agents.max(1)).await?;
        let agent_tokens = &agent_tokens;
        stream::iter(0..conversations)
            .map(|i| async move {
                let fan_token = self.fan(&format!("Bench Fan {i}")).await?;
                let conversation_id = self.open_conversation(&fan_token).await?;
                let agent_token = agent_tokens[i % agent_tokens.len()].clone();
                self.send(
                    &agent_token,
                    &conversation_id,
                    &format!("claim-{i}"),
                    "Hi, how can I help?",
                )
                .await?;
                Ok::<_, anyhow::Error>(DmPair {
                    conversation_id,
                    fan_token,
                    agent_token,
                })
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    pub async fn metrics(&self) -> Result<String> {
        Ok(self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .text()
            .await?)
    }
}

/// The `/metrics` bearer token of the fandesk servers the harness starts.
pub const METRICS_TOKEN: &str = "bench-metrics-token";

/// The value of a Prometheus sample (`name value`); a labelled sample is named with its
/// labels, as exposed (`fandesk_commit_seconds_count{writer="conversation"}`).
pub fn prometheus_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prometheus_samples() {
        let text =
            "# HELP x\nfandesk_write_batch_size_sum 120.0\nfandesk_write_batch_size_count 10\n";
        assert_eq!(
            prometheus_value(text, "fandesk_write_batch_size_sum"),
            Some(120.0)
        );
        assert_eq!(
            prometheus_value(text, "fandesk_write_batch_size_count"),
            Some(10.0)
        );
        assert_eq!(prometheus_value(text, "fandesk_write_batch_size"), None);
        let labelled = "fandesk_commit_seconds_count{writer=\"room\"} 2\n\
            fandesk_commit_seconds_count{writer=\"conversation\"} 7\n";
        assert_eq!(
            prometheus_value(
                labelled,
                r#"fandesk_commit_seconds_count{writer="conversation"}"#
            ),
            Some(7.0)
        );
    }
}
