//! Pure rules of fandesk: ids, roles and permissions, conversation states, visibility,
//! message validation. No IO and no clock: time is always passed in (ARCHITECTURE.md ›
//! Invariants).

pub mod alert;
pub mod bot_rule;
pub mod capability;
pub mod change;
pub mod channel;
pub mod charter;
pub mod conversation;
pub mod desk;
pub mod error;
pub mod event;
pub mod flow;
pub mod ids;
pub mod integration;
pub mod message;
pub mod permission;
pub mod question;
pub mod role;
pub mod room;
pub mod schedule;
pub mod signals;
pub mod snooze;
pub mod team;
pub mod text;
pub mod topic;
pub mod visibility;

pub use alert::{AlertAction, AlertKind, AlertRefusal, AlertState};
pub use bot_rule::{BotLimits, BotRuleBroken, BotTurns, Speaker};
pub use capability::Capability;
pub use conversation::{ConversationState, Status};
pub use error::RuleViolation;
pub use ids::{ConversationId, FanId, MemberId, MessageId};
pub use message::{AuthorKind, TimelineEvent, validate_body, validate_client_msg_id};
pub use permission::{PostDecision, can_read_conversation, decide_post};
pub use role::{Principal, Role};
pub use room::{RoomId, RoomState};
pub use topic::Topic;
pub use visibility::{Audience, Visibility};
