//! What the store returns: plain rows in domain types, decoded by one macro per table so
//! the same decoding serves both backends.

use crate::{StoreError, StoreResult};
use fandesk_domain::signals::RollingSentiment;
use fandesk_domain::{
    AuthorKind, ConversationId, ConversationState, FanId, MemberId, MessageId, Role, Status,
    Visibility,
};
use jiff::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow {
    pub id: MemberId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FanRow {
    pub id: FanId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub timezone: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Whom a bearer token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Member(MemberId),
    Fan(FanId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub subject: Subject,
    pub expires_at: Timestamp,
}

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
}

/// One audit-log entry (PRODUCT.md › C4: every supervisory action is logged).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub conversation_id: Option<ConversationId>,
    /// JSON object with action-specific facts.
    pub details: String,
    pub created_at: Timestamp,
}

/// One alert (PROTOCOL.md › Alerts).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
    pub rule: Option<String>,
    pub excerpt: Option<String>,
    /// JSON object with kind-specific facts.
    pub details: String,
    pub created_at: Timestamp,
}

pub(crate) fn parse<T>(
    text: &str,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> StoreResult<T> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {text:?}")))
}

pub(crate) fn to_seq(value: i64) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative sequence {value}")))
}

pub(crate) const MEMBER_COLUMNS: &str = "id, email, name, role, password_hash, created_at";
pub(crate) const FAN_COLUMNS: &str =
    "id, display_name, external_id, timezone, created_at, last_seen_at";
pub(crate) const CONVERSATION_COLUMNS: &str = "id, fan_id, status, assignee_id, escalated, \
     escalated_to, observer_id, priority, last_seq, last_public_seq, created_at, updated_at, \
     awaiting_since, sentiment, sentiment_messages, sentiment_negative";
pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, public_seq, author_id, \
     author_kind, author_name, client_msg_id, body, visibility, automated, created_at, \
     whisper_to, reply_ms, sentiment, flag";

macro_rules! decode_member {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::rows::MemberRow {
            id: fandesk_domain::MemberId(row.try_get("id")?),
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role: $crate::rows::parse(
                row.try_get::<&str, _>("role")?,
                "role",
                fandesk_domain::Role::parse,
            )?,
            password_hash: row.try_get("password_hash")?,
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
        }
    }};
}

macro_rules! decode_fan {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::rows::FanRow {
            id: fandesk_domain::FanId(row.try_get("id")?),
            display_name: row.try_get("display_name")?,
            external_id: row.try_get("external_id")?,
            timezone: row.try_get("timezone")?,
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
            last_seen_at: $crate::from_micros(row.try_get("last_seen_at")?)?,
        }
    }};
}

macro_rules! decode_conversation {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::rows::ConversationRow {
            id: fandesk_domain::ConversationId(row.try_get("id")?),
            fan_id: fandesk_domain::FanId(row.try_get("fan_id")?),
            status: $crate::rows::parse(
                row.try_get::<&str, _>("status")?,
                "status",
                fandesk_domain::Status::parse,
            )?,
            assignee_id: row
                .try_get::<Option<String>, _>("assignee_id")?
                .map(fandesk_domain::MemberId),
            escalated: row.try_get("escalated")?,
            escalated_to: row
                .try_get::<Option<String>, _>("escalated_to")?
                .map(fandesk_domain::MemberId),
            observer_id: row
                .try_get::<Option<String>, _>("observer_id")?
                .map(fandesk_domain::MemberId),
            priority: row.try_get("priority")?,
            last_seq: $crate::rows::to_seq(row.try_get("last_seq")?)?,
            last_public_seq: $crate::rows::to_seq(row.try_get("last_public_seq")?)?,
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
            updated_at: $crate::from_micros(row.try_get("updated_at")?)?,
            awaiting_since: match row.try_get::<Option<i64>, _>("awaiting_since")? {
                Some(micros) => Some($crate::from_micros(micros)?),
                None => None,
            },
            sentiment: fandesk_domain::signals::RollingSentiment {
                score: row.try_get("sentiment")?,
                messages: u32::try_from(row.try_get::<i64, _>("sentiment_messages")?)
                    .unwrap_or(u32::MAX),
                negative: row.try_get("sentiment_negative")?,
            },
        }
    }};
}

macro_rules! decode_message {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::rows::MessageRow {
            id: fandesk_domain::MessageId(row.try_get("id")?),
            conversation_id: fandesk_domain::ConversationId(row.try_get("conversation_id")?),
            seq: $crate::rows::to_seq(row.try_get("seq")?)?,
            public_seq: match row.try_get::<Option<i64>, _>("public_seq")? {
                Some(value) => Some($crate::rows::to_seq(value)?),
                None => None,
            },
            author_id: row.try_get("author_id")?,
            author_kind: $crate::rows::parse(
                row.try_get::<&str, _>("author_kind")?,
                "author kind",
                fandesk_domain::AuthorKind::parse,
            )?,
            author_name: row.try_get("author_name")?,
            client_msg_id: row.try_get("client_msg_id")?,
            body: row.try_get("body")?,
            visibility: $crate::rows::parse(
                row.try_get::<&str, _>("visibility")?,
                "visibility",
                fandesk_domain::Visibility::parse,
            )?,
            automated: row.try_get("automated")?,
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
            whisper_to: row
                .try_get::<Option<String>, _>("whisper_to")?
                .map(fandesk_domain::MemberId),
            reply_ms: row.try_get("reply_ms")?,
            sentiment: row.try_get("sentiment")?,
            flag: row.try_get("flag")?,
        }
    }};
}
