//! Outbound: webhooks (signed deliveries, retries, the delivery log, no internal content
//! to a webhook that did not ask for it, the SSRF guard at creation and at connection
//! time), scheduled messages and reply later, end to end on a `ManualClock`.

pub(super) mod receiver;
mod ssrf;
mod webhooks;

use fandesk_service::{Config, ManualClock, WebhookConfig};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpConfig, Reply, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The webhook secret of these tests.
pub(super) const SECRET: &str = "a-webhook-secret-of-some-length";

/// A server on a manual clock whose webhooks may reach `127.0.0.1` (the receivers).
pub(super) async fn server_with(config: Config, clock: &Arc<ManualClock>) -> TestServer {
    TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await
}

/// Service settings allowing webhooks to `127.0.0.1`.
pub(super) fn local_webhooks() -> Config {
    Config {
        webhooks: WebhookConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            ..WebhookConfig::default()
        },
        ..Config::default()
    }
}

/// `POST /api/v1/webhooks` as the owner.
pub(super) async fn create_webhook(server: &TestServer, url: &str, events: &[&str]) -> Reply {
    server
        .http()
        .post(
            "/api/v1/webhooks",
            Some(server.owner_token()),
            json!({"url": url, "events": events, "secret": SECRET}),
        )
        .await
}

/// Polls `check` (an API read) until it returns `Some`; panics after the default timeout.
pub(super) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A webhook's delivery log.
pub(super) async fn deliveries(server: &TestServer, webhook: &str) -> Vec<Value> {
    let reply = server
        .http()
        .get(
            &format!("/api/v1/webhooks/{webhook}/deliveries"),
            Some(server.owner_token()),
        )
        .await;
    reply.expect_status(200);
    reply.json["deliveries"]
        .as_array()
        .cloned()
        .expect("deliveries")
}
