//! Supervision and signals end to end (docs/product.md › Supervision, Signals): monitor,
//! whisper, takeover, escalation and hand-back never reach the fan in any byte; keyword,
//! sentiment and restricted-word alerts reach supervisors; the audit log and message
//! review.

use super::support::{Desk, client_id, contains};
use fandesk_testkit::{DEFAULT_TIMEOUT, WsClient, random_hex};
use serde_json::{Value, json};
use std::time::Duration;

/// Every byte a fan's socket received, drained until quiet.
async fn drain(socket: &mut WsClient) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = socket.recv_json_timeout(Duration::from_millis(300)).await {
        frames.push(frame);
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisory_actions_never_reach_the_fan() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    let canary = || format!("canary{}", random_hex());
    let supervisor_name = format!("Sup {}", canary());
    let (supervisor, supervisor_id) = desk
        .server
        .create_member_named("supervisor", &supervisor_name)
        .await;
    let lead_name = format!("Lead {}", canary());
    let (_lead, lead_id) = desk
        .server
        .create_member_named("escalation_lead", &lead_name)
        .await;
    let mut fan_socket = WsClient::connect(&desk.server, &desk.fan).await;
    fan_socket
        .subscribe(&topic, Some(0))
        .await
        .expect("fan subscribes");

    desk.post(&desk.fan, "hello, anyone there?", None).await;
    desk.post(&desk.agent, "Hi! Happy to help.", None).await; // claims the conversation
    let http = desk.server.http();
    http.post_empty(&desk.path("/monitor"), Some(&supervisor))
        .await
        .expect_status(200);
    let whisper = canary();
    let reply = http
        .post(
            &desk.path("/messages"),
            Some(&supervisor),
            json!({"client_msg_id": client_id(), "body": format!("try the discount {whisper}"),
                   "visibility": "internal", "to": desk.agent_id}),
        )
        .await;
    reply.expect_status(201);
    assert_eq!(reply.json["whisper_to"], desk.agent_id.as_str());
    let taken = http
        .post_empty(&desk.path("/takeover"), Some(&supervisor))
        .await;
    taken.expect_status(200);
    assert_eq!(taken.json["assignee_id"], supervisor_id.as_str());
    assert_eq!(taken.json["observer_id"], desk.agent_id.as_str());
    // The agent, now observer, may no longer answer publicly.
    desk.server
        .post_message(
            &desk.agent,
            &desk.conversation,
            &client_id(),
            "me again",
            None,
        )
        .await
        .expect_error(403, "forbidden");
    let answer = desk
        .post(&supervisor, "I'm taking care of this personally.", None)
        .await;
    assert_eq!(answer["author"]["name"], supervisor_name.as_str());
    http.post_empty(&desk.path("/handback"), Some(&supervisor))
        .await
        .expect_status(200);
    let reason = canary();
    let escalated = http
        .post(
            &desk.path("/escalate"),
            Some(&desk.agent),
            json!({"reason": format!("chargeback {reason}")}),
        )
        .await;
    escalated.expect_status(200);
    assert_eq!(escalated.json["escalated"], true);
    assert_eq!(escalated.json["assignee_id"], lead_id.as_str());

    // The fan saw exactly the three public messages, numbered 1..3, and nothing else.
    let frames = drain(&mut fan_socket).await;
    let timeline: Vec<&Value> = frames
        .iter()
        .filter(|frame| frame.get("seq").is_some())
        .collect();
    let seqs: Vec<u64> = timeline
        .iter()
        .map(|frame| frame["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3], "fan timeline: {frames:?}");
    let (history, history_bytes) = desk
        .server
        .history_with_bytes(&desk.fan, &desk.conversation)
        .await;
    assert_eq!(history.len(), 3);
    let conversation = http.get(&desk.path(""), Some(&desk.fan)).await;
    let keys: Vec<&String> = conversation.json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec!["created_at", "id", "status"],
        "fan-safe fields only"
    );
    let mut fan_bytes = fan_socket.received().to_vec();
    fan_bytes.extend_from_slice(&history_bytes);
    fan_bytes.extend_from_slice(&conversation.bytes);
    for secret in [
        whisper.as_str(),
        reason.as_str(),
        &lead_name,
        &lead_id,
        "Taken over",
        "Handed back",
        "Escalated",
        "monitoring",
        "observer",
        "escalated_to",
        "whisper_to",
        "sentiment",
        "reply_ms",
    ] {
        assert!(!contains(&fan_bytes, secret), "fan received {secret:?}");
    }
    // The team sees the whole story, and the audit log has every supervisory action.
    let team = desk.server.history(&supervisor, &desk.conversation).await;
    assert!(
        team.iter()
            .any(|message| message["body"].as_str().unwrap().contains(&whisper))
    );
    assert!(
        team.iter()
            .any(|message| message["body"] == format!("Taken over by {supervisor_name}"))
    );
    let audit = http
        .get("/api/v1/audit", Some(desk.server.owner_token()))
        .await;
    audit.expect_status(200);
    let mut actions: Vec<&str> = audit.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        vec!["escalate", "handback", "monitor", "takeover", "whisper"]
    );
    http.get("/api/v1/audit", Some(&desk.agent))
        .await
        .expect_error(403, "forbidden");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_and_sentiment_alerts_reach_supervisors_once() {
    let desk = Desk::new().await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    let mut watcher = WsClient::connect(&desk.server, &supervisor).await;
    watcher
        .subscribe("alerts", None)
        .await
        .expect("supervisors watch alerts");
    let mut agent_socket = WsClient::connect(&desk.server, &desk.agent).await;
    let refused = agent_socket
        .subscribe("alerts", None)
        .await
        .expect_err("agents do not");
    assert_eq!(refused["code"], "forbidden");

    desk.post(&desk.fan, "I want a REFUND, this is terrible!!", None)
        .await;
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let frame = watcher
            .recv_matching(DEFAULT_TIMEOUT, |frame| {
                frame["event"]["kind"] == "alert.raised"
            })
            .await;
        let alert = &frame["event"]["alert"];
        assert_eq!(alert["conversation_id"], desk.conversation.as_str());
        kinds.push((
            alert["kind"].as_str().unwrap().to_owned(),
            alert["rule"].as_str().map(str::to_owned),
        ));
    }
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("keyword".to_owned(), Some("refund".to_owned())),
            ("negative_sentiment".to_owned(), None)
        ]
    );
    // Inflections match, but the same rule in the same conversation stays quiet for 10
    // minutes; another rule still alerts.
    desk.post(&desk.fan, "so, refunded yet? or should I cancel?", None)
        .await;
    let frame = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "alert.raised"
        })
        .await;
    assert_eq!(frame["event"]["alert"]["rule"], "cancel");
    assert!(
        watcher
            .recv_json_timeout(Duration::from_millis(500))
            .await
            .is_none(),
        "no second refund alert"
    );
    let listed = desk
        .server
        .http()
        .get(
            "/api/v1/alerts?since=2020-01-01T00:00:00Z",
            Some(&supervisor),
        )
        .await;
    listed.expect_status(200);
    assert_eq!(listed.json["alerts"].as_array().unwrap().len(), 3);
    desk.server
        .http()
        .get("/api/v1/alerts", Some(&desk.fan))
        .await
        .expect_error(403, "forbidden");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_words_block_or_flag_team_messages() {
    let desk = Desk::new().await;
    let http = desk.server.http();
    let owner = desk.server.owner_token().to_owned();
    http.post(
        "/api/v1/restricted-rules",
        Some(&owner),
        json!({"pattern": "paypal", "action": "block"}),
    )
    .await
    .expect_status(201);
    http.post(
        "/api/v1/restricted-rules",
        Some(&owner),
        json!({"pattern": "guarantee", "action": "warn"}),
    )
    .await
    .expect_status(201);
    http.post(
        "/api/v1/restricted-rules",
        Some(&desk.agent),
        json!({"pattern": "x", "action": "warn"}),
    )
    .await
    .expect_error(403, "forbidden");
    let blocked = desk
        .server
        .post_message(
            &desk.agent,
            &desk.conversation,
            &client_id(),
            "Pay me on PayPal",
            None,
        )
        .await;
    blocked.expect_error(422, "invalid_request");
    assert!(
        blocked.error_message().unwrap().contains("paypal"),
        "names the rule: {}",
        blocked.text()
    );
    // Fans are not restricted.
    desk.post(&desk.fan, "can I use paypal?", None).await;
    let warned = desk
        .post(&desk.agent, "I guarantee you'll love it", None)
        .await;
    assert_eq!(warned["flag"], "guarantee");
    let (history, bytes) = desk
        .server
        .history_with_bytes(&desk.fan, &desk.conversation)
        .await;
    assert_eq!(history.len(), 2);
    assert!(!contains(&bytes, "flag"), "fans never see flags");
    let mut found = false;
    for _ in 0..50 {
        let alerts = http.get("/api/v1/alerts", Some(&owner)).await;
        if alerts.json["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|alert| alert["kind"] == "restricted_word")
        {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(found, "a warn rule raises a restricted_word alert");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_review_lists_team_replies_with_reply_times() {
    let desk = Desk::new().await;
    desk.post(&desk.fan, "question", None).await;
    desk.post(&desk.agent, "note to self", Some("internal"))
        .await;
    desk.post(&desk.agent, "answer", None).await;
    let (supervisor, _) = desk.server.create_member("supervisor").await;
    let path = format!("/api/v1/review/messages?agent_id={}", desk.agent_id);
    let review = desk.server.http().get(&path, Some(&supervisor)).await;
    review.expect_status(200);
    let messages = review.json["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["body"], "answer");
    assert!(messages[0]["reply_ms"].as_i64().is_some_and(|ms| ms >= 0));
    assert!(
        messages[1].get("reply_ms").is_none(),
        "internal notes answer nobody"
    );
    desk.server
        .http()
        .get(&path, Some(&desk.agent))
        .await
        .expect_error(403, "forbidden");
    // A whisper is internal only.
    let public_whisper = desk
        .server
        .http()
        .post(
            &desk.path("/messages"),
            Some(&supervisor),
            json!({"client_msg_id": client_id(), "body": "psst", "to": desk.agent_id}),
        )
        .await;
    public_whisper.expect_error(422, "invalid_request");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collision_view_shows_viewers_and_typing_to_the_team_only() {
    let desk = Desk::new().await;
    let topic = desk.topic();
    let mut fan_socket = WsClient::connect(&desk.server, &desk.fan).await;
    fan_socket
        .subscribe(&topic, None)
        .await
        .expect("fan subscribes");
    let mut agent_socket = WsClient::connect(&desk.server, &desk.agent).await;
    agent_socket
        .subscribe(&topic, None)
        .await
        .expect("agent subscribes");
    let (supervisor, supervisor_id) = desk.server.create_member("supervisor").await;
    let mut supervisor_socket = WsClient::connect(&desk.server, &supervisor).await;
    supervisor_socket
        .subscribe(&topic, None)
        .await
        .expect("supervisor subscribes");

    let viewing = agent_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "presence"
                && frame["event"]["member_id"] == supervisor_id.as_str()
        })
        .await;
    assert_eq!(viewing["event"]["member_id"], supervisor_id.as_str());
    assert_eq!(viewing["event"]["state"], "viewing");
    assert!(viewing.get("seq").is_none(), "presence is ephemeral");
    supervisor_socket
        .send_json(&json!({"type": "typing", "topic": topic}))
        .await;
    let typing = agent_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| frame["event"]["kind"] == "typing")
        .await;
    assert_eq!(typing["event"]["author"]["id"], supervisor_id.as_str());
    // The fan's typing reaches the team too.
    fan_socket
        .send_json(&json!({"type": "typing", "topic": topic}))
        .await;
    let fan_typing = agent_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "typing" && frame["event"]["author"]["kind"] == "fan"
        })
        .await;
    assert_eq!(fan_typing["event"]["author"]["id"], desk.fan_id.as_str());
    supervisor_socket.close().await;
    let left = agent_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| frame["event"]["state"] == "left")
        .await;
    assert_eq!(left["event"]["member_id"], supervisor_id.as_str());
    // The fan got none of it, and a typing frame for a stranger's conversation is refused.
    desk.post(&desk.agent, "hello", None).await;
    fan_socket
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "message.created"
        })
        .await;
    drain(&mut fan_socket).await;
    for leak in ["presence", "typing", "viewing", supervisor_id.as_str()] {
        assert!(
            !contains(fan_socket.received(), leak),
            "fan received {leak:?}"
        );
    }
    let (stranger, _) = desk.server.fan_session("Stranger").await;
    let mut stranger_socket = WsClient::connect(&desk.server, &stranger).await;
    stranger_socket
        .send_json(&json!({"type": "typing", "topic": topic}))
        .await;
    let refused = stranger_socket.expect_type("error").await;
    assert_eq!(refused["code"], "not_found");
    desk.shutdown().await;
}
