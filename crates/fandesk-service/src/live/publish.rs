//! Publishing on the bus: the only place a [`fandesk_bus::Event`] is built. A timeline
//! event carries its `seq` (team numbering) and `public_seq` (fans' numbering, `None` when
//! fans must not see it); an ephemeral one carries neither. Each carries its frame per
//! audience, encoded once (`live::frame`); a `None` fan frame means fans never receive it
//! (docs/product.md: fans never see internal content).

use crate::App;
use crate::live::event::ServerEvent;
use crate::live::frame::{conversation_frame, encode};
use bytes::Bytes;
use fandesk_bus::{Bus, Event};
use fandesk_domain::{Audience, Topic};
use fandesk_store::ConversationRow;
use std::sync::Arc;

/// One event's frames: the team's, and the fans' when fans may receive it.
pub(crate) struct Frames {
    pub team: Bytes,
    pub fan: Option<Bytes>,
}

impl Frames {
    /// Team-only: fans never receive it.
    pub(crate) fn team_only(team: Bytes) -> Frames {
        Frames { team, fan: None }
    }

    /// The same frame for every audience (nothing in it is team-only).
    pub(crate) fn shared(frame: Bytes) -> Frames {
        Frames {
            team: frame.clone(),
            fan: Some(frame),
        }
    }
}

/// A timeline event, replayed on resume: numbered `seq` for the team and `public_seq` for
/// fans.
pub(crate) fn publish_timeline(
    bus: &dyn Bus,
    topic: String,
    seq: u64,
    public_seq: Option<u64>,
    frames: Frames,
) {
    bus.publish(timeline_event(topic, seq, public_seq, frames));
}

/// A timeline event as [`publish_timeline`] sends it; also how the multi-node bus's gap
/// fill (`live::gap_fill`) rebuilds one from its stored row, so the two are identical.
pub(crate) fn timeline_event(
    topic: String,
    seq: u64,
    public_seq: Option<u64>,
    frames: Frames,
) -> Arc<Event> {
    Arc::new(Event {
        topic,
        seq: Some(seq),
        public_seq,
        team: frames.team,
        fan: frames.fan,
    })
}

/// An ephemeral event: no `seq`, never replayed.
pub(crate) fn publish_ephemeral(bus: &dyn Bus, topic: String, frames: Frames) {
    bus.publish(ephemeral(topic, frames));
}

/// An ephemeral event for this node's subscribers only: one that every node derives for
/// itself (the cluster-wide viewer counts), which other nodes must not receive twice.
pub(crate) fn publish_ephemeral_here(bus: &dyn Bus, topic: String, frames: Frames) {
    bus.publish_local(ephemeral(topic, frames));
}

fn ephemeral(topic: String, frames: Frames) -> Arc<Event> {
    Arc::new(Event {
        topic,
        seq: None,
        public_seq: None,
        team: frames.team,
        fan: frames.fan,
    })
}

/// An ephemeral, team-only event.
pub(crate) fn publish_team(bus: &dyn Bus, topic: &str, event: &ServerEvent<'_>) {
    let frames = Frames::team_only(encode(topic, None, event));
    publish_ephemeral(bus, topic.to_owned(), frames);
}

/// Who is told of a conversation change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Audiences {
    /// A change only the team's view shows (assignee, escalation, observer).
    Team,
    /// A change the fan's view shows too (its status, or its opening).
    TeamAndFan,
}

/// `conversation.updated` to the conversation's subscribers and to the team's `inbox`.
/// Fans get the fan-safe view, and only for `Audiences::TeamAndFan`: a content-free
/// update on an internal change would tell them that routing happened.
pub(crate) fn publish_conversation(
    bus: &dyn Bus,
    conversation: &ConversationRow,
    audiences: Audiences,
) {
    let topic = Topic::Conversation(conversation.id.clone()).to_string();
    let frames = Frames {
        team: conversation_frame(&topic, conversation, Audience::Team),
        fan: (audiences == Audiences::TeamAndFan)
            .then(|| conversation_frame(&topic, conversation, Audience::Fan)),
    };
    publish_ephemeral(bus, topic, frames);
    publish_inbox_conversation(bus, conversation);
}

/// `conversation.updated` on the team's `inbox` only (a change fans do not see, such as
/// the priority).
pub(crate) fn publish_inbox_conversation(bus: &dyn Bus, conversation: &ConversationRow) {
    let inbox = Topic::Inbox.to_string();
    let frames = Frames::team_only(conversation_frame(&inbox, conversation, Audience::Team));
    publish_ephemeral(bus, inbox, frames);
}

impl App {
    /// An ephemeral, team-only event on `topic`.
    pub(crate) fn publish_team(&self, topic: &str, event: &ServerEvent<'_>) {
        publish_team(self.bus().as_ref(), topic, event);
    }
}
