//! Answers to requests and frames that break the protocol, through a real server: every
//! refusal over HTTP (405, 414, 431) carries the error body (docs/api.md › Errors), and a
//! WebSocket closes
//! with the code RFC 6455 gives the fault (1009 too big, 1007 not UTF-8).

use fandesk_testkit::{TestServer, WsClient};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unserved_methods_answer_the_error_body() {
    let server = TestServer::spawn().await;
    for (method, path) in [
        ("PUT", "/healthz"),
        ("DELETE", "/api/v1/conversations/cnv_x/messages"),
        ("PATCH", "/api/v1/auth/login"),
        ("TRACE", "/metrics"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let reply = server
            .http()
            .request(method.clone(), path, None, None)
            .await;
        reply.expect_error(405, "method_not_allowed");
        assert!(
            reply
                .error_message()
                .is_some_and(|message| !message.is_empty()),
            "{method} {path}: {}",
            reply.text()
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_targets_and_headers_answer_the_error_body() {
    let server = TestServer::spawn().await;
    let long = format!("/healthz?pad={}", "a".repeat(9 * 1024));
    server
        .http()
        .get(&long, None)
        .await
        .expect_error(414, "invalid_request");
    let client = reqwest::Client::new();
    let mut many = reqwest::header::HeaderMap::new();
    for n in 0..120 {
        many.insert(
            reqwest::header::HeaderName::from_bytes(format!("x-pad-{n}").as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_static("1"),
        );
    }
    let big = "b".repeat(40 * 1024);
    let requests = [
        client.get(server.url("/healthz")).headers(many),
        client
            .get(server.url("/healthz"))
            .header("x-big", big.as_str()),
    ];
    for request in requests {
        let reply = request.send().await.expect("an answer");
        assert_eq!(reply.status().as_u16(), 431);
        let body: serde_json::Value = reply.json().await.expect("the error body");
        assert_eq!(body["error"]["code"], "invalid_request", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Within the limits, all is well.
    let fine = format!("/healthz?pad={}", "a".repeat(4 * 1024));
    server.http().get(&fine, None).await.expect_status(200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_faults_close_with_their_codes() {
    let server = TestServer::spawn().await;
    let (fan, _) = server.fan_session("Loud Fan").await;
    let mut oversize = WsClient::connect(&server, &fan).await;
    let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70 * 1024));
    oversize.send_text(&huge).await;
    let closed = oversize.expect_close(Duration::from_secs(5)).await;
    assert_eq!(closed.code, Some(1009), "{closed:?}");
    let mut garbled = WsClient::connect(&server, &fan).await;
    garbled
        .send_raw_text(b"{\"type\":\"ping\",\"x\":\"\xff\xfe\"}")
        .await;
    let closed = garbled.expect_close(Duration::from_secs(5)).await;
    assert_eq!(closed.code, Some(1007), "{closed:?}");
    // A well-behaved connection is unaffected.
    let mut polite = WsClient::connect(&server, &fan).await;
    polite.send_json(&serde_json::json!({"type": "ping"})).await;
    polite.expect_type("pong").await;
    server.shutdown().await;
}
