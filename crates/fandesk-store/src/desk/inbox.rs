//! The inbox's reads outside the timeline: each conversation's last message and the
//! caller's unread count (from `conversation_reads`, one row per member and conversation),
//! the reading position moving forward, and the fan directory (fans by name or tag, with
//! how many conversations each has had).

use super::{PROFILE_COLUMNS, contains_pattern, tag_pattern};
use crate::accounts::FAN_COLUMNS;
use crate::statement::{Columns, Statement, placeholders};
use crate::{FanProfileRow, Store, StoreResult, to_micros};
use fandesk_domain::{AuthorKind, ConversationId, MemberId, Visibility};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

/// Message text search looks at the messages of this many most recently active
/// conversations (a bounded scan; ARCHITECTURE.md › Choices explains why).
pub const TEXT_SEARCH_CONVERSATIONS: u32 = 2_000;

/// A conversation's last message as the team sees it (system entries left out).
#[derive(Clone, Debug, PartialEq)]
pub struct LastMessageRow {
    pub seq: u64,
    pub visibility: Visibility,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    pub automated: bool,
    pub created_at: Timestamp,
}

/// One conversation of the inbox as one member sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxSummaryRow {
    pub conversation_id: ConversationId,
    /// The member's reading position (0 when they never opened it).
    pub last_read_seq: u64,
    /// Messages after `last_read_seq` by someone else (system entries left out).
    pub unread: u64,
    pub last_message: Option<LastMessageRow>,
}

/// A page of the fan directory.
#[derive(Clone, Debug, Default)]
pub struct FanFilter {
    /// Case-insensitive part of the display name.
    pub name: Option<String>,
    /// A profile tag (matched whole, case-insensitive).
    pub tag: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A fan of the directory: the profile and how many conversations they have had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FanDirectoryRow {
    pub profile: FanProfileRow,
    pub conversations: i64,
}

impl<'r, R: Columns> FromRow<'r, R> for InboxSummaryRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let last_message = match row.optional_seq("m_seq")? {
            None => None,
            Some(seq) => Some(LastMessageRow {
                seq,
                visibility: row.parsed("m_visibility", "visibility", Visibility::parse)?,
                author_kind: row.parsed("m_author_kind", "author kind", AuthorKind::parse)?,
                author_name: row.text("m_author_name")?,
                body: row.text("m_body")?,
                automated: row.boolean("m_automated")?,
                created_at: row.time("m_created_at")?,
            }),
        };
        Ok(InboxSummaryRow {
            conversation_id: ConversationId(row.text("conversation_id")?),
            last_read_seq: row.seq("last_read_seq")?,
            unread: row.seq("unread")?,
            last_message,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for FanDirectoryRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FanDirectoryRow {
            profile: FanProfileRow::from_row(row)?,
            conversations: row.int("conversation_count")?,
        })
    }
}

impl Store {
    /// The last message and `member`'s unread count of each conversation named (unknown
    /// ids are left out). One statement, whatever the number of ids.
    pub async fn inbox_summaries(
        &self,
        member: &MemberId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<InboxSummaryRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT c.id AS conversation_id, COALESCE(r.last_read_seq, 0) AS last_read_seq, \
             (SELECT COUNT(*) FROM messages u WHERE u.conversation_id = c.id \
               AND u.seq > COALESCE(r.last_read_seq, 0) AND u.author_kind <> 'system' \
               AND u.author_id <> $1) AS unread, \
             m.seq AS m_seq, m.visibility AS m_visibility, m.author_kind AS m_author_kind, \
             m.author_name AS m_author_name, m.body AS m_body, m.automated AS m_automated, \
             m.created_at AS m_created_at \
             FROM conversations c \
             LEFT JOIN conversation_reads r ON r.conversation_id = c.id AND r.member_id = $1 \
             LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = \
               (SELECT MAX(x.seq) FROM messages x WHERE x.conversation_id = c.id \
                AND x.author_kind <> 'system') \
             WHERE c.id IN ({})",
            placeholders(2, ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(member.as_str())
            .bind_all(ids.iter().map(ConversationId::as_str));
        self.reader().fetch_all(statement).await
    }

    /// Moves `member`'s reading position in the conversation up to `seq` (never back).
    pub async fn mark_read(
        &self,
        member: &MemberId,
        conversation: &ConversationId,
        seq: u64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO conversation_reads (conversation_id, member_id, last_read_seq, read_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (conversation_id, member_id) DO UPDATE SET \
             last_read_seq = CASE WHEN excluded.last_read_seq > conversation_reads.last_read_seq \
               THEN excluded.last_read_seq ELSE conversation_reads.last_read_seq END, \
             read_at = excluded.read_at",
        )
        .bind(conversation.as_str())
        .bind(member.as_str())
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Fans by name or tag, most recently seen first, with their conversation counts.
    pub async fn list_fans(&self, filter: &FanFilter) -> StoreResult<Vec<FanDirectoryRow>> {
        let mut sql = format!(
            "SELECT {FAN_COLUMNS}, {PROFILE_COLUMNS}, \
             (SELECT COUNT(*) FROM conversations c WHERE c.fan_id = fans.id) AS conversation_count \
             FROM fans WHERE 1 = 1"
        );
        let mut binds: Vec<String> = Vec::new();
        if let Some(name) = &filter.name {
            binds.push(contains_pattern(name));
            sql.push_str(&format!(
                " AND LOWER(display_name) LIKE ${} ESCAPE '\\'",
                binds.len()
            ));
        }
        if let Some(tag) = &filter.tag {
            binds.push(tag_pattern(tag));
            sql.push_str(&format!(" AND tags LIKE ${} ESCAPE '\\'", binds.len()));
        }
        sql.push_str(&format!(
            " ORDER BY last_seen_at DESC, id DESC LIMIT {} OFFSET {}",
            filter.limit, filter.offset
        ));
        let statement =
            Statement::new(AssertSqlSafe(sql)).bind_all(binds.iter().map(String::as_str));
        self.reader().fetch_all(statement).await
    }
}

/// The text filter of [`Store::list_conversations`]: a case-insensitive part of a public or
/// internal message's body, among the [`TEXT_SEARCH_CONVERSATIONS`] most recently
/// updated conversations.
pub(crate) fn push_text_filter(text: &str, sql: &mut String, binds: &mut Vec<String>) {
    binds.push(contains_pattern(text));
    sql.push_str(&format!(
        " AND id IN (SELECT m.conversation_id FROM messages m WHERE m.conversation_id IN \
         (SELECT recent.id FROM (SELECT id FROM conversations ORDER BY updated_at DESC \
         LIMIT {TEXT_SEARCH_CONVERSATIONS}) recent) \
         AND m.author_kind <> 'system' AND LOWER(m.body) LIKE ${} ESCAPE '\\')",
        binds.len()
    ));
}
