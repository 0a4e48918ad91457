//! Scripted bot flows through a real server (docs/api.md › Flows): a flow uploaded,
//! refused with its key and line, versioned and activated; then a new conversation's first
//! fan message greeted with quick replies, answered, an email collected into the fan's profile, and handed to
//! a human with a team-only note — routing held until the hand-off, nothing internal in
//! the fan's bytes, no fan message answered twice.

use super::bots::set_max_exchanges;
use super::desk::{assignee, punch, say, settle};
use fandesk_testkit::TestServer;
use serde_json::{Value, json};

pub(crate) const WELCOME: &str = "name: Welcome
start: greet
steps:
  greet:
    say: Hi! What can we help you with?
    menu:
      - label: Where is my order?
        value: orders
        next: orders
      - label: Something else
        next: ask_email
  orders:
    say: Orders ship within two days.
    next: ask_email
  ask_email:
    say: What is your email address?
    collect:
      attribute: email
      retry: That does not look like an email address.
      next: handoff
  handoff:
    say: A person will take it from here.
    handoff: Asked about an order
";

async fn upload(server: &TestServer, body: Value) -> fandesk_testkit::Reply {
    let owner = server.owner_token().to_owned();
    server
        .http()
        .post("/api/v1/flows", Some(&owner), body)
        .await
}

/// The conversation's timeline as `token` sees it.
async fn timeline(server: &TestServer, token: &str, conversation: &str) -> Vec<Value> {
    let path = format!("/api/v1/conversations/{conversation}/messages?limit=200");
    let reply = server.http().get(&path, Some(token)).await;
    reply.expect_status(200);
    reply.json["messages"]
        .as_array()
        .cloned()
        .expect("messages")
}

