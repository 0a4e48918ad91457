//! Outgoing webhooks' rules (docs/product.md › Webhooks): the events a webhook can
//! subscribe to, what a subscription must hold, and which network addresses a webhook may
//! never reach ([`address`], the SSRF guard's pure half). Resolving names and connecting
//! are the service's.

pub mod address;
pub mod api_token;

use crate::error::RuleViolation;

/// An event a webhook subscribes to, by its wire name (`X-Fandesk-Event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// A public message was committed in a conversation.
    MessageCreated,
    /// An internal message (note, whisper, status entry) was committed: sent only to
    /// webhooks that name this event, never with `message.created`.
    MessageCreatedInternal,
    /// A conversation's status, assignee or escalation changed, or it was opened.
    ConversationUpdated,
    /// An alert was raised.
    AlertRaised,
    /// A decision or action was logged in a team channel.
    DecisionCreated,
}

/// Longest webhook URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Shortest and longest signing secret, in characters: short secrets are guessable.
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_SECRET_CHARS: usize = 256;

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 5] = [
        WebhookEvent::MessageCreated,
        WebhookEvent::MessageCreatedInternal,
        WebhookEvent::ConversationUpdated,
        WebhookEvent::AlertRaised,
        WebhookEvent::DecisionCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::MessageCreated => "message.created",
            WebhookEvent::MessageCreatedInternal => "message.created.internal",
            WebhookEvent::ConversationUpdated => "conversation.updated",
            WebhookEvent::AlertRaised => "alert.raised",
            WebhookEvent::DecisionCreated => "decision.created",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL
            .into_iter()
            .find(|event| event.as_str() == text)
    }
}

impl std::fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subscription's events: at least one, each known; sorted, without repeats.
pub fn validate_events(names: &[String]) -> Result<Vec<WebhookEvent>, RuleViolation> {
    if names.is_empty() {
        return Err(RuleViolation::invalid(
            "events",
            "must name at least one event",
        ));
    }
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let event = WebhookEvent::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
            RuleViolation::invalid(
                "events",
                format!("unknown event {name:?}; known: {}", known.join(", ")),
            )
        })?;
        events.push(event);
    }
    events.sort();
    events.dedup();
    Ok(events)
}

/// A signing secret: 16–256 characters, no control characters, no surrounding space
/// (a receiver copying it would not see the difference).
pub fn validate_secret(secret: &str) -> Result<(), RuleViolation> {
    let chars = secret.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&chars) {
        return Err(RuleViolation::invalid(
            "secret",
            format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"),
        ));
    }
    if secret.chars().any(char::is_control) || secret.trim() != secret {
        return Err(RuleViolation::invalid(
            "secret",
            "must not contain control characters or surrounding white space",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &[&str], expected: Result<&[WebhookEvent], &str>) {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let got = validate_events(&names);
        match expected {
            Ok(events) => assert_eq!(got.as_deref(), Ok(events), "{names:?}"),
            Err(field) => match got {
                Err(RuleViolation::Invalid { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{names:?}: expected a refusal, got {other:?}"),
            },
        }
    }

    #[test]
    fn event_lists() {
        use WebhookEvent::*;
        check(&["message.created"], Ok(&[MessageCreated]));
        check(
            &["alert.raised", "message.created", "alert.raised"],
            Ok(&[MessageCreated, AlertRaised]),
        );
        check(
            &["message.created.internal", "decision.created"],
            Ok(&[MessageCreatedInternal, DecisionCreated]),
        );
        check(&[" conversation.updated "], Ok(&[ConversationUpdated]));
        check(&[], Err("events"));
        check(&["message.deleted"], Err("events"));
        check(&["Message.Created"], Err("events"));
        check(&["message.created", ""], Err("events"));
    }

    #[test]
    fn names_round_trip() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
        }
    }

    #[test]
    fn secrets() {
        let cases: [(&str, bool); 6] = [
            ("0123456789abcdef", true),
            ("0123456789abcde", false),
            (" 0123456789abcdef", false),
            ("0123456789abcdef\n", false),
            ("0123456789\u{0}abcdef", false),
            ("ünïcödé-secret-ok!", true),
        ];
        for (secret, ok) in cases {
            assert_eq!(validate_secret(secret).is_ok(), ok, "{secret:?}");
        }
        assert!(validate_secret(&"x".repeat(256)).is_ok());
        assert!(validate_secret(&"x".repeat(257)).is_err());
    }
}
