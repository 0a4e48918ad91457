//! Integration API tokens (docs/api.md › API tokens): the owner creates one (the secret
//! answered once), it opens the API with its role's permissions and no more, the list
//! never shows a secret, revoking it makes the next request a 401 and closes its
//! WebSockets, it expires on the clock, it stops with its creator's deactivation, creation
//! and revocation are audited, and the secret never reaches the server's log.

use fandesk_service::{Clock, Config, ManualClock};
use fandesk_testkit::{
    Body, HttpConfig, OWNER_EMAIL, OWNER_PASSWORD, ServerProcess, TestServer, WsClient,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const EXE: &str = env!("CARGO_BIN_EXE_fandesk");

async fn create(server: &TestServer, body: Value) -> fandesk_testkit::Reply {
    server
        .http()
        .post("/api/v1/api-tokens", Some(server.owner_token()), body)
        .await
}

async fn created_token(server: &TestServer, name: &str, role: &str) -> (String, String) {
    let reply = create(server, json!({"name": name, "role": role})).await;
    reply.expect_status(201);
    (
        reply.json["token"].as_str().expect("token").to_owned(),
        reply.json["id"].as_str().expect("id").to_owned(),
    )
}

async fn listed(server: &TestServer) -> Vec<Value> {
    let reply = server
        .http()
        .get("/api/v1/api-tokens", Some(server.owner_token()))
        .await;
    reply.expect_status(200);
    reply.json["tokens"].as_array().expect("tokens").clone()
}

async fn me_status(server: &TestServer, token: &str) -> u16 {
    server.http().get("/api/v1/me", Some(token)).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_with_its_role_until_revoked() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let owner_id = server.http().get("/api/v1/me", Some(&owner)).await.json["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let reply = create(&server, json!({"name": "  CRM sync  ", "role": "agent"})).await;
    reply.expect_status(201);
    let secret = reply.json["token"].as_str().expect("token").to_owned();
    let id = reply.json["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with("fdt_") && secret.len() == 68, "{secret}");
    assert_eq!(reply.json["name"], "CRM sync");
    assert_eq!(reply.json["role"], "agent");
    assert_eq!(reply.json["status"], "active");
    assert_eq!(reply.json["created_by"], owner_id.as_str());
    assert_eq!(reply.json["prefix"], &secret[..12]);
    assert_eq!(reply.json["last_used_at"], Value::Null);
    assert_eq!(reply.json["expires_at"], Value::Null);

    // It opens the API as an agent, under its own name, on behalf of the owner.
    let me = server.http().get("/api/v1/me", Some(&secret)).await;
    me.expect_status(200);
    assert_eq!(me.json["role"], "agent", "{}", me.text());
    assert_eq!(me.json["name"], "CRM sync");
    assert_eq!(me.json["id"], owner_id.as_str());
    server
        .http()
        .get("/api/v1/conversations", Some(&secret))
        .await
        .expect_status(200);
    // An agent's permissions and no more: no audit log, no members, no tokens.
    server
        .http()
        .get("/api/v1/audit", Some(&secret))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .get("/api/v1/api-tokens", Some(&secret))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .post(
            "/api/v1/api-tokens",
            Some(&secret),
            json!({"name": "escalate", "role": "supervisor"}),
        )
        .await
        .expect_error(403, "forbidden");
    // A supervisor token reads the audit log.
    let (supervisor, _) = created_token(&server, "Reporting", "supervisor").await;
    server
        .http()
        .get("/api/v1/audit", Some(&supervisor))
        .await
        .expect_status(200);

    // The list: no secret, no hash; the last use recorded.
    let tokens = listed(&server).await;
    assert_eq!(tokens.len(), 2);
    let text = serde_json::to_string(&tokens).expect("json");
    assert!(!text.contains(&secret), "no secret in the list");
    assert!(
        !text.contains(&secret[12..]),
        "no part of it past the prefix"
    );
    for token in &tokens {
        assert!(token.get("token").is_none() && token.get("token_hash").is_none());
    }
    let crm = tokens
        .iter()
        .find(|token| token["id"] == id)
        .expect("listed");
    assert!(crm["last_used_at"].is_string(), "{crm}");

    // Revoked: the open socket closes, the next request is a 401, the list says so.
    let mut socket = WsClient::connect(&server, &secret).await;
    server
        .http()
        .delete(&format!("/api/v1/api-tokens/{id}"), Some(&owner))
        .await
        .expect_status(204);
    let closed = socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(closed.code, Some(4001), "{closed:?}");
    server
        .http()
        .get("/api/v1/me", Some(&secret))
        .await
        .expect_error(401, "unauthorized");
    let crm = listed(&server)
        .await
        .into_iter()
        .find(|token| token["id"] == id)
        .expect("still listed");
    assert_eq!(crm["status"], "revoked");
    assert!(crm["revoked_at"].is_string());
    // Again: nothing changes; an unknown id is a 404.
    server
        .http()
        .delete(&format!("/api/v1/api-tokens/{id}"), Some(&owner))
        .await
        .expect_status(204);
    server
        .http()
        .delete("/api/v1/api-tokens/tok_nothing", Some(&owner))
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        me_status(&server, &supervisor).await,
        200,
        "others still work"
    );

    // Audited once each, never with the secret.
    let audit = server
        .http()
        .get("/api/v1/audit?limit=50", Some(&owner))
        .await;
    audit.expect_status(200);
    let entries = audit.json["entries"].as_array().expect("entries");
    let of = |action: &str| {
        entries
            .iter()
            .filter(|entry| entry["action"] == action && entry["details"]["token_id"] == id)
            .count()
    };
    assert_eq!((of("api_token_create"), of("api_token_revoke")), (1, 1));
    assert!(
        !audit.text().contains(&secret[4..]),
        "no secret in the audit log"
    );
    server
        .http()
        .get("/api/v1/audit?action=api_token_revoke", Some(&owner))
        .await
        .expect_status(200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creation_is_checked() {
    let server = TestServer::spawn().await;
    let (supervisor, _) = server.create_member("supervisor").await;
    // Only the owner, whatever the body.
    server
        .http()
        .post("/api/v1/api-tokens", Some(&supervisor), json!({}))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .get("/api/v1/api-tokens", Some(&supervisor))
        .await
        .expect_error(403, "forbidden");
    let (fan, _) = server.fan_session("Fan").await;
    server
        .http()
        .get("/api/v1/api-tokens", Some(&fan))
        .await
        .expect_error(403, "forbidden");
    for (body, field) in [
        (json!({"role": "agent"}), "name"),
        (json!({"name": "   ", "role": "agent"}), "name"),
        (json!({"name": "x\u{7}", "role": "agent"}), "name"),
        (json!({"name": "x".repeat(101), "role": "agent"}), "name"),
        (json!({"name": "Ok"}), "role"),
        (json!({"name": "Ok", "role": "owner"}), "role"),
        (json!({"name": "Ok", "role": "fan"}), "role"),
        (
            json!({"name": "Ok", "role": "agent", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "Ok", "role": "agent", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"name": "Ok", "role": "agent", "scopes": []}),
            "scopes",
        ),
    ] {
        let reply = create(&server, body.clone()).await;
        reply.expect_error(422, "invalid_request");
        assert_eq!(reply.json["error"]["details"]["field"], field, "{body}");
    }
    assert!(listed(&server).await.is_empty(), "nothing created");
    // A malformed token is a 401 like any unknown one.
    let long = "f".repeat(300);
    for bad in ["fdt_", "fdt_00", "Bearer", long.as_str()] {
        let reply = server
            .http()
            .request(Method::GET, "/api/v1/me", Some(bad), None::<Body>)
            .await;
        assert_eq!(reply.status, 401, "{bad}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expires_on_the_clock() {
    let clock = Arc::new(ManualClock::starting_now());
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        member_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    let expires_at = clock.now() + jiff::SignedDuration::from_hours(1);
    let reply = create(
        &server,
        json!({"name": "Hourly", "role": "bot", "expires_at": expires_at.to_string()}),
    )
    .await;
    reply.expect_status(201);
    let secret = reply.json["token"].as_str().expect("token").to_owned();
    assert_eq!(me_status(&server, &secret).await, 200);
    let first_use = listed(&server).await[0]["last_used_at"].clone();
    assert!(first_use.is_string());
    // Used again within the minute: the last use is not rewritten.
    clock.advance(Duration::from_secs(30));
    assert_eq!(me_status(&server, &secret).await, 200);
    assert_eq!(listed(&server).await[0]["last_used_at"], first_use);
    clock.advance(Duration::from_secs(3600 - 30 - 1));
    assert_eq!(me_status(&server, &secret).await, 200, "a second before");
    assert_ne!(listed(&server).await[0]["last_used_at"], first_use);
    clock.advance(Duration::from_secs(1));
    assert_eq!(me_status(&server, &secret).await, 401, "at its expiry");
    assert_eq!(listed(&server).await[0]["status"], "expired");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_stops_with_its_creator() {
    let server = TestServer::spawn().await;
    let (second_owner, second_id) = server.create_member("owner").await;
    let reply = server
        .http()
        .post(
            "/api/v1/api-tokens",
            Some(&second_owner),
            json!({"name": "Theirs", "role": "agent"}),
        )
        .await;
    reply.expect_status(201);
    let secret = reply.json["token"].as_str().expect("token").to_owned();
    assert_eq!(me_status(&server, &secret).await, 200);
    server
        .http()
        .request(
            Method::PATCH,
            &format!("/api/v1/members/{second_id}"),
            Some(server.owner_token()),
            Some(Body::Json(json!({"active": false}))),
        )
        .await
        .expect_status(200);
    assert_eq!(me_status(&server, &secret).await, 401);
    server.shutdown().await;
}

/// The real binary's log (its default level) holds the creation and revocation, never
/// the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_never_reaches_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(Path::new(EXE), dir.path(), None)
        .await
        .expect("start");
    let http = server.http().clone();
    let owner = http.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
    let reply = http
        .post(
            "/api/v1/api-tokens",
            Some(&owner),
            json!({"name": "Logged", "role": "agent"}),
        )
        .await;
    reply.expect_status(201);
    let secret = reply.json["token"].as_str().expect("token").to_owned();
    let id = reply.json["id"].as_str().expect("id").to_owned();
    http.get("/api/v1/me", Some(&secret))
        .await
        .expect_status(200);
    http.delete(&format!("/api/v1/api-tokens/{id}"), Some(&owner))
        .await
        .expect_status(204);
    http.get("/api/v1/me", Some(&secret))
        .await
        .expect_status(401);
    let log = server.stderr();
    assert!(log.contains("API token created"), "the log is read: {log}");
    assert!(log.contains("API token revoked"), "{log}");
    assert!(!log.contains(&secret[4..]), "the secret is in the log");
    server
        .terminate(Duration::from_secs(10))
        .await
        .expect("stop");
}
