//! What the JSON-lines export holds: one line type per exported table, its key and every
//! column with the JSON shape it takes (docs/export.md › Lines). The reader, the line
//! parser and the importer all work from these lists, so a column is listed once.

use fandesk_analytics::OpeningKind;
use fandesk_domain::channel::{ChannelKind, DecisionKind, DecisionStatus};
use fandesk_domain::conversation::Status;
use fandesk_domain::{AuthorKind, Role, TimelineEvent, Visibility};

/// How a column's value is written in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    Real,
    Bool,
    /// JSON kept as text in the database (tags, attributes, routing inputs), written as
    /// the JSON value itself: an array or an object.
    JsonArray,
    JsonObject,
}

/// One column of an exported table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    /// A closed vocabulary the text must belong to (roles, statuses, visibilities, …).
    pub vocabulary: Option<fn(&str) -> bool>,
    /// Holds a member id: an imported member matched by email under another id is
    /// rewritten here to the importing workspace's id.
    pub member: bool,
}

const fn column(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
        vocabulary: None,
        member: false,
    }
}

const fn nullable(name: &'static str, kind: Kind) -> Column {
    Column {
        nullable: true,
        ..column(name, kind)
    }
}

const fn closed(name: &'static str, vocabulary: fn(&str) -> bool) -> Column {
    Column {
        vocabulary: Some(vocabulary),
        ..column(name, Kind::Text)
    }
}

const fn member(column: Column) -> Column {
    Column {
        member: true,
        ..column
    }
}

use Kind::{Bool, Int, JsonArray, JsonObject, Real, Text};

/// An exported table: the `"type"` of its lines, its name and key, its columns (the key
/// first).
#[derive(Debug)]
pub(crate) struct Table {
    pub line: &'static str,
    pub name: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    pub(crate) fn key(&self) -> &'static str {
        self.columns[0].name
    }
}

fn is_role(text: &str) -> bool {
    Role::parse(text).is_some()
}

fn is_status(text: &str) -> bool {
    Status::parse(text).is_some()
}

fn is_author_kind(text: &str) -> bool {
    AuthorKind::parse(text).is_some()
}

fn is_visibility(text: &str) -> bool {
    Visibility::parse(text).is_some()
}

fn is_event(text: &str) -> bool {
    TimelineEvent::parse(text).is_some()
}

fn is_channel_kind(text: &str) -> bool {
    ChannelKind::parse(text).is_some()
}

/// A channel message's author is a member or the system (the archive warning).
fn is_channel_author(text: &str) -> bool {
    matches!(text, "member" | "system")
}

fn is_decision_kind(text: &str) -> bool {
    DecisionKind::parse(text).is_some()
}

fn is_decision_status(text: &str) -> bool {
    DecisionStatus::parse(text).is_some()
}

fn is_opening_kind(text: &str) -> bool {
    OpeningKind::ALL.iter().any(|kind| kind.as_str() == text)
}

/// Members without their password hash: they keep assignees, whisper addressees and
/// authors pointing at someone (docs/export.md › Members).
pub(crate) static MEMBERS: Table = Table {
    line: "member",
    name: "members",
    columns: &[
        column("id", Text),
        column("email", Text),
        column("name", Text),
        closed("role", is_role),
        column("created_at", Int),
        column("max_concurrent", Int),
        nullable("deactivated_at", Int),
    ],
};

pub(crate) static FANS: Table = Table {
    line: "fan",
    name: "fans",
    columns: &[
        column("id", Text),
        column("display_name", Text),
        nullable("external_id", Text),
        nullable("timezone", Text),
        column("tags", JsonArray),
        column("lifetime_spend_cents", Int),
        column("notes", Text),
        column("attributes", JsonObject),
        column("created_at", Int),
        column("last_seen_at", Int),
    ],
};

pub(crate) static CONVERSATIONS: Table = Table {
    line: "conversation",
    name: "conversations",
    columns: &[
        column("id", Text),
        column("fan_id", Text),
        closed("status", is_status),
        member(nullable("assignee_id", Text)),
        column("escalated", Bool),
        member(nullable("escalated_to", Text)),
        member(nullable("observer_id", Text)),
        column("priority", Int),
        column("priority_inputs", JsonArray),
        column("last_seq", Int),
        column("last_public_seq", Int),
        column("created_at", Int),
        column("updated_at", Int),
        nullable("last_message_at", Int),
        nullable("opened_at", Int),
        nullable("awaiting_since", Int),
        nullable("off_hours_replied_at", Int),
        column("sentiment", Real),
        column("sentiment_messages", Int),
        column("sentiment_negative", Bool),
        column("bot_automated_last", Bool),
        column("bot_fan_waiting", Bool),
        column("bot_exchanges", Int),
        column("bot_handed_off", Bool),
        nullable("snoozed_until", Int),
    ],
};

