//! Conversions (docs/product.md › Events; docs/metrics.md › Conversions and revenue):
//! recorded by the creator's platform (a bot token) or the owner, credited to the human
//! team member whose public reply to the fan came last within 24 h before; and a fan's
//! activity for the fan panel — the events they watched, for how long, and what they
//! bought.

use crate::app::error::{ServiceError, ServiceResult};
use crate::{App, new_id};
use fandesk_analytics::revenue::{ATTRIBUTION_WINDOW_MICROS, attribute};
use fandesk_analytics::{AudienceWindow, audience_figures};
use fandesk_domain::event::EventId;
use fandesk_domain::{Capability, FanId, MemberId, Principal};
use fandesk_store::ConversionRow;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Longest `kind` and `client_id`, in characters.
pub const MAX_KIND_CHARS: usize = 64;
pub const MAX_CLIENT_ID_CHARS: usize = 128;
/// Largest `value_cents`: ten billion currency units.
pub const MAX_VALUE_CENTS: i64 = 1_000_000_000_000;

/// `POST /api/v1/conversions`.
#[derive(Clone, Debug, Default)]
pub struct NewConversion {
    /// Required (`None`: refused naming it, after the caller's right is checked).
    pub fan_id: Option<String>,
    pub event_id: Option<String>,
    /// Required.
    pub kind: Option<String>,
    pub value_cents: Option<i64>,
    /// The recorder's own id for it: a repeat with the same one records nothing new.
    pub client_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConversionView {
    pub id: String,
    pub fan_id: String,
    pub event_id: Option<String>,
    pub kind: String,
    pub value_cents: i64,
    pub client_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The human team member credited (their public reply to the fan came last within
    /// 24 h before); `null` when none.
    pub agent_id: Option<String>,
    /// When the credited reply was sent (its shift is the conversion's shift).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reply_at: Option<Timestamp>,
}

impl From<&ConversionRow> for ConversionView {
    fn from(row: &ConversionRow) -> Self {
        ConversionView {
            id: row.id.clone(),
            fan_id: row.fan_id.0.clone(),
            event_id: row.event_id.as_ref().map(|id| id.0.clone()),
            kind: row.kind.clone(),
            value_cents: row.value_cents,
            client_id: row.client_id.clone(),
            created_at: row.created_at,
            agent_id: row.agent_id.as_ref().map(|id| id.0.clone()),
            reply_at: row.reply_at,
        }
    }
}

/// One event a fan watched.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WatchedEventView {
    pub event_id: String,
    pub title: String,
    /// Seconds watched between the event's start and its end (or now).
    pub watch_secs: f64,
}

/// `GET /api/v1/fans/{id}/activity`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FanActivityView {
    /// Events the fan watched, latest start first.
    pub events: Vec<WatchedEventView>,
    /// The fan's conversions, newest first (at most 100).
    pub conversions: Vec<ConversionView>,
    /// The total value of the conversions listed, in cents.
    pub value_cents: i64,
}

fn trimmed_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    let text = value.trim();
    if text.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "must not hold control characters",
        ));
    }
    Ok(text.to_owned())
}

impl App {
    /// Records a conversion of `fan_id` (optionally at `event_id`) and credits it.
    pub async fn record_conversion(
        &self,
        actor: &Principal,
        input: NewConversion,
    ) -> ServiceResult<(ConversionView, bool)> {
        actor.require(Capability::RecordConversions)?;
        let required = |field: &str| ServiceError::invalid(field, "is required");
        let fan_id = FanId::from(
            input
                .fan_id
                .as_deref()
                .ok_or_else(|| required("fan_id"))?
                .trim(),
        );
        if fan_id.as_str().is_empty() || self.store().find_fan(&fan_id).await?.is_none() {
            return Err(ServiceError::invalid("fan_id", "no such fan"));
        }
        let event_id = match input.event_id.as_deref() {
            None => None,
            Some(id) => {
                let id = EventId::from(id.trim());
                if self.store().find_event(&id).await?.is_none() {
                    return Err(ServiceError::invalid("event_id", "no such event"));
                }
                Some(id)
            }
        };
        let kind = input.kind.as_deref().ok_or_else(|| required("kind"))?;
        let kind = trimmed_text("kind", kind, MAX_KIND_CHARS)?;
        let value_cents = input.value_cents.unwrap_or(0);
        if !(0..=MAX_VALUE_CENTS).contains(&value_cents) {
            return Err(ServiceError::invalid(
                "value_cents",
                format!("must be a whole number of cents from 0 to {MAX_VALUE_CENTS}"),
            ));
        }
        let client_id = input
            .client_id
            .as_deref()
            .map(|id| trimmed_text("client_id", id, MAX_CLIENT_ID_CHARS))
            .transpose()?;
        let now = self.now();
        let since = now - SignedDuration::from_micros(ATTRIBUTION_WINDOW_MICROS);
        let replies = self
            .store()
            .list_replies_to_fan(&fan_id, since, now)
            .await?;
        let credited = attribute(now, &replies);
        let row = ConversionRow {
            id: new_id("conv"),
            fan_id,
            event_id,
            kind,
            value_cents,
            client_id,
            recorded_by: MemberId::from(actor.author_id()),
            created_at: now,
            agent_id: credited.map(|reply| MemberId::from(reply.author.as_str())),
            reply_at: credited.map(|reply| reply.sent_at),
        };
        let (stored, created) = self.store().insert_conversion(&row).await?;
        Ok((ConversionView::from(&stored), created))
    }

    /// What a fan watched and bought (the team's fan panel).
    pub async fn fan_activity(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<FanActivityView> {
        // For anyone outside the team no fan exists (404, never 403), as on the profile.
        if !actor.may(Capability::ViewFanProfiles) {
            return Err(ServiceError::NotFound("fan"));
        }
        let fan = FanId::from(id);
        if self.store().find_fan(&fan).await?.is_none() {
            return Err(ServiceError::NotFound("fan"));
        }
        if let Err(error) = self.inner.rooms.viewings.flush().await {
            tracing::warn!(%error, "could not write this node's viewings before a read");
        }
        let now = self.now();
        let watched = self.store().list_fan_event_viewings(&fan).await?;
        let mut by_event: HashMap<String, (Timestamp, String, Vec<_>, AudienceWindow)> =
            HashMap::new();
        for (event, viewing) in watched {
            let window = event.window();
            let end = window.ends_at().min(now).max(window.starts_at);
            by_event
                .entry(event.id.0.clone())
                .or_insert_with(|| {
                    let audience = AudienceWindow {
                        start: window.starts_at,
                        end,
                    };
                    (event.starts_at, event.title.clone(), Vec::new(), audience)
                })
                .2
                .push(viewing);
        }
        let mut events: Vec<(Timestamp, WatchedEventView)> = by_event
            .into_iter()
            .filter_map(|(event_id, (starts_at, title, viewings, window))| {
                let figures = audience_figures(window, &viewings, &[]);
                (figures.unique_viewers > 0).then(|| {
                    let view = WatchedEventView {
                        event_id,
                        title,
                        watch_secs: figures.avg_watch_secs,
                    };
                    (starts_at, view)
                })
            })
            .collect();
        events.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.event_id.cmp(&b.1.event_id)));
        let conversions = self.store().list_fan_conversions(&fan).await?;
        Ok(FanActivityView {
            events: events.into_iter().map(|(_, view)| view).collect(),
            value_cents: conversions.iter().map(|row| row.value_cents).sum(),
            conversions: conversions.iter().map(ConversionView::from).collect(),
        })
    }
}
