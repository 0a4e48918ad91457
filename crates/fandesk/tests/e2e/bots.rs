//! The bot rules through a real server (docs/product.md › Bots): bot members' sends over
//! REST and WebSocket and the away message are decided inside the group commit — never
//! two automated public messages in a row, two racing bot sends never both accepted —,
//! the charter's `bots.max_exchanges` hands the opening to a human (a team-only hand-off
//! entry, queued, routed, an SLA clock and FRT from the hand-off), and a reopen starts
//! the rules over. Nothing of the hand-off reaches the fan.

use super::charter::{get_charter, put_charter};
use super::desk::{assignee, punch, queue, queued_ids, say, settle};
use super::support::{client_id, contains};
use fandesk_service::{Clock, Config, DeskConfig, ManualClock};
use fandesk_testkit::{DEFAULT_TIMEOUT, HttpConfig, TestServer, WsClient};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Sets `bots.max_exchanges` in the charter (the owner saves on the current version).
pub(super) async fn set_max_exchanges(server: &TestServer, max: u32) {
    let owner = server.owner_token().to_owned();
    let charter = get_charter(server, &owner).await;
    let text = charter["toml"]
        .as_str()
        .unwrap()
        .replace("max_exchanges = 3", &format!("max_exchanges = {max}"));
    let version = charter["version"].as_i64().unwrap();
    put_charter(server, &owner, &text, version)
        .await
        .expect_status(200);
}

/// A bot's public send over REST: the status and the body.
async fn bot_says(server: &TestServer, bot: &str, conversation: &str, body: &str) -> (u16, Value) {
    let reply = server
        .post_message(bot, conversation, &client_id(), body, None)
        .await;
    (reply.status, reply.json)
}

async fn expect_refused(server: &TestServer, bot: &str, conversation: &str) {
    let (status, body) = bot_says(server, bot, conversation, "one more thing!").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("bot_rule_violation")),
        "{body}"
    );
}

