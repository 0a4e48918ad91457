//! Persistence for fandesk on SQLite (embedded, one file in the data directory) and
//! PostgreSQL (multi-node). Only this crate names sqlx; errors leave it as [`StoreError`].
//!
//! Both backends run the same SQL where the dialects agree (SQLite accepts `$N`
//! placeholders). A `Store` method builds its SQL as data (`statement.rs`) and runs it on
//! either backend's pool; the transactions are functions generic over `dialect::Dialect`,
//! which says what differs (row locks, aggregate lists, the batch message insert).
//!
//! Modules follow the product: `accounts/` (members, fans, sessions), `conversation/`
//! (rows, the group commit's pure `plan` and its SQL `commit`), `room/` (the same for live
//! rooms), `channel/` (team channels, their messages and the decision log, with their own
//! group commit), `event.rs` (premieres and live events, each with its room), `question.rs` (their
//! questions, upvotes and timeline, with their own group commit), `export/` (JSON-lines export and
//! import of fans and conversations), `desk/` (queue, profiles, canned responses, shifts), `metrics/` (rows kept at
//! write time, their aggregation), `supervision.rs`, `jobs.rs`, `charter.rs` (the charter's versions and reviews), `flow.rs` (scripted
//! bot flows, their versions and each conversation's place in one), `integration.rs`
//! (webhooks and their delivery log), `schedule/` (scheduled messages, their recipients,
//! replies to send later), `audience.rs` (rooms' viewings, what event figures read),
//! `conversion.rs` (conversions and the replies that may earn one).

mod accounts;
mod audience;
mod backup;
mod channel;
mod charter;
mod connect;
mod conversation;
mod conversion;
mod desk;
mod dialect;
mod error;
mod event;
mod export;
mod flow;
mod integration;
mod jobs;
mod metrics;
mod question;
mod room;
mod schedule;
mod sqlite_params;
mod statement;
mod stored_text;
mod supervision;

pub use accounts::{
    ApiTokenRow, FanRow, LoginFailures, MemberChange, MemberRow, SessionRow, Subject,
};
pub use audience::{QuestionCounts, ViewingChange};
pub use backup::{BackupSummary, backup_sqlite, check_backup};
pub use channel::commit::{ChannelOp, ChannelOpResult, ChannelOutcome, NewDecision, SweepStep};
pub use channel::decision::{DecisionFilter, DecisionRow};
pub use channel::{ChannelMessageFilter, ChannelMessageRow, ChannelRow};
pub use charter::{CharterEffects, CharterReviewRow, CharterVersionRow};
pub use connect::{SQLITE_FILE, Store};
pub use conversation::ConversationFilter;
pub use conversation::plan::{OpResult, PostExtras, PostOrigin, WriteOp, WriteOutcome};
pub use conversation::rows::{ConversationRow, MessageRow};
pub use conversion::ConversionRow;
pub use desk::canned::{CannedMemberUseRow, CannedRow, CannedUsageRow};
pub use desk::inbox::{
    FanDirectoryRow, FanFilter, InboxSummaryRow, LastMessageRow, TEXT_SEARCH_CONVERSATIONS,
};
pub use desk::shifts::{ClockRow, ShiftRow};
pub use desk::{
    DeskConversationRow, FanMessageRow, FanProfileRow, FanProfileUpdate, MemberLoadRow,
};
pub use error::StoreError;
pub use event::{EventRow, EventUpdate};
pub use export::{
    ExportCounts, ExportCursor, ImportSummary, Importer, check_import_line, exported_columns,
};
pub use flow::{ConversationFlowRow, FlowRow, FlowState, FlowVersionRow};
pub use integration::{NewWebhookDelivery, WebhookAttempt, WebhookDeliveryRow, WebhookRow};
pub use jobs::{JobRow, JobState, NewJob};
pub use metrics::aggregate::{MetricGrouping, MetricPart};
pub use metrics::{LiveDeskFigures, MetricRows, ReplyHourRow};
pub use question::{
    QuestionEntry, QuestionEntryKind, QuestionOp, QuestionOpResult, QuestionOutcome, QuestionRow,
};
pub use room::plan::{RoomOp, RoomOpResult, RoomOutcome};
pub use room::{RoomEventFilter, RoomEventKind, RoomEventRow, RoomFanRow, RoomRow};
pub use schedule::delivery::ScheduledSent;
pub use schedule::reply::ScheduledReplyRow;
pub use schedule::{
    NewScheduledDelivery, ScheduledDeliveryRow, ScheduledMessageRow, ScheduledProgress,
    SegmentFanRow,
};
pub use supervision::{
    AlertRow, AuditFilter, AuditRow, KeywordRuleRow, RestrictedRuleRow, ReviewFilter,
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
