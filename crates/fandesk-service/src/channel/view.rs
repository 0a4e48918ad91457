//! The JSON forms of channels, their messages and the decision log (docs/api.md › Team
//! channels). Channels are team-only, so there is one audience.

use crate::conversation::view::AuthorView;
use fandesk_domain::channel::archive_at;
use fandesk_store::{ChannelMessageRow, ChannelRow, DecisionRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: String,
    pub name: String,
    pub purpose: String,
    /// The pinned guideline (may be empty).
    pub guideline: String,
    /// `open` or `announcements` (only the owner and supervisors post).
    pub kind: String,
    pub archived: bool,
    /// The last message by a member, if any.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_message_at: Option<Timestamp>,
    /// The `seq` of the channel's last message (0 before the first): unread counts are
    /// `last_seq` minus the last one read.
    pub last_seq: u64,
    /// Named members; empty for the whole team.
    pub member_ids: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it was archived (archived channels only).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
    /// Active channels: when the sweep archives it unless someone posts
    /// (`channels.archive_after_days` after it was last in use).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archive_due_at: Option<Timestamp>,
}

impl ChannelView {
    pub fn new(row: &ChannelRow, archive_after_days: u32) -> ChannelView {
        ChannelView {
            id: row.id.0.clone(),
            name: row.name.clone(),
            purpose: row.purpose.clone(),
            guideline: row.guideline.clone(),
            kind: row.kind.as_str().to_owned(),
            archived: row.archived_at.is_some(),
            last_message_at: row.last_message_at,
            last_seq: row.last_seq,
            member_ids: row.member_ids.clone(),
            created_at: row.created_at,
            archived_at: row.archived_at,
            archive_due_at: row
                .archived_at
                .is_none()
                .then(|| archive_at(row.active_at, archive_after_days)),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChannelMessageView {
    pub id: String,
    pub channel_id: String,
    pub seq: u64,
    /// `kind` is `member`, or `system` for the archive warning.
    pub author: AuthorView,
    pub body: String,
    /// The thread's root, for a reply.
    pub thread_root_id: Option<String>,
    /// The thread a summary sums up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_of: Option<String>,
    /// `["decision"]`, `["action"]` or `[]`.
    pub tags: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl ChannelMessageView {
    pub fn new(row: &ChannelMessageRow) -> ChannelMessageView {
        ChannelMessageView {
            id: row.id.0.clone(),
            channel_id: row.channel_id.0.clone(),
            seq: row.seq,
            author: AuthorView {
                id: row.author_id.clone(),
                kind: row.author_kind.as_str().to_owned(),
                name: row.author_name.clone(),
            },
            body: row.body.clone(),
            thread_root_id: row.thread_root_id.as_ref().map(|id| id.0.clone()),
            summary_of: row.summary_of.as_ref().map(|id| id.0.clone()),
            tags: row.tag.iter().map(|tag| tag.as_str().to_owned()).collect(),
            created_at: row.created_at,
        }
    }
}

/// An entry of the decision log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    /// `decision` or `action`.
    pub kind: String,
    /// The message's text after its prefix.
    pub text: String,
    /// An action's owner (the member named, else its author); `null` for a decision.
    pub owner_id: Option<String>,
    /// The owner's name, when there is one.
    pub owner_name: Option<String>,
    /// `open` or `done`.
    pub status: String,
    pub channel_id: String,
    pub channel_name: String,
    pub message_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl DecisionView {
    pub fn new(row: &DecisionRow) -> Self {
        DecisionView {
            id: row.id.0.clone(),
            kind: row.kind.as_str().to_owned(),
            text: row.text.clone(),
            owner_id: row.owner_id.clone(),
            owner_name: row.owner_name.clone(),
            status: row.status.as_str().to_owned(),
            channel_id: row.channel_id.0.clone(),
            channel_name: row.channel_name.clone(),
            message_id: row.message_id.0.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
