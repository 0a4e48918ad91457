//! Canned responses (docs/product.md › Canned responses; docs/api.md › Canned responses):
//! the library with shortcuts, rendering for one conversation (variables from the fan's
//! profile, the acting member and the creator), the first-line rule on sends, usage and
//! library health.
//!
//! Templates are validated when written (`desk::CannedTemplate::parse`) and rendered in the
//! domain's sandbox; a variable without a value and without a default refuses to render
//! (`template_variable_missing`), so "Hi ," never reaches a fan.

use crate::app::error::{ServiceError, ServiceResult};
use crate::{App, new_id};
use fandesk_domain::desk::{
    CannedTemplate, FirstLineVerdict, HealthPolicy, TemplateError, TemplateVars, check_first_line,
    is_stale, library_size_warning, overuse_share, validate_shortcut,
};
use fandesk_domain::{Capability, Principal, Role};
use fandesk_store::{CannedRow, ConversationRow, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A committed send from a canned response, recorded for the library's health.
#[derive(Clone, Debug)]
pub(crate) struct CannedUse {
    pub template_id: String,
    pub member_id: fandesk_domain::MemberId,
    /// The first line went out unedited (allowed under `warn`).
    pub unedited: bool,
}

const MAX_TITLE_CHARS: usize = 100;
/// Over-use is judged on the agent's messages of the last 30 days.
const OVERUSE_WINDOW_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CannedView {
    pub id: String,
    /// Typed after `/` in the console.
    pub shortcut: String,
    pub title: String,
    /// The template, with `{{ … }}` variables.
    pub body: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Messages sent from it.
    pub uses: i64,
}

/// A template's fields; `None` leaves one unchanged on update (all are required to create).
#[derive(Clone, Debug, Default)]
pub struct CannedInput {
    pub shortcut: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CannedHealthEntry {
    pub id: String,
    pub shortcut: String,
    pub title: String,
    pub uses: i64,
    /// Sends whose first line went out unedited (`warn` mode).
    pub unedited_uses: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Not edited for more than 90 days.
    pub stale: bool,
}

/// A template that makes up too large a share of one agent's public messages.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CannedOveruse {
    pub template_id: String,
    pub shortcut: String,
    pub member_id: String,
    pub member_name: String,
    pub uses: i64,
    /// The member's public messages in the window.
    pub messages: i64,
    pub share: f64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CannedHealthView {
    pub templates: usize,
    pub recommended_min: usize,
    pub recommended_max: usize,
    /// Set when the library leaves the recommended 10–15 templates.
    pub size_warning: Option<String>,
    pub stale_after_days: i64,
    pub overuse_window_days: i64,
    /// The share of an agent's messages above which a template counts as over-used.
    pub overuse_share: f64,
    pub entries: Vec<CannedHealthEntry>,
    pub overused: Vec<CannedOveruse>,
}

fn view(row: &CannedRow, uses: i64) -> CannedView {
    CannedView {
        id: row.id.clone(),
        shortcut: row.shortcut.clone(),
        title: row.title.clone(),
        body: row.body.clone(),
        created_by: row.created_by.0.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        uses,
    }
}

fn template_error(error: TemplateError) -> ServiceError {
    match error {
        TemplateError::VariableMissing { variable } => {
            ServiceError::TemplateVariableMissing { variable }
        }
        other => ServiceError::invalid("body", other.to_string()),
    }
}

fn shortcut_taken(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(_) => {
            ServiceError::Conflict("a canned response with this shortcut exists".into())
        }
        other => other.into(),
    }
}

/// Applies the given fields, checking each as the domain says.
fn apply(row: &mut CannedRow, input: CannedInput) -> ServiceResult<()> {
    if let Some(shortcut) = input.shortcut {
        validate_shortcut(&shortcut)?;
        row.shortcut = shortcut;
    }
    if let Some(title) = input.title {
        let title = title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(ServiceError::invalid(
                "title",
                format!("must be 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        row.title = title;
    }
    if let Some(body) = input.body {
        CannedTemplate::parse(&body)
            .map_err(|error| ServiceError::invalid("body", error.to_string()))?;
        row.body = body;
    }
    Ok(())
}

impl App {
    pub async fn create_canned(
        &self,
        actor: &Principal,
        input: CannedInput,
    ) -> ServiceResult<CannedView> {
        actor.require(Capability::ManageCanned)?;
        for (field, present) in [
            ("shortcut", input.shortcut.is_some()),
            ("title", input.title.is_some()),
            ("body", input.body.is_some()),
        ] {
            if !present {
                return Err(ServiceError::invalid(field, "is required"));
            }
        }
        let now = self.now();
        let mut row = CannedRow {
            id: new_id("cr"),
            shortcut: String::new(),
            title: String::new(),
            body: String::new(),
            created_by: actor.author_id().into(),
            created_at: now,
            updated_at: now,
        };
        apply(&mut row, input)?;
        self.store()
            .insert_canned(&row)
            .await
            .map_err(shortcut_taken)?;
        Ok(view(&row, 0))
    }

    pub async fn list_canned(&self, actor: &Principal) -> ServiceResult<Vec<CannedView>> {
        actor.require(Capability::UseCanned)?;
        let usage: HashMap<String, i64> = self
            .store()
            .list_canned_usage()
            .await?
            .into_iter()
            .map(|row| (row.template_id, row.uses))
            .collect();
        let library = self.store().list_canned().await?;
        Ok(library
            .iter()
            .map(|row| view(row, usage.get(&row.id).copied().unwrap_or(0)))
            .collect())
    }

    pub async fn update_canned(
        &self,
        actor: &Principal,
        id: &str,
        input: CannedInput,
    ) -> ServiceResult<CannedView> {
        actor.require(Capability::ManageCanned)?;
        let mut row = self
            .store()
            .find_canned(id)
            .await?
            .ok_or(ServiceError::NotFound("canned response"))?;
        apply(&mut row, input)?;
        row.updated_at = self.now();
        self.store()
            .update_canned(&row)
            .await
            .map_err(shortcut_taken)?;
        let uses = self
            .store()
            .list_canned_usage()
            .await?
            .into_iter()
            .find(|usage| usage.template_id == row.id);
        Ok(view(&row, uses.map_or(0, |usage| usage.uses)))
    }

    pub async fn delete_canned(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageCanned)?;
        Ok(self.store().delete_canned(id).await?)
    }

    /// What a template says to this conversation's fan, signed by the acting member.
    pub async fn render_canned(
        &self,
        actor: &Principal,
        id: &str,
        conversation_id: &str,
    ) -> ServiceResult<String> {
        actor.require(Capability::UseCanned)?;
        let conversation = self.readable_conversation(actor, conversation_id).await?;
        let row = self
            .store()
            .find_canned(id)
            .await?
            .ok_or(ServiceError::NotFound("canned response"))?;
        let template = CannedTemplate::parse(&row.body).map_err(template_error)?;
        let vars = self.template_vars(actor, &conversation).await?;
        template.render(&vars).map_err(template_error)
    }

    async fn template_vars(
        &self,
        actor: &Principal,
        conversation: &ConversationRow,
    ) -> ServiceResult<TemplateVars> {
        let profile = self.store().find_fan_profile(&conversation.fan_id).await?;
        Ok(TemplateVars {
            fan_name: profile
                .as_ref()
                .map(|profile| profile.fan.display_name.clone()),
            fan_first_name: None,
            fan_attributes: profile
                .map(|profile| profile.attributes)
                .unwrap_or_default(),
            agent_name: actor.role().map(|_| actor.name().to_owned()),
            creator_name: self.inner.config.desk.creator_name.clone(),
        })
    }

    /// The desk's checks on a send, before it is queued: shift-scoped access, and the
    /// first-line rule for a message sent from `template_id` (docs/api.md › Canned
    /// responses). Returns the template use to record once the message commits.
    pub(crate) async fn check_desk_send(
        &self,
        actor: &Principal,
        conversation_id: &str,
        body: &str,
        template_id: Option<&str>,
    ) -> ServiceResult<Option<CannedUse>> {
        let config = &self.inner.config.desk;
        if config.shift_scoped_access
            && let Principal::Member {
                id,
                role: Role::Agent,
                ..
            } = actor
            && !self.is_on_shift(id).await?
        {
            return Err(ServiceError::Forbidden(
                "agents work fan conversations only while on shift; clock in first".into(),
            ));
        }
        let Some(template_id) = template_id else {
            return Ok(None);
        };
        let Principal::Member { id: member_id, .. } = actor else {
            return Err(ServiceError::invalid(
                "template_id",
                "fans do not send canned responses",
            ));
        };
        let row = self
            .store()
            .find_canned(template_id)
            .await?
            .ok_or_else(|| ServiceError::invalid("template_id", "no such canned response"))?;
        // A template that cannot render for this fan has no first line the agent could
        // have sent unedited: they wrote their own.
        let conversation = self.readable_conversation(actor, conversation_id).await?;
        let vars = self.template_vars(actor, &conversation).await?;
        let rendered = CannedTemplate::parse(&row.body).and_then(|template| template.render(&vars));
        let verdict = match rendered {
            Ok(rendered) => {
                let mode = self.charter().await?.charter.canned.first_line;
                check_first_line(body, &rendered, mode)
            }
            Err(_) => FirstLineVerdict::Allowed,
        };
        if verdict == FirstLineVerdict::Rejected {
            return Err(ServiceError::CannedFirstLineUnedited);
        }
        Ok(Some(CannedUse {
            template_id: row.id,
            member_id: member_id.clone(),
            unedited: verdict == FirstLineVerdict::AllowedWithWarning,
        }))
    }

    /// `GET /canned-responses/health` (docs/product.md › Canned responses: library health).
    pub async fn canned_health(&self, actor: &Principal) -> ServiceResult<CannedHealthView> {
        actor.require(Capability::ManageCanned)?;
        let policy = HealthPolicy::default();
        let now = self.now();
        let library = self.store().list_canned().await?;
        let usage: HashMap<String, fandesk_store::CannedUsageRow> = self
            .store()
            .list_canned_usage()
            .await?
            .into_iter()
            .map(|row| (row.template_id.clone(), row))
            .collect();
        let entries = library
            .iter()
            .map(|row| {
                let used = usage.get(&row.id);
                CannedHealthEntry {
                    id: row.id.clone(),
                    shortcut: row.shortcut.clone(),
                    title: row.title.clone(),
                    uses: used.map_or(0, |used| used.uses),
                    unedited_uses: used.map_or(0, |used| used.unedited),
                    last_used_at: used.and_then(|used| used.last_used_at),
                    updated_at: row.updated_at,
                    stale: is_stale(row.updated_at, now, &policy),
                }
            })
            .collect();
        let since = now
            .checked_sub(SignedDuration::from_hours(24 * OVERUSE_WINDOW_DAYS))
            .unwrap_or(now);
        let messages: HashMap<_, _> = self
            .store()
            .count_member_public_messages(since)
            .await?
            .into_iter()
            .collect();
        let names: HashMap<_, _> = self
            .store()
            .list_members()
            .await?
            .into_iter()
            .map(|member| (member.id, member.name))
            .collect();
        let mut overused = Vec::new();
        for used in self.store().list_canned_member_uses(since).await? {
            let sent = messages.get(&used.member_id).copied().unwrap_or(0);
            let share = overuse_share(used.uses.max(0) as u64, sent.max(0) as u64, &policy);
            let (Some(share), Some(template)) =
                (share, library.iter().find(|row| row.id == used.template_id))
            else {
                continue;
            };
            overused.push(CannedOveruse {
                template_id: template.id.clone(),
                shortcut: template.shortcut.clone(),
                member_name: names.get(&used.member_id).cloned().unwrap_or_default(),
                member_id: used.member_id.0,
                uses: used.uses,
                messages: sent,
                share,
            });
        }
        overused.sort_by(|a, b| {
            b.share
                .total_cmp(&a.share)
                .then_with(|| a.template_id.cmp(&b.template_id))
        });
        Ok(CannedHealthView {
            templates: library.len(),
            recommended_min: *policy.recommended_size.start(),
            recommended_max: *policy.recommended_size.end(),
            size_warning: library_size_warning(library.len(), &policy)
                .map(|warning| warning.message()),
            stale_after_days: policy.stale_after.as_hours() / 24,
            overuse_window_days: OVERUSE_WINDOW_DAYS,
            overuse_share: policy.overuse_share,
            entries,
            overused,
        })
    }
}
