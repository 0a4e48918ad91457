//! Strict JSON (docs/product.md › Principles, docs/api.md › Errors): unknown fields,
//! malformed JSON, wrong types and limits are `invalid_request` errors whose message names
//! the field, over REST and over the WebSocket; nothing invalid is stored.

use super::support::{Desk, client_id};
use fandesk_testkit::{Reply, WsClient};
use serde_json::{Value, json};

/// Panics unless `reply` is an `invalid_request` with one of `statuses` naming `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, statuses: &[u16], field: &str) {
    assert!(
        statuses.contains(&reply.status),
        "status {} not in {statuses:?}: {}",
        reply.status,
        reply.text()
    );
    assert_eq!(
        reply.error_code(),
        Some("invalid_request"),
        "{}",
        reply.text()
    );
    let message = reply.error_message().unwrap_or_default();
    assert!(
        message.contains(field),
        "error message must name `{field}`: {}",
        reply.text()
    );
    assert!(
        reply.json["error"].get("details").is_some(),
        "details present: {}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_rejects_invalid_message_requests() {
    let desk = Desk::new().await;
    let http = desk.server.http();
    let path = desk.path("/messages");
    let post = |body: Value| http.post(&path, Some(&desk.fan), body);

    let unknown = post(json!({"client_msg_id": client_id(), "body": "hi", "colour": "red"})).await;
    assert_invalid(&unknown, &[422], "colour");
    let non_string = post(json!({"client_msg_id": client_id(), "body": 42})).await;
    assert_invalid(&non_string, &[400, 422], "body");
    let object_body = post(json!({"client_msg_id": client_id(), "body": {"text": "hi"}})).await;
    assert_invalid(&object_body, &[400, 422], "body");
    let too_long = post(json!({"client_msg_id": client_id(), "body": "x".repeat(4001)})).await;
    assert_invalid(&too_long, &[400, 422], "body");
    for empty in ["", "   \n\t "] {
        let reply = post(json!({"client_msg_id": client_id(), "body": empty})).await;
        assert_invalid(&reply, &[400, 422], "body");
    }
    let missing = post(json!({"client_msg_id": client_id()})).await;
    assert_invalid(&missing, &[400, 422], "body");
    let bad_visibility =
        post(json!({"client_msg_id": client_id(), "body": "hi", "visibility": "secret"})).await;
    assert_invalid(&bad_visibility, &[400, 422], "visibility");
    let bad_id = post(json!({"client_msg_id": "has space", "body": "hi"})).await;
    assert_invalid(&bad_id, &[400, 422], "client_msg_id");
    let malformed = http
        .post_raw(&path, Some(&desk.fan), r#"{"client_msg_id": "a", "body": "#)
        .await;
    assert_invalid(&malformed, &[400], "");
    let trailing = http
        .post_raw(
            &path,
            Some(&desk.fan),
            r#"{"client_msg_id": "a", "body": "x"} {}"#,
        )
        .await;
    assert_invalid(&trailing, &[400], "");

    // Limits count characters after trimming: exactly 4,000 (multi-byte) characters pass.
    let longest = format!("  {}  ", "é".repeat(4000));
    let reply = desk
        .server
        .post_message(&desk.fan, &desk.conversation, &client_id(), &longest, None)
        .await;
    reply.expect_status(201);
    assert_eq!(
        reply.json["body"].as_str().map(|body| body.chars().count()),
        Some(4000)
    );
    let history = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(
        history.len(),
        1,
        "only the valid message is stored: {history:?}"
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_rejects_unknown_fields_everywhere() {
    let desk = Desk::new().await;
    let http = desk.server.http();
    let login = http
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "a@b.c", "password": "x", "remember": true}),
        )
        .await;
    assert_invalid(&login, &[422], "remember");
    let fan = http
        .post(
            "/api/v1/fan-sessions",
            None,
            json!({"display_name": "F", "age": 3}),
        )
        .await;
    assert_invalid(&fan, &[422], "age");
    let member = json!({"email": "m@fandesk.test", "name": "M", "role": "agent", "password": "password-1", "x": 1});
    let reply = http
        .post("/api/v1/members", Some(desk.server.owner_token()), member)
        .await;
    assert_invalid(&reply, &[422], "x");
    let open = http
        .post(
            "/api/v1/conversations",
            Some(&desk.fan),
            json!({"topic": "refund"}),
        )
        .await;
    assert_invalid(&open, &[422], "topic");
    let role =
        json!({"email": "m@fandesk.test", "name": "M", "role": "wizard", "password": "password-1"});
    let reply = http
        .post("/api/v1/members", Some(desk.server.owner_token()), role)
        .await;
    assert_invalid(&reply, &[400, 422], "role");
    let query = http
        .get(
            &format!("{}?after_seq=minus", desk.path("/messages")),
            Some(&desk.agent),
        )
        .await;
    assert_invalid(&query, &[400, 422], "after_seq");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_rejects_invalid_frames_and_keeps_the_connection() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    let mut socket = WsClient::connect(&desk.server, &desk.fan).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"type": "send", "topic": topic, "client_msg_id": "w1", "body": "hi", "colour": 1}),
            "colour",
        ),
        (
            json!({"type": "send", "topic": topic, "client_msg_id": "w2", "body": 7}),
            "body",
        ),
        (
            json!({"type": "send", "topic": topic, "client_msg_id": "w3", "body": "x".repeat(4001)}),
            "body",
        ),
        (
            json!({"type": "send", "topic": topic, "client_msg_id": "w4", "body": "  "}),
            "body",
        ),
        (
            json!({"type": "send", "topic": topic, "client_msg_id": 5, "body": "hi"}),
            "client_msg_id",
        ),
        (
            json!({"type": "send", "topic": topic, "client_msg_id": "w6", "body": "hi", "visibility": 3}),
            "visibility",
        ),
        (
            json!({"type": "subscribe", "topic": topic, "after_seq": "one"}),
            "after_seq",
        ),
        (json!({"type": "subscribe", "topic": "nope:1"}), "topic"),
        (json!({"type": "dance"}), "type"),
    ];
    // Every case runs, then all wrong answers are reported together.
    let mut wrong = Vec::new();
    for (frame, field) in cases {
        socket.send_json(&frame).await;
        let error = socket.expect_type("error").await;
        let message = error["message"].as_str().unwrap_or_default();
        if error["code"] != "invalid_request" || !message.contains(field) {
            wrong.push(format!(
                "{frame} must be invalid_request naming `{field}`, got {error}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    socket.send_text("{not json").await;
    let error = socket.expect_type("error").await;
    assert_eq!(error["code"], "invalid_request", "{error}");
    let internal = socket
        .send_message(&topic, "w5", "psst", Some("internal"))
        .await;
    assert_eq!(
        (&internal["type"], &internal["code"]),
        (&json!("error"), &json!("forbidden")),
        "{internal}"
    );

    // The connection is still usable, and nothing invalid was stored.
    socket.send_json(&json!({"type": "ping"})).await;
    socket.expect_type("pong").await;
    assert!(
        desk.server
            .history(&desk.agent, &desk.conversation)
            .await
            .is_empty()
    );
    desk.shutdown().await;
}
