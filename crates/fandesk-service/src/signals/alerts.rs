//! Alerts (PROTOCOL.md › Alerts and metrics): stored, listed, and pushed live on the
//! team's `alerts` topic. Alerts are team-only: their events have no fan frame.

use crate::app::error::ServiceResult;
use crate::conversation::MAX_PAGE;
use crate::live::event::ServerEvent;
use crate::{App, new_id};
use fandesk_domain::{Capability, ConversationId, Principal, Topic};
use fandesk_store::AlertRow;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    /// `keyword`, `sla_breach`, `negative_sentiment`, `engagement_anomaly`,
    /// `restricted_word`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// Kind-specific facts (scores, window, share, baseline…).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&AlertRow> for AlertView {
    fn from(row: &AlertRow) -> Self {
        AlertView {
            id: row.id.clone(),
            kind: row.kind.clone(),
            conversation_id: row.conversation_id.as_ref().map(|id| id.0.clone()),
            rule: row.rule.clone(),
            excerpt: row.excerpt.clone(),
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            created_at: row.created_at,
        }
    }
}

/// A new alert before it is stored.
pub(crate) struct NewAlert {
    pub kind: &'static str,
    pub conversation_id: Option<ConversationId>,
    pub rule: Option<String>,
    pub excerpt: Option<String>,
    pub details: serde_json::Value,
}

impl App {
    /// `GET /alerts?since=T`: supervisors, escalation leads and the owner.
    pub async fn list_alerts(
        &self,
        actor: &Principal,
        since: Timestamp,
        limit: u32,
    ) -> ServiceResult<Vec<AlertView>> {
        actor.require(Capability::WatchAlerts)?;
        let rows = self
            .store()
            .list_alerts(since, limit.clamp(1, MAX_PAGE))
            .await?;
        Ok(rows.iter().map(AlertView::from).collect())
    }

    /// Stores an alert and pushes it to the `alerts` topic.
    pub(crate) async fn raise_alert(&self, alert: NewAlert) -> ServiceResult<AlertView> {
        let row = AlertRow {
            id: new_id("alr"),
            kind: alert.kind.to_owned(),
            conversation_id: alert.conversation_id,
            rule: alert.rule,
            excerpt: alert.excerpt,
            details: alert.details.to_string(),
            created_at: self.now(),
        };
        self.store().insert_alert(&row).await?;
        let view = AlertView::from(&row);
        self.publish_team(
            &Topic::Alerts.to_string(),
            &ServerEvent::AlertRaised { alert: &view },
        );
        tracing::info!(kind = alert.kind, alert = %row.id, "alert raised");
        Ok(view)
    }
}
