//! fandesk's use cases: the only layer that combines the domain rules, the store and the
//! bus. HTTP and WebSocket handlers call [`App`] methods and nothing below it.
//!
//! Where things live, one folder per feature:
//! - `app/` — [`App`] and its start and shutdown, [`Config`], the [`Clock`],
//!   [`ServiceError`], the Prometheus registry.
//! - `commit` — the group-commit writer, generic over what it commits (conversations,
//!   rooms). `writer_thread` — where writers run: on SQLite, threads of their own.
//! - `live/` — what goes out to connections: the typed server events and their frames,
//!   publishing on the bus, topic subscriptions with replay, a connection's outbound queue.
//! - `conversation/` — fan ↔ team conversations: open, read, send, change, supervise,
//!   presence, and their JSON views.
//! - `channel/` — team channels: creation under the charter's limit, messages with tags,
//!   threads and summaries, the decision log and its exports, the archiving sweep.
//! - `room/` — live rooms: use cases, their writer batch, views, viewer counts, fan-out hub.
//! - `event/` — premieres and live events around a room: status and playback position
//!   from the clock, the premiere label, their JSON view.
//! - `desk/` — the agent desk: routing, queue, shifts, SLA timers, canned responses, fan
//!   profiles, and the worker that runs them after each commit.
//! - `signals/` — keyword and restricted-word rules, the after-commit signal processor,
//!   alerts.
//! - `charter/` — the charter in force (one compiled snapshot per node, re-read when the
//!   stored version changes), its versions, diffs and reviews.
//! - `reporting/` — metric summaries, the weekly report and its scheduled delivery.
//! - `jobs/` — the durable job scheduler and the recurring tasks, on the injected clock.
//! - `integration/` — outgoing webhooks: the events features emit after their commit,
//!   their durable deliveries, the SSRF guard, and the signed POST the weekly report
//!   shares.
//! - `flow/` — scripted bot flows: their versions and the one active flow, and the runtime
//!   the desk worker calls to greet, answer, collect and hand off.
//! - `schedule/` — sending later: replies a team member schedules ("reply later") and
//!   scheduled messages to fans and segments, delivered by a durable job.
//! - `conversion` — conversions and their credited agent; a fan's watched events and
//!   purchases.
//! - `auth/` — members, fans, passwords and bearer sessions.
//! - `export` — the owner's JSON-lines export and import of fans and conversations.

mod app;
mod auth;
mod channel;
mod charter;
mod commit;
mod conversation;
mod conversion;
mod desk;
mod event;
mod export;
mod flow;
mod integration;
mod jobs;
mod live;
mod reporting;
mod room;
mod schedule;
mod signals;
mod writer_thread;

