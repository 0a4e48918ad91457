//! Changing a team member (docs/product.md › Roles › Managing the team): the rule that the
//! team always keeps an active owner. Who may change members at all is the capability
//! table's (`ManageMembers`); this is what the change itself may not do.
//!
//! The store calls [`check_member_change`] inside the transaction that writes the change,
//! with the active owners read (and locked, on PostgreSQL) there, so two owners demoting
//! each other at once cannot both succeed.

use crate::error::RuleViolation;
use crate::role::Role;

/// What decides whether a member holds the owner's powers: their role, and whether they
/// may still log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    pub fn is_active_owner(self) -> bool {
        self.active && self.role == Role::Owner
    }
}

/// Every action the audit log records (docs/api.md › Supervision): the supervisory ones of
/// `conversation::Transition` and `monitor`/`whisper`, the owner's changes of a member,
/// and alerts acknowledged or dismissed.
pub const AUDITED_ACTIONS: [&str; 11] = [
    "monitor",
    "whisper",
    "takeover",
    "handback",
    "reassign",
    "escalate",
    MEMBER_UPDATE,
    "alert_acknowledge",
    "alert_dismiss",
    API_TOKEN_CREATE,
    API_TOKEN_REVOKE,
];

/// The audit actions of an integration API token created and revoked.
pub const API_TOKEN_CREATE: &str = "api_token_create";
pub const API_TOKEN_REVOKE: &str = "api_token_revoke";

/// The audit action of a change of a member.
pub const MEMBER_UPDATE: &str = "member_update";

/// The refusal when a change would leave nobody able to manage the team.
pub const LAST_OWNER: &str =
    "the team keeps at least one active owner: make another member owner first";

/// Whether a member may go from `before` to `after`, given how many *other* active owners
/// the team has. Demoting or deactivating the last active owner is refused (nobody could
/// manage members, the charter or integrations again).
pub fn check_member_change(
    before: Standing,
    after: Standing,
    other_active_owners: usize,
) -> Result<(), RuleViolation> {
    if before.is_active_owner() && !after.is_active_owner() && other_active_owners == 0 {
        return Err(RuleViolation::InvalidTransition(LAST_OWNER));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Agent, Bot, Owner, Supervisor};

    /// Before (role, active), after, other active owners, and the expected answer.
    type Row = ((Role, bool), (Role, bool), usize, Result<(), &'static str>);

    fn check(
        before: (Role, bool),
        after: (Role, bool),
        other_owners: usize,
        expected: Result<(), &str>,
    ) {
        let standing = |(role, active)| Standing { role, active };
        let got = check_member_change(standing(before), standing(after), other_owners);
        let expected = expected.map_err(|_| RuleViolation::InvalidTransition(LAST_OWNER));
        assert_eq!(
            got, expected,
            "{before:?} → {after:?} with {other_owners} other owners"
        );
    }

    #[test]
    fn the_team_keeps_an_active_owner() {
        let refused = Err("last owner");
        let table: &[Row] = &[
            // The last owner can be neither demoted nor deactivated…
            ((Owner, true), (Supervisor, true), 0, refused),
            ((Owner, true), (Agent, true), 0, refused),
            ((Owner, true), (Bot, true), 0, refused),
            ((Owner, true), (Owner, false), 0, refused),
            ((Owner, true), (Agent, false), 0, refused),
            // …but may change anything else about themselves.
            ((Owner, true), (Owner, true), 0, Ok(())),
            // With another active owner, either is allowed.
            ((Owner, true), (Supervisor, true), 1, Ok(())),
            ((Owner, true), (Owner, false), 1, Ok(())),
            ((Owner, true), (Agent, false), 2, Ok(())),
            // A deactivated owner is no owner in power: changing them removes nobody.
            ((Owner, false), (Agent, false), 0, Ok(())),
            ((Owner, false), (Owner, true), 0, Ok(())),
            // Members who are not owners change freely, including into owners.
            ((Agent, true), (Owner, true), 0, Ok(())),
            ((Supervisor, true), (Supervisor, false), 0, Ok(())),
            ((Agent, false), (Agent, true), 0, Ok(())),
            ((Bot, true), (Bot, false), 0, Ok(())),
        ];
        for &(before, after, others, expected) in table {
            check(before, after, others, expected);
        }
    }
}
