//! The authorization classification of every documented operation: who may call it and
//! which object it addresses. The matrix test walks the OpenAPI document and fails on an
//! operation missing here (or listed here but not documented), so a new route cannot be
//! added without saying who may call it.

use fandesk_domain::Capability;

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
pub enum Who {
    /// Anyone, with or without a token.
    Public,
    /// Only the metrics scraper's token; no session (team or fan) opens it.
    MetricsToken,
    /// Any session: a team member of any role or a fan.
    Signed,
    /// Team members whose role holds the capability (the domain's table decides).
    Holds(Capability),
    /// Fans only (a team member has no conversation of their own to open).
    FanOnly,
    /// A conversation route, decided by the domain against the conversation's state.
    Conversation(ConversationRule),
    /// A room post, decided by the domain's `decide_room_post`.
    RoomPost,
    /// Cancelling a reply scheduled for later: members holding `ScheduleReplies`, and of
    /// them its author (the owner, in the matrix's world) or one who supervises
    /// conversations.
    ScheduledReplyAuthor,
}

/// The domain rule a conversation route follows, after `can_read_conversation`.
#[derive(Clone, Copy, Debug)]
pub enum ConversationRule {
    /// Reading: `can_read_conversation` alone.
    Read,
    /// Posting a public message: `decide_post`.
    Post,
    /// A change: `Transition::apply_to` (escalation: `Transition::check_escalation`).
    Change(Change),
    /// Joining silently: the `Monitor` capability; an escalation lead monitors escalated
    /// conversations only (the narrowing the service applies next to the state).
    Monitor,
}

/// The transitions of `Transition`, without their payload (filled per caller).
#[derive(Clone, Copy, Debug)]
pub enum Change {
    Resolve,
    Reopen,
    Assign,
    Unassign,
    Escalate,
    TakeOver,
    HandBack,
    Snooze,
}

impl Change {
    /// The role gate of every change, checked before the state (`Transition::apply_to`).
    pub fn capability(self) -> Capability {
        Capability::ChangeConversations
    }
}

/// What the `{…}` parameters of the path name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// No object in the path.
    None,
    /// A conversation: the caller's own, another's, or none.
    Conversation,
    /// A fan's profile: the caller's own (fans), another fan's, or none.
    FanProfile,
    Room,
    RoomMessage,
    Canned,
    Shift,
    KeywordRule,
    RestrictedRule,
    Webhook,
    /// An integration API token (an agent token, by the owner).
    ApiToken,
    Member,
    CharterVersion,
    /// A scripted bot flow (one version, greeting and ending).
    Flow,
    /// A reply scheduled for later (by the owner, in a conversation of its own).
    ScheduledReply,
    /// A message scheduled an hour from now for every fan (by the owner).
    ScheduledMessage,
    /// An event (a live session an hour from now, by the owner).
    Event,
    /// A question (a fan's, in a live event taking questions whose chat is open).
    Question,
    /// An open alert (a keyword alert on a fan's new conversation).
    Alert,
    /// A team channel (open, the whole team's, by the owner).
    Channel,
    /// A channel message that roots a thread (`{id}` its channel, `{root_id}` it).
    ChannelMessage,
    /// A decision-log entry (a `DECISION:` message by the owner).
    Decision,
}

/// One documented operation, by its `operationId`.
pub struct Classified {
    pub operation: &'static str,
    pub who: Who,
    pub object: Object,
}

const fn op(operation: &'static str, who: Who, object: Object) -> Classified {
    Classified {
        operation,
        who,
        object,
    }
}

use Capability as C;
use ConversationRule as R;
use Object as O;
use Who::*;

