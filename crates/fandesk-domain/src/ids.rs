//! Opaque id newtypes (docs/api.md › Conventions: "Ids are opaque strings"), so a fan id
//! can never be passed where a member id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

id_type!(
    /// A team member (owner, supervisor, escalation lead, agent or bot).
    MemberId
);
id_type!(
    /// A fan: the audience side of a conversation.
    FanId
);
id_type!(
    /// A fan ↔ team conversation.
    ConversationId
);
id_type!(
    /// One stored message (timeline entry).
    MessageId
);
