//! The delivery invariant as a property (docs/product.md › Principles, docs/api.md ›
//! WebSocket): for random interleavings of sends over REST and WebSocket, retries with the
//! same `client_msg_id`, dropped connections and resumes from the last seen `seq`, across
//! two or three conversations with a fan and an agent each,
//! - every acknowledged message is in the final history exactly once, in ack order per
//!   author, and a retry is answered with the original;
//! - every resumed subscriber sees each event of its audience exactly once, in `seq` order.
//!
//! Each case runs on a server of its own, inside its own tokio runtime.

use super::delivery_model::{Acked, Actor, Op};
use fandesk_testkit::TestServer;
use futures_util::future::join_all;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<bool>(), any::<bool>()).prop_map(|(ws, internal)| Op::Send { ws, internal }),
        2 => (any::<bool>(), any::<bool>()).prop_map(|(ws, new_body)| Op::Retry { ws, new_body }),
        1 => Just(Op::SendAndDrop),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Resume),
    ]
}

/// The number of conversations and rounds; in each round some actors (two per
/// conversation: the fan, then the agent) run one op each, concurrently.
fn scenario() -> impl Strategy<Value = (usize, Vec<Vec<Option<Op>>>)> {
    (2usize..=3).prop_flat_map(|conversations| {
        let round = prop::collection::vec(prop::option::weighted(0.7, op()), conversations * 2);
        (Just(conversations), prop::collection::vec(round, 3..10))
    })
}

async fn actors(server: &TestServer, conversations: usize) -> Vec<Actor> {
    let mut actors = Vec::new();
    for index in 0..conversations {
        let (fan, fan_id) = server.fan_session(&format!("Fan {index}")).await;
        let conversation = server.open_conversation(&fan).await;
        let (agent, agent_id) = server.create_member("agent").await;
        actors.push(Actor::new(
            format!("fan{index}"),
            true,
            fan,
            fan_id,
            conversation.clone(),
        ));
        actors.push(Actor::new(
            format!("agent{index}"),
            false,
            agent,
            agent_id,
            conversation,
        ));
    }
    for actor in &mut actors {
        actor.resume(server).await;
    }
    actors
}

/// `(id, seq, body, visibility)`: what delivery must preserve.
fn essence(message: &Value) -> (Value, Value, Value, Value) {
    (
        message["id"].clone(),
        message["seq"].clone(),
        message["body"].clone(),
        message["visibility"].clone(),
    )
}

async fn run(conversations: usize, rounds: Vec<Vec<Option<Op>>>) {
    let server = TestServer::spawn().await;
    let mut actors = actors(&server, conversations).await;
    for round in rounds {
        let steps = actors
            .iter_mut()
            .zip(round)
            .filter_map(|(actor, op)| Some(actor.apply(&server, op?)));
        join_all(steps).await;
    }
    let mut settled: HashMap<String, Vec<Acked>> = HashMap::new();
    for actor in &mut actors {
        settled.insert(actor.label.clone(), actor.settle(&server).await);
    }

    for pair in actors.chunks_mut(2) {
        let [fan, agent] = pair else {
            unreachable!("actors come in pairs")
        };
        let team = server.history(&agent.token, &agent.conversation).await;
        let public = server.history(&fan.token, &fan.conversation).await;
        let dense = |messages: &[Value]| {
            messages
                .iter()
                .enumerate()
                .all(|(i, m)| m["seq"] == i as u64 + 1)
        };
        assert!(dense(&team), "team history is dense: {team:?}");
        assert!(dense(&public), "fan history is dense: {public:?}");
        let team_public: Vec<Value> = team
            .iter()
            .filter(|m| m["visibility"] == "public")
            .map(|m| m["id"].clone())
            .collect();
        let fan_ids: Vec<Value> = public.iter().map(|m| m["id"].clone()).collect();
        assert_eq!(
            team_public, fan_ids,
            "the fan sees exactly the public messages, in order"
        );

        for actor in [&*fan, &*agent] {
            // Exactly once, in ack order, with the original body.
            let mut previous = 0;
            for acked in &actor.acked {
                assert!(
                    acked.seq > previous,
                    "{}: acks in seq order: {:?}",
                    actor.label,
                    actor.acked
                );
                previous = acked.seq;
            }
            for acked in actor.acked.iter().chain(&settled[&actor.label]) {
                let copies: Vec<&Value> = team
                    .iter()
                    .filter(|m| m["id"] == acked.message_id.as_str())
                    .collect();
                assert_eq!(
                    copies.len(),
                    1,
                    "{}: {} stored once",
                    actor.label,
                    acked.client_msg_id
                );
                assert_eq!(
                    copies[0]["body"],
                    acked.body.as_str(),
                    "{}: original body",
                    actor.label
                );
                assert_eq!(copies[0]["author"]["id"], actor.author_id.as_str());
                let keyed = team
                    .iter()
                    .filter(|m| m["client_msg_id"] == acked.client_msg_id.as_str())
                    .count();
                assert_eq!(
                    keyed, 1,
                    "{}: no duplicate of {}",
                    actor.label, acked.client_msg_id
                );
            }
        }
        let authored = |actor: &Actor| {
            team.iter()
                .filter(|m| m["author"]["id"] == actor.author_id.as_str())
                .count()
        };
        for actor in [&*fan, &*agent] {
            let acked = actor.acked.len() + settled[&actor.label].len();
            assert_eq!(
                authored(actor),
                acked,
                "{}: nothing stored that was not acked",
                actor.label
            );
        }

        // Every subscriber, resumed as often as it was, saw its whole timeline once.
        let team_last = team.len() as u64;
        let public_last = public.len() as u64;
        fan.catch_up(&server, public_last).await;
        agent.catch_up(&server, team_last).await;
        let seen = |actor: &Actor| actor.seen.iter().map(essence).collect::<Vec<_>>();
        assert_eq!(
            seen(fan),
            public.iter().map(essence).collect::<Vec<_>>(),
            "fan's events = fan history"
        );
        assert_eq!(
            seen(agent),
            team.iter().map(essence).collect::<Vec<_>>(),
            "agent's events = team history"
        );
    }
    server.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        max_shrink_iters: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn delivery_is_exactly_once_and_in_order((conversations, rounds) in scenario()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run(conversations, rounds));
    }
}
