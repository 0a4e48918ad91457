//! Persistence for fandesk on SQLite (embedded, one file in the data directory) and
//! PostgreSQL (multi-node). Only this crate names sqlx; errors leave it as [`StoreError`].
//!
//! Both backends run the same SQL where the dialects agree (SQLite accepts `$N`
//! placeholders); the [`on_pool!`] macro instantiates each query once per backend.

#[macro_use]
mod macros;
#[macro_use]
mod rows;
mod batch;
mod batch_sql;
mod connect;
mod conversation;
mod error;
mod fan;
mod member;
mod message;
#[macro_use]
mod room;
mod room_batch;
mod session;
mod supervision;

pub use batch::{OpResult, PostExtras, WriteOp, WriteOutcome};
pub use connect::Store;
pub use conversation::ConversationFilter;
pub use error::StoreError;
pub use room::{RoomEventFilter, RoomEventKind, RoomEventRow, RoomFanRow, RoomRow};
pub use room_batch::{RoomOp, RoomOpResult, RoomOutcome};
pub use supervision::{KeywordRuleRow, RestrictedRuleRow, ReviewFilter};
pub use rows::{
    AlertRow, AuditRow, ConversationRow, FanRow, MemberRow, MessageRow, SessionRow, Subject,
};

pub type StoreResult<T> = Result<T, StoreError>;

/// Converts a timestamp to the stored form: microseconds since the Unix epoch.
pub fn to_micros(at: jiff::Timestamp) -> i64 {
    at.as_microsecond()
}

/// Converts a stored time back. Out-of-range values can only come from a corrupt row.
pub fn from_micros(micros: i64) -> StoreResult<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(micros)
        .map_err(|error| StoreError::Corrupt(format!("timestamp {micros}: {error}")))
}
