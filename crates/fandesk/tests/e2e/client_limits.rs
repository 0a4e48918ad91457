//! Limits per client through a real server (README › Configuration): login backoff per
//! account whatever the address, failed logins per address, the client address taken from
//! `X-Forwarded-For` only when a trusted proxy sent it, fan sessions per address, and fan
//! messages per fan and per address over REST and WebSocket.

use fandesk_http::client::{FanPolicy, LoginPolicy};
use fandesk_testkit::{HttpConfig, TestServer, WsClient};
use serde_json::{Value, json};
use std::time::Duration;

const PASSWORD: &str = "a-long-enough-password";

/// A server that trusts 127.0.0.1 as a proxy: requests from there name their client in
/// `X-Forwarded-For`, which is how these tests speak from many addresses.
async fn server_behind_proxy(login: LoginPolicy, fans: FanPolicy) -> TestServer {
    TestServer::spawn_with(HttpConfig {
        login,
        fans,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..HttpConfig::default()
    })
    .await
}

async fn add_member(server: &TestServer, email: &str) {
    let body = json!({"email": email, "name": email, "role": "agent", "password": PASSWORD});
    server
        .http()
        .post("/api/v1/members", Some(server.owner_token()), body)
        .await
        .expect_status(201);
}

/// POSTs `body` to `path` as the client at `client` (through the trusted proxy), from the
/// local address `source`: the status and body.
async fn post_as(
    server: &TestServer,
    source: &str,
    client: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let http = reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap();
    let mut request = http
        .post(server.url(path))
        .header("x-forwarded-for", client)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let reply = request.send().await.expect("an answer");
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn login(server: &TestServer, client: &str, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password});
    post_as(
        server,
        "127.0.0.1",
        client,
        "/api/v1/auth/login",
        None,
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_backs_off_after_failures_from_any_address() {
    let policy = LoginPolicy {
        free_failures: 3,
        base_delay: Duration::from_millis(700),
        ..LoginPolicy::default()
    };
    let server = server_behind_proxy(policy, FanPolicy::default()).await;
    add_member(&server, "target@fandesk.test").await;
    add_member(&server, "bystander@fandesk.test").await;
    // Four wrong guesses from four addresses: each checked, each 401.
    for n in 1..=4 {
        let client = format!("198.51.100.{n}");
        let (status, _) = login(&server, &client, "target@fandesk.test", "guess").await;
        assert_eq!(status, 401, "guess {n}");
    }
    // The account now waits, from any address and even with the right password.
    let (status, body) = login(&server, "198.51.100.9", "Target@fandesk.test", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["details"]["retry_after_secs"].as_u64() >= Some(1),
        "{body}"
    );
    // Other accounts, from the guessing addresses too, are not affected.
    let (status, _) = login(&server, "198.51.100.1", "bystander@fandesk.test", PASSWORD).await;
    assert_eq!(status, 200);
    // After the wait the right password works, and resets the account.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = login(&server, "198.51.100.9", "target@fandesk.test", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = login(&server, "198.51.100.9", "target@fandesk.test", "guess").await;
    assert_eq!(status, 401, "a fresh start after a success");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_counted_per_client_address() {
    let policy = LoginPolicy {
        failures_per_address_per_minute: 5,
        ..LoginPolicy::default()
    };
    let server = server_behind_proxy(policy, FanPolicy::default()).await;
    add_member(&server, "real@fandesk.test").await;
    // One address sprays guesses over many accounts.
    for n in 0..5 {
        let (status, _) = login(&server, "203.0.113.7", &format!("u{n}@fandesk.test"), "x").await;
        assert_eq!(status, 401);
    }
    let (status, body) = login(&server, "203.0.113.7", "real@fandesk.test", PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );
    // Another client behind the same proxy logs in.
    let (status, _) = login(&server, "203.0.113.8", "real@fandesk.test", PASSWORD).await;
    assert_eq!(status, 200);
    // A peer that is no trusted proxy cannot choose its address: its header is ignored,
    // so its failures count against 127.0.0.2 whatever it claims.
    for n in 0..5 {
        let body = json!({"email": format!("v{n}@fandesk.test"), "password": "x"});
        let claimed = format!("192.0.2.{n}");
        let (status, _) = post_as(
            &server,
            "127.0.0.2",
            &claimed,
            "/api/v1/auth/login",
            None,
            body,
        )
        .await;
        assert_eq!(status, 401);
    }
    let body = json!({"email": "real@fandesk.test", "password": PASSWORD});
    let (status, _) = post_as(
        &server,
        "127.0.0.2",
        "192.0.2.200",
        "/api/v1/auth/login",
        None,
        body,
    )
    .await;
    assert_eq!(status, 429);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_are_limited_per_address_and_per_fan() {
    let fans = FanPolicy {
        sessions_per_address_per_minute: 3,
        messages_per_fan_per_minute: 3,
        messages_per_address_per_minute: 5,
    };
    let server = server_behind_proxy(LoginPolicy::default(), fans).await;
    let session = |client: &'static str| {
        let server = &server;
        async move {
            let body = json!({"display_name": "Fan"});
            post_as(
                server,
                "127.0.0.1",
                client,
                "/api/v1/fan-sessions",
                None,
                body,
            )
            .await
        }
    };
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let (status, body) = session("198.51.100.20").await;
        assert_eq!(status, 201, "{body}");
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    let (status, body) = session("198.51.100.20").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );
    let (status, body) = session("198.51.100.21").await;
    assert_eq!(status, 201, "another address");
    let elsewhere = body["token"].as_str().unwrap().to_owned();
    // Messages: three per fan, five per address.
    let send = |token: String, client: &'static str| {
        let server = &server;
        async move {
            let conversation = server.open_conversation(&token).await;
            let path = format!("/api/v1/conversations/{conversation}/messages");
            let mut statuses = Vec::new();
            for n in 0..4 {
                let body = json!({"client_msg_id": format!("m{n}"), "body": "hello"});
                let (status, _) =
                    post_as(server, "127.0.0.1", client, &path, Some(&token), body).await;
                statuses.push(status);
            }
            statuses
        }
    };
    assert_eq!(
        send(tokens[0].clone(), "198.51.100.20").await,
        [201, 201, 201, 429]
    );
    assert_eq!(
        send(tokens[1].clone(), "198.51.100.20").await,
        [201, 201, 429, 429]
    );
    assert_eq!(
        send(elsewhere.clone(), "198.51.100.21").await,
        [201, 201, 201, 429]
    );
    // The WebSocket counts against the same fan: this one has used its minute up.
    let mut socket = WsClient::connect(&server, &elsewhere).await;
    let conversation = server.open_conversation(&elsewhere).await;
    let topic = format!("conversation:{conversation}");
    let refused = socket
        .send_message(&topic, "ws-1", "hello again", None)
        .await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        (refused["code"].clone(), refused["ref"].clone()),
        (json!("rate_limited"), json!("ws-1"))
    );
    server.shutdown().await;
}
