//! Signals the team is alerted to (docs/product.md › Signals): keyword rules on fan
//! messages, restricted words on team messages, sentiment, clipped-reply clusters, and how
//! often each alert may repeat. Pure: the service feeds in messages, stored state and
//! `now`.

pub mod anomaly;
pub mod excerpt;
pub mod inflection;
pub mod keyword;
pub mod restricted;
pub mod sentiment;
mod text;
pub mod throttle;
mod vader;

pub use anomaly::{
    Baseline, ClippedReplyAnomaly, ClippedReplyRule, ReplyCounts, SHORT_REPLY_MAX_WORDS, TimeRange,
    word_count,
};
pub use keyword::{KeywordMatch, KeywordMatcher, KeywordRule};
pub use restricted::{RestrictedAction, RestrictedRule, RestrictedVerdict, RestrictedWords};
pub use sentiment::{NEUTRAL_BAND, RollingSentiment, TurnRule, message_score};
pub use throttle::AlertThrottle;
