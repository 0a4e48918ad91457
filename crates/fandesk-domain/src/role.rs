//! Roles (docs/product.md › Roles) and the authenticated principal behind a request.

use crate::ids::{FanId, MemberId};
use serde::{Deserialize, Serialize};

/// A team member's role. Fans are not members; they are a separate principal kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Supervisor,
    EscalationLead,
    Agent,
    Bot,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Supervisor,
        Role::EscalationLead,
        Role::Agent,
        Role::Bot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Supervisor => "supervisor",
            Role::EscalationLead => "escalation_lead",
            Role::Agent => "agent",
            Role::Bot => "bot",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Human team members (everyone but bots) own relationships (docs/product.md ›
    /// Principles, 3).
    pub fn is_human(self) -> bool {
        !matches!(self, Role::Bot)
    }
}

/// Who is acting. Resolved from a bearer token by the service layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Member {
        id: MemberId,
        role: Role,
        name: String,
    },
    Fan {
        id: FanId,
        name: String,
    },
}

impl Principal {
    pub fn is_fan(&self) -> bool {
        matches!(self, Principal::Fan { .. })
    }

    /// The id of the author as stored with messages (members and fans share one column).
    pub fn author_id(&self) -> &str {
        match self {
            Principal::Member { id, .. } => id.as_str(),
            Principal::Fan { id, .. } => id.as_str(),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Principal::Member { name, .. } | Principal::Fan { name, .. } => name,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Member { role, .. } => Some(*role),
            Principal::Fan { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_wire_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("fan"), None);
        assert_eq!(Role::parse("Owner"), None);
    }
}
