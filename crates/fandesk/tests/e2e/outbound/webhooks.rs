//! Event webhooks end to end: a real receiver on `127.0.0.1:0` (allow-listed), the real
//! scheduler on a `ManualClock`.

use super::receiver::Receiver;
use super::{SECRET, create_webhook, deliveries, eventually, local_webhooks, server_with};
use crate::e2e::support::{Desk, client_id, contains};
use fandesk_service::{Clock, Config, HostResolver, ManualClock, Resolution, WebhookConfig};
use fandesk_testkit::TestServer;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_retried_after_a_500_and_logged() {
    let receiver = Receiver::start().await;
    receiver.fail_next(1);
    let clock = Arc::new(ManualClock::starting_now());
    let server = server_with(local_webhooks(), &clock).await;
    let created = create_webhook(&server, &receiver.url(), &["message.created"]).await;
    created.expect_status(201);
    assert!(
        !contains(&created.bytes, SECRET),
        "the secret is never shown"
    );
    assert_eq!(created.json["events"], json!(["message.created"]));
    let webhook = created.json["id"].as_str().unwrap().to_owned();

    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    server
        .post_message(&fan, &conversation, &client_id(), "hello webhooks", None)
        .await
        .expect_status(201);

    // First attempt: the receiver answers 500.
    let first = receiver.wait_for(1).await;
    let attempt = &first[0];
    attempt.assert_signed(SECRET);
    assert_eq!(attempt.header("x-fandesk-event"), "message.created");
    assert_eq!(attempt.header("content-type"), "application/json");
    assert_eq!(
        attempt.header("x-fandesk-timestamp"),
        clock.now().as_second().to_string()
    );
    let body = attempt.json();
    assert_eq!(body["event"], "message.created");
    assert_eq!(body["data"]["message"]["body"], "hello webhooks");
    assert_eq!(
        body["data"]["message"]["conversation_id"],
        conversation.as_str()
    );
    let delivery = attempt.header("x-fandesk-delivery").to_owned();

    // The log says so, and the job is given back for 10 s later.
    let log = eventually("the failed attempt in the log", || async {
        let log = deliveries(&server, &webhook).await;
        (log.len() == 1 && log[0]["attempts"] == 1).then_some(log)
    })
    .await;
    assert_eq!(log[0]["id"], delivery.as_str());
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["last_status_code"], 500);
    let key = format!("webhook:{delivery}");
    eventually("the job given back", || async {
        let job = server.store().find_job(&key).await.unwrap()?;
        (!job.claimed).then_some(())
    })
    .await;
    // The log tells when: ten seconds after the failed attempt.
    let log = deliveries(&server, &webhook).await;
    let time = |value: &Value| value.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert_eq!(
        time(&log[0]["next_attempt_at"]),
        time(&log[0]["last_attempt_at"]) + jiff::SignedDuration::from_secs(10),
        "{log:?}"
    );
    clock.advance(Duration::from_secs(9));
    assert_eq!(
        server.app().run_due_jobs().await.unwrap(),
        0,
        "backoff not over"
    );
    assert_eq!(receiver.received().len(), 1);

    // Ten seconds after the failure: the retry, same delivery id, same body, signed anew.
    clock.advance(Duration::from_secs(1));
    let both = receiver.wait_for(2).await;
    let retry = &both[1];
    retry.assert_signed(SECRET);
    assert_eq!(retry.header("x-fandesk-delivery"), delivery);
    assert_eq!(retry.body, attempt.body, "the same bytes on every attempt");
    assert_eq!(
        retry.header("x-fandesk-timestamp"),
        clock.now().as_second().to_string()
    );
    let log = eventually("the delivery logged as delivered", || async {
        let log = deliveries(&server, &webhook).await;
        (log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_status_code"], 204);
    assert_eq!(
        log[0]["next_attempt_at"],
        Value::Null,
        "nothing more to attempt"
    );
    let listed = server
        .http()
        .get("/api/v1/webhooks", Some(server.owner_token()))
        .await;
    listed.expect_status(200);
    assert!(!contains(&listed.bytes, SECRET));
    assert_eq!(
        listed.json["webhooks"][0]["last_delivery"]["status"],
        "delivered"
    );
    assert_eq!(
        listed.json["webhooks"][0]["last_delivery"]["id"],
        delivery.as_str()
    );
    server.shutdown().await;
}

/// Every request a receiver got, as (event header, raw body).
fn events(receiver: &Receiver) -> Vec<(String, Vec<u8>)> {
    receiver
        .received()
        .into_iter()
        .map(|received| (received.header("x-fandesk-event").to_owned(), received.body))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_content_reaches_only_a_webhook_that_asks_for_it() {
    let public = Receiver::start().await;
    let internal = Receiver::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let server = server_with(local_webhooks(), &clock).await;
    create_webhook(
        &server,
        &public.url(),
        &["message.created", "conversation.updated", "alert.raised"],
    )
    .await
    .expect_status(201);
    create_webhook(&server, &internal.url(), &["message.created.internal"])
        .await
        .expect_status(201);
    // A `warn` rule, so an internal note raises an alert that quotes it.
    server
        .http()
        .post(
            "/api/v1/restricted-rules",
            Some(server.owner_token()),
            json!({"pattern": "pineapple", "action": "warn"}),
        )
        .await
        .expect_status(201);
    let canary = "CANARY-7f3a9c";
    let desk = Desk::on(server).await;
    desk.post(&desk.fan, "hi, is anyone there?", None).await;
    desk.post(
        &desk.agent,
        &format!("{canary} pineapple: the fan is a reseller"),
        Some("internal"),
    )
    .await;
    desk.post(&desk.agent, "Hello! How can I help?", None).await;

    // The public webhook: the opening, two messages, the claim, the alert — and nothing
    // internal.
    let got = eventually("the public webhook's five events", || async {
        let got = events(&public);
        (got.len() >= 5).then_some(got)
    })
    .await;
    let mut names: Vec<&str> = got.iter().map(|(event, _)| event.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alert.raised",
            "conversation.updated",
            "conversation.updated",
            "message.created",
            "message.created"
        ]
    );
    for (event, body) in &got {
        assert!(!contains(body, canary), "{event} leaked the internal note");
    }
    let alert = got
        .iter()
        .find(|(event, _)| event == "alert.raised")
        .unwrap();
    let alert: Value = serde_json::from_slice(&alert.1).unwrap();
    assert_eq!(alert["data"]["alert"]["kind"], "restricted_word");
    assert!(alert["data"]["alert"].get("excerpt").is_none());
    let updates: Vec<Value> = got
        .iter()
        .filter(|(event, _)| event == "conversation.updated")
        .map(|(_, body)| serde_json::from_slice(body).unwrap())
        .collect();
    assert!(
        updates
            .iter()
            .any(|update| update["data"]["conversation"]["assignee_id"] == desk.agent_id.as_str()),
        "the claim: {updates:?}"
    );
    assert!(
        updates
            .iter()
            .any(|update| update["data"]["conversation"]["status"] == "open"
                && update["data"]["conversation"]["assignee_id"].is_null()),
        "the opening: {updates:?}"
    );

    // The internal webhook: the note, and only internal entries.
    let got = eventually("the internal note", || async {
        let got = events(&internal);
        got.iter()
            .any(|(_, body)| contains(body, canary))
            .then_some(got)
    })
    .await;
    for (event, body) in &got {
        assert_eq!(event, "message.created.internal");
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["data"]["message"]["visibility"], "internal");
    }
    // Give stray deliveries a chance to show up before the final scan.
    desk.server.app().run_due_jobs().await.unwrap();
    for (event, body) in events(&public) {
        assert!(!contains(&body, canary), "{event} leaked the internal note");
        assert_ne!(event, "message.created.internal");
    }
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_manages_webhooks_and_a_deleted_one_gets_nothing() {
    let receiver = Receiver::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let server = server_with(local_webhooks(), &clock).await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    for token in [&supervisor, &fan] {
        let reply = server
            .http()
            .post(
                "/api/v1/webhooks",
                Some(token),
                json!({"url": receiver.url(), "events": ["message.created"], "secret": SECRET}),
            )
            .await;
        reply.expect_error(403, "forbidden");
        server
            .http()
            .get("/api/v1/webhooks", Some(token))
            .await
            .expect_error(403, "forbidden");
    }
    let owner = server.owner_token().to_owned();
    for (body, field) in [
        (
            json!({"events": ["message.created"], "secret": SECRET}),
            "url",
        ),
        (json!({"url": receiver.url(), "secret": SECRET}), "events"),
        (
            json!({"url": receiver.url(), "events": ["message.created"]}),
            "secret",
        ),
        (
            json!({"url": receiver.url(), "events": [], "secret": SECRET}),
            "events",
        ),
        (
            json!({"url": receiver.url(), "events": ["message.deleted"], "secret": SECRET}),
            "events",
        ),
        (
            json!({"url": receiver.url(), "events": ["message.created"], "secret": "short"}),
            "secret",
        ),
        (
            json!({"url": "https://example.com/", "events": ["message.created"], "secret": SECRET}),
            "url",
        ),
    ] {
        let reply = server
            .http()
            .post("/api/v1/webhooks", Some(&owner), body)
            .await;
        reply.expect_error(422, "invalid_request");
        assert_eq!(
            reply.json["error"]["details"]["field"],
            field,
            "{}",
            reply.text()
        );
    }
    let webhook = create_webhook(&server, &receiver.url(), &["message.created"]).await;
    webhook.expect_status(201);
    let id = webhook.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhooks/{id}");
    server
        .http()
        .get(&path, Some(&owner))
        .await
        .expect_status(200);
    server
        .http()
        .delete(&path, Some(&owner))
        .await
        .expect_status(204);
    server
        .http()
        .get(&path, Some(&owner))
        .await
        .expect_error(404, "not_found");
    server
        .http()
        .delete(&path, Some(&owner))
        .await
        .expect_error(404, "not_found");
    let listed = server.http().get("/api/v1/webhooks", Some(&owner)).await;
    assert_eq!(listed.json["webhooks"], json!([]));
    let conversation = server.open_conversation(&fan).await;
    server
        .post_message(
            &fan,
            &conversation,
            &client_id(),
            "after the deletion",
            None,
        )
        .await
        .expect_status(201);
    server.app().run_due_jobs().await.unwrap();
    assert!(receiver.received().is_empty());
    server.shutdown().await;
}

/// Answers public addresses for the first `public_calls` look-ups, then `127.0.0.1`: a
/// name rebinding to this machine after it was checked.
struct RebindingResolver {
    calls: AtomicUsize,
    public_calls: usize,
}

impl HostResolver for RebindingResolver {
    fn resolve(&self, host: &str) -> Resolution {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let answer: IpAddr = if host == "hooks.test" || call >= self.public_calls {
            "127.0.0.1".parse().unwrap()
        } else {
            "93.184.216.34".parse().unwrap()
        };
        Box::pin(async move { Ok(vec![answer]) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_rebinding_to_this_machine_is_refused_when_connecting() {
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    let clock = Arc::new(ManualClock::starting_now());
    // Look-ups: the creation's check and the delivery's own check answer a public
    // address; the connection's look-up answers 127.0.0.1, where the receiver listens.
    let config = Config {
        webhooks: WebhookConfig {
            allow_hosts: vec!["hooks.test".into()],
            resolver: Arc::new(RebindingResolver {
                calls: AtomicUsize::new(0),
                public_calls: 2,
            }),
            ..WebhookConfig::default()
        },
        ..Config::default()
    };
    let server = server_with(config, &clock).await;
    let rebinding = create_webhook(
        &server,
        &format!("http://rebind.test:{port}/hook"),
        &["message.created"],
    )
    .await;
    rebinding.expect_status(201);
    let rebinding = rebinding.json["id"].as_str().unwrap().to_owned();
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    server
        .post_message(
            &fan,
            &conversation,
            &client_id(),
            "where does this go?",
            None,
        )
        .await
        .expect_status(201);
    let log = eventually("the refused attempt", || async {
        let log = deliveries(&server, &rebinding).await;
        (log.first()?["attempts"] == 1).then_some(log)
    })
    .await;
    let error = log[0]["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("rebind.test resolves to 127.0.0.1"),
        "refused by the connection's resolver: {error}"
    );
    assert_eq!(log[0]["status"], "pending");
    assert!(
        receiver.received().is_empty(),
        "nothing reached this machine"
    );

    // The same receiver under an allow-listed name that resolves to it: the client
    // connects to the address the resolver gave.
    let allowed = create_webhook(
        &server,
        &format!("http://hooks.test:{port}/hook"),
        &["message.created"],
    )
    .await;
    allowed.expect_status(201);
    server
        .post_message(&fan, &conversation, &client_id(), "and this one?", None)
        .await
        .expect_status(201);
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].json()["data"]["message"]["body"], "and this one?");
    server.shutdown().await;
}

impl Desk {
    /// A desk (fan, conversation, agent) on a server of the caller's.
    pub async fn on(server: TestServer) -> Desk {
        let (fan, fan_id) = server.fan_session("Fan One").await;
        let conversation = server.open_conversation(&fan).await;
        let (agent, agent_id) = server.create_member("agent").await;
        Desk {
            server,
            fan,
            fan_id,
            agent,
            agent_id,
            conversation,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_decision_is_delivered_as_decision_created() {
    let receiver = Receiver::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let server = server_with(local_webhooks(), &clock).await;
    create_webhook(&server, &receiver.url(), &["decision.created"])
        .await
        .expect_status(201);
    let owner = server.owner_token().to_owned();
    let created = server
        .http()
        .post(
            "/api/v1/channels",
            Some(&owner),
            json!({"name": "ops", "purpose": "running the floor"}),
        )
        .await;
    created.expect_status(201);
    let channel = created.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/channels/{channel}/messages");
    for (key, body) in [("c1", "no tag here"), ("c2", "DECISION: ship on Friday")] {
        let body = json!({"client_msg_id": key, "body": body});
        server
            .http()
            .post(&path, Some(&owner), body)
            .await
            .expect_status(201);
    }
    let received = receiver.wait_for(1).await;
    received[0].assert_signed(SECRET);
    assert_eq!(received[0].header("x-fandesk-event"), "decision.created");
    let body = received[0].json();
    assert_eq!(body["event"], "decision.created");
    assert_eq!(body["data"]["decision"]["text"], "ship on Friday");
    assert_eq!(body["data"]["decision"]["kind"], "decision");
    assert_eq!(body["data"]["decision"]["channel_id"], channel.as_str());
    assert_eq!(body["data"]["decision"]["channel_name"], "ops");
    // The untagged message is no decision: nothing else arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    server.shutdown().await;
}
