//! Fan profiles (docs/product.md › Conversations): display name, external id, time zone,
//! tags, lifetime spend, first and last seen, notes and custom attributes. Team-only: a fan
//! never sees their tags, notes or spend (docs/product.md: fans never see internal
//! content).
//!
//! Who may change what: any human team member edits tags, notes, attributes and the time
//! zone; the lifetime spend comes from the creator's platform, through a `bot` member's API
//! token (an integration), or from the owner. Bots may set every field.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::{Capability, FanId, Principal};
use fandesk_store::{FanProfileRow, FanProfileUpdate};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

const MAX_TAGS: usize = 20;
const MAX_TAG_CHARS: usize = 32;
const MAX_NOTES_CHARS: usize = 4_000;
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
const MAX_ATTRIBUTE_VALUE_CHARS: usize = 500;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanProfileView {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub timezone: Option<String>,
    /// Lowercase tags such as `vip`.
    pub tags: Vec<String>,
    /// In the platform currency's minor unit (cents).
    pub lifetime_spend_cents: i64,
    pub notes: String,
    /// Custom attributes, available to canned responses as `fan.attributes.KEY`.
    pub attributes: BTreeMap<String, String>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
}

impl From<&FanProfileRow> for FanProfileView {
    fn from(row: &FanProfileRow) -> Self {
        FanProfileView {
            id: row.fan.id.0.clone(),
            display_name: row.fan.display_name.clone(),
            external_id: row.fan.external_id.clone(),
            timezone: row.fan.timezone.clone(),
            tags: row.tags.clone(),
            lifetime_spend_cents: row.lifetime_spend_cents,
            notes: row.notes.clone(),
            attributes: row.attributes.clone(),
            first_seen_at: row.fan.created_at,
            last_seen_at: row.fan.last_seen_at,
        }
    }
}

/// Fields to change; `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct FanProfilePatch {
    pub tags: Option<Vec<String>>,
    pub lifetime_spend_cents: Option<i64>,
    pub notes: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub timezone: Option<String>,
}

/// Lowercase, unique, sorted; `[a-z0-9_-]`, 1–32 characters each, at most 20.
fn normalize_tags(tags: &[String]) -> ServiceResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(ServiceError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    let mut normalized: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS || !tag.chars().all(allowed) {
            return Err(ServiceError::invalid(
                "tags",
                format!("each tag is 1 to {MAX_TAG_CHARS} characters of a-z, 0-9, _ and -"),
            ));
        }
        normalized.push(tag);
    }
    normalized.sort();
    normalized.dedup();
    Ok(normalized)
}

fn check_attributes(attributes: &BTreeMap<String, String>) -> ServiceResult<()> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(ServiceError::invalid(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (key, value) in attributes {
        let key_chars = key.chars().count();
        // A dot would make `fan.attributes.KEY` ambiguous in a template.
        if key.trim().is_empty() || key_chars > MAX_ATTRIBUTE_KEY_CHARS || key.contains('.') {
            return Err(ServiceError::invalid(
                "attributes",
                format!("keys are 1 to {MAX_ATTRIBUTE_KEY_CHARS} characters without '.'"),
            ));
        }
        if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS || value.chars().any(char::is_control)
        {
            return Err(ServiceError::invalid(
                "attributes",
                format!("values are at most {MAX_ATTRIBUTE_VALUE_CHARS} characters of text"),
            ));
        }
    }
    Ok(())
}

impl App {
    /// `GET /fans/{id}`: the team sees any fan's profile; for anyone else no fan exists.
    pub async fn get_fan_profile(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<FanProfileView> {
        // For anyone outside the team no fan exists (404, never 403).
        if !actor.may(Capability::ViewFanProfiles) {
            return Err(ServiceError::NotFound("fan"));
        }
        let row = self
            .store()
            .find_fan_profile(&FanId::from(id))
            .await?
            .ok_or(ServiceError::NotFound("fan"))?;
        Ok(FanProfileView::from(&row))
    }

    /// `PATCH /fans/{id}`; re-scores the fan's open conversation (vip and spend count).
    pub async fn update_fan_profile(
        &self,
        actor: &Principal,
        id: &str,
        patch: FanProfilePatch,
    ) -> ServiceResult<FanProfileView> {
        if !actor.may(Capability::ViewFanProfiles) {
            return Err(ServiceError::NotFound("fan"));
        }
        if patch.lifetime_spend_cents.is_some() {
            actor.require(Capability::SetFanSpend)?;
        }
        // Bots (the creator's platform) set the spend; the rest is a human's judgement.
        let edits_profile = patch.tags.is_some()
            || patch.notes.is_some()
            || patch.attributes.is_some()
            || patch.timezone.is_some();
        if edits_profile || patch.lifetime_spend_cents.is_none() {
            actor.require(Capability::EditFanProfiles)?;
        }
        let mut update = FanProfileUpdate::default();
        if let Some(tags) = &patch.tags {
            update.tags = Some(normalize_tags(tags)?);
        }
        if let Some(spend) = patch.lifetime_spend_cents {
            if spend < 0 {
                return Err(ServiceError::invalid(
                    "lifetime_spend_cents",
                    "must not be negative",
                ));
            }
            update.lifetime_spend_cents = Some(spend);
        }
        if let Some(notes) = patch.notes {
            if notes.chars().count() > MAX_NOTES_CHARS {
                return Err(ServiceError::invalid(
                    "notes",
                    format!("at most {MAX_NOTES_CHARS} characters"),
                ));
            }
            update.notes = Some(notes);
        }
        if let Some(attributes) = patch.attributes {
            check_attributes(&attributes)?;
            update.attributes = Some(attributes);
        }
        if let Some(zone) = patch.timezone {
            let zone = zone.trim().to_owned();
            jiff::tz::TimeZone::get(&zone).map_err(|_| {
                ServiceError::invalid("timezone", "must be an IANA time zone such as Europe/Paris")
            })?;
            update.timezone = Some(zone);
        }
        let fan_id = FanId::from(id);
        self.store().update_fan_profile(&fan_id, &update).await?;
        if let Some(active) = self.store().find_active_conversation(&fan_id).await? {
            self.desk_rescore(&active.id);
        }
        self.get_fan_profile(actor, id).await
    }
}
