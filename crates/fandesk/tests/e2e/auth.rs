//! Authentication over REST and WebSocket (docs/api.md › Authentication, WebSocket):
//! login, 401s, logout closing open sockets with 4001, `hello`, and the Origin check.

use super::support::Desk;
use fandesk_testkit::{
    ConnectError, HttpConfig, MEMBER_PASSWORD, OWNER_EMAIL, TestServer, WsClient,
};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_token_and_member() {
    let server = TestServer::spawn().await;
    let (agent, agent_id) = server.create_member("agent").await;
    let me = server.http().get("/api/v1/me", Some(&agent)).await;
    me.expect_status(200);
    assert_eq!(me.json["id"], agent_id.as_str(), "{}", me.text());
    assert_eq!(me.json["role"], "agent");
    let (_, owner) = server
        .login(OWNER_EMAIL, fandesk_testkit::OWNER_PASSWORD)
        .await;
    for field in ["id", "email", "name", "role"] {
        assert!(owner[field].is_string(), "member.{field} in {owner}");
    }
    assert_eq!(owner["role"], "owner");
    let members = server
        .http()
        .get("/api/v1/members", Some(server.owner_token()))
        .await;
    members.expect_status(200);
    let listed = members.json["members"].as_array().expect("members array");
    assert!(
        listed
            .iter()
            .any(|member| member["id"] == agent_id.as_str())
    );
    assert!(
        !members.text().contains("password"),
        "no password material in {}",
        members.text()
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_tokens_are_unauthorized() {
    let server = TestServer::spawn().await;
    let http = server.http();
    let wrong = json!({"email": OWNER_EMAIL, "password": "wrong-password"});
    http.post("/api/v1/auth/login", None, wrong)
        .await
        .expect_error(401, "unauthorized");
    let unknown = json!({"email": "nobody@fandesk.test", "password": MEMBER_PASSWORD});
    http.post("/api/v1/auth/login", None, unknown)
        .await
        .expect_error(401, "unauthorized");
    for path in [
        "/api/v1/me",
        "/api/v1/members",
        "/api/v1/conversations",
        "/api/v1/conversations/cnv_x/messages",
    ] {
        http.get(path, None).await.expect_error(401, "unauthorized");
        http.get(path, Some("fdk_not_a_real_token"))
            .await
            .expect_error(401, "unauthorized");
    }
    http.post("/api/v1/conversations", None, json!({}))
        .await
        .expect_error(401, "unauthorized");
    http.post("/api/v1/conversations", Some("garbage"), json!({}))
        .await
        .expect_error(401, "unauthorized");
    match WsClient::connect_url(&server.ws_url(), Some("fdk_not_a_real_token"), None).await {
        Err(ConnectError::Rejected { status, .. }) => assert_eq!(status, 401),
        Ok(_) => panic!("WebSocket upgrade with a bad token must be refused"),
        Err(error) => panic!("unexpected connect error: {error:?}"),
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_creates_members() {
    let server = TestServer::spawn().await;
    let (agent, _) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Fan").await;
    let input = json!({"email": "x@fandesk.test", "name": "X", "role": "agent", "password": MEMBER_PASSWORD});
    for token in [&agent, &fan] {
        server
            .http()
            .post("/api/v1/members", Some(token), input.clone())
            .await
            .expect_error(403, "forbidden");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_token_and_closes_open_sockets_with_4001() {
    let desk = Desk::new().await;
    let mut agent_socket = WsClient::connect(&desk.server, &desk.agent).await;
    agent_socket
        .subscribe(&desk.topic(), None)
        .await
        .expect("subscribe");
    let (mut fan_socket, _) = WsClient::connect_hello(&desk.server, &desk.fan).await;
    fan_socket
        .subscribe(&desk.topic(), None)
        .await
        .expect("subscribe");

    desk.server
        .http()
        .post_empty("/api/v1/auth/logout", Some(&desk.agent))
        .await
        .expect_status(204);
    let closed = agent_socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(closed.code, Some(4001), "{closed:?}");
    desk.server
        .http()
        .get("/api/v1/me", Some(&desk.agent))
        .await
        .expect_error(401, "unauthorized");

    // Other sessions are untouched.
    fan_socket.send_json(&json!({"type": "ping"})).await;
    fan_socket.expect_type("pong").await;
    desk.server
        .http()
        .post_empty("/api/v1/auth/logout", Some(&desk.fan))
        .await
        .expect_status(204);
    let closed = fan_socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(
        closed.code,
        Some(4001),
        "hello-authenticated socket: {closed:?}"
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_frame_authenticates() {
    let desk = Desk::new().await;
    let (mut socket, welcome) = WsClient::connect_hello(&desk.server, &desk.agent).await;
    assert!(
        welcome["session_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{welcome}"
    );
    socket
        .subscribe(&desk.topic(), Some(0))
        .await
        .expect("subscribe after hello");

    let mut stranger = WsClient::connect_url(&desk.server.ws_url(), None, None)
        .await
        .expect("upgrade");
    stranger
        .send_json(&json!({"type": "hello", "token": "fdk_wrong"}))
        .await;
    match stranger.next_incoming(Duration::from_secs(10)).await {
        fandesk_testkit::Incoming::Frame(frame) => {
            assert_eq!(frame["code"], "unauthorized", "{frame}")
        }
        fandesk_testkit::Incoming::Closed(closed) => {
            assert_eq!(closed.code, Some(4001), "{closed:?}")
        }
    }
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_origin_must_be_same_origin_or_allowed() {
    let config = HttpConfig {
        allowed_origins: vec!["https://console.example".to_owned()],
        ..HttpConfig::default()
    };
    let server = TestServer::spawn_with(config).await;
    let token = server.owner_token().to_owned();
    let url = server.ws_url();
    match WsClient::connect_url(&url, Some(&token), Some("https://evil.example")).await {
        Err(ConnectError::Rejected { status, .. }) => assert_eq!(status, 403),
        Ok(_) => panic!("a foreign Origin must be refused"),
        Err(error) => panic!("unexpected connect error: {error:?}"),
    }
    let same = format!("http://{}", server.addr());
    for origin in [same.as_str(), "https://console.example"] {
        let socket = WsClient::connect_url(&url, Some(&token), Some(origin)).await;
        assert!(
            socket.is_ok(),
            "Origin {origin} must be accepted: {:?}",
            socket.err()
        );
    }
    server.shutdown().await;
}
