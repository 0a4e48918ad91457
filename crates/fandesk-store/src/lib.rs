//! Persistence for fandesk on SQLite (embedded, one file in the data directory) and
//! PostgreSQL (multi-node). Only this crate names sqlx; errors leave it as [`StoreError`].
//!
//! Both backends run the same SQL where the dialects agree (SQLite accepts `$N`
//! placeholders); the [`on_pool!`] macro instantiates each query once per backend.

#[macro_use]
mod macros;
#[macro_use]
mod rows;
#[macro_use]
mod metrics;
mod batch;
mod batch_sql;
mod canned;
mod connect;
mod conversation;
mod desk;
mod error;
mod fan;
mod jobs;
mod member;
mod message;
mod metric_step;
mod metrics_aggregate;
#[macro_use]
mod room;
mod room_batch;
mod session;
mod shifts;
mod supervision;

pub use batch::{OpResult, PostExtras, WriteOp, WriteOutcome};
pub use canned::{CannedMemberUseRow, CannedRow, CannedUsageRow};
pub use connect::Store;
pub use conversation::ConversationFilter;
pub use desk::{
    DeskConversationRow, FanMessageRow, FanProfileRow, FanProfileUpdate, MemberLoadRow,
};
pub use error::StoreError;
pub use jobs::{JobRow, JobState, NewJob};
pub use metrics::{LiveDeskFigures, MetricRows, ReplyHourRow};
pub use metrics_aggregate::{MetricGrouping, MetricPart};
pub use room::{RoomEventFilter, RoomEventKind, RoomEventRow, RoomFanRow, RoomRow};
pub use room_batch::{RoomOp, RoomOpResult, RoomOutcome};
pub use rows::{
    AlertRow, AuditRow, ConversationRow, FanRow, MemberRow, MessageRow, SessionRow, Subject,
};
pub use shifts::{ClockRow, ShiftRow};
pub use supervision::{KeywordRuleRow, RestrictedRuleRow, ReviewFilter};

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