pub(crate) static MESSAGES: Table = Table {
    line: "message",
    name: "messages",
    columns: &[
        column("id", Text),
        column("conversation_id", Text),
        column("seq", Int),
        nullable("public_seq", Int),
        closed("author_kind", is_author_kind),
        member(column("author_id", Text)),
        column("author_name", Text),
        closed("visibility", is_visibility),
        member(nullable("whisper_to", Text)),
        column("body", Text),
        nullable("client_msg_id", Text),
        column("automated", Bool),
        Column {
            vocabulary: Some(is_event),
            ..nullable("event", Text)
        },
        nullable("reply_ms", Int),
        nullable("sentiment", Real),
        nullable("flag", Text),
        nullable("quick_replies", Text),
        column("created_at", Int),
    ],
};

/// The metric rows kept at write time (docs/metrics.md): facts about each opening, team
/// message and resolution that the history alone no longer tells (the SLA target in force,
/// the 24 h answer window), so they travel with their conversation.
pub(crate) static METRIC_OPENINGS: Table = Table {
    line: "metric_opening",
    name: "metric_openings",
    columns: &[
        column("id", Text),
        column("conversation_id", Text),
        column("number", Int),
        closed("kind", is_opening_kind),
        column("opened_at", Int),
        nullable("first_fan_at", Int),
        nullable("clock_at", Int),
        nullable("first_touch_at", Int),
        nullable("replied_at", Int),
        member(nullable("replier_id", Text)),
        nullable("frt_ms", Int),
        column("breached", Bool),
        column("latest", Bool),
    ],
};

pub(crate) static METRIC_TEAM_MESSAGES: Table = Table {
    line: "metric_team_message",
    name: "metric_team_messages",
    columns: &[
        column("message_id", Text),
        column("conversation_id", Text),
        member(column("author_id", Text)),
        column("sent_at", Int),
        nullable("answered_at", Int),
    ],
};

pub(crate) static METRIC_RESOLUTIONS: Table = Table {
    line: "metric_resolution",
    name: "metric_resolutions",
    columns: &[
        column("id", Text),
        column("conversation_id", Text),
        column("resolved_at", Int),
        column("escalated", Bool),
        member(nullable("assignee_id", Text)),
        column("public_messages", Int),
        nullable("superseded_at", Int),
    ],
};

/// Team channels (docs/export.md › Channels). `member_ids` keeps the ids it names: an
/// import that matches a member by email does not rewrite them.
pub(crate) static CHANNELS: Table = Table {
    line: "channel",
    name: "channels",
    columns: &[
        column("id", Text),
        column("name", Text),
        column("purpose", Text),
        column("guideline", Text),
        closed("kind", is_channel_kind),
        column("member_ids", JsonArray),
        member(column("created_by", Text)),
        column("created_at", Int),
        column("last_seq", Int),
        nullable("last_message_at", Int),
        column("active_at", Int),
        nullable("warned_at", Int),
        nullable("archived_at", Int),
    ],
};

/// A channel's messages; ids grow with time, so a thread's root comes before its replies.
pub(crate) static CHANNEL_MESSAGES: Table = Table {
    line: "channel_message",
    name: "channel_messages",
    columns: &[
        column("id", Text),
        column("channel_id", Text),
        column("seq", Int),
        closed("author_kind", is_channel_author),
        member(column("author_id", Text)),
        column("author_name", Text),
        nullable("client_msg_id", Text),
        column("body", Text),
        nullable("thread_root_id", Text),
        nullable("summary_of", Text),
        Column {
            vocabulary: Some(is_decision_kind),
            ..nullable("tag", Text)
        },
        column("created_at", Int),
    ],
};

pub(crate) static DECISIONS: Table = Table {
    line: "decision",
    name: "decisions",
    columns: &[
        column("id", Text),
        closed("kind", is_decision_kind),
        column("text", Text),
        member(nullable("owner_id", Text)),
        closed("status", is_decision_status),
        column("channel_id", Text),
        column("message_id", Text),
        column("created_at", Int),
        column("updated_at", Int),
    ],
};

pub(crate) static CONVERSIONS: Table = Table {
    line: "conversion",
    name: "conversions",
    columns: &[
        column("id", Text),
        column("fan_id", Text),
        nullable("event_id", Text),
        column("kind", Text),
        column("value_cents", Int),
        nullable("client_id", Text),
        member(column("recorded_by", Text)),
        column("created_at", Int),
        member(nullable("agent_id", Text)),
        nullable("reply_at", Int),
    ],
};

/// Every exported table, in the order lines are written: what a row refers to comes
/// before it, so an import inserts in file order.
pub(crate) static TABLES: [&Table; 11] = [
    &MEMBERS,
    &FANS,
    &CONVERSATIONS,
    &MESSAGES,
    &METRIC_OPENINGS,
    &METRIC_TEAM_MESSAGES,
    &METRIC_RESOLUTIONS,
    &CHANNELS,
    &CHANNEL_MESSAGES,
    &DECISIONS,
    &CONVERSIONS,
];

/// The table whose lines have this `"type"`.
pub(crate) fn by_line(line: &str) -> Option<&'static Table> {
    TABLES.into_iter().find(|table| table.line == line)
}
