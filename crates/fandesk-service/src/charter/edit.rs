//! The charter's use cases (docs/api.md › Charter): read it, save a new version on top of
//! the one read (optimistic concurrency), its history and diffs, review sign-offs.
//!
//! A save is all or nothing: the document is read and checked whole before anything is
//! written; the version row and the metrics' target commit in one transaction; then this
//! node swaps its snapshot and announces `charter.updated` so the others re-read.

use super::view::{
    CharterDiffView, CharterReviewView, CharterVersionDocument, CharterVersionView, CharterView,
};
use super::{effects_of, team_only};
use crate::app::error::{ServiceError, ServiceResult};
use crate::live::event::ServerEvent;
use crate::{App, new_id};
use fandesk_domain::charter::{Charter, diff_lines, review_due_at, unified_diff};
use fandesk_domain::{Capability, Principal, Role, Topic};
use fandesk_store::{CharterReviewRow, CharterVersionRow};

/// Longest review note, in characters.
const MAX_NOTE_CHARS: usize = 2_000;
/// Reviews listed at most.
const MAX_REVIEWS: u32 = 100;

impl App {
    /// `GET /charter`: the version in force, when its review is due, and every key's value.
    pub async fn get_charter(&self, actor: &Principal) -> ServiceResult<CharterView> {
        team_only(actor)?;
        actor.require(Capability::ReadCharter)?;
        self.charter().await?;
        let row = self
            .store()
            .find_current_charter()
            .await?
            .ok_or(ServiceError::NotFound("charter"))?;
        self.charter_view(row).await
    }

    /// `PUT /charter` (owner): saves `toml` as the version after `base_version`.
    pub async fn save_charter(
        &self,
        actor: &Principal,
        toml: &str,
        base_version: i64,
    ) -> ServiceResult<CharterView> {
        team_only(actor)?;
        actor.require(Capability::EditCharter)?;
        let row = self
            .commit_charter(actor, toml.to_owned(), base_version)
            .await?;
        self.charter_view(row).await
    }

    /// Checks `text` whole and saves it as the version after `base`; the rule endpoints
    /// save through here too, so every change of a rule is a version.
    pub(crate) async fn commit_charter(
        &self,
        actor: &Principal,
        text: String,
        base: i64,
    ) -> ServiceResult<CharterVersionRow> {
        if text.contains('\0') {
            return Err(ServiceError::invalid("toml", "must not contain U+0000"));
        }
        let charter = Charter::parse(&text).map_err(ServiceError::InvalidCharter)?;
        self.check_leads(&text, &charter).await?;
        let version = base
            .checked_add(1)
            .filter(|_| base >= 1)
            .ok_or_else(|| ServiceError::invalid("base_version", "must be a version number"))?;
        let row = CharterVersionRow {
            version,
            toml: text,
            created_at: self.now(),
            created_by: Some(actor.author_id().to_owned()),
            created_by_name: actor.name().to_owned(),
        };
        let saved = self
            .store()
            .insert_charter_version(Some(base), &row, effects_of(&charter))
            .await?;
        if !saved {
            let current = self.store().current_charter_version().await?.unwrap_or(0);
            return Err(ServiceError::StaleVersion { base, current });
        }
        self.install_charter(version, charter)?;
        let event = ServerEvent::CharterUpdated {
            version,
            updated_by: actor.author_id(),
            updated_at: row.created_at,
        };
        self.publish_team(&Topic::Charter.to_string(), &event);
        Ok(row)
    }

    /// Every escalation path's leads must be escalation leads of the team, named by email
    /// (any case) or member id.
    async fn check_leads(&self, text: &str, charter: &Charter) -> ServiceResult<()> {
        if charter.escalation.paths.is_empty() {
            return Ok(());
        }
        let members = self.store().list_members().await?;
        let mut errors = Vec::new();
        for (path_index, path) in charter.escalation.paths.iter().enumerate() {
            for (lead_index, lead) in path.leads.iter().enumerate() {
                let member = members.iter().find(|member| {
                    member.id.as_str() == lead || member.email.eq_ignore_ascii_case(lead)
                });
                let problem = match member {
                    None => "no team member has this email or id",
                    Some(member) if member.role != Role::EscalationLead => {
                        "is not an escalation lead"
                    }
                    Some(_) => continue,
                };
                let field = format!("escalation.paths[{path_index}].leads[{lead_index}]");
                errors.push(Charter::error_at(text, &field, problem));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidCharter(errors))
        }
    }

