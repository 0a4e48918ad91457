//! Room viewer counts across nodes: fans watching one room through two nodes are counted
//! together, every node's viewers get the same cluster-wide figures, and a fan who leaves
//! one node is no longer counted on the other.

use super::{node, postgres_server};
use fandesk_testkit::{DEFAULT_TIMEOUT, NatsServer, WsClient};
use serde_json::{Value, json};

fn viewers(current: u64, peak: u64, unique: u64) -> impl Fn(&Value) -> bool {
    move |frame: &Value| {
        frame["event"]
            == json!({"kind": "viewers", "current": current, "peak": peak, "unique": unique})
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_on_two_nodes_are_counted_together() {
    let Some(server) = postgres_server().await else {
        return;
    };
    let nats = NatsServer::start().await.expect("a NATS server");
    let a = node(&server, &nats, "node-a", None).await;
    let b = node(&server, &nats, "node-b", None).await;
    let owner = server.owner_token().to_owned();
    let room = server.open_room("Premiere").await;
    let topic = format!("room:{room}");

    // The team watches on each node (not counted); two fans on A, one on B.
    let mut team_on_a = WsClient::connect_url(&a.ws_url(), Some(&owner), None)
        .await
        .expect("team on A");
    team_on_a.subscribe(&topic, None).await.expect("subscribe");
    let mut team_on_b = WsClient::connect_url(&b.ws_url(), Some(&owner), None)
        .await
        .expect("team on B");
    team_on_b.subscribe(&topic, None).await.expect("subscribe");
    let mut fans = Vec::new();
    for (name, through) in [("Ann", &a), ("Bob", &a), ("Cy", &b)] {
        let (token, _) = server.fan_session(name).await;
        let mut socket = WsClient::connect_url(&through.ws_url(), Some(&token), None)
            .await
            .expect("fan socket");
        socket.subscribe(&topic, None).await.expect("subscribe");
        fans.push(socket);
    }
    team_on_a
        .recv_matching(DEFAULT_TIMEOUT, viewers(3, 3, 3))
        .await;
    team_on_b
        .recv_matching(DEFAULT_TIMEOUT, viewers(3, 3, 3))
        .await;
    // The fan on B hears the same figures as the team.
    fans[2]
        .recv_matching(DEFAULT_TIMEOUT, viewers(3, 3, 3))
        .await;

    // Ann leaves node A: node B counts two, and remembers the peak and the unique three.
    let ann = fans.remove(0);
    ann.abort();
    team_on_b
        .recv_matching(DEFAULT_TIMEOUT, viewers(2, 3, 3))
        .await;
    let view = b
        .http()
        .get(&format!("/api/v1/rooms/{room}"), Some(&owner))
        .await;
    view.expect_status(200);
    assert_eq!(
        view.json["viewers"],
        json!({"current": 2, "peak": 3, "unique": 3}),
        "{}",
        view.text()
    );

    for socket in fans {
        socket.close().await;
    }
    team_on_a.close().await;
    team_on_b.close().await;
    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await;
}
