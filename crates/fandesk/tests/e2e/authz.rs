//! The authorization matrix: every documented operation is classified (`authz/table.rs`;
//! an unclassified one fails here), then called by every caller — each role of the
//! capability table, a fan, nobody — on the caller's own object, another's and a missing
//! one, against a real server. The expected answer is derived from the domain's rules
//! (`authz/expect.rs`); allowed calls are never 401/403, refused ones always are (or the
//! 404 the protocol gives for other fans' objects), missing objects are 404, nothing is a
//! 5xx, and a fan cannot tell another fan's object from a missing one. The WebSocket
//! operations get the same treatment in `authz/socket.rs`.

mod expect;
mod socket;
mod table;
mod world;

use expect::{Caller, Expect, Facts, Variant, expect, principal};
use fandesk_testkit::{Body, OWNER_EMAIL, OWNER_PASSWORD};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use table::{Classified, Object, TABLE, classify};
use world::{Actor, Target, World, api_token, client_id, event, flow, scheduled_message, webhook};

/// The reason every escalation in the matrix gives.
pub const ESCALATION_REASON: &str = "refund please";

/// `(method, path, operationId)` of every operation the server documents.
fn documented() -> Vec<(String, String, String)> {
    let document = serde_json::to_value(fandesk_http::openapi::document()).expect("document");
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if let Some(id) = operation["operationId"].as_str() {
                operations.push((method.to_uppercase(), path.clone(), id.to_owned()));
            }
        }
    }
    operations
}

#[test]
fn every_documented_operation_is_classified_and_nothing_else() {
    let operations = documented();
    assert!(operations.len() > 60, "{} operations", operations.len());
    let unclassified: Vec<String> = operations
        .iter()
        .filter(|(_, _, id)| classify(id).is_none())
        .map(|(method, path, id)| format!("{method} {path} ({id})"))
        .collect();
    assert!(
        unclassified.is_empty(),
        "operations with no authorization class in tests/e2e/authz/table.rs:\n{}",
        unclassified.join("\n")
    );
    for entry in TABLE {
        let found: Vec<_> = operations
            .iter()
            .filter(|(_, _, id)| id == entry.operation)
            .collect();
        assert_eq!(found.len(), 1, "{} is documented once", entry.operation);
        let path = &found[0].1;
        let names_object = path.contains('{');
        assert_eq!(
            names_object,
            entry.object != Object::None,
            "{} {path}: the object class matches the path",
            entry.operation
        );
    }
}

/// The instances of the object a caller tries.
fn variants(object: Object, caller: Caller) -> Vec<Variant> {
    match object {
        Object::None => vec![Variant::None],
        Object::Conversation => vec![Variant::Own, Variant::Other, Variant::Missing],
        Object::FanProfile if caller == Caller::Fan => {
            vec![Variant::Own, Variant::Other, Variant::Missing]
        }
        _ => vec![Variant::Other, Variant::Missing],
    }
}

/// The body and query string `operation` is sent with: valid input, so what decides the
/// answer is who calls.
async fn request(
    world: &World,
    operation: &str,
    actor: &Actor,
    target: &Target,
) -> (Option<Value>, String) {
    let body = match operation {
        "login" => json!({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}),
        "create_fan_session" => json!({"display_name": "Matrix fan"}),
        "create_member" => json!({"email": format!("m-{}@fandesk.test", client_id()),
            "name": "Matrix member", "role": "agent", "password": fandesk_testkit::MEMBER_PASSWORD}),
        // A harmless change: the member named is the other agent, whom other cells assign.
        "update_member" => json!({"name": "Other agent"}),
        "send_message" => json!({"client_msg_id": client_id(), "body": "hello"}),
        "assign" => json!({"member_id": world.assignee_for(actor)}),
        "escalate" => json!({"reason": ESCALATION_REASON}),
        "snooze" => {
            let until = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
            json!({"until": until.to_string()})
        }
        "create_keyword_rule" => {
            json!({"name": format!("rule {}", client_id()), "patterns": ["refund"]})
        }
        "create_restricted_rule" => {
            json!({"pattern": format!("w{}", &client_id()[2..12]), "action": "warn"})
        }
        "update_fan" => json!({"tags": ["vip"]}),
        "set_capacity" => json!({"max_concurrent": 3}),
        "create_shift" => {
            json!({"name": format!("shift {}", client_id()), "weekdays": ["tue"], "start": "08:00", "end": "10:00"})
        }
        "update_shift" => json!({"name": format!("renamed {}", client_id())}),
        "create_canned_response" => json!({"shortcut": format!("m{}", &client_id()[2..10]),
            "title": "Matrix", "body": "Hello there"}),
        "update_canned_response" => json!({"title": "Matrix renamed"}),
        "render" => json!({"conversation_id": world.base_conversation}),
        "create_room" => json!({"title": "Matrix room"}),
        "send_room_message" => json!({"client_msg_id": client_id(), "body": "hello room"}),
        "time_out" => json!({"fan_id": target.subject_fan, "seconds": 60}),
        "set_slow_mode" => json!({"slow_mode_secs": 5}),
        "save_charter" => json!({"toml": "", "base_version": world.charter_version().await}),
        "review_charter" => json!({"note": "checked"}),
        "create_webhook" => webhook(),
        "create_api_token" => api_token(),
        "create_flow" => flow(),
        "add_flow_version" => {
            let mut body = flow();
            body["base_version"] = json!(1);
            body
        }
        "activate_flow" => json!({}),
        "create_event" => event(),
        "record_conversion" => {
            json!({"fan_id": target.subject_fan, "kind": "purchase", "value_cents": 100})
        }
        "create_scheduled_message" | "preview_scheduled_message" => scheduled_message(),
        "update_event" => json!({"title": "Matrix renamed"}),
        "ask_question" => json!({"client_msg_id": client_id(), "body": "A matrix question?"}),
        "create_channel" => json!({"name": "Matrix channel", "purpose": "The matrix"}),
        "post_channel_message" => json!({"client_msg_id": client_id(), "body": "hello channel"}),
        "post_thread_summary" => json!({"body": "Matrix summary"}),
        "update_decision" => json!({"status": "done"}),
        _ => Value::Null,
    };
    let query = match operation {
        "summary" => "?from=2026-01-05T00:00:00Z&to=2026-01-12T00:00:00Z",
        "diff" => "?from=1&to=1",
        _ => "",
    };
    ((!body.is_null()).then_some(body), query.to_owned())
}