    /// `GET /charter/versions`: the history, newest first.
    pub async fn list_charter_versions(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<CharterVersionView>> {
        team_only(actor)?;
        actor.require(Capability::ReadCharter)?;
        self.charter().await?;
        let rows = self.store().list_charter_versions().await?;
        Ok(rows.iter().map(CharterVersionView::from).collect())
    }

    /// `GET /charter/versions/{version}`: one version's document.
    pub async fn get_charter_version(
        &self,
        actor: &Principal,
        version: i64,
    ) -> ServiceResult<CharterVersionDocument> {
        team_only(actor)?;
        actor.require(Capability::ReadCharter)?;
        let row = self
            .store()
            .find_charter_version(version)
            .await?
            .ok_or(ServiceError::NotFound("charter version"))?;
        Ok(row.into())
    }

    /// `GET /charter/diff?from=&to=`: what changed between two versions.
    pub async fn diff_charter(
        &self,
        actor: &Principal,
        from: i64,
        to: i64,
    ) -> ServiceResult<CharterDiffView> {
        team_only(actor)?;
        actor.require(Capability::ReadCharter)?;
        let (old, new) = tokio::try_join!(
            self.store().find_charter_version(from),
            self.store().find_charter_version(to)
        )?;
        let old = old.ok_or(ServiceError::NotFound("charter version"))?;
        let new = new.ok_or(ServiceError::NotFound("charter version"))?;
        Ok(CharterDiffView {
            from,
            to,
            unified: unified_diff(&old.toml, &new.toml, &format!("v{from}"), &format!("v{to}")),
            lines: diff_lines(&old.toml, &new.toml)
                .into_iter()
                .map(Into::into)
                .collect(),
        })
    }

    /// `POST /charter/reviews` (owner, supervisors): records a sign-off of the version in
    /// force, which restarts the review clock.
    pub async fn review_charter(
        &self,
        actor: &Principal,
        note: Option<&str>,
    ) -> ServiceResult<CharterReviewView> {
        team_only(actor)?;
        actor.require(Capability::ReviewCharter)?;
        let note = note.unwrap_or("").trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(ServiceError::invalid(
                "note",
                format!("must be at most {MAX_NOTE_CHARS} characters"),
            ));
        }
        if note.contains('\0') {
            return Err(ServiceError::invalid("note", "must not contain U+0000"));
        }
        let version = self.charter().await?.version;
        let row = CharterReviewRow {
            id: new_id("crv"),
            version,
            reviewed_at: self.now(),
            reviewed_by: actor.author_id().to_owned(),
            reviewed_by_name: actor.name().to_owned(),
            note: note.to_owned(),
        };
        self.store().insert_charter_review(&row).await?;
        Ok(CharterReviewView::from(&row))
    }

    /// `GET /charter/reviews`: sign-offs, newest first.
    pub async fn list_charter_reviews(
        &self,
        actor: &Principal,
    ) -> ServiceResult<Vec<CharterReviewView>> {
        team_only(actor)?;
        actor.require(Capability::ReadCharter)?;
        let rows = self.store().list_charter_reviews(MAX_REVIEWS).await?;
        Ok(rows.iter().map(CharterReviewView::from).collect())
    }

    /// The view of a stored version, with its review state as of now.
    async fn charter_view(&self, row: CharterVersionRow) -> ServiceResult<CharterView> {
        let charter = Charter::parse(&row.toml).map_err(|errors| {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            ServiceError::Internal(format!(
                "stored charter v{} is invalid: {first}",
                row.version
            ))
        })?;
        let (last_review, first) = tokio::try_join!(
            self.store().find_last_charter_review(),
            self.store().first_charter_version()
        )?;
        let first_written = first.map_or(row.created_at, |first| first.created_at);
        let due = review_due_at(
            last_review.as_ref().map(|review| review.reviewed_at),
            first_written,
            charter.review.every_days,
        );
        let settings = serde_json::to_value(&charter)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        Ok(CharterView {
            version: row.version,
            toml: row.toml,
            updated_at: row.created_at,
            updated_by: row.created_by,
            updated_by_name: row.created_by_name,
            review_due_at: due,
            review_due: self.now() >= due,
            last_review: last_review.as_ref().map(CharterReviewView::from),
            settings,
        })
    }
}
