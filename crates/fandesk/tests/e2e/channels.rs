//! Team channels end to end (docs/api.md › Team channels): creation under the charter's
//! `channels.limit` (409 with `details.limit`, archive and restore counted), announcements
//! for the owner and supervisors only, idempotent posts with a dense `seq`, threads and
//! their summaries, tags and the decision log (filters, status, Markdown and CSV exports),
//! and fans, who get 404 from every channel and decision route and never a channel frame
//! (checked on the raw WebSocket bytes).

use super::charter::put_charter;
use super::support::{client_id, contains};
use fandesk_service::{Config, ManualClock};
use fandesk_testkit::{Body, DEFAULT_TIMEOUT, HttpConfig, Reply, TestServer, WsClient};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A server on a manual clock, with month-long sessions (tests move time by days).
pub async fn manual_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let week = Duration::from_secs(30 * 24 * 3600);
    let config = Config {
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

/// Saves `toml` as the next charter version.
pub async fn set_charter(server: &TestServer, toml: &str) {
    let owner = server.owner_token();
    let current = server.http().get("/api/v1/charter", Some(owner)).await;
    let version = current.json["version"].as_i64().expect("version");
    put_charter(server, owner, toml, version)
        .await
        .expect_status(200);
}

/// Creates a channel as `token`; returns the reply.
pub async fn create(server: &TestServer, token: &str, name: &str, extra: Value) -> Reply {
    let mut body = json!({"name": name, "purpose": format!("{name} matters")});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    server
        .http()
        .post("/api/v1/channels", Some(token), body)
        .await
}

/// Creates a channel as the owner; returns its id.
pub async fn channel(server: &TestServer, name: &str) -> String {
    let reply = create(server, server.owner_token(), name, json!({})).await;
    reply.expect_status(201);
    reply.json["id"].as_str().expect("id").to_owned()
}

/// Posts in a channel with a fresh key (or `key`); returns the reply.
pub async fn post(server: &TestServer, token: &str, channel: &str, body: Value) -> Reply {
    let mut body = body;
    if body.get("client_msg_id").is_none() {
        body["client_msg_id"] = json!(client_id());
    }
    let path = format!("/api/v1/channels/{channel}/messages");
    server.http().post(&path, Some(token), body).await
}

/// Posts `text` and expects 201; returns the message.
pub async fn say(server: &TestServer, token: &str, channel: &str, text: &str) -> Value {
    let reply = post(server, token, channel, json!({"body": text})).await;
    reply.expect_status(201);
    reply.json
}

pub async fn messages(server: &TestServer, token: &str, channel: &str, query: &str) -> Vec<Value> {
    let path = format!("/api/v1/channels/{channel}/messages{query}");
    let reply = server.http().get(&path, Some(token)).await;
    reply.expect_status(200);
    reply.json["messages"].as_array().expect("messages").clone()
}

fn ids(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item["id"].as_str().expect("id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_announcements_and_idempotent_dense_posts() {
    let (server, _clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (supervisor, _) = server.create_member("supervisor").await;
    let (agent, _) = server.create_member("agent").await;

    // Purpose is required; agents do not create channels.
    let reply = server
        .http()
        .post("/api/v1/channels", Some(&owner), json!({"name": "ops"}))
        .await;
    reply.expect_status(422);
    let reply = create(&server, &owner, "ops", json!({"purpose": "  "})).await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "purpose");
    create(&server, &agent, "ops", json!({}))
        .await
        .expect_error(403, "forbidden");
    let bad_kind = create(&server, &owner, "ops", json!({"kind": "secret"})).await;
    bad_kind.expect_error(422, "invalid_request");

    // The charter's limit counts active channels only.
    set_charter(&server, "[channels]\nlimit = 2\n").await;
    let ops = channel(&server, "ops").await;
    let news = create(
        &server,
        &supervisor,
        "news",
        json!({"kind": "announcements",
        "guideline": "  Be brief.  "}),
    )
    .await;
    news.expect_status(201);
    assert_eq!(news.json["guideline"], "Be brief.");
    assert_eq!(news.json["kind"], "announcements");
    assert_eq!(news.json["archived"], false);
    let news = news.json["id"].as_str().expect("id").to_owned();
    let over = create(&server, &owner, "vip", json!({})).await;
    over.expect_error(409, "conflict");
    assert_eq!(over.json["error"]["details"]["limit"], 2);

    // Archived channels are listed apart, read-only, and restoring counts.
    let archive = format!("/api/v1/channels/{ops}/archive");
    server
        .http()
        .post_empty(&archive, Some(&agent))
        .await
        .expect_error(403, "forbidden");
    let archived = server.http().post_empty(&archive, Some(&owner)).await;
    archived.expect_status(200);
    assert_eq!(archived.json["archived"], true);
    let vip = channel(&server, "vip").await;
    let list = server.http().get("/api/v1/channels", Some(&agent)).await;
    assert_eq!(
        ids(list.json["channels"].as_array().expect("list")),
        [news.as_str(), vip.as_str()]
    );
    let list = server
        .http()
        .get("/api/v1/channels?archived=true", Some(&agent))
        .await;
    assert_eq!(
        ids(list.json["channels"].as_array().expect("list")),
        [ops.as_str()]
    );
    post(&server, &agent, &ops, json!({"body": "anyone?"}))
        .await
        .expect_error(409, "conflict");
    let restore = format!("/api/v1/channels/{ops}/restore");
    let refused = server.http().post_empty(&restore, Some(&owner)).await;
    refused.expect_error(409, "conflict");
    assert_eq!(refused.json["error"]["details"]["limit"], 2);
    server
        .http()
        .post_empty(&format!("/api/v1/channels/{vip}/archive"), Some(&owner))
        .await
        .expect_status(200);
    let restored = server.http().post_empty(&restore, Some(&owner)).await;
    restored.expect_status(200);
    assert_eq!(restored.json["archived"], false);

    // Announcements: only the owner and supervisors post.
    post(&server, &agent, &news, json!({"body": "hi all"}))
        .await
        .expect_error(403, "forbidden");
    say(&server, &supervisor, &news, "Launch on Friday").await;

    // The same key from the same author: the original, no duplicate; seq stays dense.
    let first = post(
        &server,
        &agent,
        &ops,
        json!({"client_msg_id": "k1", "body": "one"}),
    )
    .await;
    first.expect_status(201);
    let again = post(
        &server,
        &agent,
        &ops,
        json!({"client_msg_id": "k1", "body": "one"}),
    )
    .await;
    again.expect_status(200);
    assert_eq!(again.json["id"], first.json["id"]);
    let other = post(
        &server,
        &owner,
        &ops,
        json!({"client_msg_id": "k1", "body": "mine"}),
    )
    .await;
    other.expect_status(201);
    say(&server, &agent, &ops, "three").await;
    let timeline = messages(&server, &agent, &ops, "").await;
    let seqs: Vec<u64> = timeline
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(timeline[0]["author"]["kind"], "member");
    assert_eq!(timeline[0]["tags"], json!([]));
    let after = messages(&server, &agent, &ops, "?after_seq=2").await;
    assert_eq!(after.len(), 1);
    let past = format!("/api/v1/channels/{ops}/messages?after_seq=9");
    let reply = server.http().get(&past, Some(&agent)).await;
    reply.expect_status(200);
    assert_eq!(reply.json["messages"], json!([]));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_summaries_tags_and_the_decision_log() {
    let (server, _clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (agent, agent_id) = server.create_member("agent").await;
    let (_, ana_id) = server.create_member_named("agent", "Ana Silva").await;
    let ops = channel(&server, "ops").await;

    // Threads: a reply names a root; a reply to a reply is refused.
    let root = say(&server, &agent, &ops, "Which venue?").await;
    let root_id = root["id"].as_str().expect("id").to_owned();
    let reply = post(
        &server,
        &owner,
        &ops,
        json!({"body": "The hall", "thread_root_id": root_id}),
    )
    .await;
    reply.expect_status(201);
    assert_eq!(reply.json["thread_root_id"], root_id.as_str());
    let nested = json!({"body": "nested", "thread_root_id": reply.json["id"]});
    let refused = post(&server, &agent, &ops, nested).await;
    refused.expect_error(422, "invalid_request");
    assert_eq!(refused.json["error"]["details"]["field"], "thread_root_id");
    post(
        &server,
        &agent,
        &ops,
        json!({"body": "x", "thread_root_id": "nowhere"}),
    )
    .await
    .expect_error(422, "invalid_request");
    say(&server, &agent, &ops, "unrelated").await;
    let thread = messages(&server, &agent, &ops, &format!("?thread_root_id={root_id}")).await;
    assert_eq!(
        ids(&thread),
        [root_id.as_str(), reply.json["id"].as_str().expect("id")]
    );

    // A summary goes back to the channel, linked to its thread.
    let path = format!("/api/v1/channels/{ops}/threads/{root_id}/summary");
    let summary = server
        .http()
        .post(
            &path,
            Some(&agent),
            json!({"body": "DECISION: the hall it is"}),
        )
        .await;
    summary.expect_status(201);
    assert_eq!(summary.json["summary_of"], root_id.as_str());
    assert_eq!(summary.json["thread_root_id"], Value::Null);
    assert_eq!(summary.json["tags"], json!(["decision"]));
    let missing = format!("/api/v1/channels/{ops}/threads/nowhere/summary");
    server
        .http()
        .post(&missing, Some(&agent), json!({"body": "x"}))
        .await
        .expect_error(404, "not_found");

    // Tags: any case, after leading spaces; an unknown owner is refused, not dropped.
    let action = say(
        &server,
        &owner,
        &ops,
        "  action(@ana silva): book the studio",
    )
    .await;
    assert_eq!(action["tags"], json!(["action"]));
    let mine = say(&server, &agent, &ops, "ACTION: call the venue").await;
    assert_eq!(mine["tags"], json!(["action"]));
    let unknown = post(
        &server,
        &agent,
        &ops,
        json!({"body": "ACTION(@Nobody Here): x"}),
    )
    .await;
    unknown.expect_error(422, "invalid_request");
    assert_eq!(unknown.json["error"]["details"]["field"], "body");
    assert!(unknown.text().contains("Nobody Here"), "{}", unknown.text());

    // The log: newest first, with owners; filters; status changes.
    let log = |query: &str| {
        let path = format!("/api/v1/decisions{query}");
        let http = server.http().clone();
        let token = agent.clone();
        async move {
            let reply = http.get(&path, Some(&token)).await;
            reply.expect_status(200);
            reply.json["items"].as_array().expect("items").clone()
        }
    };
    let all = log("").await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["text"], "call the venue");
    assert_eq!(all[0]["owner_id"], agent_id.as_str());
    assert_eq!(all[1]["text"], "book the studio");
    assert_eq!(all[1]["owner_id"], ana_id.as_str());
    assert_eq!(all[1]["owner_name"], "Ana Silva");
    assert_eq!(all[2]["kind"], "decision");
    assert_eq!(all[2]["owner_id"], Value::Null);
    assert_eq!(all[2]["channel_id"], ops.as_str());
    assert_eq!(all[2]["message_id"], summary.json["id"]);
    assert_eq!(all[2]["status"], "open");
    assert_eq!(log("?kind=action").await.len(), 2);
    assert_eq!(log(&format!("?owner={ana_id}")).await.len(), 1);
    assert_eq!(log(&format!("?channel_id={ops}")).await.len(), 3);
    assert_eq!(log("?channel_id=nowhere").await.len(), 0);
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert_eq!(log(&format!("?date={today}")).await.len(), 3);
    assert_eq!(log("?date=2001-01-01").await.len(), 0);
    let bad = server
        .http()
        .get("/api/v1/decisions?kind=idea", Some(&agent))
        .await;
    bad.expect_error(422, "invalid_request");
    let empty = server
        .http()
        .get("/api/v1/decisions?owner=", Some(&agent))
        .await;
    empty.expect_error(422, "invalid_request");

    let decision = all[1]["id"].as_str().expect("id");
    let patch = |status: &str| {
        let path = format!("/api/v1/decisions/{decision}");
        let body = Body::Json(json!({"status": status}));
        let (http, token) = (server.http().clone(), agent.clone());
        async move {
            http.request(reqwest::Method::PATCH, &path, Some(&token), Some(body))
                .await
        }
    };
    let done = patch("done").await;
    done.expect_status(200);
    assert_eq!(done.json["status"], "done");
    patch("closed").await.expect_error(422, "invalid_request");
    assert_eq!(log("?status=done").await.len(), 1);
    assert_eq!(log("?status=open&kind=action").await.len(), 1);

    // Exports: Markdown and CSV, oldest first.
    let export = |format: &str| {
        let path = format!("/api/v1/decisions/export?format={format}");
        let http = server.http().clone();
        let token = agent.clone();
        async move { http.get(&path, Some(&token)).await }
    };
    let markdown = export("md").await;
    markdown.expect_status(200);
    assert!(
        markdown
            .content_type
            .as_deref()
            .unwrap_or("")
            .starts_with("text/markdown")
    );
    let text = markdown.text();
    assert!(text.starts_with("# Decision log"), "{text}");
    let hall = text.find("the hall it is").expect("decision row");
    let studio = text.find("| action | done | Ana Silva | ops | book the studio |");
    assert!(studio.is_some_and(|at| at > hall), "{text}");
    let csv = export("csv").await;
    csv.expect_status(200);
    assert!(
        csv.content_type
            .as_deref()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let text = csv.text();
    let lines: Vec<&str> = text.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("id,kind,status,text,owner_id"));
    assert!(lines[2].contains(",action,done,book the studio,"), "{text}");
    export("pdf").await.expect_error(422, "invalid_request");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_get_404_everywhere_and_never_a_channel_frame() {
    let (server, _clock) = manual_server().await;
    let owner = server.owner_token().to_owned();
    let (fan, _) = server.fan_session("Curious fan").await;
    let conversation = server.open_conversation(&fan).await;
    let ops = channel(&server, "ops").await;
    let root = say(
        &server,
        &owner,
        &ops,
        "DECISION: the fans must never see this",
    )
    .await;
    let root_id = root["id"].as_str().expect("id").to_owned();
    let decisions = server.http().get("/api/v1/decisions", Some(&owner)).await;
    let decision = decisions.json["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Every channel and decision route answers a fan 404, as if nothing existed.
    let http = server.http();
    let gets = [
        "/api/v1/channels".to_owned(),
        "/api/v1/channels?archived=true".to_owned(),
        format!("/api/v1/channels/{ops}"),
        format!("/api/v1/channels/{ops}/messages"),
        "/api/v1/decisions".to_owned(),
        "/api/v1/decisions/export?format=csv".to_owned(),
    ];
    for path in &gets {
        http.get(path, Some(&fan))
            .await
            .expect_error(404, "not_found");
    }
    let posts = [
        (
            "/api/v1/channels".to_owned(),
            json!({"name": "x", "purpose": "y"}),
        ),
        (
            format!("/api/v1/channels/{ops}/messages"),
            json!({"client_msg_id": "f1", "body": "hi"}),
        ),
        (
            format!("/api/v1/channels/{ops}/threads/{root_id}/summary"),
            json!({"body": "hi"}),
        ),
        (format!("/api/v1/channels/{ops}/archive"), json!({})),
        (format!("/api/v1/channels/{ops}/restore"), json!({})),
    ];
    for (path, body) in &posts {
        http.post(path, Some(&fan), body.clone())
            .await
            .expect_error(404, "not_found");
    }
    http.request(
        reqwest::Method::PATCH,
        &format!("/api/v1/decisions/{decision}"),
        Some(&fan),
        Some(Body::Json(json!({"status": "done"}))),
    )
    .await
    .expect_error(404, "not_found");

    // Over the WebSocket: no subscription, no send, and no frame of a channel ever.
    let mut socket = WsClient::connect(&server, &fan).await;
    let topic = format!("channel:{ops}");
    let refused = socket
        .subscribe(&topic, Some(0))
        .await
        .expect_err("refused");
    assert_eq!(refused["code"], "not_found");
    let sent = socket.send_message(&topic, "f2", "hello", None).await;
    assert_eq!(sent["code"], "not_found");
    socket
        .subscribe(&format!("conversation:{conversation}"), None)
        .await
        .expect("own conversation");
    let mut team = WsClient::connect(&server, &owner).await;
    team.subscribe(&topic, None).await.expect("team subscribes");
    let canary = format!("CANARY-{}", client_id());
    let body = format!("ACTION: {canary}");
    say(&server, &owner, &ops, &body).await;
    team.recv_matching(DEFAULT_TIMEOUT, |frame| {
        frame["topic"] == topic.as_str() && frame["event"]["message"]["body"] == body.as_str()
    })
    .await;
    socket.drain(Duration::from_millis(300)).await;
    let bytes = socket.close().await;
    for needle in [canary.as_str(), "channel:", ops.as_str(), "never see this"] {
        assert!(!contains(&bytes, needle), "a fan received {needle:?}");
    }
    server.shutdown().await;
}