/// What one cell got.
struct Answer {
    status: u16,
    code: Option<String>,
}

fn concrete(path: &str, params: &[(&str, String)]) -> String {
    let mut path = path.to_owned();
    for (name, value) in params {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

/// Why `answer` breaks `expected`, if it does.
fn judge(expected: Expect, variant: Variant, caller: Caller, answer: &Answer) -> Option<String> {
    let status = answer.status;
    if status >= 500 {
        return Some("a server error".into());
    }
    match expected {
        Expect::Allowed if matches!(status, 401 | 403) => Some("allowed but refused".into()),
        Expect::Allowed if variant == Variant::Missing && status != 404 => {
            Some("missing but not 404".into())
        }
        Expect::Allowed => None,
        Expect::Refused if caller == Caller::Anonymous && status != 401 => {
            Some("anonymous but not 401".into())
        }
        Expect::Refused if !matches!(status, 401 | 403 | 404) => Some("refused but let in".into()),
        Expect::Refused => None,
        Expect::Hidden if status != 404 => Some("should be 404".into()),
        Expect::Hidden => None,
    }
}

async fn cell(
    world: &World,
    method: &str,
    path: &str,
    entry: &Classified,
    caller: Caller,
    variant: Variant,
) -> (Expect, Answer) {
    let actor = world.actor(caller, entry.operation == "logout").await;
    let target = world.target(entry.object, variant, &actor).await;
    let (body, query) = request(world, entry.operation, &actor, &target).await;
    let path = format!("{}{query}", concrete(path, &target.params));
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let reply = world
        .server
        .http()
        .request(method, &path, actor.token.as_deref(), body.map(Body::Json))
        .await;
    let principal = principal(caller, &actor.id);
    let assignee = world.assignee_for(&actor);
    let facts = Facts {
        principal: principal.as_ref(),
        conversation: target.conversation.as_ref(),
        room: target.room,
        missing: variant == Variant::Missing,
        assignee: Some((&assignee, world.role_of(&assignee))),
    };
    let answer = Answer {
        status: reply.status,
        code: reply.error_code().map(str::to_owned),
    };
    (expect(entry.who, &facts), answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_on_every_route_gets_what_the_domain_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    // A fan's answers on another's object and on a missing one, to compare.
    let mut fan_answers: BTreeMap<(String, &str), (u16, Option<String>)> = BTreeMap::new();
    for (method, path, operation) in documented() {
        let Some(entry) = classify(&operation) else {
            continue; // the classification test names it
        };
        for caller in Caller::ALL {
            for variant in variants(entry.object, caller) {
                let (expected, answer) = cell(&world, &method, &path, entry, caller, variant).await;
                *counts.entry("cells").or_default() += 1;
                *counts
                    .entry(match expected {
                        Expect::Allowed => "allowed",
                        Expect::Refused => "refused",
                        Expect::Hidden => "hidden",
                    })
                    .or_default() += 1;
                if let Some(why) = judge(expected, variant, caller, &answer) {
                    wrong.push(format!(
                        "{method} {path} as {} on {variant:?}: {} {:?} — expected {expected:?}: {why}",
                        caller.label(),
                        answer.status,
                        answer.code,
                    ));
                }
                let owned = matches!(entry.object, Object::Conversation | Object::FanProfile);
                if caller == Caller::Fan
                    && owned
                    && matches!(variant, Variant::Other | Variant::Missing)
                {
                    let key = (
                        operation.clone(),
                        if variant == Variant::Other {
                            "other"
                        } else {
                            "missing"
                        },
                    );
                    fan_answers.insert(key, (answer.status, answer.code));
                }
            }
        }
    }
    for ((operation, which), answer) in &fan_answers {
        if *which == "other" {
            let missing = &fan_answers[&(operation.clone(), "missing")];
            if answer != missing {
                wrong.push(format!(
                    "{operation}: a fan gets {answer:?} for another's object but {missing:?} for a missing one"
                ));
            }
        }
    }
    eprintln!("authorization matrix: {counts:?}");
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    world.server.shutdown().await;
}
