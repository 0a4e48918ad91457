//! After-commit signals (docs/product.md › Signals): keyword alerts (one per rule per
//! conversation per 10 minutes), `negative_sentiment` when a conversation turns negative,
//! the clipped-reply cluster detector across all conversations, and `restricted_word`
//! alerts for team messages sent under a `warn` rule. Runs off the write path: the writer
//! hands committed messages over a bounded queue and never waits for this task.

use crate::App;
use crate::signals::alert_details::AlertDetails;
use crate::signals::alerts::NewAlert;
use fandesk_domain::signals::{AlertThrottle, ClippedReplyRule, ReplyCounts, word_count};
use fandesk_domain::{AlertKind, AuthorKind};
use fandesk_store::{ConversationRow, MessageRow};
use jiff::{SignedDuration, Timestamp};
use std::collections::VecDeque;
use tokio::sync::mpsc;

/// Messages waiting for signal processing before new ones are dropped (with a warning):
/// alerts are advisory, and the write path must never slow down for them.
pub(crate) const SIGNAL_QUEUE: usize = 8_192;

/// One committed message for the signal processor.
pub(crate) struct SignalInput {
    pub message: MessageRow,
    pub conversation: ConversationRow,
    pub turned_negative: bool,
}

impl SignalInput {
    /// Only fan messages and flagged team messages carry signals.
    pub(crate) fn wanted(message: &MessageRow) -> bool {
        message.author_kind == AuthorKind::Fan || message.flag.is_some()
    }
}

/// Fan replies of the last day and hour, counted per second of arrival, oldest first.
///
/// Per second, not per reply: an entry per reply grew with every fan message for 26 hours
/// (24 bytes each, 12 MiB after the memory soak's ~400,000 fan messages, BENCHMARKS.md ›
/// memory); per second it stays under 93,600 entries (≈ 3 MiB) however busy the day. The
/// window's edges are then placed to the second, which moves at most one second's replies
/// of an hour between window and baseline.
struct ReplyLog {
    seconds: VecDeque<(Timestamp, ReplyCounts)>,
    last_check: Option<Timestamp>,
}

const RULE: ClippedReplyRule = ClippedReplyRule::DEFAULT;

impl ReplyLog {
    fn horizon() -> SignedDuration {
        SignedDuration::from_hours(26)
    }

    fn new() -> ReplyLog {
        ReplyLog {
            seconds: VecDeque::new(),
            last_check: None,
        }
    }

    fn push(&mut self, at: Timestamp, words: usize) {
        let second = Timestamp::from_second(at.as_second()).unwrap_or(at);
        let short = u64::from(RULE.is_short(words));
        match self.seconds.back_mut() {
            Some((last, counts)) if *last == second => {
                counts.total += 1;
                counts.short += short;
            }
            _ => self
                .seconds
                .push_back((second, ReplyCounts { short, total: 1 })),
        }
        let Ok(oldest) = at.checked_sub(Self::horizon()) else {
            return;
        };
        while self.seconds.front().is_some_and(|(time, _)| *time < oldest) {
            self.seconds.pop_front();
        }
    }

    /// Window and baseline counts of the clipped-reply rule at `now`.
    fn tally(&self, now: Timestamp) -> (ReplyCounts, ReplyCounts) {
        RULE.tally_counts(self.seconds.iter().copied(), now)
    }
}

pub(crate) async fn run(app: App, mut inputs: mpsc::Receiver<SignalInput>) {
    let mut log = ReplyLog::new();
    load_recent_replies(&app, &mut log).await;
    while let Some(input) = inputs.recv().await {
        process(&app, &input, &mut log).await;
    }
}

/// Rebuilds the reply log from stored fan messages, so the anomaly baseline survives a
/// restart.
async fn load_recent_replies(app: &App, log: &mut ReplyLog) {
    let Ok(since) = app.now().checked_sub(ReplyLog::horizon()) else {
        return;
    };
    match app.store().list_fan_message_bodies_since(since).await {
        Ok(rows) => {
            for (at, body) in rows {
                log.push(at, word_count(&body));
            }
        }
        Err(error) => {
            tracing::warn!(%error, "could not load recent fan replies; anomaly baseline starts empty")
        }
    }
}