pub use app::App;
pub use app::clock::{Clock, ManualClock, SystemClock};
pub use app::config::{Config, default_node_name};
pub use app::error::{ServiceError, ServiceResult};
pub use app::heap_metrics::{HeapFigures, HeapReader};
pub use app::metrics::Metrics;
pub use auth::api_tokens::{ApiTokenView, CreatedApiToken, NewApiToken};
pub use auth::{LoginResult, MemberUpdate, NewFanSession, NewMember, Session};
pub use channel::NewChannel;
pub use channel::decision::{DECISION_PAGE_MAX, DecisionExportFormat};
pub use channel::message::{ChannelPost, ChannelSent, PendingChannelSend};
pub use channel::view::{ChannelMessageView, ChannelView, DecisionView};
pub use charter::CharterConfig;
pub use charter::view::{
    CharterDiffView, CharterReviewView, CharterVersionDocument, CharterVersionView, CharterView,
    DiffLineView,
};
pub use conversation::message::{PendingSend, SendMessage, Sent};
pub use conversation::supervision::AuditView;
pub use conversion::{
    ConversionView, FanActivityView, MAX_CLIENT_ID_CHARS as MAX_CONVERSION_CLIENT_ID_CHARS,
    MAX_KIND_CHARS as MAX_CONVERSION_KIND_CHARS, MAX_VALUE_CENTS as MAX_CONVERSION_VALUE_CENTS,
    NewConversion, WatchedEventView,
};
pub use desk::DeskConfig;
pub use desk::canned::{
    CannedHealthEntry, CannedHealthView, CannedInput, CannedOveruse, CannedView,
};
pub use desk::fan_profile::{FanProfilePatch, FanProfileView};
pub use desk::inbox::{FanDirectoryView, FanPageView, InboxSummaryView, LastMessageView};
pub use desk::priority::PriorityInputView;
pub use desk::queue::{AgentDeskView, QueueEntryView, QueueView};
pub use desk::shifts::{ClockView, CoverageView, ShiftInput, ShiftView, UncoveredHourView};
pub use event::metrics::{EventConversionsView, EventMetricsView, EventQuestionsView};
pub use event::question::{QuestionChange, QuestionView};
pub use event::view::{EventView, ReplayMessageView};
pub use event::{EventPatch, NewEvent};
pub use fandesk_domain::desk::FirstLineMode;
pub use fandesk_store::{ExportCursor, ImportSummary};
pub use flow::FlowUpload;
pub use flow::view::{FlowDetailView, FlowVersionView, FlowView};
pub use integration::signature::webhook_signature;
pub use integration::{
    HostResolver, IntegrationEvent, NewWebhook, Resolution, SystemResolver, WebhookConfig,
    WebhookDeliveryView, WebhookView,
};
pub use jobs::JobsConfig;
pub use live::event::PresenceState;
pub use live::subscription::{Subscription, SubscriptionEnd};
pub use reporting::delivery::{
    ReportDelivery, ReportFormat, ReportWebhook, report_file_name, report_signature,
};
pub use reporting::summary::{
    StatsView, SummaryGroupView, SummaryGrouping, SummaryView, build_weekly_report,
};
pub use room::fanout::{RoomFanoutConfig, RoomMembership};
pub use room::subscription::{RoomReplay, RoomSubscription};
pub use room::{NewRoom, PendingRoomSend, RoomSent};
pub use schedule::{
    AudienceInput, AudienceView, LocalInput, LocalTimeView, NewScheduledMessage, QuietHoursView,
    QuietInput, SchedulePreview, ScheduledDeliveryView, ScheduledMessageView, ScheduledReplyView,
    ZonePreview,
};
pub use signals::alerts::AlertView;
pub use signals::rules::{KeywordRuleView, RestrictedRuleView};

pub use fandesk_domain::{Audience, Principal, Role};
pub use fandesk_store::{
    AuditFilter, ChannelMessageFilter, ConversationFilter, DecisionFilter, FanFilter, ReviewFilter,
};

pub(crate) use app::Inner;
pub(crate) use app::new_id;

/// The JSON forms of members, fans, conversations and messages, and their event frames.
pub mod view {
    pub use crate::auth::view::{FanView, MemberView};
    pub use crate::conversation::view::{
        AuthorView, ConversationView, FanConversationView, MessageView, TeamConversationView,
    };
    pub use crate::live::frame::{conversation_frame, message_frame};
}

/// The JSON forms of live rooms and room messages, and their event frames.
pub mod room_view {
    pub use crate::live::frame::{
        fan_timed_out_frame, room_event_frame, room_updated_frame, viewers_frame,
    };
    pub use crate::room::view::{RoomMessageView, RoomView, TimeoutView, ViewerCounts};
}

/// A connection's bounded outbound queue of pre-encoded frames.
pub mod frame_queue {
    pub use crate::live::frame_queue::{CLOSE_SLOW_CONSUMER, FrameQueue, Outgoing};
}

/// The weekly report's model and renderers (JSON, CSV, HTML with SVG charts).
pub use fandesk_analytics::report;
