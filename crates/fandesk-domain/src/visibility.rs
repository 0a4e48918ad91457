//! Visibility of timeline entries and the one rule that keeps internal content away from
//! fans (docs/product.md › Principles, 2). Every query, fan-out filter and serializer asks
//! [`Audience::sees`]; nothing else decides what a fan may see.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Seen by the fan and the team.
    Public,
    /// Whispers, notes, timeline events: team only.
    Internal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "public" => Some(Visibility::Public),
            "internal" => Some(Visibility::Internal),
            _ => None,
        }
    }
}

/// Who is looking at a timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    Team,
    Fan,
}

impl Audience {
    /// The single fan-safety predicate (ARCHITECTURE.md invariant).
    pub fn sees(self, visibility: Visibility) -> bool {
        match self {
            Audience::Team => true,
            Audience::Fan => visibility == Visibility::Public,
        }
    }

    /// Fans count positions on the public sequence so that no gap reveals an internal
    /// entry (docs/api.md › Conversations and messages).
    pub fn uses_public_seq(self) -> bool {
        self == Audience::Fan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fans_see_only_public_entries() {
        let cases = [
            (Audience::Team, Visibility::Public, true),
            (Audience::Team, Visibility::Internal, true),
            (Audience::Fan, Visibility::Public, true),
            (Audience::Fan, Visibility::Internal, false),
        ];
        for (audience, visibility, expected) in cases {
            assert_eq!(
                audience.sees(visibility),
                expected,
                "{audience:?} {visibility:?}"
            );
        }
    }
}
