//! The WebSocket half of the matrix: every caller subscribes to each topic kind and sends
//! each client frame type, on their own object, another's and a missing one, over a
//! connection of its own; an `error` frame's code stands for the REST status it shares
//! (`unauthorized` 401, `forbidden` 403, `not_found` 404, `internal` 500) and the answer
//! is judged like a REST call's.

use super::expect::{Caller, Expect, Facts, Variant, expect, principal};
use super::table::{ConversationRule as R, Object, Who};
use super::world::{Target, World, client_id};
use super::{Answer, judge, variants};
use fandesk_domain::Capability as C;
use fandesk_testkit::{DEFAULT_TIMEOUT, Incoming, WsClient};
use serde_json::{Value, json};

/// A client frame the matrix sends.
#[derive(Clone, Copy, Debug)]
enum Frame {
    Subscribe,
    Send,
    Typing,
    Unsubscribe,
    Ping,
}

/// The topic a frame names, by kind.
#[derive(Clone, Copy, Debug)]
enum Topic {
    Conversation,
    Room,
    Event,
    Inbox,
    Alerts,
    Charter,
    Channel,
}

/// Every WebSocket operation with its class.
const OPERATIONS: &[(Frame, Topic, Who, Object)] = &[
    (
        Frame::Subscribe,
        Topic::Conversation,
        Who::Conversation(R::Read),
        Object::Conversation,
    ),
    (Frame::Subscribe, Topic::Room, Who::Signed, Object::Room),
    (Frame::Subscribe, Topic::Event, Who::Signed, Object::Event),
    (
        Frame::Subscribe,
        Topic::Inbox,
        Who::Holds(C::WatchInbox),
        Object::None,
    ),
    (
        Frame::Subscribe,
        Topic::Alerts,
        Who::Holds(C::WatchAlerts),
        Object::None,
    ),
    (
        Frame::Subscribe,
        Topic::Charter,
        Who::Holds(C::ReadCharter),
        Object::None,
    ),
    (
        Frame::Send,
        Topic::Conversation,
        Who::Conversation(R::Post),
        Object::Conversation,
    ),
    (Frame::Send, Topic::Room, Who::RoomPost, Object::Room),
    (
        Frame::Subscribe,
        Topic::Channel,
        Who::Holds(C::UseChannels),
        Object::Channel,
    ),
    (
        Frame::Send,
        Topic::Channel,
        Who::Holds(C::UseChannels),
        Object::Channel,
    ),
    (
        Frame::Typing,
        Topic::Conversation,
        Who::Conversation(R::Read),
        Object::Conversation,
    ),
    (Frame::Unsubscribe, Topic::Inbox, Who::Signed, Object::None),
    (Frame::Ping, Topic::Inbox, Who::Signed, Object::None),
];

fn topic_name(topic: Topic, target: &Target) -> String {
    let id = || target.params[0].1.clone();
    match topic {
        Topic::Conversation => format!("conversation:{}", id()),
        Topic::Room => format!("room:{}", id()),
        Topic::Event => format!("event:{}", id()),
        Topic::Inbox => "inbox".into(),
        Topic::Alerts => "alerts".into(),
        Topic::Charter => "charter".into(),
        Topic::Channel => format!("channel:{}", id()),
    }
}

/// The REST status an answer stands for.
fn status_of(frame: &Value) -> u16 {
    match frame["code"].as_str() {
        _ if frame["type"] != "error" => 200,
        Some("unauthorized") => 401,
        Some("forbidden") => 403,
        Some("not_found") => 404,
        Some("internal") => 500,
        _ => 400,
    }
}

/// Sends `frame` and waits for the answer `wanted` accepts or an `error`; a close counts
/// as `unauthorized` when its code is 4001 and as a server error otherwise.
async fn exchange(client: &mut WsClient, frame: Value, wanted: impl Fn(&Value) -> bool) -> Answer {
    client.send_json(&frame).await;
    loop {
        match client.next_incoming(DEFAULT_TIMEOUT).await {
            Incoming::Frame(frame) if frame["type"] == "error" || wanted(&frame) => {
                return Answer {
                    status: status_of(&frame),
                    code: frame["code"].as_str().map(str::to_owned),
                };
            }
            Incoming::Frame(_) => continue,
            Incoming::Closed(closed) => {
                let status = if closed.code == Some(4001) { 401 } else { 599 };
                return Answer {
                    status,
                    code: Some(format!("closed {closed:?}")),
                };
            }
        }
    }
}

async fn call(world: &World, frame: Frame, topic: &str, token: Option<&str>) -> Answer {
    let mut client = match WsClient::connect_url(&world.server.ws_url(), token, None).await {
        Ok(client) => client,
        Err(error) => panic!("WebSocket connect failed: {error:?}"),
    };
    let answer = match frame {
        Frame::Subscribe => {
            let request = json!({"type": "subscribe", "topic": topic});
            exchange(&mut client, request, |answer| {
                answer["type"] == "subscribed" && answer["topic"] == topic
            })
            .await
        }
        Frame::Send => {
            let id = client_id();
            let request = json!({"type": "send", "topic": topic, "client_msg_id": id,
                "body": "hello"});
            exchange(&mut client, request, |answer| {
                answer["type"] == "ack" && answer["client_msg_id"] == id.as_str()
            })
            .await
        }
        Frame::Typing => {
            // Typing answers nothing when let in: a ping after it tells.
            client
                .send_json(&json!({"type": "typing", "topic": topic}))
                .await;
            exchange(&mut client, json!({"type": "ping"}), |answer| {
                answer["type"] == "pong"
            })
            .await
        }
        Frame::Unsubscribe => {
            let request = json!({"type": "unsubscribe", "topic": topic});
            exchange(&mut client, request, |answer| {
                answer["type"] == "unsubscribed"
            })
            .await
        }
        Frame::Ping => {
            exchange(&mut client, json!({"type": "ping"}), |answer| {
                answer["type"] == "pong"
            })
            .await
        }
    };
    client.abort();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_on_every_socket_operation_gets_what_the_domain_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut cells = 0;
    for &(frame, topic, who, object) in OPERATIONS {
        for caller in Caller::ALL {
            for variant in variants(object, caller) {
                let actor = world.actor(caller, false).await;
                let target = world.target(object, variant, &actor).await;
                let name = topic_name(topic, &target);
                let answer = call(&world, frame, &name, actor.token.as_deref()).await;
                let principal = principal(caller, &actor.id);
                let facts = Facts {
                    principal: principal.as_ref(),
                    conversation: target.conversation.as_ref(),
                    room: target.room,
                    missing: variant == Variant::Missing,
                    assignee: None,
                };
                let expected: Expect = expect(who, &facts);
                cells += 1;
                if let Some(why) = judge(expected, variant, caller, &answer) {
                    wrong.push(format!(
                        "{frame:?} {name} as {} on {variant:?}: {} {:?} — expected {expected:?}: {why}",
                        caller.label(),
                        answer.status,
                        answer.code
                    ));
                }
            }
        }
    }
    eprintln!("WebSocket authorization matrix: {cells} cells");
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    world.server.shutdown().await;
}
