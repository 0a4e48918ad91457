//! Alerts (docs/api.md › Alerts): stored, listed, pushed live on the team's `alerts`
//! topic, and emitted to webhooks (`alert.raised`). Alerts are team-only: their events have no fan frame. Every kind
//! ([`AlertKind`](fandesk_domain::AlertKind)) must have a label in the console and a line
//! in README.md; the tests below hold both to `AlertKind::ALL`.

use crate::app::error::{ServiceError, ServiceResult};
use crate::conversation::MAX_PAGE;
use crate::integration::IntegrationEvent;
use crate::live::event::ServerEvent;
use crate::signals::alert_details::AlertDetails;
use crate::{App, new_id};
use fandesk_domain::integration::WebhookEvent;
use fandesk_domain::{
    AlertAction, AlertKind, AlertState, Capability, ConversationId, Principal, Topic,
};
use fandesk_store::{AlertRow, AuditRow};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    /// `keyword`, `sla_breach`, `negative_sentiment`, `engagement_anomaly`,
    /// `restricted_word` or `escalation_off_shift` (`fandesk_domain::AlertKind`).
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
    /// `open`, `acknowledged` (someone is on it) or `dismissed` (nothing to do).
    pub state: String,
    /// Who acknowledged or dismissed it last: their member id and name, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_by_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub handled_at: Option<Timestamp>,
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
            state: row.state.clone(),
            handled_by: row.handled_by.clone(),
            handled_by_name: row.handled_by_name.clone(),
            handled_at: row.handled_at,
        }
    }
}

/// A new alert before it is stored; its kind follows from its details.
pub(crate) struct NewAlert {
    pub conversation_id: Option<ConversationId>,
    pub rule: Option<String>,
    pub excerpt: Option<String>,
    pub details: AlertDetails,
}

impl App {
    /// `GET /alerts?since=T&state=S`: supervisors, escalation leads and the owner.
    pub async fn list_alerts(
        &self,
        actor: &Principal,
        since: Timestamp,
        state: Option<AlertState>,
        limit: u32,
    ) -> ServiceResult<Vec<AlertView>> {
        actor.require(Capability::WatchAlerts)?;
        let rows = self
            .store()
            .list_alerts(
                since,
                state.map(AlertState::as_str),
                limit.clamp(1, MAX_PAGE),
            )
            .await?;
        Ok(rows.iter().map(AlertView::from).collect())
    }

    /// `POST /alerts/{id}/acknowledge` and `…/dismiss`: the alert moves on, who did it is
    /// kept with it and in the audit log, and every open console hears `alert.updated`.
    /// Repeating an action already done answers the alert as it is; acknowledging a
    /// dismissed alert is a conflict.
    pub async fn handle_alert(
        &self,
        actor: &Principal,
        id: &str,
        action: AlertAction,
    ) -> ServiceResult<AlertView> {
        actor.require(Capability::WatchAlerts)?;
        // Two supervisors acting at once: the loser re-reads and decides again.
        for _ in 0..3 {
            let row = self
                .store()
                .alert(id)
                .await?
                .ok_or(ServiceError::NotFound("alert"))?;
            let current = AlertState::parse(&row.state).unwrap_or(AlertState::Open);
            let next = current
                .after(action)
                .map_err(|refusal| ServiceError::Conflict(refusal.to_string()))?;
            let Some(next) = next else {
                return Ok(AlertView::from(&row));
            };
            let audit = AuditRow {
                id: new_id("aud"),
                actor_id: actor.author_id().to_owned(),
                actor_name: actor.name().to_owned(),
                action: format!("alert_{}", action_name(action)),
                conversation_id: row.conversation_id.clone(),
                details: serde_json::json!({ "alert_id": row.id, "kind": row.kind }).to_string(),
                created_at: self.now(),
            };
            if self
                .store()
                .set_alert_state(id, current.as_str(), next.as_str(), &audit)
                .await?
            {
                let row = self
                    .store()
                    .alert(id)
                    .await?
                    .ok_or(ServiceError::NotFound("alert"))?;
                let view = AlertView::from(&row);
                self.publish_team(
                    &Topic::Alerts.to_string(),
                    &ServerEvent::AlertUpdated { alert: &view },
                );
                return Ok(view);
            }
        }
        Err(ServiceError::Conflict(
            "the alert changed while this was decided; try again".into(),
        ))
    }

