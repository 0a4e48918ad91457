//! Why a domain rule refused an action. The service layer maps each to an error code
//! of docs/api.md › Errors.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RuleViolation {
    /// The principal may not do this at all (role or ownership).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The principal may not even learn that the thing exists (another fan's conversation).
    #[error("not found")]
    Hidden,
    /// Input that breaks a limit; `field` names the offending field.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The current state does not allow the action.
    #[error("{0}")]
    InvalidTransition(&'static str),
    /// An automated public message the bot rules refuse (docs/product.md › Bots).
    #[error("{}", .0.message())]
    BotRule(crate::bot_rule::BotRuleBroken),
}

impl RuleViolation {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        RuleViolation::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
