//! Limits that must hold per account hold across nodes: an account's failed logins are
//! stored, so guesses spread over the nodes earn the same backoff as guesses on one.

use super::Duo;
use fandesk_testkit::{MEMBER_PASSWORD, TestServer};
use serde_json::json;

async fn add_agent(server: &TestServer, email: &str) -> String {
    let body = json!({"email": email, "name": email, "role": "agent", "password": MEMBER_PASSWORD});
    server
        .http()
        .post("/api/v1/members", Some(server.owner_token()), body)
        .await
        .expect_status(201);
    email.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_backs_off_on_every_node() {
    let Some(Duo { server, a, b, .. }) = Duo::start(None).await else {
        return;
    };
    let email = add_agent(&server, "guessed@fandesk.test").await;
    // Six wrong guesses (five are free), alternating between the nodes: each is checked.
    for guess in 0..6 {
        let through = if guess % 2 == 0 { &a } else { &b };
        let body = json!({"email": email, "password": format!("guess-{guess}")});
        through
            .http()
            .post("/api/v1/auth/login", None, body)
            .await
            .expect_status(401);
    }
    // Both nodes now make the account wait, even for the right password. Asked at once:
    // a refusal is answered after a 1 s hold, by which time the 1 s wait has passed.
    let body = json!({"email": email, "password": MEMBER_PASSWORD});
    let (from_a, from_b) = tokio::join!(
        a.http().post("/api/v1/auth/login", None, body.clone()),
        b.http().post("/api/v1/auth/login", None, body),
    );
    for reply in [from_a, from_b] {
        reply.expect_error(429, "rate_limited");
        assert!(
            reply.json["error"]["details"]["retry_after_secs"].as_u64() >= Some(1),
            "{}",
            reply.text()
        );
    }
    // Another account is not affected.
    let other = add_agent(&server, "bystander@fandesk.test").await;
    let body = json!({"email": other, "password": MEMBER_PASSWORD});
    b.http()
        .post("/api/v1/auth/login", None, body)
        .await
        .expect_status(200);

    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}
