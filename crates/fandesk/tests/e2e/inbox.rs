//! The inbox's extras through a real server (docs/api.md › Inbox): message text search
//! (internal messages for the team only, fans refused), a fan's history, last-message
//! previews, per-member unread counts and reading positions, and the fan directory.

use super::support::client_id;
use fandesk_testkit::TestServer;
use serde_json::{Value, json};

async fn search(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let reply = server
        .http()
        .get(&format!("/api/v1/conversations?{query}"), Some(token))
        .await;
    reply.expect_status(200);
    reply.json["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|conversation| conversation["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn summaries(server: &TestServer, token: &str, ids: &[&str]) -> Vec<Value> {
    let path = format!("/api/v1/inbox/summaries?ids={}", ids.join(","));
    let reply = server.http().get(&path, Some(token)).await;
    reply.expect_status(200);
    reply.json["summaries"]
        .as_array()
        .expect("summaries")
        .clone()
}

async fn say(
    server: &TestServer,
    token: &str,
    conversation: &str,
    body: &str,
    visibility: Option<&str>,
) {
    server
        .post_message(token, conversation, &client_id(), body, visibility)
        .await
        .expect_status(201);
}

async fn read(server: &TestServer, token: &str, conversation: &str, body: Value) -> Value {
    let path = format!("/api/v1/conversations/{conversation}/read");
    let reply = server.http().post(&path, Some(token), body).await;
    reply.expect_status(200);
    reply.json.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_search_reaches_internal_notes_for_the_team_only() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (zelda, _) = server.fan_session("Zelda Quill").await;
    let (mario, _) = server.fan_session("Mario Brick").await;
    let parcel = server.open_conversation(&zelda).await;
    let hello = server.open_conversation(&mario).await;
    say(&server, &zelda, &parcel, "My PARCEL never arrived", None).await;
    say(&server, &mario, &hello, "hello there, 100% happy", None).await;
    say(
        &server,
        &owner,
        &parcel,
        "refund approved by finance",
        Some("internal"),
    )
    .await;

    assert_eq!(
        search(&server, &owner, "q=parcel").await,
        std::slice::from_ref(&parcel)
    );
    assert_eq!(
        search(&server, &owner, "q=Refund%20Approved").await,
        std::slice::from_ref(&parcel)
    );
    assert_eq!(
        search(&server, &owner, "q=100%25").await,
        std::slice::from_ref(&hello)
    );
    // `%` and `_` are literal, not wildcards.
    assert!(search(&server, &owner, "q=0_%25").await.is_empty());
    assert!(search(&server, &owner, "q=nowhere").await.is_empty());
    // Combined with the other filters.
    assert_eq!(
        search(&server, &owner, "q=e&fan_name=mario").await,
        std::slice::from_ref(&hello)
    );
    assert!(
        search(&server, &owner, "q=parcel&status=resolved")
            .await
            .is_empty()
    );

    // A fan may not search text (internal notes would leak through what matches).
    for query in ["q=refund", "q=parcel", "fan_id=someone"] {
        let path = format!("/api/v1/conversations?{query}");
        server
            .http()
            .get(&path, Some(&zelda))
            .await
            .expect_error(403, "forbidden");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_and_unread_counts_follow_each_members_reading() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (agent, _) = server.create_member("agent").await;
    let (fan, _) = server.fan_session("Unread Fan").await;
    let conversation = server.open_conversation(&fan).await;
    say(&server, &fan, &conversation, "first question", None).await;
    say(
        &server,
        &owner,
        &conversation,
        &format!("note {}", "x".repeat(200)),
        Some("internal"),
    )
    .await;

    let seen = summaries(&server, &agent, &[&conversation, "missing-id"]).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["conversation_id"], conversation.as_str());
    assert_eq!(
        (
            seen[0]["unread"].as_u64(),
            seen[0]["last_read_seq"].as_u64()
        ),
        (Some(2), Some(0))
    );
    let last = &seen[0]["last_message"];
    assert_eq!(
        (last["visibility"].as_str(), last["author_kind"].as_str()),
        (Some("internal"), Some("member"))
    );
    let preview = last["preview"].as_str().expect("preview");
    assert!(
        preview.starts_with("note x") && preview.ends_with('…'),
        "{preview}"
    );
    assert_eq!(preview.chars().count(), 141);
    // The owner's own note is not unread for the owner.
    let owners = summaries(&server, &owner, &[&conversation]).await;
    assert_eq!(owners[0]["unread"], 1);

    // Reading moves the agent's position, not the owner's.
    let after = read(&server, &agent, &conversation, json!({})).await;
    assert_eq!(after["unread"], 0);
    let position = after["last_read_seq"].as_u64().expect("seq");
    assert!(position >= 2, "{after}");
    assert_eq!(
        summaries(&server, &owner, &[&conversation]).await[0]["unread"],
        1
    );
    say(&server, &fan, &conversation, "second question", None).await;
    let seen = summaries(&server, &agent, &[&conversation]).await;
    assert_eq!(seen[0]["unread"], 1);
    assert_eq!(seen[0]["last_message"]["preview"], "second question");
    assert_eq!(seen[0]["last_message"]["author_kind"], "fan");
    // Never back; never past the last entry.
    let back = read(&server, &agent, &conversation, json!({"seq": 1})).await;
    assert_eq!(
        (back["last_read_seq"].as_u64(), back["unread"].as_u64()),
        (Some(position), Some(1))
    );
    let past = read(&server, &agent, &conversation, json!({"seq": 1_000_000})).await;
    assert_eq!(past["unread"], 0);
    assert!(past["last_read_seq"].as_u64().expect("seq") < 1_000);

    // Fans have no inbox.
    server
        .http()
        .get(
            &format!("/api/v1/inbox/summaries?ids={conversation}"),
            Some(&fan),
        )
        .await
        .expect_error(403, "forbidden");
    let path = format!("/api/v1/conversations/{conversation}/read");
    server
        .http()
        .post(&path, Some(&fan), json!({}))
        .await
        .expect_error(403, "forbidden");
    server
        .http()
        .post("/api/v1/conversations/nope/read", Some(&agent), json!({}))
        .await
        .expect_status(404);
    let too_many: Vec<String> = (0..201).map(|n| format!("c{n}")).collect();
    let path = format!("/api/v1/inbox/summaries?ids={}", too_many.join(","));
    server
        .http()
        .get(&path, Some(&agent))
        .await
        .expect_error(422, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fan_directory_pages_and_finds_each_fans_history() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (ada, ada_id) = server.fan_session("Ada Directory").await;
    let (_bob, _) = server.fan_session("Bob Directory").await;
    let first = server.open_conversation(&ada).await;
    say(&server, &ada, &first, "hello", None).await;
    let path = format!("/api/v1/conversations/{first}/resolve");
    server
        .http()
        .post_empty(&path, Some(&owner))
        .await
        .expect_status(200);
    let second = server.open_conversation(&ada).await;
    assert_ne!(first, second);
    let patch = server
        .http()
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/fans/{ada_id}"),
            Some(&owner),
            Some(fandesk_testkit::Body::Json(json!({"tags": ["vip"]}))),
        )
        .await;
    patch.expect_status(200);

    let names = |reply: &Value| -> Vec<String> {
        reply["fans"]
            .as_array()
            .expect("fans")
            .iter()
            .map(|fan| fan["display_name"].as_str().expect("name").to_owned())
            .collect()
    };
    let found = server.http().get("/api/v1/fans?q=ADA", Some(&owner)).await;
    found.expect_status(200);
    assert_eq!(names(&found.json), ["Ada Directory"]);
    assert_eq!(found.json["fans"][0]["conversation_count"], 2);
    assert_eq!(found.json["fans"][0]["tags"], json!(["vip"]));
    let tagged = server
        .http()
        .get("/api/v1/fans?tag=vip", Some(&owner))
        .await;
    assert_eq!(names(&tagged.json), ["Ada Directory"]);
    let page = server
        .http()
        .get("/api/v1/fans?q=directory&limit=1", Some(&owner))
        .await;
    assert_eq!(
        (names(&page.json).len(), page.json["next_offset"].as_u64()),
        (1, Some(1))
    );
    let rest = server
        .http()
        .get("/api/v1/fans?q=directory&limit=1&offset=1", Some(&owner))
        .await;
    assert_eq!(names(&rest.json).len(), 1);
    assert!(rest.json["next_offset"].is_null());
    assert_ne!(names(&page.json), names(&rest.json));

    // The fan's history: every conversation, or only the resolved ones.
    let all = search(&server, &owner, &format!("fan_id={ada_id}")).await;
    assert_eq!(all.len(), 2);
    let resolved = search(&server, &owner, &format!("fan_id={ada_id}&status=resolved")).await;
    assert_eq!(resolved, [first]);

    server
        .http()
        .get("/api/v1/fans", Some(&ada))
        .await
        .expect_status(403);
}