fn handoffs(history: &[Value]) -> Vec<&Value> {
    history
        .iter()
        .filter(|message| message["event"] == "bot_handoff")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_sends_obey_the_rules_over_rest_and_websocket() {
    let server = TestServer::spawn().await;
    let (bot, bot_id) = server.create_member_named("bot", "Helper").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    set_max_exchanges(&server, 2).await;
    // A greeting before the fan wrote: accepted and labelled; a second one is refused.
    let (status, greeting) =
        bot_says(&server, &bot, &conversation, "Hi! I'm the helper bot.").await;
    assert_eq!(status, 201, "{greeting}");
    assert_eq!(
        (
            greeting["automated"].clone(),
            greeting["author"]["kind"].clone()
        ),
        (json!(true), json!("bot"))
    );
    expect_refused(&server, &bot, &conversation).await;
    // Over the WebSocket: answered after the fan, refused right after with the same code.
    let topic = format!("conversation:{conversation}");
    let mut socket = WsClient::connect(&server, &bot).await;
    say(&server, &fan, &conversation, "what are your prices?").await;
    let ack = socket
        .send_message(&topic, "ws-1", "Prices are on the shop page.", None)
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let error = socket
        .send_message(&topic, "ws-2", "Anything else?", None)
        .await;
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("bot_rule_violation")),
        "{error}"
    );
    // Internal notes and whispers are not "between"; the bot's own internal note is fine.
    server
        .post_message(
            &supervisor,
            &conversation,
            &client_id(),
            "note",
            Some("internal"),
        )
        .await
        .expect_status(201);
    server
        .post_message(
            &bot,
            &conversation,
            &client_id(),
            "bot note",
            Some("internal"),
        )
        .await
        .expect_status(201);
    expect_refused(&server, &bot, &conversation).await;
    // The second exchange hands the conversation to a human.
    say(&server, &fan, &conversation, "can I get a refund?").await;
    let ack = socket
        .send_message(&topic, "ws-3", "Let me get someone for you.", None)
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    say(&server, &fan, &conversation, "ok thanks").await;
    expect_refused(&server, &bot, &conversation).await;
    let error = socket
        .send_message(&topic, "ws-4", "Still here!", None)
        .await;
    assert_eq!(error["code"], "bot_rule_violation", "{error}");
    settle(&server).await;
    // The team sees one hand-off entry right after the bot's last reply; the fan nothing.
    let team = server.history(&supervisor, &conversation).await;
    let entries = handoffs(&team);
    assert_eq!(entries.len(), 1, "{team:?}");
    let entry = entries[0];
    assert_eq!(
        (
            entry["visibility"].as_str(),
            entry["author"]["kind"].as_str(),
            entry["author"]["id"].as_str(),
            entry["automated"].as_bool()
        ),
        (
            Some("internal"),
            Some("system"),
            Some(bot_id.as_str()),
            Some(false)
        )
    );
    assert_eq!(
        entry["body"],
        "Handed to a human after 2 automated exchanges with Helper"
    );
    let last_reply = team
        .iter()
        .find(|message| message["body"] == "Let me get someone for you.")
        .unwrap();
    assert_eq!(entry["seq"], last_reply["seq"].as_u64().unwrap() + 1);
    let (history, bytes) = server.history_with_bytes(&fan, &conversation).await;
    assert!(!contains(&bytes, "Handed to") && !contains(&bytes, "bot_handoff"));
    assert!(!contains(&bytes, "bot note"));
    let automated: Vec<bool> = history
        .iter()
        .filter(|message| message["author"]["kind"] == "bot")
        .map(|message| message["automated"] == true)
        .collect();
    assert_eq!(automated, vec![true, true, true]);
    // Queued for a human like any opening.
    assert!(queued_ids(&queue(&server, &supervisor).await).contains(&conversation.as_str()));
    // A human still answers; resolved and reopened, the bot may answer again.
    server
        .post_message(
            &supervisor,
            &conversation,
            &client_id(),
            "Hi, I'm Sam.",
            None,
        )
        .await
        .expect_status(201);
    for action in ["/resolve", "/reopen"] {
        let path = format!("/api/v1/conversations/{conversation}{action}");
        server
            .http()
            .post_empty(&path, Some(&supervisor))
            .await
            .expect_status(200);
    }
    say(&server, &fan, &conversation, "one more question").await;
    let (status, body) = bot_says(&server, &bot, &conversation, "Sure, ask away.").await;
    assert_eq!(status, 201, "{body}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_bot_sends_exactly_one_is_accepted() {
    let server = TestServer::spawn().await;
    set_max_exchanges(&server, 20).await;
    let (first_bot, _) = server.create_member("bot").await;
    let (second_bot, _) = server.create_member("bot").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    for round in 0..6 {
        say(&server, &fan, &conversation, &format!("question {round}")).await;
        let sends = [first_bot.clone(), second_bot.clone()].map(|bot| {
            let http = server.http().clone();
            let path = format!("/api/v1/conversations/{conversation}/messages");
            tokio::spawn(async move {
                let body = json!({"client_msg_id": client_id(), "body": "an answer"});
                http.post(&path, Some(&bot), body).await
            })
        });
        let mut statuses = Vec::new();
        for send in sends {
            let reply = send.await.expect("send");
            if reply.status == 422 {
                assert_eq!(reply.json["error"]["code"], "bot_rule_violation");
            }
            statuses.push(reply.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, vec![201, 422], "round {round}");
    }
    let history = server.history(server.owner_token(), &conversation).await;
    let public: Vec<&str> = history
        .iter()
        .filter(|message| message["visibility"] == "public")
        .map(|message| message["author"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(public, ["fan", "bot"].repeat(6));
    server.shutdown().await;
}

/// A server on a manual clock starting now (WebSocket sessions expire on the wall clock).
async fn manual_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let week = Duration::from_secs(7 * 24 * 3600);
    let config = Config {
        desk: DeskConfig::default(),
        member_token_ttl: week,
        fan_token_ttl: week,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    (server, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handoff_is_routed_timed_and_measured_from_itself() {
    let (server, clock) = manual_server().await;
    set_max_exchanges(&server, 1).await;
    let (bot, _) = server.create_member("bot").await;
    let (agent, agent_id) = server.create_member("agent").await;
    let (supervisor, _) = server.create_member("supervisor").await;
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    let from = clock.now().to_string();
    say(
        &server,
        &fan,
        &conversation,
        "is my order shipped? else I want a refund",
    )
    .await;
    settle(&server).await;
    clock.advance(Duration::from_secs(5));
    let handed_at = clock.now();
    let (status, body) = bot_says(
        &server,
        &bot,
        &conversation,
        "Checking… a human will follow up.",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    settle(&server).await;
    let team = server.history(&supervisor, &conversation).await;
    let entry = handoffs(&team)[0];
    let stored_at = jiff::Timestamp::from_microsecond(handed_at.as_microsecond()).unwrap();
    assert_eq!(entry["created_at"], stored_at.to_string());
    // Queued like any opening: scored with what the fan told the bot (urgent intent), its
    // SLA due 60 s after the hand-off.
    let entries = queue(&server, &supervisor).await;
    let entry = entries
        .iter()
        .find(|entry| entry["conversation_id"] == conversation.as_str())
        .expect("queued");
    let inputs: Vec<&str> = entry["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|input| input["name"].as_str())
        .collect();
    assert!(inputs.contains(&"intent"), "{entry}");
    let due = stored_at
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    assert_eq!(entry["sla_due_at"], due.to_string(), "{entry}");
    // The SLA clock runs from the hand-off: nothing at 59 s after it, an alert at 61 s
    // (the first fan message's timer, due 55 s after the hand-off, belongs to the
    // retired opening and raises nothing).
    let mut watcher = WsClient::connect(&server, &supervisor).await;
    watcher.subscribe("alerts", None).await.expect("alerts");
    clock.advance(Duration::from_secs(59));
    server.app().run_due_jobs().await.unwrap();
    let quiet = watcher.drain(Duration::from_millis(300)).await;
    assert!(
        !quiet
            .iter()
            .any(|frame| frame["event"]["alert"]["kind"] == "sla_breach"),
        "{quiet:?}"
    );
    clock.advance(Duration::from_secs(2));
    let raised = watcher
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["alert"]["kind"] == "sla_breach"
        })
        .await;
    assert_eq!(
        raised["event"]["alert"]["conversation_id"],
        conversation.as_str()
    );
    // Routed: an agent coming on shift is given the handed-off conversation.
    punch(&server, &agent, "clock-in").await;
    settle(&server).await;
    assert_eq!(
        assignee(&server, &conversation).await,
        Some(agent_id.clone())
    );
    // The agent answers 70 s after the hand-off (75 s after the fan's message): FRT 70 s.
    clock.advance(Duration::from_secs(9));
    say(&server, &agent, &conversation, "Hi, it shipped yesterday!").await;
    clock.advance(Duration::from_secs(1));
    let to = clock.now().to_string();
    let path = format!("/api/v1/metrics/summary?from={from}&to={to}&group_by=agent");
    let reply = server.http().get(&path, Some(&supervisor)).await;
    reply.expect_status(200);
    let groups = reply.json["groups"].as_array().unwrap();
    let answered: Vec<(Value, Value, Value)> = groups
        .iter()
        .map(|group| {
            (
                group["key"].clone(),
                group["first_response_secs"]["count"].clone(),
                group["first_response_secs"]["mean"].clone(),
            )
        })
        .collect();
    assert!(
        answered.contains(&(json!(agent_id), json!(1), json!(70.0))),
        "{answered:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_away_message_is_an_automated_message_under_the_rules() {
    // Off hours: a shift exists but nobody is on it, so the desk sends the away message.
    let (server, clock) = manual_server().await;
    let (_, agent_id) = server.create_member("agent").await;
    let (bot, _) = server.create_member("bot").await;
    let hour = (clock.now().as_second() / 3600) % 24;
    let shift = json!({"name": "Later", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": format!("{:02}:00", (hour + 3) % 24), "end": format!("{:02}:00", (hour + 4) % 24),
        "member_ids": [agent_id]});
    let created = server
        .http()
        .post("/api/v1/shifts", Some(server.owner_token()), shift)
        .await;
    assert!(created.status == 201, "{}", created.json);
    let (fan, _) = server.fan_session("Fan").await;
    let conversation = server.open_conversation(&fan).await;
    say(&server, &fan, &conversation, "hello?").await;
    settle(&server).await;
    let history = server.history(&fan, &conversation).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1]["automated"], true);
    // The away message was the automated reply: a bot may not add a second in a row.
    expect_refused(&server, &bot, &conversation).await;
    server.shutdown().await;
}
