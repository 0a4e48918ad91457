//! Scheduled work runs once across nodes: every node runs the job scheduler on the shared
//! database, and jobs are claimed with leases (`SKIP LOCKED` on PostgreSQL), so a webhook
//! delivery enqueued by any node is made by exactly one of them.

use super::postgres_server;
use crate::e2e::outbound::receiver::Receiver;
use crate::e2e::support::client_id;
use fandesk_bus::NatsBus;
use fandesk_service::{Config, WebhookConfig};
use fandesk_testkit::{ClusterNode, NatsServer};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_webhook_delivery_is_made_once_whichever_node_enqueued_it() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let nats = NatsServer::start().await.expect("a NATS server");
    let config = || Config {
        webhooks: WebhookConfig {
            allow_hosts: vec!["127.0.0.1".into()],
            ..WebhookConfig::default()
        },
        ..Config::default()
    };
    let mut nodes = Vec::new();
    for name in ["jobs-a", "jobs-b", "jobs-c"] {
        let bus = Arc::new(NatsBus::connect(nats.url(), name).await.expect("NATS"));
        let node = ClusterNode::start_with(server.store().clone(), bus.clone(), name, config())
            .await
            .expect("node");
        bus.set_gap_fill(node.app().gap_fill());
        nodes.push(node);
    }
    let receiver = Receiver::start().await;
    let created = nodes[0]
        .http()
        .post(
            "/api/v1/webhooks",
            Some(server.owner_token()),
            json!({"url": receiver.url(), "events": ["message.created"],
                   "secret": "a-webhook-secret-of-some-length"}),
        )
        .await;
    created.expect_status(201);

    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    const COUNT: usize = 12;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    for number in 0..COUNT {
        let request = json!({"client_msg_id": client_id(), "body": format!("m{number}")});
        nodes[number % nodes.len()]
            .http()
            .post(&path, Some(&fan), request)
            .await
            .expect_status(201);
    }
    // A delivery attempt that times out on a loaded machine is retried after the
    // scheduler's first backoff (10 s): allow for one.
    receiver
        .wait_for_within(COUNT, Duration::from_secs(40))
        .await;
    // Give every node's scheduler time to (wrongly) make a delivery again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = receiver.received();
    let ids: HashSet<String> = received
        .iter()
        .map(|request| request.header("x-fandesk-delivery").to_owned())
        .collect();
    assert_eq!(
        received.len(),
        COUNT,
        "one request per message, not one per node"
    );
    assert_eq!(ids.len(), COUNT, "each delivery id once");

    for node in nodes {
        node.shutdown().await;
    }
    server.shutdown().await;
}
