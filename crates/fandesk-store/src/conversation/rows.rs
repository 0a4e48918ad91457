//! A conversation and its timeline entries as the store returns them: plain rows in
//! domain types, decoded by one `FromRow` per table for both backends.

use crate::StoreError;
use crate::statement::Columns;
use fandesk_domain::flow::QuickReply;
use fandesk_domain::signals::RollingSentiment;
use fandesk_domain::{
    AuthorKind, BotTurns, ConversationId, ConversationState, FanId, MemberId, MessageId, Status,
    TimelineEvent, Visibility,
};
use jiff::Timestamp;
use sqlx::FromRow;

#[derive(Clone, Debug, PartialEq)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub fan_id: FanId,
    pub status: Status,
    pub assignee_id: Option<MemberId>,
    pub escalated: bool,
    pub escalated_to: Option<MemberId>,
    pub observer_id: Option<MemberId>,
    pub priority: i64,
    pub last_seq: u64,
    pub last_public_seq: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Arrival of the oldest fan message no human has answered yet.
    pub awaiting_since: Option<Timestamp>,
    /// Rolling sentiment of the fan's messages (team-only).
    pub sentiment: RollingSentiment,
    /// The bot rules' memory of the current opening (docs/product.md › Bots).
    pub bot: BotTurns,
    /// When a snoozed conversation wakes; `None` unless `status` is `snoozed`.
    pub snoozed_until: Option<Timestamp>,
}

impl ConversationRow {
    /// A new open, unassigned conversation.
    pub fn new_open(id: ConversationId, fan_id: FanId, at: Timestamp) -> ConversationRow {
        ConversationRow {
            id,
            fan_id,
            status: Status::Open,
            assignee_id: None,
            escalated: false,
            escalated_to: None,
            observer_id: None,
            priority: 0,
            last_seq: 0,
            last_public_seq: 0,
            created_at: at,
            updated_at: at,
            awaiting_since: None,
            sentiment: RollingSentiment::default(),
            bot: BotTurns::default(),
            snoozed_until: None,
        }
    }

    /// The parts the domain rules look at.
    /// Applies a decided state back onto the row.
    pub fn set_state(&mut self, state: ConversationState) {
        self.status = state.status;
        self.assignee_id = state.assignee_id;
        self.escalated = state.escalated;
        self.escalated_to = state.escalated_to;
        self.observer_id = state.observer_id;
    }

    pub fn state(&self) -> ConversationState {
        ConversationState {
            fan_id: self.fan_id.clone(),
            status: self.status,
            assignee_id: self.assignee_id.clone(),
            escalated: self.escalated,
            escalated_to: self.escalated_to.clone(),
            observer_id: self.observer_id.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: u64,
    pub public_seq: Option<u64>,
    pub author_id: String,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub visibility: Visibility,
    pub automated: bool,
    pub created_at: Timestamp,
    /// The member a whisper is addressed to.
    pub whisper_to: Option<MemberId>,
    /// For a human's public reply: milliseconds since the oldest unanswered fan message.
    pub reply_ms: Option<i64>,
    /// Sentiment of a fan message, −1 … 1 (team-only).
    pub sentiment: Option<f64>,
    /// The `warn` restricted-word rule this team message matched (team-only).
    pub flag: Option<String>,
    /// The named event a system entry records (team-only).
    pub event: Option<TimelineEvent>,
    /// The buttons under a flow's message (docs/api.md › Flows); empty for the rest.
    pub quick_replies: Vec<QuickReply>,
}

impl MessageRow {
    /// The quick replies as stored: a JSON array, or NULL when there are none.
    pub(crate) fn quick_replies_json(&self) -> Option<String> {
        if self.quick_replies.is_empty() {
            return None;
        }
        serde_json::to_string(&self.quick_replies).ok()
    }
}

pub(crate) const CONVERSATION_COLUMNS: &str = "id, fan_id, status, assignee_id, escalated, \
     escalated_to, observer_id, priority, last_seq, last_public_seq, created_at, updated_at, \
     awaiting_since, sentiment, sentiment_messages, sentiment_negative, bot_automated_last, \
     bot_fan_waiting, bot_exchanges, bot_handed_off, snoozed_until";
pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, public_seq, author_id, \
     author_kind, author_name, client_msg_id, body, visibility, automated, created_at, \
     whisper_to, reply_ms, sentiment, flag, event, quick_replies";

impl<'r, R: Columns> FromRow<'r, R> for ConversationRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ConversationRow {
            id: ConversationId(row.text("id")?),
            fan_id: FanId(row.text("fan_id")?),
            status: row.parsed("status", "status", Status::parse)?,
            assignee_id: row.optional_text("assignee_id")?.map(MemberId),
            escalated: row.boolean("escalated")?,
            escalated_to: row.optional_text("escalated_to")?.map(MemberId),
            observer_id: row.optional_text("observer_id")?.map(MemberId),
            priority: row.int("priority")?,
            last_seq: row.seq("last_seq")?,
            last_public_seq: row.seq("last_public_seq")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            awaiting_since: row.optional_time("awaiting_since")?,
            sentiment: RollingSentiment {
                score: row.real("sentiment")?,
                messages: u32::try_from(row.int("sentiment_messages")?).unwrap_or(u32::MAX),
                negative: row.boolean("sentiment_negative")?,
            },
            bot: BotTurns {
                automated_last: row.boolean("bot_automated_last")?,
                fan_waiting: row.boolean("bot_fan_waiting")?,
                exchanges: u32::try_from(row.int("bot_exchanges")?).unwrap_or(u32::MAX),
                handed_off: row.boolean("bot_handed_off")?,
            },
            snoozed_until: row.optional_time("snoozed_until")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for MessageRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(MessageRow {
            id: MessageId(row.text("id")?),
            conversation_id: ConversationId(row.text("conversation_id")?),
            seq: row.seq("seq")?,
            public_seq: row.optional_seq("public_seq")?,
            author_id: row.text("author_id")?,
            author_kind: row.parsed("author_kind", "author kind", AuthorKind::parse)?,
            author_name: row.text("author_name")?,
            client_msg_id: row.optional_text("client_msg_id")?,
            body: row.text("body")?,
            visibility: row.parsed("visibility", "visibility", Visibility::parse)?,
            automated: row.boolean("automated")?,
            created_at: row.time("created_at")?,
            whisper_to: row.optional_text("whisper_to")?.map(MemberId),
            reply_ms: row.optional_int("reply_ms")?,
            sentiment: row.optional_real("sentiment")?,
            flag: row.optional_text("flag")?,
            event: row
                .optional_text("event")?
                .as_deref()
                .and_then(TimelineEvent::parse),
            quick_replies: match row.optional_text("quick_replies")? {
                Some(json) => serde_json::from_str(&json).map_err(|error| {
                    StoreError::Corrupt(format!("quick replies: {error}")).into_decode()
                })?,
                None => Vec::new(),
            },
        })
    }
}
