//! Live rooms: their rows, creation and reads. Everything that takes a place in a room's
//! timeline, and every moderation or state change, goes through
//! [`Store::apply_room_batch`] (`plan.rs` decides, `commit.rs` writes) so it is decided
//! against current state.

pub(crate) mod commit;
pub(crate) mod plan;

use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::room::{FanStanding, RoomId, RoomState};
use fandesk_domain::{AuthorKind, FanId, MemberId, MessageId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomRow {
    pub id: RoomId,
    pub title: String,
    /// As stored; rules and views use [`fandesk_domain::room::effective_state`].
    pub state: RoomState,
    pub opens_at: Option<Timestamp>,
    pub slow_mode_secs: u32,
    pub last_seq: u64,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a room timeline entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomEventKind {
    /// A chat message.
    Message,
    /// A moderator deleted the message `target_id`.
    Deletion,
}

impl RoomEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomEventKind::Message => "message",
            RoomEventKind::Deletion => "deletion",
        }
    }

    pub fn parse(text: &str) -> Option<RoomEventKind> {
        match text {
            "message" => Some(RoomEventKind::Message),
            "deletion" => Some(RoomEventKind::Deletion),
            _ => None,
        }
    }
}

/// One entry of a room's timeline. A message row carries `deleted_at`/`deleted_by` once
/// deleted; a deletion row names its message in `target_id` and has an empty body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomEventRow {
    pub id: MessageId,
    pub room_id: RoomId,
    pub seq: u64,
    pub kind: RoomEventKind,
    pub author_id: String,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub automated: bool,
    pub target_id: Option<MessageId>,
    pub deleted_at: Option<Timestamp>,
    pub deleted_by: Option<MemberId>,
    pub created_at: Timestamp,
}

/// A room's record of one fan (slow mode, timeout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomFanRow {
    pub room_id: RoomId,
    pub fan_id: FanId,
    pub last_message_at: Option<Timestamp>,
    pub timed_out_until: Option<Timestamp>,
    pub timed_out_by: Option<MemberId>,
}

impl RoomFanRow {
    pub fn new(room_id: RoomId, fan_id: FanId) -> RoomFanRow {
        RoomFanRow {
            room_id,
            fan_id,
            last_message_at: None,
            timed_out_until: None,
            timed_out_by: None,
        }
    }

    /// The parts the posting rules look at.
    pub fn standing(&self) -> FanStanding {
        FanStanding {
            last_message_at: self.last_message_at,
            timed_out_until: self.timed_out_until,
        }
    }
}

pub(crate) const ROOM_COLUMNS: &str =
    "id, title, state, opens_at, slow_mode_secs, last_seq, created_by, created_at, updated_at";
pub(crate) const ROOM_EVENT_COLUMNS: &str = "id, room_id, seq, kind, author_id, author_kind, author_name, \
     client_msg_id, body, automated, target_id, deleted_at, deleted_by, created_at";
pub(crate) const ROOM_FAN_COLUMNS: &str =
    "room_id, fan_id, last_message_at, timed_out_until, timed_out_by";

impl<'r, R: Columns> FromRow<'r, R> for RoomRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let slow_mode_secs = row.int("slow_mode_secs")?;
        Ok(RoomRow {
            id: RoomId(row.text("id")?),
            title: row.text("title")?,
            state: row.parsed("state", "room state", RoomState::parse)?,
            opens_at: row.optional_time("opens_at")?,
            slow_mode_secs: u32::try_from(slow_mode_secs).map_err(|_| {
                StoreError::Corrupt(format!("slow_mode_secs {slow_mode_secs}")).into_decode()
            })?,
            last_seq: row.seq("last_seq")?,
            created_by: MemberId(row.text("created_by")?),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for RoomEventRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(RoomEventRow {
            id: MessageId(row.text("id")?),
            room_id: RoomId(row.text("room_id")?),
            seq: row.seq("seq")?,
            kind: row.parsed("kind", "room event kind", RoomEventKind::parse)?,
            author_id: row.text("author_id")?,
            author_kind: row.parsed("author_kind", "author kind", AuthorKind::parse)?,
            author_name: row.text("author_name")?,
            client_msg_id: row.optional_text("client_msg_id")?,
            body: row.text("body")?,
            automated: row.boolean("automated")?,
            target_id: row.optional_text("target_id")?.map(MessageId),
            deleted_at: row.optional_time("deleted_at")?,
            deleted_by: row.optional_text("deleted_by")?.map(MemberId),
            created_at: row.time("created_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for RoomFanRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(RoomFanRow {
            room_id: RoomId(row.text("room_id")?),
            fan_id: FanId(row.text("fan_id")?),
            last_message_at: row.optional_time("last_message_at")?,
            timed_out_until: row.optional_time("timed_out_until")?,
            timed_out_by: row.optional_text("timed_out_by")?.map(MemberId),
        })
    }
}

/// Which entries [`Store::list_room_events`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomEventFilter {
    /// Every timeline entry: WebSocket replay.
    All,
    /// Messages only (deleted ones included, as the view decides): the REST list.
    Messages,
}

impl Store {
    pub async fn insert_room(&self, room: &RoomRow) -> StoreResult<()> {
        self.writer().execute(insert_room_statement(room)).await?;
        Ok(())
    }

    pub async fn find_room(&self, id: &RoomId) -> StoreResult<Option<RoomRow>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Newest first.
    pub async fn list_rooms(&self, limit: u32) -> StoreResult<Vec<RoomRow>> {
        let sql =
            format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY created_at DESC, id DESC LIMIT $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// Timeline entries of `room` after `after_seq`, in `seq` order. Rooms have no internal
    /// entries, so every audience reads the same rows; hiding a deleted body is the view's
    /// job ([`fandesk_domain::room::shows_deleted_body`]).
    pub async fn list_room_events(
        &self,
        room: &RoomId,
        filter: RoomEventFilter,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<RoomEventRow>> {
        let kind = match filter {
            RoomEventFilter::All => "",
            RoomEventFilter::Messages => " AND kind = 'message'",
        };
        let sql = format!(
            "SELECT {ROOM_EVENT_COLUMNS} FROM room_events WHERE room_id = $1 AND seq > $2{kind} \
             ORDER BY seq LIMIT $3"
        );
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(room.as_str())
            .bind(after)
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    pub async fn find_room_fan(
        &self,
        room: &RoomId,
        fan: &FanId,
    ) -> StoreResult<Option<RoomFanRow>> {
        let sql =
            format!("SELECT {ROOM_FAN_COLUMNS} FROM room_fans WHERE room_id = $1 AND fan_id = $2");
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(room.as_str())
            .bind(fan.as_str());
        self.reader().fetch_optional(statement).await
    }
}

/// The insert of a room row (alone, or in a transaction with what opens with it).
pub(crate) fn insert_room_statement(room: &RoomRow) -> Statement<'_> {
    Statement::new(
        "INSERT INTO rooms (id, title, state, opens_at, slow_mode_secs, last_seq, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(room.id.as_str())
    .bind(&room.title)
    .bind(room.state.as_str())
    .bind(room.opens_at.map(to_micros))
    .bind(i64::from(room.slow_mode_secs))
    .bind(room.last_seq as i64)
    .bind(room.created_by.as_str())
    .bind(to_micros(room.created_at))
    .bind(to_micros(room.updated_at))
}
