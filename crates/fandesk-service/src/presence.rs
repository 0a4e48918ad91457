//! The collision view (PRODUCT.md › C1, issue 3 › 8): team members see who else is viewing
//! or typing in a conversation. These are ephemeral, team-only events: their fan frame is
//! `None`, so the fan-out never hands them to a fan (PRODUCT.md principle 2).

use crate::App;
use crate::error::ServiceResult;
use fandesk_bus::Event;
use fandesk_domain::{Principal, Topic};
use std::sync::Arc;

/// What a presence event says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceState {
    /// A team member opened the conversation (subscribed to it).
    Viewing,
    /// A team member left it (unsubscribed or disconnected).
    Left,
}

impl PresenceState {
    fn as_str(self) -> &'static str {
        match self {
            PresenceState::Viewing => "viewing",
            PresenceState::Left => "left",
        }
    }
}

impl App {
    /// Announces a team member's presence on a conversation topic. Fans are never
    /// announced, and other topics have no collision view.
    pub async fn announce_presence(
        &self,
        actor: &Principal,
        topic: &str,
        state: PresenceState,
    ) -> ServiceResult<()> {
        if actor.is_fan() || !topic.starts_with("conversation:") {
            return Ok(());
        }
        let event = serde_json::json!({
            "kind": "presence", "member_id": actor.author_id(), "name": actor.name(),
            "state": state.as_str()
        });
        self.publish_team_only(topic, event);
        Ok(())
    }

    /// Announces that `actor` (a team member or the conversation's fan) is typing. Team
    /// members see it; fans never do.
    pub async fn announce_typing(&self, actor: &Principal, topic: &str) -> ServiceResult<()> {
        let Topic::Conversation(id) = Topic::parse(topic)? else {
            return Err(crate::ServiceError::invalid(
                "topic",
                "typing takes a conversation:{id} topic",
            ));
        };
        self.readable_conversation(actor, id.as_str()).await?;
        let (who, id_field) = if actor.is_fan() {
            ("fan", "fan_id")
        } else {
            ("member", "member_id")
        };
        let mut event = serde_json::json!({
            "kind": "typing", "name": actor.name(),
            "author": {"id": actor.author_id(), "kind": who, "name": actor.name()}
        });
        event[id_field] = serde_json::Value::from(actor.author_id());
        self.publish_team_only(topic, event);
        Ok(())
    }

    fn publish_team_only(&self, topic: &str, event: serde_json::Value) {
        let frame = serde_json::json!({"type": "event", "topic": topic, "event": event});
        self.bus().publish(Arc::new(Event {
            topic: topic.to_owned(),
            seq: None,
            public_seq: None,
            team: bytes::Bytes::from(frame.to_string()),
            fan: None,
        }));
    }
}
