//! Team channels (docs/product.md › Team channels): created by the owner and supervisors
//! under the charter's `channels.limit`, read by the team (a channel naming members: by
//! them and by those who manage channels), archived and restored. Fans get `not_found`
//! from every use case here, as if channels did not exist.
//!
//! - `message` — posting (tags, threads, summaries), reading, the WebSocket replay.
//! - `commit` — the channels' group-commit batch and what it publishes.
//! - `decision` — the decision log, its status changes and exports.
//! - `archive` — the sweep that warns and archives idle channels.
//! - `view` — the JSON forms.

pub(crate) mod archive;
pub(crate) mod commit;
pub(crate) mod decision;
pub(crate) mod message;
pub(crate) mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::{App, new_id};
use commit::ChannelOutcomeExt;
use fandesk_domain::channel::{
    ChannelId, ChannelKind, MAX_MEMBERS, is_member, validate_guideline, validate_name,
    validate_purpose,
};
use fandesk_domain::{Capability, Principal};
use fandesk_store::{ChannelOp, ChannelRow};
use view::ChannelView;

/// What `POST /channels` asks for.
#[derive(Clone, Debug, Default)]
pub struct NewChannel {
    pub name: Option<String>,
    pub purpose: Option<String>,
    pub guideline: Option<String>,
    pub kind: Option<String>,
    /// Named members (ids); absent or empty: the whole team.
    pub member_ids: Option<Vec<String>>,
}

/// Fans may not learn that channels exist; team members need the capability.
fn team_member(actor: &Principal, capability: Capability) -> ServiceResult<()> {
    if actor.is_fan() {
        return Err(ServiceError::NotFound("channel"));
    }
    Ok(actor.require(capability)?)
}

impl App {
    /// `POST /channels` (owner, supervisors).
    pub async fn create_channel(
        &self,
        actor: &Principal,
        input: NewChannel,
    ) -> ServiceResult<ChannelView> {
        team_member(actor, Capability::ManageChannels)?;
        let name = validate_name(input.name.as_deref().unwrap_or_default())?;
        let purpose = validate_purpose(input.purpose.as_deref().unwrap_or_default())?;
        let guideline = validate_guideline(input.guideline.as_deref().unwrap_or_default())?;
        let kind = match input.kind.as_deref() {
            None => ChannelKind::Open,
            Some(text) => ChannelKind::parse(text).ok_or_else(|| {
                ServiceError::invalid("kind", "must be `open` or `announcements`")
            })?,
        };
        let member_ids = self
            .channel_members(input.member_ids.unwrap_or_default())
            .await?;
        let now = self.now();
        let channel = ChannelRow {
            id: ChannelId(new_id("chn")),
            name,
            purpose,
            guideline,
            kind,
            member_ids,
            created_by: actor.author_id().to_owned(),
            created_at: now,
            last_seq: 0,
            last_message_at: None,
            active_at: now,
            warned_at: None,
            archived_at: None,
        };
        let limit = self.charter().await?.charter.channels.limit;
        let outcome = self
            .inner
            .channels
            .submit(ChannelOp::Create { channel, limit })
            .await?;
        self.channel_view(outcome.channel()?).await
    }

    /// Named members must be active team members; the list is kept sorted, without
    /// repeats.
    async fn channel_members(&self, mut ids: Vec<String>) -> ServiceResult<Vec<String>> {
        if ids.len() > MAX_MEMBERS {
            return Err(ServiceError::invalid(
                "member_ids",
                format!("must name at most {MAX_MEMBERS} members"),
            ));
        }
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(ids);
        }
        let team = self.store().list_member_names().await?;
        if let Some(unknown) = ids
            .iter()
            .find(|id| !team.iter().any(|(member, _)| member == *id))
        {
            return Err(ServiceError::invalid(
                "member_ids",
                format!("{unknown:?} is not an active team member"),
            ));
        }
        Ok(ids)
    }

    /// `GET /channels?archived=`: the channels `actor` belongs to.
    pub async fn list_channels(
        &self,
        actor: &Principal,
        archived: bool,
    ) -> ServiceResult<Vec<ChannelView>> {
        team_member(actor, Capability::UseChannels)?;
        let rows = self.store().list_channels(archived).await?;
        let archive_after_days = self.charter().await?.charter.channels.archive_after_days;
        Ok(rows
            .iter()
            .filter(|row| is_member(actor, &row.member_ids))
            .map(|row| ChannelView::new(row, archive_after_days))
            .collect())
    }

    /// `GET /channels/{id}`.
    pub async fn get_channel(&self, actor: &Principal, id: &str) -> ServiceResult<ChannelView> {
        let row = self.readable_channel(actor, id).await?;
        self.channel_view(row).await
    }

    /// `POST /channels/{id}/archive` and `…/restore` (owner, supervisors). A restore
    /// counts against the charter's limit of active channels.
    pub async fn set_channel_archived(
        &self,
        actor: &Principal,
        id: &str,
        archived: bool,
    ) -> ServiceResult<ChannelView> {
        let row = self.readable_channel(actor, id).await?;
        actor.require(Capability::ManageChannels)?;
        let limit = self.charter().await?.charter.channels.limit;
        let op = ChannelOp::SetArchived {
            channel_id: row.id,
            archived,
            limit,
            at: self.now(),
        };
        let outcome = self.inner.channels.submit(op).await?;
        self.channel_view(outcome.channel()?).await
    }

    /// A channel `actor` may read: team members who belong to it (`not_found` for anyone
    /// else, fans included).
    pub(crate) async fn readable_channel(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<ChannelRow> {
        team_member(actor, Capability::UseChannels)?;
        let row = self
            .store()
            .find_channel(&ChannelId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("channel"))?;
        if !is_member(actor, &row.member_ids) {
            return Err(ServiceError::NotFound("channel"));
        }
        Ok(row)
    }

    async fn channel_view(&self, row: ChannelRow) -> ServiceResult<ChannelView> {
        let archive_after_days = self.charter().await?.charter.channels.archive_after_days;
        Ok(ChannelView::new(&row, archive_after_days))
    }
}
