//! Sending and reading messages (docs/api.md › Conversations and messages, WebSocket;
//! docs/product.md › Principles): idempotent sends over REST and WebSocket, the message
//! shape, paging, and the fans' dense public sequence.

use super::support::{Desk, client_id, seqs};
use fandesk_testkit::WsClient;
use serde_json::{Value, json};

fn count_client_id(history: &[Value], client_msg_id: &str) -> usize {
    history
        .iter()
        .filter(|message| message["client_msg_id"] == client_msg_id)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_sends_are_idempotent() {
    let desk = Desk::new().await;
    let id = client_id();
    let first = desk
        .server
        .post_message(&desk.fan, &desk.conversation, &id, "first try", None)
        .await;
    first.expect_status(201);
    for body in ["first try", "a different body on retry"] {
        let again = desk
            .server
            .post_message(&desk.fan, &desk.conversation, &id, body, None)
            .await;
        again.expect_status(200);
        assert_eq!(
            again.json, first.json,
            "a retry answers the original message"
        );
    }
    // The same key from another author is another message.
    let agent = desk
        .server
        .post_message(&desk.agent, &desk.conversation, &id, "agent", None)
        .await;
    agent.expect_status(201);
    let history = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(seqs(&history), [1, 2]);
    assert_eq!(history[0]["body"], "first try");
    assert_eq!(count_client_id(&history, &id), 2);
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_sends_are_idempotent_across_transports() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    desk.post(&desk.agent, "welcome!", Some("internal")).await;
    let mut fan = WsClient::connect(&desk.server, &desk.fan).await;
    let ack = fan
        .send_message(&topic, "fan-1", "hello over ws", None)
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(
        ack["seq"], 1,
        "fans are acked with the public sequence: {ack}"
    );
    let again = fan
        .send_message(&topic, "fan-1", "changed body", None)
        .await;
    assert_eq!(again, ack, "a repeated client_msg_id gets the same ack");
    let rest = desk
        .server
        .post_message(&desk.fan, &desk.conversation, "fan-1", "via rest", None)
        .await;
    rest.expect_status(200);
    assert_eq!(rest.json["id"], ack["message_id"]);
    assert_eq!(rest.json["body"], "hello over ws");

    let mut agent = WsClient::connect(&desk.server, &desk.agent).await;
    let ack = agent
        .send_message(&topic, "agent-1", "hi fan", Some("public"))
        .await;
    assert_eq!(
        ack["seq"], 3,
        "team members are acked with the full sequence: {ack}"
    );
    assert_eq!(
        agent
            .send_message(&topic, "agent-1", "hi fan!!", None)
            .await,
        ack
    );
    let history = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(seqs(&history), [1, 2, 3]);
    assert_eq!(count_client_id(&history, "fan-1"), 1);
    assert_eq!(count_client_id(&history, "agent-1"), 1);
    assert_eq!(history[2]["body"], "hi fan");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_have_the_protocol_shape() {
    let desk = Desk::new().await;
    let message = desk.post(&desk.fan, "  hello there \n", None).await;
    for field in [
        "id",
        "conversation_id",
        "seq",
        "author",
        "body",
        "visibility",
        "automated",
        "created_at",
    ] {
        assert!(message.get(field).is_some(), "message.{field}: {message}");
    }
    assert_eq!(message["body"], "hello there", "bodies are trimmed");
    assert_eq!(message["conversation_id"], desk.conversation.as_str());
    assert_eq!(message["visibility"], "public");
    assert_eq!(message["automated"], false);
    assert_eq!(
        message["author"],
        json!({"id": desk.fan_id, "kind": "fan", "name": "Fan One"})
    );
    let created = message["created_at"].as_str().expect("created_at");
    assert!(
        created.ends_with('Z') && created.contains('T'),
        "RFC 3339 UTC: {created}"
    );
    let reply = desk.post(&desk.agent, "hi", None).await;
    assert_eq!(reply["author"]["kind"], "member");
    let fan_view = desk.server.history(&desk.fan, &desk.conversation).await;
    assert!(
        fan_view[1].get("public_seq").is_none(),
        "public_seq is team-only: {}",
        fan_view[1]
    );
    assert!(
        fan_view[1].get("client_msg_id").is_none(),
        "fans see only their own keys: {}",
        fan_view[1]
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_by_sequence() {
    let desk = Desk::new().await;
    for number in 1..=7 {
        desk.post(&desk.fan, &format!("message {number}"), None)
            .await;
    }
    let page = desk
        .server
        .http()
        .get(
            &format!("{}?after_seq=2&limit=3", desk.path("/messages")),
            Some(&desk.fan),
        )
        .await;
    page.expect_status(200);
    let messages = page.json["messages"].as_array().expect("messages");
    assert_eq!(seqs(messages), [3, 4, 5]);
    assert_eq!(messages[0]["body"], "message 3");
    let rest = desk
        .server
        .http()
        .get(
            &format!("{}?after_seq=5", desk.path("/messages")),
            Some(&desk.fan),
        )
        .await;
    assert_eq!(
        seqs(rest.json["messages"].as_array().expect("messages")),
        [6, 7]
    );
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_see_a_dense_public_sequence_without_internal_messages() {
    let desk = Desk::new().await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    let mut expected_public = Vec::new();
    for round in 0..4 {
        expected_public
            .push(desk.post(&desk.fan, &format!("fan {round}"), None).await["id"].clone());
        desk.post(&supervisor, &format!("whisper {round}"), Some("internal"))
            .await;
        desk.post(&desk.agent, &format!("note {round}"), Some("internal"))
            .await;
        expected_public.push(
            desk.post(&desk.agent, &format!("reply {round}"), None)
                .await["id"]
                .clone(),
        );
    }
    let fan_view = desk.server.history(&desk.fan, &desk.conversation).await;
    assert_eq!(seqs(&fan_view), (1..=8).collect::<Vec<u64>>());
    let ids: Vec<Value> = fan_view
        .iter()
        .map(|message| message["id"].clone())
        .collect();
    assert_eq!(ids, expected_public);
    assert!(
        fan_view
            .iter()
            .all(|message| message["visibility"] == "public")
    );
    let team = desk.server.history(&desk.agent, &desk.conversation).await;
    assert_eq!(seqs(&team), (1..=16).collect::<Vec<u64>>());
    let public_seqs: Vec<u64> = team
        .iter()
        .filter_map(|message| message["public_seq"].as_u64())
        .collect();
    assert_eq!(
        public_seqs,
        (1..=8).collect::<Vec<u64>>(),
        "team sees each public message's public_seq"
    );
    let paged = desk
        .server
        .http()
        .get(
            &format!("{}?after_seq=4&limit=2", desk.path("/messages")),
            Some(&desk.fan),
        )
        .await;
    assert_eq!(
        seqs(paged.json["messages"].as_array().expect("messages")),
        [5, 6],
        "fans page by public seq"
    );
    desk.shutdown().await;
}

/// A key is the client's name for one message *in one conversation*: reusing it in
/// another conversation must never be answered with a message that lives elsewhere (the
/// send would be silently dropped while the client believes it was delivered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_in_another_conversation_is_never_answered_from_the_first() {
    let desk = Desk::new().await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    let (other_fan, _) = desk.server.fan_session("Fan Two").await;
    let other = desk.server.open_conversation(&other_fan).await;
    let first = desk
        .server
        .post_message(&supervisor, &desk.conversation, "k-1", "to one", None)
        .await;
    first.expect_status(201);

    let second = desk
        .server
        .post_message(&supervisor, &other, "k-1", "to two", None)
        .await;
    let mut socket = WsClient::connect(&desk.server, &supervisor).await;
    let ack = socket
        .send_message(&format!("conversation:{other}"), "k-1", "to two", None)
        .await;

    // A fan whose conversation was resolved starts a new one and numbers keys afresh.
    desk.server
        .post_message(&desk.fan, &desk.conversation, "1", "old question", None)
        .await
        .expect_status(201);
    let resolve = desk.path("/resolve");
    desk.server
        .http()
        .post_empty(&resolve, Some(&supervisor))
        .await
        .expect_status(200);
    let fresh = desk.server.open_conversation(&desk.fan).await;
    let reused = desk
        .server
        .post_message(&desk.fan, &fresh, "1", "new question", None)
        .await;

    let mut wrong = Vec::new();
    for (what, reply, expected) in [
        ("REST, member", &second, &other),
        ("REST, fan", &reused, &fresh),
    ] {
        if reply.is_success() && reply.json["conversation_id"] != expected.as_str() {
            wrong.push(format!(
                "{what}: {} answered with a message of another conversation: {}",
                reply.status,
                reply.text()
            ));
        }
    }
    if ack["type"] == "ack" && ack["message_id"] == first.json["id"] {
        wrong.push(format!("WebSocket: the ack for conversation:{other} names a message of another conversation: {ack}"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    desk.shutdown().await;
}
