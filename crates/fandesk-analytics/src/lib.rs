//! fandesk's metrics as pure folds over conversation events (docs/metrics.md), and the
//! weekly report's rendering. No IO and no clock: the store feeds events in and persists
//! the records [`step`] produces; queries fold records with [`summarize`].
//!
//! The pipeline:
//! - [`Event`]: what happened in a conversation (created, reopened, bot hand-off, fan
//!   message, public human reply, automated reply, internal message, escalated, resolved).
//! - [`step`]: the incremental fold. Given a conversation's [`ConversationMetrics`] and one
//!   event, it updates the state and records which [`Opening`], [`TeamMessage`] and
//!   [`Resolution`] rows changed. The store calls it inside the group-commit transaction,
//!   so the rows are exact at every commit and queries never scan messages.
//! - [`replay`]: the same fold over a whole log, starting from nothing.
//! - [`summarize`]: records of a period → per-group mean / p50 / p90 / count and rates.
//! - [`report`]: the weekly report and its JSON, CSV and HTML (inline SVG) renderings.

mod audience;
mod event;
mod record;
pub mod report;
mod report_render;
pub mod revenue;
mod shift_calendar;
mod stats;
mod step;
mod summary;
mod svg;

pub use audience::{AudienceFigures, AudienceWindow, Viewing, audience_figures};
pub use event::{Actor, Event, EventKind};
pub use record::{Opening, OpeningKind, Resolution, TeamMessage};
pub use shift_calendar::{Segments, ShiftCalendar, day_segments};
pub use stats::{Stats, percentile_nearest_rank};
pub use step::{
    Changes, ConversationMetrics, DEFAULT_SLA_TARGET_MS, Policy, REPLY_WINDOW_MS, Records,
    answerable_since, replay, step,
};
pub use summary::{
    GroupBy, GroupSummary, GroupTotals, Period, Summary, summarize, summary_from_totals,
};
