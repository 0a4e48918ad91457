//! Team channels: their rows and messages, read by the channel list, the timeline of
//! `channel:{id}` (dense `seq`, threads) and the archiving sweep. Writes that take a
//! place in a channel's timeline, or change whether it is active, go through the channels'
//! group commit (`commit.rs`); the decision log is `decision.rs`.

pub(crate) mod commit;
pub(crate) mod decision;

use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult};
use fandesk_domain::channel::{ChannelId, ChannelKind, DecisionKind};
use fandesk_domain::{AuthorKind, MessageId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: ChannelId,
    pub name: String,
    pub purpose: String,
    pub guideline: String,
    pub kind: ChannelKind,
    /// Named members; empty for the whole team.
    pub member_ids: Vec<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub last_seq: u64,
    /// The last message by a member (the archive warning does not count).
    pub last_message_at: Option<Timestamp>,
    /// When the channel was last in use: created, restored, or a member's message.
    pub active_at: Timestamp,
    /// When the archive warning of the current idle spell was posted.
    pub warned_at: Option<Timestamp>,
    pub archived_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelMessageRow {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub seq: u64,
    /// `Member`, or `System` for the archive warning.
    pub author_kind: AuthorKind,
    pub author_id: String,
    pub author_name: String,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub thread_root_id: Option<MessageId>,
    pub summary_of: Option<MessageId>,
    pub tag: Option<DecisionKind>,
    pub created_at: Timestamp,
}

pub(crate) const CHANNEL_COLUMNS: &str = "c.id, c.name, c.purpose, c.guideline, c.kind, \
     c.member_ids, c.created_by, c.created_at, c.last_seq, c.last_message_at, c.active_at, \
     c.warned_at, c.archived_at";

pub(crate) const MESSAGE_COLUMNS: &str = "m.id, m.channel_id, m.seq, m.author_kind, \
     m.author_id, m.author_name, m.client_msg_id, m.body, m.thread_root_id, m.summary_of, \
     m.tag, m.created_at";

impl<'r, R: Columns> FromRow<'r, R> for ChannelRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let members = row.text("member_ids")?;
        let member_ids: Vec<String> = serde_json::from_str(&members)
            .map_err(|_| StoreError::Corrupt(format!("member_ids {members}")).into_decode())?;
        Ok(ChannelRow {
            id: ChannelId(row.text("id")?),
            name: row.text("name")?,
            purpose: row.text("purpose")?,
            guideline: row.text("guideline")?,
            kind: row.parsed("kind", "channel kind", ChannelKind::parse)?,
            member_ids,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            last_seq: row.seq("last_seq")?,
            last_message_at: row.optional_time("last_message_at")?,
            active_at: row.time("active_at")?,
            warned_at: row.optional_time("warned_at")?,
            archived_at: row.optional_time("archived_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for ChannelMessageRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let tag = match row.optional_text("tag")? {
            None => None,
            Some(text) => Some(DecisionKind::parse(&text).ok_or_else(|| {
                StoreError::Corrupt(format!("channel message tag {text}")).into_decode()
            })?),
        };
        Ok(ChannelMessageRow {
            id: MessageId(row.text("id")?),
            channel_id: ChannelId(row.text("channel_id")?),
            seq: row.seq("seq")?,
            author_kind: row.parsed("author_kind", "author kind", AuthorKind::parse)?,
            author_id: row.text("author_id")?,
            author_name: row.text("author_name")?,
            client_msg_id: row.optional_text("client_msg_id")?,
            body: row.text("body")?,
            thread_root_id: row.optional_text("thread_root_id")?.map(MessageId),
            summary_of: row.optional_text("summary_of")?.map(MessageId),
            tag,
            created_at: row.time("created_at")?,
        })
    }
}

/// Which messages of a channel a read returns.
#[derive(Clone, Debug, Default)]
pub struct ChannelMessageFilter {
    /// Only those after this `seq`.
    pub after_seq: u64,
    /// Only a thread: its root and its replies.
    pub thread_root_id: Option<MessageId>,
}

impl Store {
    pub async fn find_channel(&self, id: &ChannelId) -> StoreResult<Option<ChannelRow>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Active channels (`archived` false) or archived ones, by name.
    pub async fn list_channels(&self, archived: bool) -> StoreResult<Vec<ChannelRow>> {
        let state = if archived { "IS NOT NULL" } else { "IS NULL" };
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.archived_at {state} \
             ORDER BY c.name, c.id"
        );
        self.reader()
            .fetch_all(Statement::new(AssertSqlSafe(sql)))
            .await
    }

    /// A channel's messages in `seq` order, at most `limit`.
    pub async fn list_channel_messages(
        &self,
        channel: &ChannelId,
        filter: &ChannelMessageFilter,
        limit: u32,
    ) -> StoreResult<Vec<ChannelMessageRow>> {
        let thread = if filter.thread_root_id.is_some() {
            " AND (m.id = $4 OR m.thread_root_id = $4)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM channel_messages m \
             WHERE m.channel_id = $1 AND m.seq > $2{thread} ORDER BY m.seq LIMIT $3"
        );
        let mut statement = Statement::new(AssertSqlSafe(sql))
            .bind(channel.as_str())
            .bind(filter.after_seq as i64)
            .bind(i64::from(limit));
        if let Some(root) = &filter.thread_root_id {
            statement = statement.bind(root.as_str());
        }
        self.reader().fetch_all(statement).await
    }

    pub async fn find_channel_message(
        &self,
        channel: &ChannelId,
        id: &MessageId,
    ) -> StoreResult<Option<ChannelMessageRow>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM channel_messages m WHERE m.channel_id = $1 AND m.id = $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(channel.as_str())
            .bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Active members' ids and names, to resolve `ACTION(@Name):` owners.
    pub async fn list_member_names(&self) -> StoreResult<Vec<(String, String)>> {
        let statement = Statement::new(
            "SELECT id, name FROM members WHERE deactivated_at IS NULL ORDER BY created_at, id",
        );
        let rows: Vec<NameRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| (row.0, row.1)).collect())
    }
}

struct NameRow(String, String);

impl<'r, R: Columns> FromRow<'r, R> for NameRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(NameRow(row.text("id")?, row.text("name")?))
    }
}
