//! What each kind of alert records besides its rule and excerpt (the `details` object of
//! docs/api.md › Alerts), one variant per [`AlertKind`]: the alert's kind follows from its
//! details, so a raised alert cannot carry another kind's facts.

use fandesk_domain::AlertKind;
use fandesk_domain::signals::ClippedReplyAnomaly;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum AlertDetails {
    /// `keyword`: the word as the fan wrote it, in which message.
    Keyword { word: String, message_id: String },
    /// `sla_breach`: the target, since when the fan waits and for how long, who had it.
    SlaBreach {
        target_secs: u64,
        waiting_since: Timestamp,
        waited_secs: i64,
        assignee_id: Option<String>,
        fan_id: String,
    },
    /// `negative_sentiment`: the conversation's rolling score and the message's own.
    NegativeSentiment {
        score: f64,
        message_score: Option<f64>,
    },
    /// `engagement_anomaly`: the window, the shares and the counts behind them, the z.
    EngagementAnomaly {
        window_start: String,
        window_end: String,
        share: f64,
        baseline_share: f64,
        short_replies: u64,
        replies: u64,
        baseline_short_replies: u64,
        baseline_replies: u64,
        z: f64,
        short_max_words: usize,
    },
    /// `restricted_word`: the flagged team message and its author.
    RestrictedWord {
        message_id: String,
        author_id: String,
    },
    /// `escalation_off_shift`: the lead the escalation went to although off shift.
    EscalationOffShift { lead_id: String },
}

impl AlertDetails {
    pub(crate) fn kind(&self) -> AlertKind {
        match self {
            AlertDetails::Keyword { .. } => AlertKind::Keyword,
            AlertDetails::SlaBreach { .. } => AlertKind::SlaBreach,
            AlertDetails::NegativeSentiment { .. } => AlertKind::NegativeSentiment,
            AlertDetails::EngagementAnomaly { .. } => AlertKind::EngagementAnomaly,
            AlertDetails::RestrictedWord { .. } => AlertKind::RestrictedWord,
            AlertDetails::EscalationOffShift { .. } => AlertKind::EscalationOffShift,
        }
    }

    pub(crate) fn engagement_anomaly(anomaly: &ClippedReplyAnomaly) -> AlertDetails {
        AlertDetails::EngagementAnomaly {
            window_start: anomaly.window.after.to_string(),
            window_end: anomaly.window.until.to_string(),
            share: anomaly.share,
            baseline_share: anomaly.baseline_share,
            short_replies: anomaly.counts.short,
            replies: anomaly.counts.total,
            baseline_short_replies: anomaly.baseline_counts.short,
            baseline_replies: anomaly.baseline_counts.total,
            z: anomaly.z,
            short_max_words: anomaly.short_max_words,
        }
    }

    /// The stored `details` text.
    pub(crate) fn to_json(&self) -> String {
        // Plain structs of strings and numbers: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}
