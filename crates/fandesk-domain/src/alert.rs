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

#[cfg(test)]
mod tests {
    use super::*;

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
