//! The rows the fold maintains: one per conversation opening (first response), one per
//! public human team message (reply rate), one per resolution (resolution rate and
//! conversation length). The store persists them as they are (migration 0005).

use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use serde::Serialize;

/// What started an opening (docs/metrics.md › Openings: creation, reopen, or bot
/// hand-off to a human).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpeningKind {
    Created,
    Reopened,
    Handoff,
}

impl OpeningKind {
    pub const ALL: [OpeningKind; 3] = [
        OpeningKind::Created,
        OpeningKind::Reopened,
        OpeningKind::Handoff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpeningKind::Created => "created",
            OpeningKind::Reopened => "reopened",
            OpeningKind::Handoff => "handoff",
        }
    }

    pub fn parse(text: &str) -> Option<OpeningKind> {
        OpeningKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// One opening of a conversation and its first response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Opening {
    /// `{conversation}#{number}`: stable across replays.
    pub id: String,
    pub conversation: ConversationId,
    /// 1 for the creation, then one more per reopen or hand-off.
    pub number: u32,
    pub kind: OpeningKind,
    pub opened_at: Timestamp,
    /// The fan message that counts for this opening: the first one after it, or for a
    /// hand-off the oldest one still waiting for a human when it happened.
    pub first_fan_at: Option<Timestamp>,
    /// When the FRT clock started: the first fan message after the opening, or the
    /// hand-off itself (docs/metrics.md › First response time). The opening belongs to
    /// the period, day and shift of this instant.
    pub clock_at: Option<Timestamp>,
    /// The first public reply of any kind (automated included) after the clock started.
    pub first_touch_at: Option<Timestamp>,
    /// The first public reply by a human team member after the clock started.
    pub replied_at: Option<Timestamp>,
    /// Who gave that reply, assigned or not (docs/metrics.md: credit the replier).
    pub replier: Option<MemberId>,
    /// `replied_at − clock_at` in milliseconds.
    pub frt_ms: Option<i64>,
    /// FRT over the SLA target in force when the reply was given (docs/metrics.md › SLA
    /// breach).
    pub breached: bool,
    /// Whether this is the conversation's current opening (the one later events update).
    pub latest: bool,
}

impl Opening {
    /// `first_touch_at − clock_at` in milliseconds.
    pub fn first_touch_ms(&self) -> Option<i64> {
        Some(millis_between(self.clock_at?, self.first_touch_at?))
    }
}

/// One public message by a human team member, and whether the fan answered it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamMessage {
    /// The message id.
    pub id: String,
    pub conversation: ConversationId,
    pub author: MemberId,
    pub sent_at: Timestamp,
    /// The fan's next public message, set only when it came within the reply window
    /// (docs/metrics.md › Reply rate: answered by the fan within 24 h).
    pub answered_at: Option<Timestamp>,
}

/// One resolution of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The id of the timeline entry that resolved it.
    pub id: String,
    pub conversation: ConversationId,
    pub resolved_at: Timestamp,
    /// Whether the conversation had ever been escalated by then (docs/metrics.md ›
    /// Resolution rate: resolved conversations that were never escalated).
    pub escalated: bool,
    /// Who held the conversation when it was resolved.
    pub assignee: Option<MemberId>,
    /// Public messages in the conversation by then (docs/metrics.md › Mean
    /// conversation length: public messages per conversation).
    pub public_messages: u64,
}

/// Whole milliseconds from `from` to `to`, never negative: two writes of one batch may
/// carry clock readings a hair out of order, and a reply is never faster than instant.
pub(crate) fn millis_between(from: Timestamp, to: Timestamp) -> i64 {
    ((to.as_microsecond() - from.as_microsecond()) / 1_000).max(0)
}
