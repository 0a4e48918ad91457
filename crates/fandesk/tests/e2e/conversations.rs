//! Conversations (docs/product.md › Conversations, Roles; docs/api.md › Conversations and
//! messages): open and
//! continue, team and fan views, other fans' conversations do not exist, claiming, bots,
//! resolve and reopen.

use super::support::{Desk, client_id, created_events, seqs};
use fandesk_testkit::{DEFAULT_TIMEOUT, Reply, WsClient};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_open_or_continue_one_conversation() {
    let desk = Desk::new().await;
    let again = desk
        .server
        .http()
        .post("/api/v1/conversations", Some(&desk.fan), json!({}))
        .await;
    again.expect_status(200);
    assert_eq!(again.json["id"], desk.conversation.as_str());
    let empty = desk
        .server
        .http()
        .post_empty("/api/v1/conversations", Some(&desk.fan))
        .await;
    assert_eq!(
        empty.json["id"],
        desk.conversation.as_str(),
        "{}",
        empty.text()
    );
    let (other_fan, _) = desk.server.fan_session("Fan Two").await;
    let created = desk
        .server
        .http()
        .post("/api/v1/conversations", Some(&other_fan), json!({}))
        .await;
    created.expect_status(201);
    assert_ne!(created.json["id"], desk.conversation.as_str());
    desk.server
        .http()
        .post("/api/v1/conversations", Some(&desk.agent), json!({}))
        .await
        .expect_error(403, "forbidden");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_and_fan_views_differ() {
    let desk = Desk::new().await;
    let team = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.agent))
        .await;
    team.expect_status(200);
    for field in [
        "id",
        "fan_id",
        "status",
        "assignee_id",
        "priority",
        "escalated",
        "last_seq",
        "created_at",
    ] {
        assert!(
            team.json.get(field).is_some(),
            "team view has {field}: {}",
            team.text()
        );
    }
    assert_eq!(team.json["fan_id"], desk.fan_id.as_str());
    assert_eq!(team.json["status"], "open");
    assert_eq!(team.json["assignee_id"], Value::Null);
    let fan = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.fan))
        .await;
    fan.expect_status(200);
    let mut keys: Vec<&String> = fan.json.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["created_at", "id", "status"],
        "fan-safe fields only: {}",
        fan.text()
    );

    let listed = desk
        .server
        .http()
        .get("/api/v1/conversations", Some(&desk.fan))
        .await;
    listed.expect_status(200);
    let conversations = listed.json["conversations"]
        .as_array()
        .expect("conversations");
    assert_eq!(conversations.len(), 1);
    assert!(
        conversations[0].get("assignee_id").is_none(),
        "fan list is fan-safe: {}",
        listed.text()
    );
    let unassigned = desk
        .server
        .http()
        .get(
            "/api/v1/conversations?unassigned=true&limit=5",
            Some(&desk.agent),
        )
        .await;
    unassigned.expect_status(200);
    assert!(unassigned.text().contains(&desk.conversation));
    desk.shutdown().await;
}