    /// Stores an alert and pushes it to the `alerts` topic.
    pub(crate) async fn raise_alert(&self, alert: NewAlert) -> ServiceResult<AlertView> {
        let kind = alert.details.kind();
        let row = AlertRow {
            id: new_id("alr"),
            kind: kind.as_str().to_owned(),
            conversation_id: alert.conversation_id,
            rule: alert.rule,
            excerpt: alert.excerpt,
            details: alert.details.to_json(),
            created_at: self.now(),
            state: AlertState::Open.as_str().to_owned(),
            handled_by: None,
            handled_by_name: None,
            handled_at: None,
        };
        self.store().insert_alert(&row).await?;
        let view = AlertView::from(&row);
        self.publish_team(
            &Topic::Alerts.to_string(),
            &ServerEvent::AlertRaised { alert: &view },
        );
        if self.emits(WebhookEvent::AlertRaised) {
            // A restricted-word alert quotes a team message, which may be internal.
            let quotes_internal = kind == AlertKind::RestrictedWord;
            self.emit(IntegrationEvent::AlertRaised {
                alert: view.clone(),
                quotes_internal,
            });
        }
        tracing::info!(%kind, alert = %row.id, "alert raised");
        Ok(view)
    }
}

/// `acknowledge` or `dismiss`: the audit action is `alert_` and this.
fn action_name(action: AlertAction) -> &'static str {
    match action {
        AlertAction::Acknowledge => "acknowledge",
        AlertAction::Dismiss => "dismiss",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fandesk_domain::AlertKind;
    use std::path::Path;

    fn workspace_file(path: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    /// The console's `ALERT_LABELS` object in `dashboard.js`: `kind: 'Label',` lines.
    fn console_labels() -> Vec<String> {
        let script = workspace_file("console/js/dashboard.js");
        let start = script
            .find("const ALERT_LABELS = {")
            .expect("dashboard.js defines ALERT_LABELS");
        let body = &script[start..];
        let end = body.find("};").expect("ALERT_LABELS ends");
        body[..end]
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (key, label) = line.trim().split_once(':')?;
                (!label
                    .trim()
                    .trim_end_matches(',')
                    .trim_matches('\'')
                    .is_empty())
                .then(|| key.trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn every_alert_kind_has_a_console_label() {
        let labels = console_labels();
        for kind in AlertKind::ALL {
            assert!(
                labels.iter().any(|label| label == kind.as_str()),
                "console/js/dashboard.js ALERT_LABELS lacks {kind}: {labels:?}"
            );
        }
        for label in &labels {
            assert!(
                AlertKind::parse(label).is_some(),
                "the console labels an alert kind the server never raises: {label}"
            );
        }
    }

    #[test]
    fn every_alert_kind_is_in_the_readme() {
        let readme = workspace_file("README.md");
        for kind in AlertKind::ALL {
            assert!(
                readme.contains(&format!("`{kind}`")),
                "README.md does not list the alert kind `{kind}`"
            );
        }
    }

    #[test]
    fn details_name_their_kind() {
        let details = AlertDetails::EscalationOffShift {
            lead_id: "mem_1".into(),
        };
        assert_eq!(details.kind(), AlertKind::EscalationOffShift);
        assert_eq!(details.to_json(), r#"{"lead_id":"mem_1"}"#);
        let keyword = AlertDetails::Keyword {
            word: "refunds".into(),
            message_id: "msg_1".into(),
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&keyword.to_json()).unwrap(),
            serde_json::json!({"word": "refunds", "message_id": "msg_1"})
        );
    }
}
