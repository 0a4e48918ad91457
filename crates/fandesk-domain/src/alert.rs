//! The kinds of alert the team receives (docs/api.md › Alerts; README.md › Supervision and
//! signals): one enum, so a new kind is a compile error wherever kinds are listed — the
//! service's alert details, the console's labels and the README are checked against
//! [`AlertKind::ALL`] by tests.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A fan message matched a keyword rule.
    Keyword,
    /// A fan waited longer than the first-response target.
    SlaBreach,
    /// A conversation's rolling sentiment turned negative.
    NegativeSentiment,
    /// Short fan replies rose well above their baseline, across all conversations.
    EngagementAnomaly,
    /// A team message matched a `warn` restricted-word rule.
    RestrictedWord,
    /// A conversation was escalated while no escalation lead was on shift.
    EscalationOffShift,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Keyword,
        AlertKind::SlaBreach,
        AlertKind::NegativeSentiment,
        AlertKind::EngagementAnomaly,
        AlertKind::RestrictedWord,
        AlertKind::EscalationOffShift,
    ];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Keyword => "keyword",
            AlertKind::SlaBreach => "sla_breach",
            AlertKind::NegativeSentiment => "negative_sentiment",
            AlertKind::EngagementAnomaly => "engagement_anomaly",
            AlertKind::RestrictedWord => "restricted_word",
            AlertKind::EscalationOffShift => "escalation_off_shift",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert stands: raised (`open`), someone is on it (`acknowledged`), or judged
/// not to need anything (`dismissed`, final).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Acknowledged,
    Dismissed,
}

/// What a supervisor does to an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertAction {
    Acknowledge,
    Dismiss,
}

/// Why an alert cannot take an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertRefusal {
    #[error("the alert was dismissed; it cannot be acknowledged any more")]
    AlreadyDismissed,
}

impl AlertState {
    pub const ALL: [AlertState; 3] = [
        AlertState::Open,
        AlertState::Acknowledged,
        AlertState::Dismissed,
    ];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<AlertState> {
        AlertState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// The state after `action`: `None` when the alert is already there (nothing to
    /// record, the action is answered as done), a refusal when it cannot go there.
    /// Acknowledging is for open alerts; dismissing is allowed until dismissed.
    pub fn after(self, action: AlertAction) -> Result<Option<AlertState>, AlertRefusal> {
        match (self, action) {
            (AlertState::Open, AlertAction::Acknowledge) => Ok(Some(AlertState::Acknowledged)),
            (AlertState::Acknowledged, AlertAction::Acknowledge) => Ok(None),
            (AlertState::Dismissed, AlertAction::Acknowledge) => {
                Err(AlertRefusal::AlreadyDismissed)
            }
            (AlertState::Open | AlertState::Acknowledged, AlertAction::Dismiss) => {
                Ok(Some(AlertState::Dismissed))
            }
            (AlertState::Dismissed, AlertAction::Dismiss) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_states_follow_the_actions() {
        use AlertAction::{Acknowledge, Dismiss};
        use AlertState::{Acknowledged, Dismissed, Open};
        let table = [
            (Open, Acknowledge, Ok(Some(Acknowledged))),
            (Open, Dismiss, Ok(Some(Dismissed))),
            (Acknowledged, Acknowledge, Ok(None)),
            (Acknowledged, Dismiss, Ok(Some(Dismissed))),
            (Dismissed, Dismiss, Ok(None)),
            (Dismissed, Acknowledge, Err(AlertRefusal::AlreadyDismissed)),
        ];
        for (state, action, expected) in table {
            assert_eq!(state.after(action), expected, "{state:?} + {action:?}");
        }
        for state in AlertState::ALL {
            assert_eq!(AlertState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).ok(),
                Some(format!("\"{}\"", kind.as_str()))
            );
        }
        assert_eq!(AlertKind::parse("Keyword"), None);
    }
}