async fn process(app: &App, input: &SignalInput, log: &mut ReplyLog) {
    let message = &input.message;
    if message.author_kind != AuthorKind::Fan {
        if let Some(rule) = &message.flag {
            let excerpt = match app.charter().await {
                Ok(rules) => match rules.restricted.check(&message.body) {
                    fandesk_domain::signals::RestrictedVerdict::Warn(hits) => {
                        hits.first().map(|hit| hit.excerpt.clone())
                    }
                    _ => None,
                },
                Err(_) => None,
            };
            alert(
                app,
                NewAlert {
                    conversation_id: Some(message.conversation_id.clone()),
                    rule: Some(rule.clone()),
                    excerpt,
                    details: AlertDetails::RestrictedWord {
                        message_id: message.id.0.clone(),
                        author_id: message.author_id.clone(),
                    },
                },
            )
            .await;
        }
        return;
    }
    keyword_alerts(app, message).await;
    if input.turned_negative {
        alert(
            app,
            NewAlert {
                conversation_id: Some(message.conversation_id.clone()),
                rule: None,
                excerpt: Some(excerpt_of(&message.body)),
                details: AlertDetails::NegativeSentiment {
                    score: input.conversation.sentiment.score,
                    message_score: message.sentiment,
                },
            },
        )
        .await;
    }
    log.push(message.created_at, word_count(&message.body));
    clipped_reply_check(app, log, message.created_at).await;
}

async fn keyword_alerts(app: &App, message: &MessageRow) {
    let rules = match app.charter().await {
        Ok(rules) => rules,
        Err(error) => return tracing::warn!(%error, "keyword rules unavailable"),
    };
    for hit in rules.keywords.first_per_rule(&message.body) {
        let last = app
            .store()
            .last_alert_at(
                AlertKind::Keyword.as_str(),
                Some(&message.conversation_id),
                Some(&hit.rule),
            )
            .await;
        let last = match last {
            Ok(last) => last,
            Err(error) => return tracing::warn!(%error, "cannot read the last keyword alert"),
        };
        if !AlertThrottle::KEYWORD.allows(last, message.created_at) {
            continue;
        }
        alert(
            app,
            NewAlert {
                conversation_id: Some(message.conversation_id.clone()),
                rule: Some(hit.rule.clone()),
                excerpt: Some(hit.excerpt.clone()),
                details: AlertDetails::Keyword {
                    word: hit.word.clone(),
                    message_id: message.id.0.clone(),
                },
            },
        )
        .await;
    }
}

/// Evaluates the clipped-reply rule at most once a minute.
async fn clipped_reply_check(app: &App, log: &mut ReplyLog, now: Timestamp) {
    if log
        .last_check
        .is_some_and(|last| now.duration_since(last) < SignedDuration::from_mins(1))
    {
        return;
    }
    log.last_check = Some(now);
    let (window, baseline) = log.tally(now);
    let Some(anomaly) = RULE.evaluate(window, baseline, now) else {
        return;
    };
    let last = app
        .store()
        .last_alert_at(AlertKind::EngagementAnomaly.as_str(), None, None)
        .await
        .ok()
        .flatten();
    if !AlertThrottle::ENGAGEMENT_ANOMALY.allows(last, now) {
        return;
    }
    alert(
        app,
        NewAlert {
            conversation_id: None,
            rule: None,
            excerpt: Some(anomaly.summary()),
            details: AlertDetails::engagement_anomaly(&anomaly),
        },
    )
    .await;
}

fn excerpt_of(body: &str) -> String {
    let mut excerpt: String = body.chars().take(120).collect();
    if body.chars().count() > 120 {
        excerpt.push('…');
    }
    excerpt.replace(['\n', '\r'], " ")
}

async fn alert(app: &App, alert: NewAlert) {
    if let Err(error) = app.raise_alert(alert).await {
        tracing::warn!(%error, "could not raise an alert");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64, millis: i64) -> Timestamp {
        Timestamp::from_millisecond(second * 1000 + millis).unwrap()
    }

    #[test]
    fn the_reply_log_grows_with_seconds_not_with_replies() {
        let mut log = ReplyLog::new();
        let start = 1_800_000_000;
        // 20,000 fan replies over 100 seconds, every fourth one clipped.
        for reply in 0..20_000_i64 {
            let words = if reply % 4 == 0 { 1 } else { 12 };
            log.push(at(start + reply / 200, (reply % 200) * 5), words);
        }
        assert_eq!(log.seconds.len(), 100);
        // The counts are those of the replies one by one.
        let now = at(start + 100, 0);
        let (window, baseline) = log.tally(now);
        assert_eq!(
            window,
            ReplyCounts {
                short: 5_000,
                total: 20_000
            }
        );
        assert_eq!(baseline, ReplyCounts::default());
    }

    #[test]
    fn the_reply_log_forgets_what_is_older_than_a_day_and_two_hours() {
        let mut log = ReplyLog::new();
        let start = 1_800_000_000;
        log.push(at(start, 0), 1);
        log.push(at(start + 3_600, 0), 1);
        log.push(at(start + 26 * 3_600 + 1, 0), 1);
        assert_eq!(log.seconds.len(), 2);
    }
}
