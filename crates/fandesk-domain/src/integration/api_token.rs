//! Integration API tokens' rules (docs/product.md › Roles › API tokens): which roles a
//! token may act as (never the owner's: a leaked token must not manage the team, the
//! charter, webhooks, data or other tokens), what its name and expiry must be, and
//! whether a stored token still opens the API at an instant.

use crate::error::RuleViolation;
use crate::role::Role;
use jiff::Timestamp;

/// Every token's secret starts with this, so it is recognisable in a leak scan and never
/// mistaken for a session token.
pub const TOKEN_PREFIX: &str = "fdt_";
/// How many characters of the secret (after [`TOKEN_PREFIX`]) the list shows.
pub const SHOWN_CHARS: usize = 8;
/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most tokens that may be live (neither revoked nor expired) at once.
pub const MAX_LIVE_TOKENS: usize = 50;

/// The roles a token may act as, in the order the console offers them.
pub const TOKEN_ROLES: [Role; 4] = [
    Role::Supervisor,
    Role::EscalationLead,
    Role::Agent,
    Role::Bot,
];

/// The role a token acts as, from its wire name; the owner's role is refused.
pub fn token_role(text: &str) -> Result<Role, RuleViolation> {
    match Role::parse(text) {
        Some(role) if TOKEN_ROLES.contains(&role) => Ok(role),
        Some(Role::Owner) => Err(RuleViolation::invalid(
            "role",
            "a token cannot act as the owner: choose supervisor, escalation_lead, agent or bot",
        )),
        _ => Err(RuleViolation::invalid(
            "role",
            "must be one of supervisor, escalation_lead, agent, bot",
        )),
    }
}

/// A token's name: 1 to 100 characters once trimmed, no control characters.
pub fn token_name(text: &str) -> Result<String, RuleViolation> {
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(RuleViolation::invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(RuleViolation::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An expiry must lie in the future when the token is created.
pub fn check_expiry(expires_at: Option<Timestamp>, now: Timestamp) -> Result<(), RuleViolation> {
    match expires_at {
        Some(at) if at <= now => Err(RuleViolation::invalid(
            "expires_at",
            "must be in the future",
        )),
        _ => Ok(()),
    }
}

/// Whether a token with this expiry and revocation opens the API at `now`: not revoked,
/// and not at or past its expiry.
pub fn is_live(
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|at| now < at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).expect("a time")
    }

    #[test]
    fn roles_a_token_may_act_as() {
        for (text, expected) in [
            ("supervisor", Ok(Role::Supervisor)),
            ("escalation_lead", Ok(Role::EscalationLead)),
            ("agent", Ok(Role::Agent)),
            ("bot", Ok(Role::Bot)),
            ("owner", Err("role")),
            ("Owner", Err("role")),
            ("fan", Err("role")),
            ("", Err("role")),
        ] {
            let got = token_role(text).map_err(|error| match error {
                RuleViolation::Invalid { field, .. } => field,
                other => panic!("{text}: {other:?}"),
            });
            assert_eq!(got, expected, "{text}");
        }
        assert!(
            token_role("owner")
                .unwrap_err()
                .to_string()
                .contains("cannot act as the owner")
        );
    }

    #[test]
    fn names() {
        for (text, expected) in [
            ("Zapier", Some("Zapier")),
            ("  CRM sync  ", Some("CRM sync")),
            ("", None),
            ("   ", None),
            ("bad\u{7}bell", None),
            ("line\nbreak", None),
        ] {
            assert_eq!(token_name(text).ok().as_deref(), expected, "{text:?}");
        }
        assert!(token_name(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(token_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn expiry_and_liveness() {
        let now = at(1_000);
        assert!(check_expiry(None, now).is_ok());
        assert!(check_expiry(Some(at(1_001)), now).is_ok());
        assert!(check_expiry(Some(now), now).is_err());
        assert!(check_expiry(Some(at(999)), now).is_err());
        // (expires_at, revoked_at, live at 1,000?)
        for (expires, revoked, live) in [
            (None, None, true),
            (Some(at(1_001)), None, true),
            (Some(at(1_000)), None, false),
            (Some(at(500)), None, false),
            (None, Some(at(900)), false),
            (Some(at(2_000)), Some(at(900)), false),
        ] {
            assert_eq!(
                is_live(expires, revoked, now),
                live,
                "{expires:?} {revoked:?}"
            );
        }
    }
}
