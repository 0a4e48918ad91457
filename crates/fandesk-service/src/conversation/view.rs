//! What clients see of conversations: the JSON of conversations and messages, per
//! audience. This is the one serializer of timeline content; its input is always filtered
//! by [`Audience::sees`] first (docs/product.md: fans never see internal content). Their
//! event frames are built from these views in `live::frame`.

use fandesk_domain::snooze::fan_status;
use fandesk_domain::{Audience, AuthorKind};
use fandesk_store::{ConversationRow, MessageRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A conversation as the team sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TeamConversationView {
    pub id: String,
    pub fan_id: String,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    pub assignee_id: Option<String>,
    pub priority: i64,
    pub escalated: bool,
    /// The escalation lead who owns it, when escalated.
    pub escalated_to: Option<String>,
    /// The previous assignee after a takeover or escalation (can be handed back to).
    pub observer_id: Option<String>,
    /// Since when a fan message waits for a human answer.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub awaiting_since: Option<Timestamp>,
    /// When a snoozed conversation wakes (`null` unless `status` is `snoozed`).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub snoozed_until: Option<Timestamp>,
    /// Rolling sentiment of the fan's messages, −1 … 1.
    pub sentiment: Option<f64>,
    /// Last position of the full timeline.
    pub last_seq: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A conversation as its fan sees it: only fan-safe fields (docs/api.md).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanConversationView {
    pub id: String,
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConversationView {
    Team(TeamConversationView),
    Fan(FanConversationView),
}

impl ConversationView {
    pub fn new(row: &ConversationRow, audience: Audience) -> ConversationView {
        match audience {
            Audience::Team => ConversationView::Team(TeamConversationView {
                id: row.id.0.clone(),
                fan_id: row.fan_id.0.clone(),
                status: row.status.as_str().to_owned(),
                assignee_id: row.assignee_id.as_ref().map(|id| id.0.clone()),
                priority: row.priority,
                escalated: row.escalated,
                escalated_to: row.escalated_to.as_ref().map(|id| id.0.clone()),
                observer_id: row.observer_id.as_ref().map(|id| id.0.clone()),
                awaiting_since: row.awaiting_since,
                snoozed_until: row.snoozed_until,
                sentiment: (row.sentiment.messages > 0).then_some(row.sentiment.score),
                last_seq: row.last_seq,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }),
            // A snooze is the team's business: fans read `open` (docs/api.md › Snooze).
            Audience::Fan => ConversationView::Fan(FanConversationView {
                id: row.id.0.clone(),
                status: fan_status(row.status).as_str().to_owned(),
                created_at: row.created_at,
            }),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            ConversationView::Team(view) => &view.id,
            ConversationView::Fan(view) => &view.id,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuthorView {
    pub id: String,
    /// `fan`, `member`, `bot` or `system`.
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    /// For fans the public sequence, for the team the full one.
    pub seq: u64,
    pub author: AuthorView,
    pub body: String,
    /// `public` or `internal`.
    pub visibility: String,
    pub automated: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The sender's idempotency key (fans see it on their own messages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Team only: the position in the public sequence, for public messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_seq: Option<u64>,
    /// Team only: the member a whisper is addressed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whisper_to: Option<String>,
    /// Team only: for a human's public reply, milliseconds since the oldest unanswered
    /// fan message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_ms: Option<i64>,
    /// Team only: sentiment of a fan message, −1 … 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f64>,
    /// Team only: the restricted-word rule (warn) this message matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Team only: the named event a system entry records — `bot_handoff` when the bot
    /// rules handed the conversation to a human.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// A flow's buttons under its automated message: pressing one sends its `value` as
    /// the fan's message (docs/api.md › Flows). Absent on every other message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub quick_replies: Vec<QuickReplyView>,
}

/// One quick reply: the button's `label` and the text it sends.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuickReplyView {
    pub label: String,
    pub value: String,
}

impl MessageView {
    /// The message as `audience` sees it, or `None` when `audience` must not see it.
    pub fn new(row: &MessageRow, audience: Audience) -> Option<MessageView> {
        if !audience.sees(row.visibility) {
            return None;
        }
        let (seq, public_seq, client_msg_id) = match audience {
            Audience::Team => (row.seq, row.public_seq, row.client_msg_id.clone()),
            Audience::Fan => {
                let own = row.author_kind == AuthorKind::Fan;
                (
                    row.public_seq?,
                    None,
                    row.client_msg_id.clone().filter(|_| own),
                )
            }
        };
        Some(MessageView {
            id: row.id.0.clone(),
            conversation_id: row.conversation_id.0.clone(),
            seq,
            author: AuthorView {
                id: row.author_id.clone(),
                kind: row.author_kind.as_str().to_owned(),
                name: row.author_name.clone(),
            },
            body: row.body.clone(),
            visibility: row.visibility.as_str().to_owned(),
            automated: row.automated,
            created_at: row.created_at,
            client_msg_id,
            public_seq,
            whisper_to: team_only(audience, row.whisper_to.as_ref().map(|id| id.0.clone())),
            reply_ms: team_only(audience, row.reply_ms),
            sentiment: team_only(audience, row.sentiment),
            flag: team_only(audience, row.flag.clone()),
            event: team_only(audience, row.event.map(|event| event.as_str().to_owned())),
            quick_replies: row
                .quick_replies
                .iter()
                .map(|reply| QuickReplyView {
                    label: reply.label.clone(),
                    value: reply.value.clone(),
                })
                .collect(),
        })
    }
}

/// Team-only annotations are dropped for fans here, in the one serializer.
fn team_only<T>(audience: Audience, value: Option<T>) -> Option<T> {
    if audience == Audience::Team {
        value
    } else {
        None
    }
}
