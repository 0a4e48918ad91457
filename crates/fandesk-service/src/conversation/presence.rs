//! The collision view (docs/product.md › Conversations; README.md › Agent desk): team
//! members see who else is viewing or typing in a conversation. These are ephemeral,
//! team-only events: they have no fan frame, so the fan-out never hands them to a fan.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::view::AuthorView;
use crate::live::event::{PresenceState, ServerEvent};
use fandesk_domain::{Principal, Topic};

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
        let event = ServerEvent::Presence {
            member_id: actor.author_id(),
            name: actor.name(),
            state,
        };
        self.publish_team(topic, &event);
        Ok(())
    }

    /// Announces that `actor` (a team member or the conversation's fan) is typing. Team
    /// members see it; fans never do.
    pub async fn announce_typing(&self, actor: &Principal, topic: &str) -> ServiceResult<()> {
        let Topic::Conversation(id) = Topic::parse(topic)? else {
            return Err(ServiceError::invalid(
                "topic",
                "typing takes a conversation:{id} topic",
            ));
        };
        self.readable_conversation(actor, id.as_str()).await?;
        let fan = actor.is_fan();
        let event = ServerEvent::Typing {
            name: actor.name(),
            author: AuthorView {
                id: actor.author_id().to_owned(),
                kind: if fan { "fan" } else { "member" }.to_owned(),
                name: actor.name().to_owned(),
            },
            member_id: (!fan).then(|| actor.author_id()),
            fan_id: fan.then(|| actor.author_id()),
        };
        self.publish_team(topic, &event);
        Ok(())
    }
}
