//! Canned responses through a real server (docs/api.md › Canned responses; docs/product.md
//! › Canned responses): the library and its permissions, rendering with the fan's profile,
//! the first-line rule on sends (`enforce` and `warn`), missing variables, usage and
//! library health.

use super::support::client_id;
use fandesk_service::{Config, DeskConfig, FirstLineMode, SystemClock};
use fandesk_testkit::{Body, HttpConfig, Reply, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;

const THANKS: &str = "Hi {{ fan.first_name }}, thanks for writing!\nYour {{ fan.attributes.tier }} order ships Monday.";

async fn create(server: &TestServer, token: &str, shortcut: &str, body: &str) -> Reply {
    let request =
        json!({"shortcut": shortcut, "title": format!("The {shortcut} reply"), "body": body});
    server
        .http()
        .post("/api/v1/canned-responses", Some(token), request)
        .await
}

async fn render(server: &TestServer, token: &str, template: &str, conversation: &str) -> Reply {
    let path = format!("/api/v1/canned-responses/{template}/render");
    server
        .http()
        .post(&path, Some(token), json!({"conversation_id": conversation}))
        .await
}

async fn send(
    server: &TestServer,
    token: &str,
    conversation: &str,
    body: &str,
    template: &str,
) -> Reply {
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let request = json!({"client_msg_id": client_id(), "body": body, "template_id": template});
    server.http().post(&path, Some(token), request).await
}

/// A server (with `mode`), a supervisor and an agent, and a fan "Anna Schmidt" with a
/// `tier` attribute in an open conversation: `(server, supervisor, agent, fan, conversation)`.
async fn library(mode: FirstLineMode) -> (TestServer, String, String, String, String) {
    let desk = DeskConfig {
        first_line: mode,
        ..DeskConfig::default()
    };
    let config = Config {
        desk,
        ..Config::default()
    };
    let server =
        TestServer::spawn_service(HttpConfig::default(), config, Arc::new(SystemClock)).await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member_named("agent", "Sam Agent").await;
    let (fan, fan_id) = server.fan_session("Anna Schmidt").await;
    let conversation = server.open_conversation(&fan).await;
    let patch = json!({"attributes": {"tier": "gold"}});
    let path = format!("/api/v1/fans/{fan_id}");
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&agent),
            Some(Body::Json(patch)),
        )
        .await;
    reply.expect_status(200);
    (server, supervisor, agent, fan, conversation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_and_the_first_line_rule() {
    let (server, supervisor, agent, fan, conversation) = library(FirstLineMode::Enforce).await;
    // Only the owner and supervisors write the library; templates are checked first.
    create(&server, &agent, "thanks", THANKS)
        .await
        .expect_error(403, "forbidden");
    create(&server, &supervisor, "thanks", "Hi {{ user.name }}")
        .await
        .expect_error(422, "invalid_request");
    create(&server, &supervisor, "Thanks!", THANKS)
        .await
        .expect_error(422, "invalid_request");
    let created = create(&server, &supervisor, "thanks", THANKS).await;
    created.expect_status(201);
    let thanks = created.json["id"].as_str().unwrap().to_owned();
    create(&server, &supervisor, "thanks", "again")
        .await
        .expect_error(409, "conflict");
    // Rendered from the fan's profile.
    let rendered = render(&server, &agent, &thanks, &conversation).await;
    rendered.expect_status(200);
    let body = rendered.json["body"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        "Hi Anna, thanks for writing!\nYour gold order ships Monday."
    );
    // Sent as rendered: refused. The rest edited but not the first line: refused too.
    send(&server, &agent, &conversation, &body, &thanks)
        .await
        .expect_error(422, "canned_first_line_unedited");
    let rest_edited = "  Hi Anna, thanks for writing!  \nShips Tuesday.";
    send(&server, &agent, &conversation, rest_edited, &thanks)
        .await
        .expect_error(422, "canned_first_line_unedited");
    // An edited first line goes out.
    let edited = "Anna! Great to hear from you.\nYour gold order ships Monday.";
    send(&server, &agent, &conversation, edited, &thanks)
        .await
        .expect_status(201);
    send(&server, &agent, &conversation, "hello", "cr_missing")
        .await
        .expect_error(422, "invalid_request");
    send(&server, &fan, &conversation, "hi", &thanks)
        .await
        .expect_error(422, "invalid_request");
    // Missing variables never render empty; a default covers them.
    let signed = create(
        &server,
        &supervisor,
        "signed",
        "Thanks!\n{{ creator.name }}",
    )
    .await;
    let signed = signed.json["id"].as_str().unwrap().to_owned();
    let missing = render(&server, &agent, &signed, &conversation).await;
    missing.expect_error(422, "template_variable_missing");
    assert!(missing.error_message().unwrap().contains("creator.name"));
    let path = format!("/api/v1/canned-responses/{signed}");
    let patch =
        json!({"body": "Thanks!\n{{ creator.name | default: \"The team\" }}, {{ agent.name }}"});
    let reply = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&supervisor),
            Some(Body::Json(patch)),
        )
        .await;
    reply.expect_status(200);
    let rendered = render(&server, &agent, &signed, &conversation).await;
    assert_eq!(rendered.json["body"], "Thanks!\nThe team, Sam Agent");
    // The fan sees only the message that was sent, and no canned-response endpoint.
    server
        .http()
        .get("/api/v1/canned-responses", Some(&fan))
        .await
        .expect_error(403, "forbidden");
    render(&server, &fan, &thanks, &conversation)
        .await
        .expect_error(403, "forbidden");
    let history = server.history(&fan, &conversation).await;
    let bodies: Vec<&str> = history
        .iter()
        .filter_map(|message| message["body"].as_str())
        .collect();
    assert_eq!(bodies, [edited]);
    // Usage counts.
    server.app().settle_desk().await;
    let listed = server
        .http()
        .get("/api/v1/canned-responses", Some(&agent))
        .await;
    listed.expect_status(200);
    let uses: Vec<(Value, Value)> = listed.json["canned_responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["shortcut"].clone(), item["uses"].clone()))
        .collect();
    assert_eq!(
        uses,
        [(json!("signed"), json!(0)), (json!("thanks"), json!(1))]
    );
    // Deleting removes it.
    let reply = server
        .http()
        .request(reqwest::Method::DELETE, &path, Some(&supervisor), None)
        .await;
    reply.expect_status(204);
    render(&server, &agent, &signed, &conversation)
        .await
        .expect_error(404, "not_found");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_sends_and_health_reports() {
    let (server, supervisor, agent, _fan, conversation) = library(FirstLineMode::Warn).await;
    let created = create(&server, &supervisor, "thanks", THANKS).await;
    let thanks = created.json["id"].as_str().unwrap().to_owned();
    let body = render(&server, &agent, &thanks, &conversation).await.json["body"]
        .as_str()
        .unwrap()
        .to_owned();
    // Under `warn` the unedited first line is sent, and counted for coaching.
    send(&server, &agent, &conversation, &body, &thanks)
        .await
        .expect_status(201);
    server.app().settle_desk().await;
    server
        .http()
        .get("/api/v1/canned-responses/health", Some(&agent))
        .await
        .expect_error(403, "forbidden");
    let health = server
        .http()
        .get("/api/v1/canned-responses/health", Some(&supervisor))
        .await;
    health.expect_status(200);
    assert_eq!(health.json["templates"], 1);
    let warning = health.json["size_warning"].as_str().unwrap();
    assert!(warning.contains("at least 10"), "{warning}");
    let entry = &health.json["entries"][0];
    assert_eq!(
        (
            entry["uses"].clone(),
            entry["unedited_uses"].clone(),
            entry["stale"].clone()
        ),
        (json!(1), json!(1), json!(false))
    );
    assert_eq!(health.json["stale_after_days"], 90);
    // One message in total is too few to call anything over-used.
    assert_eq!(health.json["overused"], json!([]));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_routes_are_in_the_openapi_document() {
    let server = TestServer::spawn().await;
    let reply = server.http().get("/api/v1/openapi.json", None).await;
    reply.expect_status(200);
    let paths = reply.json["paths"].as_object().expect("paths");
    for route in [
        "/api/v1/fans/{id}",
        "/api/v1/queue",
        "/api/v1/desk/agents",
        "/api/v1/members/{id}/capacity",
        "/api/v1/shifts",
        "/api/v1/shifts/{id}",
        "/api/v1/shifts/clock-in",
        "/api/v1/shifts/clock-out",
        "/api/v1/coverage",
        "/api/v1/canned-responses",
        "/api/v1/canned-responses/{id}",
        "/api/v1/canned-responses/{id}/render",
        "/api/v1/canned-responses/health",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing: {:?}",
            paths.keys()
        );
    }
    server.shutdown().await;
}
