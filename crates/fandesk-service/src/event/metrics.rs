//! An event's figures (docs/metrics.md › Events; `GET /api/v1/events/{id}/metrics`):
//! computed at the read from stored rows only — the room's viewings, its chat messages'
//! times, the questions, the conversions — so every node sharing the database gives the
//! same answer (this node's last second of viewing changes is written first).

use crate::App;
use crate::app::error::ServiceResult;
use fandesk_analytics::{AudienceWindow, audience_figures};
use fandesk_domain::event::EventStatus;
use fandesk_domain::{Capability, Principal};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventQuestionsView {
    /// Questions fans asked (hidden ones included).
    pub asked: u64,
    /// Questions the team marked answered.
    pub answered: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventConversionsView {
    /// Conversions recorded for this event.
    pub count: u64,
    /// Their total value, in cents.
    pub value_cents: i64,
}

/// `GET /api/v1/events/{id}/metrics`: the contract's fields, then extensions.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EventMetricsView {
    /// Fans who watched at some moment between the start and the end (or now).
    pub unique_viewers: u64,
    /// Most fans watching at one moment between the start and the end.
    pub peak_concurrent: u64,
    /// Seconds watched between the start and the end, per unique viewer.
    pub avg_watch_secs: f64,
    /// Chat messages sent in each minute since the start.
    pub messages_per_minute: Vec<u64>,
    /// Of the fans watching at the start, the share still watching at the start of each
    /// minute; empty when no one watched at the start.
    pub retention_by_minute: Vec<f64>,
    pub questions: EventQuestionsView,
    pub conversions: EventConversionsView,
    /// `scheduled`, `live` or `ended` at the read.
    pub status: String,
    /// Fans watching now, on every node (the live count; 0 once nobody watches).
    pub current_viewers: u64,
}

impl App {
    /// The figures of event `id` as of now (team members who see metrics).
    pub async fn event_metrics(
        &self,
        actor: &Principal,
        id: &str,
    ) -> ServiceResult<EventMetricsView> {
        actor.require(Capability::ViewMetrics)?;
        let event = self.existing_event(id).await?;
        if let Err(error) = self.inner.rooms.viewings.flush().await {
            // The figures still come from what is stored; this node's last second is
            // missing until the writer retries.
            tracing::warn!(%error, "could not write this node's viewings before a read");
        }
        let now = self.now();
        let window = event.window();
        let status = window.status(now);
        let end = match status {
            EventStatus::Scheduled => window.starts_at,
            EventStatus::Live => now,
            EventStatus::Ended => window.ends_at(),
        };
        let audience = AudienceWindow {
            start: window.starts_at,
            end,
        };
        let store = self.store();
        let (viewings, messages, questions, conversions) = tokio::try_join!(
            store.list_viewings(&event.room_id, audience.start, audience.end),
            store.list_room_message_times(&event.room_id, audience.start, audience.end),
            store.count_event_questions(&event.id),
            store.list_event_conversions(&event.id),
        )?;
        let figures = audience_figures(audience, &viewings, &messages);
        Ok(EventMetricsView {
            unique_viewers: figures.unique_viewers,
            peak_concurrent: figures.peak_concurrent,
            avg_watch_secs: figures.avg_watch_secs,
            messages_per_minute: figures.messages_per_minute,
            retention_by_minute: figures.retention_by_minute,
            questions: EventQuestionsView {
                asked: questions.asked,
                answered: questions.answered,
            },
            conversions: EventConversionsView {
                count: conversions.len() as u64,
                value_cents: conversions.iter().map(|row| row.value_cents).sum(),
            },
            status: status.as_str().to_owned(),
            current_viewers: self.current_viewers(&event.room_id),
        })
    }
}
