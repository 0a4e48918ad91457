//! Message input limits (docs/api.md › Conventions) and author kinds (docs/api.md ›
//! Conversations and messages).

use crate::error::RuleViolation;
use serde::{Deserialize, Serialize};

/// Longest body, in characters, after trimming.
pub const MAX_BODY_CHARS: usize = 4_000;
/// Longest `client_msg_id`, in bytes.
pub const MAX_CLIENT_MSG_ID_BYTES: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Fan,
    Member,
    Bot,
    System,
}

impl AuthorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Fan => "fan",
            AuthorKind::Member => "member",
            AuthorKind::Bot => "bot",
            AuthorKind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<AuthorKind> {
        match text {
            "fan" => Some(AuthorKind::Fan),
            "member" => Some(AuthorKind::Member),
            "bot" => Some(AuthorKind::Bot),
            "system" => Some(AuthorKind::System),
            _ => None,
        }
    }
}

/// What a team-only system entry records, when it is a named event rather than a status
/// change's sentence (the console shows it apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimelineEvent {
    /// The bot rules handed the conversation to a human (docs/product.md › Bots).
    BotHandoff,
}

impl TimelineEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineEvent::BotHandoff => "bot_handoff",
        }
    }

    pub fn parse(text: &str) -> Option<TimelineEvent> {
        match text {
            "bot_handoff" => Some(TimelineEvent::BotHandoff),
            _ => None,
        }
    }
}

/// Trims the body and checks it: no U+0000, 1–4,000 characters after trimming.
pub fn validate_body(body: &str) -> Result<String, RuleViolation> {
    crate::text::refuse_nul("body", body)?;
    let trimmed = body.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err(RuleViolation::invalid("body", "must not be empty"));
    }
    if chars > MAX_BODY_CHARS {
        return Err(RuleViolation::invalid(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters (got {chars})"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A client-chosen idempotency key: 1–128 bytes of visible ASCII, so it is safe to echo in
/// logs and frames.
pub fn validate_client_msg_id(id: &str) -> Result<(), RuleViolation> {
    if id.is_empty() || id.len() > MAX_CLIENT_MSG_ID_BYTES {
        return Err(RuleViolation::invalid(
            "client_msg_id",
            format!("must be 1 to {MAX_CLIENT_MSG_ID_BYTES} characters"),
        ));
    }
    if !id.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(RuleViolation::invalid(
            "client_msg_id",
            "must contain only visible ASCII characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_limits() {
        let cases: [(&str, Option<&str>); 5] = [
            ("hi", Some("hi")),
            ("  hi \n", Some("hi")),
            ("", None),
            (" \n\t ", None),
            ("é", Some("é")),
        ];
        for (input, expected) in cases {
            assert_eq!(validate_body(input).ok().as_deref(), expected, "{input:?}");
        }
        assert!(validate_body(&"x".repeat(4_000)).is_ok());
        assert!(
            validate_body(&"é".repeat(4_000)).is_ok(),
            "limit counts characters, not bytes"
        );
        assert!(validate_body(&"x".repeat(4_001)).is_err());
    }

    #[test]
    fn client_msg_id_limits() {
        assert!(validate_client_msg_id("abc-123").is_ok());
        assert!(validate_client_msg_id(&"a".repeat(128)).is_ok());
        assert!(validate_client_msg_id(&"a".repeat(129)).is_err());
        assert!(validate_client_msg_id("").is_err());
        assert!(validate_client_msg_id("has space").is_err());
        assert!(validate_client_msg_id("ünï").is_err());
    }
}
