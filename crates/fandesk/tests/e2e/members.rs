//! Managing the team (docs/api.md › Members): the owner renames, changes roles,
//! deactivates (sessions end, open sockets close with 4001, login refused, nothing
//! assigned, conversations kept), reactivates and sets new passwords; the last active owner
//! cannot be demoted or deactivated; everyone else is refused.

use fandesk_testkit::{Body, MEMBER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD, TestServer, WsClient};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

async fn patch(server: &TestServer, token: &str, id: &str, body: Value) -> fandesk_testkit::Reply {
    server
        .http()
        .request(
            Method::PATCH,
            &format!("/api/v1/members/{id}"),
            Some(token),
            Some(Body::Json(body)),
        )
        .await
}

async fn login_status(server: &TestServer, email: &str, password: &str) -> u16 {
    server
        .http()
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
        .status
}

/// The member `id` as `GET /members` lists it.
async fn listed(server: &TestServer, id: &str) -> Value {
    let reply = server
        .http()
        .get("/api/v1/members", Some(server.owner_token()))
        .await;
    reply.expect_status(200);
    reply.json["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|member| member["id"] == id)
        .cloned()
        .expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_renames_and_changes_roles() {
    let server = TestServer::spawn().await;
    let (agent, agent_id) = server.create_member("agent").await;
    let owner = server.owner_token().to_owned();
    let changed = patch(
        &server,
        &owner,
        &agent_id,
        json!({"name": "  Ana Lead  ", "role": "supervisor"}),
    )
    .await;
    changed.expect_status(200);
    assert_eq!(changed.json["name"], "Ana Lead");
    assert_eq!(changed.json["role"], "supervisor");
    assert_eq!(changed.json["active"], true);
    assert_eq!(listed(&server, &agent_id).await["role"], "supervisor");
    // The role is read at every request: the same token now holds a supervisor's rights.
    let me = server.http().get("/api/v1/me", Some(&agent)).await;
    assert_eq!(me.json["role"], "supervisor", "{}", me.text());
    server
        .http()
        .get("/api/v1/audit", Some(&agent))
        .await
        .expect_status(200);
    // Nothing to change changes nothing.
    patch(&server, &owner, &agent_id, json!({}))
        .await
        .expect_status(200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_ends_sessions_refuses_login_and_keeps_conversations() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (agent, agent_id) = server.create_member("agent").await;
    let email = listed(&server, &agent_id).await["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            Some(&owner),
            json!({"member_id": agent_id}),
        )
        .await
        .expect_status(200);
    let mut socket = WsClient::connect(&server, &agent).await;

    let changed = patch(&server, &owner, &agent_id, json!({"active": false})).await;
    changed.expect_status(200);
    assert_eq!(changed.json["active"], false);
    let closed = socket.expect_close(Duration::from_secs(10)).await;
    assert_eq!(closed.code, Some(4001), "{closed:?}");
    server
        .http()
        .get("/api/v1/me", Some(&agent))
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(login_status(&server, &email, MEMBER_PASSWORD).await, 401);
    assert_eq!(listed(&server, &agent_id).await["active"], false);
    // Their conversation stays theirs; nobody can assign them anything new.
    let kept = server
        .http()
        .get(
            &format!("/api/v1/conversations/{conversation}"),
            Some(&owner),
        )
        .await;
    assert_eq!(
        kept.json["assignee_id"],
        agent_id.as_str(),
        "{}",
        kept.text()
    );
    let (other_fan, _) = server.fan_session("Other fan").await;
    let other = server.open_conversation(&other_fan).await;
    server
        .http()
        .post(
            &format!("/api/v1/conversations/{other}/assign"),
            Some(&owner),
            json!({"member_id": agent_id}),
        )
        .await
        .expect_error(422, "invalid_request");
    let agents = server.http().get("/api/v1/desk/agents", Some(&owner)).await;
    assert!(
        !agents.text().contains(&agent_id),
        "a deactivated member is off the desk: {}",
        agents.text()
    );

    // Reactivated: they log in again with the same password.
    let back = patch(&server, &owner, &agent_id, json!({"active": true})).await;
    back.expect_status(200);
    assert_eq!(back.json["active"], true);
    assert_eq!(login_status(&server, &email, MEMBER_PASSWORD).await, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_replaces_the_old_and_ends_sessions() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (agent, agent_id) = server.create_member("agent").await;
    let email = listed(&server, &agent_id).await["email"]
        .as_str()
        .expect("email")
        .to_owned();
    patch(&server, &owner, &agent_id, json!({"password": "short"}))
        .await
        .expect_error(422, "invalid_request");
    patch(
        &server,
        &owner,
        &agent_id,
        json!({"password": "a-brand-new-password"}),
    )
    .await
    .expect_status(200);
    server
        .http()
        .get("/api/v1/me", Some(&agent))
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(login_status(&server, &email, MEMBER_PASSWORD).await, 401);
    assert_eq!(
        login_status(&server, &email, "a-brand-new-password").await,
        200
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_owner_stays_an_owner() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let me = server.http().get("/api/v1/me", Some(&owner)).await;
    let owner_id = me.json["id"].as_str().expect("id").to_owned();
    for body in [
        json!({"role": "supervisor"}),
        json!({"active": false}),
        json!({"role": "agent", "active": false}),
    ] {
        patch(&server, &owner, &owner_id, body)
            .await
            .expect_error(409, "conflict");
    }
    assert_eq!(listed(&server, &owner_id).await["role"], "owner");
    // With a second owner, the first may step down — and then the second is the last.
    let (second, second_id) = server.create_member("owner").await;
    patch(&server, &owner, &owner_id, json!({"role": "supervisor"}))
        .await
        .expect_status(200);
    patch(&server, &second, &second_id, json!({"active": false}))
        .await
        .expect_error(409, "conflict");
    assert_eq!(
        login_status(&server, OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_changes_members_and_input_is_checked() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (_, agent_id) = server.create_member("agent").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    for token in [&supervisor, &fan] {
        patch(&server, token, &agent_id, json!({"role": "owner"}))
            .await
            .expect_error(403, "forbidden");
    }
    assert_eq!(listed(&server, &agent_id).await["role"], "agent");
    patch(&server, &owner, "mem_nowhere", json!({"name": "X"}))
        .await
        .expect_error(404, "not_found");
    for (body, field) in [
        (json!({"role": "emperor"}), "role"),
        (json!({"name": "   "}), "name"),
        (json!({"password": "1234567"}), "password"),
    ] {
        let reply = patch(&server, &owner, &agent_id, body).await;
        reply.expect_error(422, "invalid_request");
        assert_eq!(
            reply.json["error"]["details"]["field"],
            field,
            "{}",
            reply.text()
        );
    }
    // A wrong type or an unknown field (the email is not changed here) is refused whole.
    for body in [json!({"active": "no"}), json!({"email": "x@fandesk.test"})] {
        let reply = patch(&server, &owner, &agent_id, body).await;
        assert!(matches!(reply.status, 400 | 422), "{}", reply.text());
        assert_eq!(
            reply.error_code(),
            Some("invalid_request"),
            "{}",
            reply.text()
        );
    }
    server.shutdown().await;
}