/// Everything a stranger gets back for a conversation id, to compare an existing one with
/// one that does not exist.
async fn probe(desk: &Desk, token: &str, id: &str) -> Vec<(String, u16, Option<String>)> {
    let http = desk.server.http();
    let base = format!("/api/v1/conversations/{id}");
    let send = json!({"client_msg_id": client_id(), "body": "let me in"});
    let replies: Vec<(&str, Reply)> = vec![
        ("get", http.get(&base, Some(token)).await),
        (
            "messages",
            http.get(&format!("{base}/messages"), Some(token)).await,
        ),
        (
            "send",
            http.post(&format!("{base}/messages"), Some(token), send)
                .await,
        ),
        (
            "resolve",
            http.post_empty(&format!("{base}/resolve"), Some(token))
                .await,
        ),
        (
            "reopen",
            http.post_empty(&format!("{base}/reopen"), Some(token))
                .await,
        ),
    ];
    replies
        .into_iter()
        .map(|(route, reply)| {
            (
                route.to_owned(),
                reply.status,
                reply.error_code().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_fans_conversation_does_not_exist() {
    let desk = Desk::new().await;
    desk.post(&desk.fan, "my secret question", None).await;
    let (stranger, _) = desk.server.fan_session("Stranger").await;
    let existing = probe(&desk, &stranger, &desk.conversation).await;
    let missing = probe(&desk, &stranger, "cnv_00000000000000000000000000000000").await;
    assert_eq!(
        existing, missing,
        "another fan's conversation must look exactly like a missing one"
    );
    for (route, status, code) in &existing[..3] {
        assert_eq!(
            (*status, code.as_deref()),
            (404, Some("not_found")),
            "{route}"
        );
    }

    let mut socket = WsClient::connect(&desk.server, &stranger).await;
    let refused = socket
        .subscribe(&desk.topic(), Some(0))
        .await
        .expect_err("subscribe must fail");
    assert_eq!(refused["code"], "not_found", "{refused}");
    let refused = socket
        .subscribe(&desk.topic(), None)
        .await
        .expect_err("subscribe must fail");
    assert_eq!(refused["code"], "not_found", "{refused}");
    let send = socket
        .send_message(&desk.topic(), "s1", "hello?", None)
        .await;
    assert_eq!(
        (&send["type"], &send["code"]),
        (&json!("error"), &json!("not_found")),
        "{send}"
    );
    let received = socket.close().await;
    assert!(!super::support::contains(&received, "my secret question"));
    assert_eq!(
        desk.server
            .history(&desk.agent, &desk.conversation)
            .await
            .len(),
        1,
        "nothing was stored"
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_reply_claims_and_locks_out_other_agents() {
    let desk = Desk::new().await;
    let (second, _) = desk.server.create_member("agent").await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    let mut inbox = WsClient::connect(&desk.server, &supervisor).await;
    inbox.subscribe("inbox", None).await.expect("inbox");
    desk.post(&desk.fan, "anyone?", None).await;

    // An internal note does not claim; a public reply does.
    desk.post(&second, "I could take this", Some("internal"))
        .await;
    let view = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.agent))
        .await;
    assert_eq!(view.json["assignee_id"], Value::Null, "{}", view.text());
    desk.post(&desk.agent, "Hi, I'm on it", None).await;
    let view = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.agent))
        .await;
    assert_eq!(
        view.json["assignee_id"],
        desk.agent_id.as_str(),
        "{}",
        view.text()
    );
    let update = inbox
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["conversation"]["assignee_id"] == desk.agent_id.as_str()
        })
        .await;
    assert_eq!(update["event"]["kind"], "conversation.updated");
    assert!(
        update.get("seq").is_none(),
        "ephemeral events carry no seq: {update}"
    );

    for visibility in [None, Some("internal")] {
        let reply = desk
            .server
            .post_message(
                &second,
                &desk.conversation,
                &client_id(),
                "mine!",
                visibility,
            )
            .await;
        reply.expect_error(403, "forbidden");
    }
    desk.post(&supervisor, "Supervisor here", None).await;
    desk.post(&desk.agent, "still mine", None).await;
    let view = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.agent))
        .await;
    assert_eq!(
        view.json["assignee_id"],
        desk.agent_id.as_str(),
        "a supervisor reply never claims"
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_messages_are_labelled_and_bots_yield_to_humans() {
    let desk = Desk::new().await;
    let (bot, bot_id) = desk.server.create_member("bot").await;
    desk.post(&desk.fan, "hello", None).await;
    let reply = desk
        .post(&bot, "Hi! A human will be with you shortly.", None)
        .await;
    assert_eq!(reply["automated"], true, "{reply}");
    assert_eq!(reply["author"]["kind"], "bot");
    assert_eq!(reply["author"]["id"], bot_id.as_str());
    let view = desk
        .server
        .http()
        .get(&desk.path(""), Some(&desk.agent))
        .await;
    assert_eq!(
        view.json["assignee_id"],
        Value::Null,
        "bot replies never claim"
    );
    let fan_view = desk.server.history(&desk.fan, &desk.conversation).await;
    assert_eq!(
        fan_view[1]["automated"], true,
        "fans see the label: {fan_view:?}"
    );
    let human = desk.post(&desk.agent, "Hi, Anna here", None).await;
    assert_eq!(human["automated"], false);
    let reply = desk
        .server
        .post_message(&bot, &desk.conversation, &client_id(), "more bot", None)
        .await;
    reply.expect_error(403, "forbidden");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_and_reopen_are_team_timeline_events() {
    let desk = Desk::new().await;
    let http = desk.server.http();
    let mut fan_socket = WsClient::connect(&desk.server, &desk.fan).await;
    fan_socket
        .subscribe(&desk.topic(), Some(0))
        .await
        .expect("subscribe");
    desk.post(&desk.fan, "thanks, all good", None).await;
    desk.post(&desk.agent, "glad to help", None).await;

    http.post_empty(&desk.path("/resolve"), Some(&desk.fan))
        .await
        .expect_error(403, "forbidden");
    let resolved = http
        .post_empty(&desk.path("/resolve"), Some(&desk.agent))
        .await;
    resolved.expect_status(200);
    assert_eq!(resolved.json["status"], "resolved", "{}", resolved.text());
    http.post_empty(&desk.path("/resolve"), Some(&desk.agent))
        .await
        .expect_error(409, "conflict");
    for token in [&desk.fan, &desk.agent] {
        let reply = desk
            .server
            .post_message(token, &desk.conversation, &client_id(), "hello?", None)
            .await;
        reply.expect_error(409, "conflict");
    }
    let team = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(seqs(&team), [1, 2, 3]);
    assert_eq!(team[2]["author"]["kind"], "system", "{team:?}");
    assert_eq!(team[2]["visibility"], "internal");

    let reopened = http
        .post_empty(&desk.path("/reopen"), Some(&desk.agent))
        .await;
    reopened.expect_status(200);
    assert_eq!(reopened.json["status"], "open");
    http.post_empty(&desk.path("/reopen"), Some(&desk.agent))
        .await
        .expect_error(409, "conflict");
    let after = desk.post(&desk.fan, "one more thing", None).await;
    assert_eq!(
        after["seq"], 3,
        "the fan's public sequence skips no number: {after}"
    );
    let team = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(seqs(&team), [1, 2, 3, 4, 5]);
    assert_eq!(team[4]["public_seq"], 3);
    let fan = desk.server.history(&desk.fan, &desk.conversation).await;
    assert_eq!(seqs(&fan), [1, 2, 3]);
    assert!(
        fan.iter()
            .all(|message| message["author"]["kind"] != "system")
    );

    // The fan's socket saw the status changes only as fan-safe ephemeral updates.
    // Frames arrive in commit order, so everything before the last message is buffered.
    let last = fan_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["type"] == "event" && frame["seq"] == 3
        })
        .await;
    let mut frames = fan_socket.take_pending();
    frames.push(last);
    let events = created_events(&frames, &desk.topic());
    assert_eq!(seqs(&events), [1, 2, 3]);
    let updates: Vec<&Value> = frames
        .iter()
        .filter(|f| f["event"]["kind"] == "conversation.updated")
        .collect();
    assert!(
        updates
            .iter()
            .any(|update| update["event"]["conversation"]["status"] == "resolved"),
        "{frames:?}"
    );
    for update in updates {
        assert!(update.get("seq").is_none(), "{update}");
        let mut keys: Vec<&String> = update["event"]["conversation"]
            .as_object()
            .expect("object")
            .keys()
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            ["created_at", "id", "status"],
            "fan-safe update: {update}"
        );
    }
    desk.shutdown().await;
}
