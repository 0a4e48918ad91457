//! What the metrics fold consumes: one entry per thing that happened in a conversation,
//! with its time, actor and conversation (docs/metrics.md).

use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;

/// Who caused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Fan,
    /// A human team member (owner, supervisor, escalation lead, agent).
    Member(MemberId),
    /// A bot member: its public messages are automated (docs/product.md › Principles).
    Bot(MemberId),
    /// The server itself (creation of a conversation by a fan's request, a rule).
    System,
}

impl Actor {
    /// The member behind the event, human or bot.
    pub fn member(&self) -> Option<&MemberId> {
        match self {
            Actor::Member(id) | Actor::Bot(id) => Some(id),
            Actor::Fan | Actor::System => None,
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The conversation was created: its first opening (docs/metrics.md › Openings).
    Created,
    /// A resolved conversation was reopened: a new opening.
    Reopened,
    /// A bot handed the conversation to a human: a new opening whose clock starts at the
    /// hand-off (docs/metrics.md › First response time).
    BotHandoff,
    /// A public message from the fan.
    FanMessage,
    /// A public, non-automated message from a human team member: stops the FRT clock.
    HumanReply,
    /// A public automated message (a bot): gives first-touch time, does not stop the clock.
    AutomatedReply,
    /// An internal message (note, whisper, status entry): ignored by every metric.
    Internal,
    /// The conversation was escalated; it no longer counts as resolved without escalation.
    Escalated,
    /// The conversation was resolved; `assignee` is who held it then.
    Resolved { assignee: Option<MemberId> },
}

/// One event of a conversation's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The timeline entry's id (the message id), or the conversation id for its creation;
    /// it names the records an event creates, so replays produce the same ids.
    pub id: String,
    pub conversation: ConversationId,
    pub at: Timestamp,
    pub actor: Actor,
    pub kind: EventKind,
}
