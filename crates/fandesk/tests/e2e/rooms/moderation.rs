//! Room moderation end to end: slow mode, deletions (a fan never sees a deleted message's
//! body after a resume — raw bytes are scanned) and timeouts.

use super::{Venue, seqs, timeline_until};
use crate::e2e::support::{assert_dense_from, client_id, contains};
use fandesk_testkit::{DEFAULT_TIMEOUT, WsClient, random_hex};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_mode_limits_fans_but_not_the_team() {
    let venue = Venue::new(60).await;
    let topic = venue.topic();
    let mut socket = WsClient::connect(&venue.server, &venue.fan).await;
    assert_eq!(
        socket.send_message(&topic, "s-1", "first", None).await["type"],
        "ack"
    );
    let refused = socket.send_message(&topic, "s-2", "too soon", None).await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some("rate_limited")),
        "{refused}"
    );
    assert_eq!(refused["ref"], "s-2");
    venue
        .post(&venue.fan, "s-3", "still too soon")
        .await
        .expect_error(429, "rate_limited");
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    venue
        .post(&other_fan, &client_id(), "my first")
        .await
        .expect_status(201);
    for _ in 0..3 {
        venue
            .post(&venue.agent, &client_id(), "team is exempt")
            .await
            .expect_status(201);
    }
    let (messages, _) = venue.messages(&venue.agent).await;
    assert_eq!(messages.len(), 5, "refused sends take no seq");
    assert_dense_from(
        &messages
            .iter()
            .map(|message| message["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        1,
    );
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_never_sees_a_deleted_body_after_resuming() {
    let venue = Venue::new(0).await;
    let topic = venue.topic();
    let canary = format!("canary-{}", random_hex());
    let mut live_fan = venue.viewer(&venue.fan, Some(0)).await;
    let mut moderator = venue.viewer(&venue.agent, None).await;
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    venue
        .post(&other_fan, &client_id(), "before")
        .await
        .expect_status(201);
    let doomed = venue
        .post(&other_fan, &client_id(), &format!("rude {canary}"))
        .await;
    doomed.expect_status(201);
    let doomed_id = doomed.json["id"].as_str().expect("id").to_owned();
    venue
        .post(&other_fan, &client_id(), "after")
        .await
        .expect_status(201);

    let deleted = venue
        .server
        .http()
        .post_empty(
            &venue.path(&format!("/messages/{doomed_id}/delete")),
            Some(&venue.agent),
        )
        .await;
    deleted.expect_status(200);
    assert_eq!(deleted.json["deleted"], true);
    // Deleting again is harmless and takes no seq; fans may not delete.
    let again = venue
        .server
        .http()
        .post_empty(
            &venue.path(&format!("/messages/{doomed_id}/delete")),
            Some(&venue.agent),
        )
        .await;
    again.expect_status(200);
    let path = venue.path(&format!("/messages/{doomed_id}/delete"));
    venue
        .server
        .http()
        .post_empty(&path, Some(&venue.fan))
        .await
        .expect_error(403, "forbidden");
    venue
        .post(&other_fan, &client_id(), "last")
        .await
        .expect_status(201);

    // Live viewers get message.deleted with the next seq; only the team learns who.
    let live = timeline_until(&mut live_fan, &topic, 5).await;
    assert_eq!(seqs(&live), [1, 2, 3, 4, 5]);
    assert_eq!(
        live[3]["event"],
        json!({"kind": "message.deleted", "message_id": doomed_id})
    );
    let team = timeline_until(&mut moderator, &topic, 5).await;
    assert!(team[3]["event"]["deleted_by"].is_string(), "{}", team[3]);

    // A fan resuming from before the message (and a fresh fan) replay a tombstone.
    let mut resumed = venue.viewer(&venue.fan, Some(1)).await;
    let replay = timeline_until(&mut resumed, &topic, 5).await;
    assert_eq!(seqs(&replay), [2, 3, 4, 5]);
    let tombstone = &replay[0]["event"]["message"];
    assert_eq!(
        (
            tombstone["id"].as_str(),
            &tombstone["deleted"],
            &tombstone["body"]
        ),
        (Some(doomed_id.as_str()), &json!(true), &json!(""))
    );
    assert_eq!(replay[2]["event"]["kind"], "message.deleted");
    assert!(
        !contains(resumed.received(), &canary),
        "resumed fan received the deleted body"
    );
    let mut newcomer = venue.viewer(&other_fan, Some(0)).await;
    timeline_until(&mut newcomer, &topic, 5).await;
    assert!(
        !contains(newcomer.received(), &canary),
        "new fan received the deleted body"
    );
    let (messages, bytes) = venue.messages(&venue.fan).await;
    assert!(
        !contains(&bytes, &canary),
        "REST leaked the deleted body to a fan"
    );
    assert_eq!(
        messages.len(),
        4,
        "REST lists messages only (the deletion's seq is skipped)"
    );
    // The team keeps the body for review.
    let (messages, _) = venue.messages(&venue.agent).await;
    let kept = messages
        .iter()
        .find(|message| message["id"] == doomed_id.as_str())
        .expect("kept");
    assert!(kept["body"].as_str().unwrap().contains(&canary) && kept["deleted"] == true);
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_fans_are_refused_until_lifted() {
    let venue = Venue::new(0).await;
    let topic = venue.topic();
    let (other_fan, _) = venue.server.fan_session("Fan Two").await;
    let mut moderator = venue.viewer(&venue.agent, None).await;
    let mut bystander = venue.viewer(&other_fan, None).await;
    let timeouts = venue.path("/timeouts");
    let request = json!({"fan_id": venue.fan_id, "seconds": 600});
    venue
        .server
        .http()
        .post(&timeouts, Some(&other_fan), request.clone())
        .await
        .expect_error(403, "forbidden");
    let reply = venue
        .server
        .http()
        .post(&timeouts, Some(&venue.agent), request)
        .await;
    reply.expect_status(200);
    assert_eq!(reply.json["fan_id"], venue.fan_id.as_str());
    let unknown = json!({"fan_id": "fan_nope", "seconds": 60});
    venue
        .server
        .http()
        .post(&timeouts, Some(&venue.agent), unknown)
        .await
        .expect_error(404, "not_found");

    let mut socket = WsClient::connect(&venue.server, &venue.fan).await;
    let refused = socket
        .send_message(&topic, "t-1", "let me talk", None)
        .await;
    assert_eq!(
        (refused["code"].as_str(), refused["ref"].as_str()),
        (Some("forbidden"), Some("t-1")),
        "{refused}"
    );
    venue
        .post(&venue.fan, "t-2", "please")
        .await
        .expect_error(403, "forbidden");
    venue
        .post(&other_fan, &client_id(), "others talk on")
        .await
        .expect_status(201);
    let notice = moderator
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "fan.timed_out"
        })
        .await;
    assert_eq!(notice["event"]["fan_id"], venue.fan_id.as_str());

    let lift = json!({"fan_id": venue.fan_id, "seconds": 0});
    venue
        .server
        .http()
        .post(&timeouts, Some(&venue.agent), lift)
        .await
        .expect_status(200);
    assert_eq!(
        socket.send_message(&topic, "t-3", "thanks", None).await["type"],
        "ack"
    );
    timeline_until(&mut bystander, &topic, 2).await;
    assert!(
        !contains(bystander.received(), "timed_out"),
        "fans never hear of timeouts"
    );
    venue.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_changes_slow_mode_and_viewers_are_told_at_once() {
    let venue = Venue::new(0).await;
    let http = venue.server.http();
    let slow_mode = venue.path("/slow-mode");
    let mut watching = venue.viewer(&venue.fan, None).await;
    for key in ["f-1", "f-2"] {
        venue
            .post(&venue.fan, key, "quick")
            .await
            .expect_status(201);
    }

    // Who may, and what is a valid interval.
    http.post(&slow_mode, Some(&venue.fan), json!({"slow_mode_secs": 60}))
        .await
        .expect_error(403, "forbidden");
    let (bot, _) = venue.server.create_member("bot").await;
    http.post(&slow_mode, Some(&bot), json!({"slow_mode_secs": 60}))
        .await
        .expect_error(403, "forbidden");
    let too_slow = http
        .post(
            &slow_mode,
            Some(&venue.agent),
            json!({"slow_mode_secs": 3601}),
        )
        .await;
    too_slow.expect_error(422, "invalid_request");
    assert_eq!(too_slow.json["error"]["details"]["field"], "slow_mode_secs");
    http.post(
        &slow_mode,
        Some(&venue.agent),
        json!({"slow_mode_secs": -1}),
    )
    .await
    .expect_error(422, "invalid_request");
    http.post(
        "/api/v1/rooms/missing/slow-mode",
        Some(&venue.agent),
        json!({"slow_mode_secs": 5}),
    )
    .await
    .expect_error(404, "not_found");

    // A moderator turns it on: viewers are told, the fan's next post waits.
    let set = http
        .post(
            &slow_mode,
            Some(&venue.agent),
            json!({"slow_mode_secs": 60}),
        )
        .await;
    set.expect_status(200);
    assert_eq!(set.json["slow_mode_secs"], 60);
    let updated = watching
        .recv_matching(DEFAULT_TIMEOUT, |frame| {
            frame["event"]["kind"] == "room.updated"
        })
        .await;
    assert_eq!(updated["event"]["room"]["slow_mode_secs"], 60, "{updated}");
    assert!(updated.get("seq").is_none(), "room.updated is ephemeral");
    venue
        .post(&venue.fan, "f-3", "too soon")
        .await
        .expect_error(429, "rate_limited");
    let room = http.get(&venue.path(""), Some(&venue.fan)).await;
    assert_eq!(room.json["slow_mode_secs"], 60);

    // And off again.
    http.post(&slow_mode, Some(&venue.agent), json!({"slow_mode_secs": 0}))
        .await
        .expect_status(200);
    venue
        .post(&venue.fan, "f-4", "free again")
        .await
        .expect_status(201);
    venue.server.shutdown().await;
}
