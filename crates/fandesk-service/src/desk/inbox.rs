//! The inbox's extras for the team (docs/product.md › Inbox): each listed conversation's
//! last message and the caller's unread count, the caller's reading position, and the
//! fan directory. Team only: a fan is refused, never shown another's reading state.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::fan_profile::FanProfileView;
use fandesk_domain::{Capability, ConversationId, MemberId, Principal};
use fandesk_store::{FanDirectoryRow, FanFilter, InboxSummaryRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// Most conversations one summaries request names.
pub const MAX_SUMMARIES: usize = 200;
/// Longest preview, in characters (the body is cut there, with `…`).
pub const PREVIEW_CHARS: usize = 140;
/// Largest page of the fan directory.
pub const MAX_FAN_PAGE: u32 = 100;
/// Furthest offset into the fan directory.
pub const MAX_FAN_OFFSET: u32 = 100_000;

/// A conversation's last message as the team sees it, cut to a preview.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LastMessageView {
    pub seq: u64,
    /// `public` or `internal` (a whisper or note).
    pub visibility: String,
    /// `fan`, `member` or `bot`.
    pub author_kind: String,
    pub author_name: String,
    /// At most 140 characters of the body; a longer body ends with `…`.
    pub preview: String,
    pub automated: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// One conversation of the inbox as the calling member sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InboxSummaryView {
    pub conversation_id: String,
    /// The caller's reading position (a timeline `seq`; 0 before they first read it).
    pub last_read_seq: u64,
    /// Messages after `last_read_seq` written by someone else (system entries not counted).
    pub unread: u64,
    pub last_message: Option<LastMessageView>,
}

/// A fan of the directory.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanDirectoryView {
    #[serde(flatten)]
    pub profile: FanProfileView,
    /// Conversations the fan has had, resolved ones included.
    pub conversation_count: i64,
}

/// A page of the fan directory.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanPageView {
    pub fans: Vec<FanDirectoryView>,
    /// The `offset` of the next page, or null on the last one.
    pub next_offset: Option<u32>,
}

/// The body's first `PREVIEW_CHARS` characters, `…` added when it was cut.
pub fn preview(body: &str) -> String {
    let mut chars = body.char_indices();
    match chars.nth(PREVIEW_CHARS) {
        None => body.to_owned(),
        Some((end, _)) => {
            let cut = body[..end].trim_end();
            format!("{cut}…")
        }
    }
}

impl From<&InboxSummaryRow> for InboxSummaryView {
    fn from(row: &InboxSummaryRow) -> Self {
        InboxSummaryView {
            conversation_id: row.conversation_id.0.clone(),
            last_read_seq: row.last_read_seq,
            unread: row.unread,
            last_message: row.last_message.as_ref().map(|message| LastMessageView {
                seq: message.seq,
                visibility: message.visibility.as_str().to_owned(),
                author_kind: message.author_kind.as_str().to_owned(),
                author_name: message.author_name.clone(),
                preview: preview(&message.body),
                automated: message.automated,
                created_at: message.created_at,
            }),
        }
    }
}

impl From<&FanDirectoryRow> for FanDirectoryView {
    fn from(row: &FanDirectoryRow) -> Self {
        FanDirectoryView {
            profile: FanProfileView::from(&row.profile),
            conversation_count: row.conversations,
        }
    }
}

/// The calling team member, or `forbidden` for a fan.
fn member_of(actor: &Principal) -> ServiceResult<MemberId> {
    match actor {
        Principal::Member { id, .. } => Ok(id.clone()),
        Principal::Fan { .. } => Err(ServiceError::Forbidden("the inbox is for the team".into())),
    }
}

impl App {
    /// The last message and the caller's unread count of each conversation named, in the
    /// order named; unknown ids are left out.
    pub async fn inbox_summaries(
        &self,
        actor: &Principal,
        ids: &[String],
    ) -> ServiceResult<Vec<InboxSummaryView>> {
        actor.require(Capability::ViewDesk)?;
        let member = member_of(actor)?;
        if ids.len() > MAX_SUMMARIES {
            return Err(ServiceError::invalid(
                "ids",
                format!("at most {MAX_SUMMARIES} conversation ids"),
            ));
        }
        let mut wanted: Vec<ConversationId> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = ConversationId::from(id.as_str());
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        let rows = self.store().inbox_summaries(&member, &wanted).await?;
        Ok(wanted
            .iter()
            .filter_map(|id| rows.iter().find(|row| &row.conversation_id == id))
            .map(InboxSummaryView::from)
            .collect())
    }

    /// Moves the caller's reading position in a conversation to `seq` (its last entry when
    /// absent; never past it, never back). Returns the conversation's summary.
    pub async fn mark_read(
        &self,
        actor: &Principal,
        id: &str,
        seq: Option<u64>,
    ) -> ServiceResult<InboxSummaryView> {
        actor.require(Capability::ViewDesk)?;
        let member = member_of(actor)?;
        let row = self.readable_conversation(actor, id).await?;
        let seq = seq.unwrap_or(row.last_seq).min(row.last_seq);
        self.store()
            .mark_read(&member, &row.id, seq, self.now())
            .await?;
        let rows = self
            .store()
            .inbox_summaries(&member, std::slice::from_ref(&row.id))
            .await?;
        rows.first()
            .map(InboxSummaryView::from)
            .ok_or(ServiceError::NotFound("conversation"))
    }

    /// The fan directory: fans by name part or tag, most recently seen first.
    pub async fn list_fans(
        &self,
        actor: &Principal,
        mut filter: FanFilter,
    ) -> ServiceResult<FanPageView> {
        actor.require(Capability::ViewFanProfiles)?;
        filter.limit = filter.limit.clamp(1, MAX_FAN_PAGE);
        if filter.offset > MAX_FAN_OFFSET {
            return Err(ServiceError::invalid(
                "offset",
                format!("at most {MAX_FAN_OFFSET}"),
            ));
        }
        filter.name = filter
            .name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        filter.tag = filter
            .tag
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty());
        let page = filter.limit;
        let mut rows = self
            .store()
            .list_fans(&FanFilter {
                limit: page + 1,
                ..filter.clone()
            })
            .await?;
        let more = rows.len() > page as usize;
        rows.truncate(page as usize);
        Ok(FanPageView {
            fans: rows.iter().map(FanDirectoryView::from).collect(),
            next_offset: more.then(|| filter.offset + page),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_long_bodies_on_characters() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("short", "short"),
            (&"é".repeat(140), &"é".repeat(140)),
        ];
        for (body, expected) in cases {
            assert_eq!(preview(body), *expected, "{body}");
        }
        let long = format!("{} tail", "ü".repeat(139));
        assert_eq!(preview(&long), format!("{}…", "ü".repeat(139)));
        assert_eq!(preview(&"x".repeat(141)).chars().count(), 141);
    }
}
