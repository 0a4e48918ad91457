//! The service layer's error: one enum whose [`ServiceError::code`] is the docs/api.md
//! error code. HTTP responses and WebSocket `error` frames both use it.

use fandesk_domain::RuleViolation;
use fandesk_domain::charter::CharterError;
use fandesk_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("missing, invalid or expired token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Bad input; `field` names the offending field (docs/api.md › Errors).
    #[error("{field}: {reason}")]
    InvalidRequest { field: String, reason: String },
    #[error("{0}")]
    Conflict(String),
    /// A limit of the charter would be passed (`channels.limit`): `conflict` with
    /// `details.limit`.
    #[error("{reason} (the charter's limit is {limit})")]
    LimitReached { reason: String, limit: u32 },
    #[error("{0}")]
    RateLimited(String),
    #[error("the first line of a canned response must be edited before sending")]
    CannedFirstLineUnedited,
    /// A canned response names a variable with no value and no default
    /// (docs/product.md › Canned responses).
    #[error("template variable {variable} has no value and no default")]
    TemplateVariableMissing { variable: String },
    #[error("{0}")]
    BotRuleViolation(String),
    /// A charter document with problems (docs/api.md › Charter), each naming its dotted
    /// key and line, in document order; nothing was applied.
    #[error("{}", charter_message(.0))]
    InvalidCharter(Vec<CharterError>),
    /// A flow document with a problem (docs/api.md › Flows): its key and line.
    #[error("{0}")]
    InvalidFlow(fandesk_domain::flow::FlowError),
    /// A save on top of a version that is no longer the newest (optimistic concurrency).
    #[error(
        "base_version {base} is not the current version ({current}): reload, apply your change again and save"
    )]
    StaleVersion { base: i64, current: i64 },
    /// The server is shutting down and no longer takes writes.
    #[error("the server is shutting down")]
    Unavailable,
    /// Anything else. The text is logged, never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The docs/api.md error code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::InvalidRequest { .. } => "invalid_request",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::LimitReached { .. } => "conflict",
            ServiceError::RateLimited(_) => "rate_limited",
            ServiceError::CannedFirstLineUnedited => "canned_first_line_unedited",
            ServiceError::TemplateVariableMissing { .. } => "template_variable_missing",
            ServiceError::BotRuleViolation(_) => "bot_rule_violation",
            ServiceError::InvalidCharter(_) | ServiceError::InvalidFlow(_) => "invalid_request",
            ServiceError::StaleVersion { .. } => "conflict",
            ServiceError::Unavailable => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    /// The HTTP status that goes with [`Self::code`].
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::Unauthorized => 401,
            ServiceError::Forbidden(_) => 403,
            ServiceError::NotFound(_) => 404,
            ServiceError::InvalidRequest { .. } => 422,
            ServiceError::Conflict(_) => 409,
            ServiceError::LimitReached { .. } => 409,
            ServiceError::RateLimited(_) => 429,
            ServiceError::CannedFirstLineUnedited | ServiceError::BotRuleViolation(_) => 422,
            ServiceError::TemplateVariableMissing { .. } => 422,
            ServiceError::InvalidCharter(_) | ServiceError::InvalidFlow(_) => 422,
            ServiceError::StaleVersion { .. } => 409,
            ServiceError::Unavailable => 503,
            ServiceError::Internal(_) => 500,
        }
    }

    /// The message safe to show a client: 5xx texts are replaced (docs/api.md › Errors).
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The field named in `details`, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ServiceError::InvalidRequest { field, .. } => Some(field),
            ServiceError::InvalidCharter(errors) => {
                errors.first().map(|error| error.field.as_str())
            }
            _ => None,
        }
    }

    /// The error's `details` object (docs/api.md › Errors): the offending `field`, and for
    /// a charter its `line`, `column` and every problem (`errors`), or the `current_version`
    /// a stale save missed.
    pub fn details(&self) -> serde_json::Value {
        match self {
            ServiceError::InvalidCharter(errors) => {
                let first = errors.first();
                serde_json::json!({
                    "field": first.map(|error| error.field.as_str()),
                    "line": first.map(|error| error.line),
                    "column": first.map(|error| error.column),
                    "errors": errors,
                })
            }
            ServiceError::InvalidFlow(error) => serde_json::json!({
                "field": if error.field.is_empty() { "source" } else { error.field.as_str() },
                "line": error.line,
            }),
            ServiceError::StaleVersion { current, .. } => {
                serde_json::json!({ "field": "base_version", "current_version": current })
            }
            ServiceError::LimitReached { limit, .. } => serde_json::json!({ "limit": limit }),
            other => match other.field() {
                Some(field) => serde_json::json!({ "field": field }),
                None => serde_json::json!({}),
            },
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ServiceError::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<RuleViolation> for ServiceError {
    fn from(violation: RuleViolation) -> Self {
        match violation {
            RuleViolation::Forbidden(text) => ServiceError::Forbidden(text.to_owned()),
            RuleViolation::Hidden => ServiceError::NotFound("conversation"),
            RuleViolation::Invalid { field, reason } => ServiceError::invalid(field, reason),
            RuleViolation::InvalidTransition(text) => ServiceError::Conflict(text.to_owned()),
            RuleViolation::BotRule(broken) => {
                ServiceError::BotRuleViolation(broken.message().to_owned())
            }
        }
    }
}

impl From<fandesk_domain::channel::ChannelRefusal> for ServiceError {
    fn from(refusal: fandesk_domain::channel::ChannelRefusal) -> Self {
        use fandesk_domain::channel::ChannelRefusal;
        match refusal {
            ChannelRefusal::Rule(violation) => violation.into(),
            ChannelRefusal::Missing(what) => ServiceError::NotFound(what),
            ChannelRefusal::Limit(limit) => ServiceError::LimitReached {
                reason: "there are as many active channels as the charter allows: archive one \
                         first"
                    .to_owned(),
                limit,
            },
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => ServiceError::Conflict(what),
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Rule(violation) => violation.into(),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The first problem of a charter, and how many more there are.
fn charter_message(errors: &[CharterError]) -> String {
    match errors {
        [] => "invalid charter".to_owned(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