/// Every documented operation. The WebSocket upgrade is public here (an unauthenticated
/// socket may still say `hello`); what a socket may do is the WebSocket matrix's.
pub const TABLE: &[Classified] = &[
    // system
    op("healthz", Public, O::None),
    op("openapi", Public, O::None),
    op("metrics", MetricsToken, O::None),
    op("upgrade", Public, O::None),
    // auth and members
    op("login", Public, O::None),
    op("create_fan_session", Public, O::None),
    op("logout", Signed, O::None),
    op("me", Signed, O::None),
    op("list_members", Holds(C::ViewTeam), O::None),
    op("create_member", Holds(C::ManageMembers), O::None),
    op("update_member", Holds(C::ManageMembers), O::Member),
    // conversations
    op("list_conversations", Signed, O::None),
    op("open_conversation", FanOnly, O::None),
    op("get_conversation", Conversation(R::Read), O::Conversation),
    op("list_messages", Conversation(R::Read), O::Conversation),
    op("send_message", Conversation(R::Post), O::Conversation),
    // events
    op("create_event", Holds(C::ManageRooms), O::None),
    op("list_events", Signed, O::None),
    op("get_event", Signed, O::Event),
    op("update_event", Holds(C::ManageRooms), O::Event),
    op("event_replay", Signed, O::Event),
    op("event_metrics", Holds(C::ViewMetrics), O::Event),
    op("record_conversion", Holds(C::RecordConversions), O::None),
    op("ask_question", FanOnly, O::Event),
    op("list_questions", Signed, O::Event),
    op("upvote_question", FanOnly, O::Question),
    op("answer_question", Holds(C::ModerateRooms), O::Question),
    op("pin_question", Holds(C::ModerateRooms), O::Question),
    op("hide_question", Holds(C::ModerateRooms), O::Question),
    op(
        "list_scheduled_replies",
        Holds(C::ScheduleReplies),
        O::Conversation,
    ),
    op(
        "cancel_scheduled_reply",
        ScheduledReplyAuthor,
        O::ScheduledReply,
    ),
    op(
        "resolve",
        Conversation(R::Change(Change::Resolve)),
        O::Conversation,
    ),
    op(
        "reopen",
        Conversation(R::Change(Change::Reopen)),
        O::Conversation,
    ),
    op(
        "assign",
        Conversation(R::Change(Change::Assign)),
        O::Conversation,
    ),
    op(
        "unassign",
        Conversation(R::Change(Change::Unassign)),
        O::Conversation,
    ),
    op(
        "escalate",
        Conversation(R::Change(Change::Escalate)),
        O::Conversation,
    ),
    op(
        "takeover",
        Conversation(R::Change(Change::TakeOver)),
        O::Conversation,
    ),
    op(
        "handback",
        Conversation(R::Change(Change::HandBack)),
        O::Conversation,
    ),
    op(
        "snooze",
        Conversation(R::Change(Change::Snooze)),
        O::Conversation,
    ),
    op("monitor", Conversation(R::Monitor), O::Conversation),
    // supervision
    op("audit", Holds(C::ReadAudit), O::None),
    op("review", Holds(C::ReviewMessages), O::None),
    // signals
    op("alerts", Holds(C::WatchAlerts), O::None),
    op("acknowledge_alert", Holds(C::WatchAlerts), O::Alert),
    op("dismiss_alert", Holds(C::WatchAlerts), O::Alert),
    op("list_keyword_rules", Holds(C::ViewRules), O::None),
    op("create_keyword_rule", Holds(C::ManageRules), O::None),
    op("delete_keyword_rule", Holds(C::ManageRules), O::KeywordRule),
    op("list_restricted_rules", Holds(C::ViewRules), O::None),
    op("create_restricted_rule", Holds(C::ManageRules), O::None),
    op(
        "delete_restricted_rule",
        Holds(C::ManageRules),
        O::RestrictedRule,
    ),
    // desk
    op("get_fan", Holds(C::ViewFanProfiles), O::FanProfile),
    op("update_fan", Holds(C::EditFanProfiles), O::FanProfile),
    op("fan_activity", Holds(C::ViewFanProfiles), O::FanProfile),
    op("queue", Holds(C::ViewDesk), O::None),
    // inbox
    op("inbox_summaries", Holds(C::ViewDesk), O::None),
    op("mark_read", Holds(C::ViewDesk), O::Conversation),
    op("list_fans", Holds(C::ViewFanProfiles), O::None),
    op("agents", Holds(C::ViewDesk), O::None),
    op("set_capacity", Holds(C::ManageCapacity), O::Member),
    // shifts
    op("list_shifts", Holds(C::ViewDesk), O::None),
    op("coverage", Holds(C::ViewDesk), O::None),
    op("create_shift", Holds(C::ManageShifts), O::None),
    op("update_shift", Holds(C::ManageShifts), O::Shift),
    op("delete_shift", Holds(C::ManageShifts), O::Shift),
    op("clock_in", Holds(C::WorkShifts), O::None),
    op("clock_out", Holds(C::WorkShifts), O::None),
    // canned responses
    op("list_canned_responses", Holds(C::UseCanned), O::None),
    op("create_canned_response", Holds(C::ManageCanned), O::None),
    op("health", Holds(C::ManageCanned), O::None),
    op("update_canned_response", Holds(C::ManageCanned), O::Canned),
    op("delete_canned_response", Holds(C::ManageCanned), O::Canned),
    op("render", Holds(C::UseCanned), O::Canned),
    // metrics
    op("summary", Holds(C::ViewMetrics), O::None),
    op("weekly", Holds(C::ViewMetrics), O::None),
    // rooms
    op("list_rooms", Signed, O::None),
    op("create_room", Holds(C::ManageRooms), O::None),
    op("get_room", Signed, O::Room),
    op("open_room", Holds(C::ManageRooms), O::Room),
    op("close_room", Holds(C::ManageRooms), O::Room),
    op("list_room_messages", Signed, O::Room),
    op("send_room_message", RoomPost, O::Room),
    op("delete_message", Holds(C::ModerateRooms), O::RoomMessage),
    op("time_out", Holds(C::ModerateRooms), O::Room),
    op("set_slow_mode", Holds(C::ModerateRooms), O::Room),
    // charter
    op("get_charter", Holds(C::ReadCharter), O::None),
    op("save_charter", Holds(C::EditCharter), O::None),
    op("list_versions", Holds(C::ReadCharter), O::None),
    op("get_version", Holds(C::ReadCharter), O::CharterVersion),
    op("diff", Holds(C::ReadCharter), O::None),
    op("list_reviews", Holds(C::ReadCharter), O::None),
    op("review_charter", Holds(C::ReviewCharter), O::None),
    // flows
    op("list_flows", Holds(C::ManageFlows), O::None),
    op("create_flow", Holds(C::ManageFlows), O::None),
    op("get_flow", Holds(C::ManageFlows), O::Flow),
    op("add_flow_version", Holds(C::ManageFlows), O::Flow),
    op("activate_flow", Holds(C::ManageFlows), O::Flow),
    op("deactivate_flow", Holds(C::ManageFlows), O::Flow),
    // webhooks
    op("list_webhooks", Holds(C::ManageIntegrations), O::None),
    op("create_webhook", Holds(C::ManageIntegrations), O::None),
    op("get_webhook", Holds(C::ManageIntegrations), O::Webhook),
    op("delete_webhook", Holds(C::ManageIntegrations), O::Webhook),
    op(
        "list_webhook_deliveries",
        Holds(C::ManageIntegrations),
        O::Webhook,
    ),
    // integration API tokens
    op("list_api_tokens", Holds(C::ManageApiTokens), O::None),
    op("create_api_token", Holds(C::ManageApiTokens), O::None),
    op("revoke_api_token", Holds(C::ManageApiTokens), O::ApiToken),
    // scheduled messages
    op(
        "list_scheduled_messages",
        Holds(C::ScheduleMessages),
        O::None,
    ),
    op(
        "create_scheduled_message",
        Holds(C::ScheduleMessages),
        O::None,
    ),
    op(
        "preview_scheduled_message",
        Holds(C::ScheduleMessages),
        O::None,
    ),
    op(
        "get_scheduled_message",
        Holds(C::ScheduleMessages),
        O::ScheduledMessage,
    ),
    op(
        "cancel_scheduled_message",
        Holds(C::ScheduleMessages),
        O::ScheduledMessage,
    ),
    op(
        "list_scheduled_deliveries",
        Holds(C::ScheduleMessages),
        O::ScheduledMessage,
    ),
    // team channels and the decision log (fans: 404, checked in channels.rs)
    op("create_channel", Holds(C::ManageChannels), O::None),
    op("list_channels", Holds(C::UseChannels), O::None),
    op("get_channel", Holds(C::UseChannels), O::Channel),
    op("archive_channel", Holds(C::ManageChannels), O::Channel),
    op("restore_channel", Holds(C::ManageChannels), O::Channel),
    op("post_channel_message", Holds(C::UseChannels), O::Channel),
    op("list_channel_messages", Holds(C::UseChannels), O::Channel),
    op(
        "post_thread_summary",
        Holds(C::UseChannels),
        O::ChannelMessage,
    ),
    op("list_decisions", Holds(C::UseChannels), O::None),
    op("export_decisions", Holds(C::UseChannels), O::None),
    op("update_decision", Holds(C::UseChannels), O::Decision),
    // export and import
    op("export_workspace", Holds(C::MoveData), O::None),
    op("import_workspace", Holds(C::MoveData), O::None),
];

/// The classification of `operation`, if any.
pub fn classify(operation: &str) -> Option<&'static Classified> {
    TABLE.iter().find(|entry| entry.operation == operation)
}
