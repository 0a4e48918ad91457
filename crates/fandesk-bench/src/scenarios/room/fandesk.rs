//! fandesk's side of the room scenarios: a room created and opened over REST by the
//! bootstrap owner (slow mode off), fan sessions for the viewers, and the publisher's
//! `send` frame (docs/api.md › WebSocket). The owner is a team member, so the room's
//! slow mode would not apply to it anyway; it is off so fans are treated alike too.

use crate::api::Api;
use anyhow::{Context, Result, bail};
use serde_json::json;

/// Fan sessions the viewers share (every upgrade is still authenticated by the server).
const VIEWER_TOKENS: usize = 100;

pub struct FandeskRoom {
    /// `room:{id}`.
    pub topic: String,
    /// The owner's token: may create, open and post in the room.
    pub publisher_token: String,
    /// Fan tokens for the viewers.
    pub viewer_tokens: Vec<String>,
}

/// Creates and opens a room as the owner and returns its topic, a token that may send in
/// it and fan tokens for the viewers.
pub async fn fandesk_room(server: std::net::SocketAddr, viewers: usize) -> Result<FandeskRoom> {
    let api = Api::new(server);
    let owner = api.owner_token().await?;
    let room = api
        .post(
            "/rooms",
            Some(&owner),
            json!({"title": "Bench premiere", "slow_mode_secs": 0}),
        )
        .await?;
    let id = room["id"].as_str().context("room has no id")?.to_owned();
    let opened = api
        .post(&format!("/rooms/{id}/open"), Some(&owner), json!({}))
        .await?;
    if opened["state"] != "open" || opened["slow_mode_secs"] != 0 {
        bail!("the bench room is not open without slow mode: {opened}");
    }
    let viewer_tokens = api.fans(VIEWER_TOKENS.min(viewers.max(1))).await?;
    Ok(FandeskRoom {
        topic: format!("room:{id}"),
        publisher_token: owner,
        viewer_tokens,
    })
}

/// The publisher's `send` frame for message `index`; `body` carries the harness stamp
/// (`t=<µs> i=<index> …`) that the viewers find inside the `message.created` event.
pub fn send_frame(topic: &str, index: u64, body: &str) -> String {
    json!({
        "type": "send",
        "topic": topic,
        "client_msg_id": format!("bench-{index}"),
        "body": body,
    })
    .to_string()
}

/// An error frame from the server (a refused send): the run cannot count as valid.
pub fn is_error_frame(payload: &[u8]) -> bool {
    payload.starts_with(b"{\"type\":\"error\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_frames_carry_the_stamp_the_viewers_parse() {
        let body = crate::stamp::body(7, 64);
        let frame = send_frame("room:r1", 7, &body);
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["type"], "send");
        assert_eq!(value["topic"], "room:r1");
        assert_eq!(value["client_msg_id"], "bench-7");
        let (_, index) = crate::stamp::find(frame.as_bytes()).unwrap();
        assert_eq!(index, 7);
        assert!(is_error_frame(br#"{"type":"error","code":"x"}"#));
        assert!(!is_error_frame(br#"{"type":"ack"}"#));
    }
}
