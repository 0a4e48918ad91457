//! `GET /api/v1/export` and `POST /api/v1/import` (docs/api.md › Export and import): the
//! owner's streamed export imports into another server line for line and only once; a
//! malformed line is refused by number with nothing written; agents get 403 and fans 404,
//! so what is internal never reaches a fan through these routes.

use fandesk_testkit::TestServer;
use serde_json::json;

/// A workspace with a fan's public message, an agent's note and a public reply.
async fn workspace(server: &TestServer) -> (String, String) {
    let (fan, _) = server.fan_session("Exported fan").await;
    let conversation = server.open_conversation(&fan).await;
    let (agent, _) = server.create_member("agent").await;
    for (token, id, body, visibility) in [
        (&fan, "f1", "where is my order?", None),
        (&agent, "a1", "INTERNAL-NOTE-6f3a", Some("internal")),
        (&agent, "a2", "on its way!", Some("public")),
    ] {
        server
            .post_message(token, &conversation, id, body, visibility)
            .await
            .expect_status(201);
    }
    (fan, agent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_moves_a_workspace_between_servers() {
    let source = TestServer::spawn().await;
    let (fan, agent) = workspace(&source).await;
    let http = source.http();

    let export = http.get("/api/v1/export", Some(source.owner_token())).await;
    export.expect_status(200);
    assert_eq!(export.content_type.as_deref(), Some("application/x-ndjson"));
    let text = export.text();
    let header: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("header")).expect("JSON header");
    assert_eq!(header["type"], "header");
    assert_eq!(header["counts"]["message"], 3, "{header}");
    assert_eq!(
        text.lines().count() as u64,
        1 + header["counts"]
            .as_object()
            .expect("counts")
            .values()
            .map(|count| count.as_u64().expect("count"))
            .sum::<u64>()
    );
    assert!(
        text.contains("INTERNAL-NOTE-6f3a"),
        "the owner's export holds notes"
    );

    // Neither an agent nor a fan exports or imports; a fan does not even see the routes.
    for (token, status) in [(&agent, 403), (&fan, 404)] {
        let refused = http.get("/api/v1/export", Some(token)).await;
        refused.expect_status(status);
        assert!(!refused.text().contains("INTERNAL-NOTE-6f3a"));
        http.post_raw("/api/v1/import", Some(token), text.clone())
            .await
            .expect_status(status);
    }
    http.get("/api/v1/export", None).await.expect_status(401);

    // Into another workspace: its owner has the same email, so the source owner is matched.
    let target = TestServer::spawn().await;
    let imported = target
        .http()
        .post_raw("/api/v1/import", Some(target.owner_token()), text.clone())
        .await;
    imported.expect_status(200);
    assert_eq!(imported.json["fans"], 1);
    assert_eq!(imported.json["conversations"], 1);
    assert_eq!(imported.json["messages"], 3);
    assert_eq!(imported.json["members"], 1, "the agent, without a password");
    assert_eq!(imported.json["skipped"], 1, "the owner, matched by email");
    let again = target
        .http()
        .post_raw("/api/v1/import", Some(target.owner_token()), text.clone())
        .await;
    again.expect_status(200);
    assert_eq!(
        (again.json["fans"].clone(), again.json["messages"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(
        again.json["skipped"].as_u64(),
        Some(text.lines().count() as u64 - 1)
    );
    let moved = target
        .http()
        .get("/api/v1/export", Some(target.owner_token()))
        .await;
    assert!(moved.text().contains("INTERNAL-NOTE-6f3a"));

    // A malformed line: 422 naming it, and nothing of the file is written.
    let fresh = TestServer::spawn().await;
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.len();
    lines[last - 1] = "{\"type\":\"message\",\"id\":7}";
    let refused = fresh
        .http()
        .post_raw(
            "/api/v1/import",
            Some(fresh.owner_token()),
            lines.join("\n"),
        )
        .await;
    refused.expect_status(422);
    assert_eq!(refused.error_code(), Some("invalid_request"));
    let message = refused.error_message().unwrap_or_default();
    assert!(message.contains(&format!("line {last}: ")), "{message}");
    let after = fresh
        .http()
        .get("/api/v1/export", Some(fresh.owner_token()))
        .await;
    assert!(
        !after.text().contains("\"type\":\"fan\""),
        "nothing imported"
    );
    for server in [source, target, fresh] {
        server.shutdown().await;
    }
}