/// The automated public messages of a fan's timeline, as (body, button labels).
fn automated(messages: &[Value]) -> Vec<(String, Vec<String>)> {
    messages
        .iter()
        .filter(|message| message["automated"] == true)
        .map(|message| {
            let labels = message["quick_replies"]
                .as_array()
                .map(|replies| {
                    replies
                        .iter()
                        .map(|reply| reply["label"].as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (message["body"].as_str().unwrap_or("").to_owned(), labels)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_are_validated_versioned_and_activated() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    // Refused with the key and its line.
    let broken = WELCOME.replace("next: orders", "next: nowhere");
    let reply = upload(&server, json!({"source": broken})).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(reply.json["error"]["code"], "invalid_request");
    assert_eq!(
        reply.json["error"]["details"]["field"],
        "steps.greet.menu[0].next"
    );
    assert_eq!(reply.json["error"]["details"]["line"], 9);
    let reply = upload(
        &server,
        json!({"source": "{\"name\": 1}", "format": "json"}),
    )
    .await;
    assert_eq!(
        (
            reply.status,
            reply.json["error"]["details"]["field"].clone()
        ),
        (422, json!("name")),
        "{}",
        reply.text()
    );
    let reply = upload(&server, json!({"source": WELCOME, "format": "toml"})).await;
    assert_eq!(reply.json["error"]["details"]["field"], "format");
    // An agent may not write flows; a fan does not learn they exist.
    let (agent, _) = server.create_member("agent").await;
    let reply = server
        .http()
        .post("/api/v1/flows", Some(&agent), json!({"source": WELCOME}))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    let (fan, _) = server.fan_session("Fan").await;
    server
        .http()
        .get("/api/v1/flows", Some(&fan))
        .await
        .expect_status(404);
    // Created as version 1, not active; a second version on top of the first.
    let created = upload(&server, json!({"source": WELCOME})).await;
    created.expect_status(201);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            created.json["version"].clone(),
            created.json["active"].clone()
        ),
        (json!(1), json!(false))
    );
    assert_eq!(created.json["document"]["start"], "greet");
    let path = format!("/api/v1/flows/{id}/versions");
    let second = WELCOME.replace("Hi!", "Hello!");
    let body = json!({"source": second, "base_version": 1});
    server
        .http()
        .post(&path, Some(&owner), body.clone())
        .await
        .expect_status(201);
    let stale = server.http().post(&path, Some(&owner), body).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    let detail = server
        .http()
        .get(&format!("/api/v1/flows/{id}?version=1"), Some(&owner))
        .await;
    detail.expect_status(200);
    assert_eq!(detail.json["source"], WELCOME);
    assert_eq!(detail.json["versions"].as_array().map(Vec::len), Some(2));
    // Activating names an existing version; the newest by default.
    let activate = format!("/api/v1/flows/{id}/activate");
    let reply = server
        .http()
        .post(&activate, Some(&owner), json!({"version": 3}))
        .await;
    assert_eq!(reply.json["error"]["details"]["field"], "version");
    let reply = server.http().post(&activate, Some(&owner), json!({})).await;
    reply.expect_status(200);
    assert_eq!(
        (
            reply.json["active"].clone(),
            reply.json["active_version"].clone()
        ),
        (json!(true), json!(2))
    );
    // Exactly one active flow: activating another deactivates the first.
    let other = upload(
        &server,
        json!({"source": WELCOME.replace("Welcome", "Other")}),
    )
    .await;
    let other_id = other.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/flows/{other_id}/activate");
    server
        .http()
        .post(&path, Some(&owner), json!({"version": 1}))
        .await
        .expect_status(200);
    let list = server.http().get("/api/v1/flows", Some(&owner)).await;
    let active: Vec<&str> = list.json["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|flow| flow["active"] == true)
        .map(|flow| flow["id"].as_str().unwrap())
        .collect();
    assert_eq!(active, vec![other_id.as_str()]);
    let path = format!("/api/v1/flows/{other_id}/deactivate");
    let reply = server.http().post_empty(&path, Some(&owner)).await;
    assert_eq!(reply.json["active"], false, "{}", reply.text());
    // No active flow: a new conversation is routed as usual, greeted by nobody.
    let conversation = server.open_conversation(&fan).await;
    say(&server, &fan, &conversation, "hello").await;
    settle(&server).await;
    assert!(automated(&timeline(&server, &fan, &conversation).await).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_greets_collects_and_hands_off() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    set_max_exchanges(&server, 10).await;
    let created = upload(&server, json!({"source": WELCOME})).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/flows/{id}/activate");
    server
        .http()
        .post(&path, Some(&owner), json!({}))
        .await
        .expect_status(200);
    // An agent on shift: routing would assign at once if the flow did not hold it.
    let (agent, agent_id) = server.create_member("agent").await;
    punch(&server, &agent, "clock-in").await;
    let (fan, fan_id) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    settle(&server).await;
    // The flow speaks when the fan writes; routing waits for it all the same.
    assert!(timeline(&server, &fan, &conversation).await.is_empty());
    assert_eq!(
        assignee(&server, &conversation).await,
        None,
        "the flow holds routing"
    );
    say(&server, &fan, &conversation, "hi").await;
    settle(&server).await;
    let fan_view = timeline(&server, &fan, &conversation).await;
    let greeting = &fan_view[1];
    assert_eq!(
        (
            greeting["body"].as_str(),
            greeting["automated"].as_bool(),
            greeting["author"]["kind"].as_str(),
            greeting["author"]["name"].as_str()
        ),
        (
            Some("Hi! What can we help you with?"),
            Some(true),
            Some("bot"),
            Some("Welcome")
        )
    );
    assert_eq!(
        greeting["quick_replies"],
        json!([{"label": "Where is my order?", "value": "orders"},
               {"label": "Something else", "value": "Something else"}])
    );
    assert_eq!(
        assignee(&server, &conversation).await,
        None,
        "the flow holds routing"
    );
    // The fan presses a button: the answer and the next question in one message.
    say(&server, &fan, &conversation, "orders").await;
    settle(&server).await;
    // Not an address: asked again.
    say(&server, &fan, &conversation, "no idea").await;
    settle(&server).await;
    assert_eq!(assignee(&server, &conversation).await, None);
    say(&server, &fan, &conversation, "fan@example.com").await;
    settle(&server).await;
    // Routed once handed off.
    settle(&server).await;
    assert_eq!(assignee(&server, &conversation).await, Some(agent_id));
    let fan_view = timeline(&server, &fan, &conversation).await;
    let expected: Vec<(String, Vec<String>)> = [
        (
            "Hi! What can we help you with?",
            vec!["Where is my order?", "Something else"],
        ),
        (
            "Orders ship within two days.\n\nWhat is your email address?",
            vec![],
        ),
        ("That does not look like an email address.", vec![]),
        ("A person will take it from here.", vec![]),
    ]
    .into_iter()
    .map(|(body, labels)| {
        (
            body.to_owned(),
            labels.into_iter().map(str::to_owned).collect(),
        )
    })
    .collect();
    assert_eq!(automated(&fan_view), expected);
    // The team sees the hand-off entry and the note with what was collected.
    let team_view = timeline(&server, &owner, &conversation).await;
    assert!(
        team_view
            .iter()
            .any(|message| message["event"] == "bot_handoff")
    );
    let note = team_view
        .iter()
        .find(|message| message["visibility"] == "internal" && message["author"]["kind"] == "bot")
        .expect("the hand-off note");
    assert_eq!(
        note["body"],
        "Asked about an order\nCollected by the flow: email: fan@example.com"
    );
    // The fan's raw bytes carry nothing internal.
    let path = format!("/api/v1/conversations/{conversation}/messages?limit=200");
    let raw = server.http().get(&path, Some(&fan)).await.text();
    for secret in ["Asked about an order", "bot_handoff", "Handed to a human"] {
        assert!(!raw.contains(secret), "{secret} leaked to the fan: {raw}");
    }
    // The email is in the fan's profile.
    let profile = server
        .http()
        .get(&format!("/api/v1/fans/{fan_id}"), Some(&owner))
        .await;
    assert_eq!(profile.json["attributes"]["email"], "fan@example.com");
    // The flow is over: a later fan message gets no automated answer.
    say(&server, &fan, &conversation, "thanks").await;
    settle(&server).await;
    assert_eq!(
        automated(&timeline(&server, &fan, &conversation).await).len(),
        4
    );
    server.shutdown().await;
}
