//! Health, metrics, the OpenAPI document and unknown routes (docs/api.md › Running,
//! Errors, OpenAPI document).

use super::support::Desk;
use fandesk_testkit::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_ok() {
    let server = TestServer::spawn().await;
    let reply = server.http().get("/healthz", None).await;
    reply.expect_status(200);
    assert_eq!(reply.json["status"], "ok");
    assert_eq!(reply.json["bus"], "local", "one process: {}", reply.text());
    assert!(
        reply.json["node"]
            .as_str()
            .is_some_and(|node| !node.is_empty()),
        "the node names itself: {}",
        reply.text()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_the_routes() {
    let server = TestServer::spawn().await;
    let reply = server.http().get("/api/v1/openapi.json", None).await;
    reply.expect_status(200);
    let paths = reply.json["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths: {}", reply.text()));
    let documented = |route: &str| {
        paths
            .keys()
            .any(|key| key == route || format!("/api/v1{key}") == route)
    };
    for route in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/members",
        "/api/v1/fan-sessions",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/resolve",
        "/api/v1/conversations/{id}/reopen",
        "/api/v1/ws",
    ] {
        assert!(
            documented(route),
            "{route} missing from openapi.json paths: {:?}",
            paths.keys()
        );
    }
    server.shutdown().await;
}

/// The value of an unlabelled Prometheus sample.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_written_messages() {
    let desk = Desk::new().await;
    let before = desk
        .server
        .http()
        .get("/metrics", Some(fandesk_testkit::METRICS_TOKEN))
        .await;
    before.expect_status(200);
    let name = "fandesk_messages_written_total";
    let start = sample(&before.text(), name)
        .unwrap_or_else(|| panic!("{name} missing:\n{}", before.text()));
    desk.post(&desk.fan, "hello", None).await;
    desk.post(&desk.agent, "hi there", None).await;
    let after = desk
        .server
        .http()
        .get("/metrics", Some(fandesk_testkit::METRICS_TOKEN))
        .await;
    let end = sample(&after.text(), name).unwrap_or_default();
    assert_eq!(end - start, 2.0, "two messages written:\n{}", after.text());
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_not_found_errors() {
    let server = TestServer::spawn().await;
    for path in ["/nope", "/api/v1/nope"] {
        server
            .http()
            .get(path, Some(server.owner_token()))
            .await
            .expect_error(404, "not_found");
    }
    server.shutdown().await;
}
