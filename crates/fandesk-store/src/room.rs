//! Live rooms (issue 7): their rows, creation and reads. Everything that takes a place in
//! a room's timeline, and every moderation or state change, goes through
//! [`Store::apply_room_batch`] (`room_batch.rs`) so it is decided against current state.

use crate::Store;
use crate::{StoreError, StoreResult, to_micros};
use fandesk_domain::room::{FanStanding, RoomId, RoomState};
use fandesk_domain::{AuthorKind, FanId, MemberId, MessageId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

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

pub(crate) fn optional_micros(value: Option<i64>) -> StoreResult<Option<Timestamp>> {
    value.map(crate::from_micros).transpose()
}

pub(crate) fn to_slow_mode(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("slow_mode_secs {value}")))
}

macro_rules! decode_room {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::room::RoomRow {
            id: fandesk_domain::room::RoomId(row.try_get("id")?),
            title: row.try_get("title")?,
            state: $crate::rows::parse(
                row.try_get::<&str, _>("state")?,
                "room state",
                fandesk_domain::room::RoomState::parse,
            )?,
            opens_at: $crate::room::optional_micros(row.try_get("opens_at")?)?,
            slow_mode_secs: $crate::room::to_slow_mode(row.try_get("slow_mode_secs")?)?,
            last_seq: $crate::rows::to_seq(row.try_get("last_seq")?)?,
            created_by: fandesk_domain::MemberId(row.try_get("created_by")?),
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
            updated_at: $crate::from_micros(row.try_get("updated_at")?)?,
        }
    }};
}

macro_rules! decode_room_event {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::room::RoomEventRow {
            id: fandesk_domain::MessageId(row.try_get("id")?),
            room_id: fandesk_domain::room::RoomId(row.try_get("room_id")?),
            seq: $crate::rows::to_seq(row.try_get("seq")?)?,
            kind: $crate::rows::parse(
                row.try_get::<&str, _>("kind")?,
                "room event kind",
                $crate::room::RoomEventKind::parse,
            )?,
            author_id: row.try_get("author_id")?,
            author_kind: $crate::rows::parse(
                row.try_get::<&str, _>("author_kind")?,
                "author kind",
                fandesk_domain::AuthorKind::parse,
            )?,
            author_name: row.try_get("author_name")?,
            client_msg_id: row.try_get("client_msg_id")?,
            body: row.try_get("body")?,
            automated: row.try_get("automated")?,
            target_id: row
                .try_get::<Option<String>, _>("target_id")?
                .map(fandesk_domain::MessageId),
            deleted_at: $crate::room::optional_micros(row.try_get("deleted_at")?)?,
            deleted_by: row
                .try_get::<Option<String>, _>("deleted_by")?
                .map(fandesk_domain::MemberId),
            created_at: $crate::from_micros(row.try_get("created_at")?)?,
        }
    }};
}

macro_rules! decode_room_fan {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::room::RoomFanRow {
            room_id: fandesk_domain::room::RoomId(row.try_get("room_id")?),
            fan_id: fandesk_domain::FanId(row.try_get("fan_id")?),
            last_message_at: $crate::room::optional_micros(row.try_get("last_message_at")?)?,
            timed_out_until: $crate::room::optional_micros(row.try_get("timed_out_until")?)?,
            timed_out_by: row
                .try_get::<Option<String>, _>("timed_out_by")?
                .map(fandesk_domain::MemberId),
        }
    }};
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
        on_pool!(self, write, |pool| {
            sqlx::query(
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
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn find_room(&self, id: &RoomId) -> StoreResult<Option<RoomRow>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1");
        on_pool!(self, read, |pool| {
            match sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some(decode_room!(&row))),
                None => Ok(None),
            }
        })
    }

    /// Newest first.
    pub async fn list_rooms(&self, limit: u32) -> StoreResult<Vec<RoomRow>> {
        let sql =
            format!("SELECT {ROOM_COLUMNS} FROM rooms ORDER BY created_at DESC, id DESC LIMIT $1");
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let mut rooms = Vec::with_capacity(rows.len());
            for row in &rows {
                rooms.push(decode_room!(row));
            }
            Ok(rooms)
        })
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
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(room.as_str())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                events.push(decode_room_event!(row));
            }
            Ok(events)
        })
    }

    pub async fn find_room_fan(
        &self,
        room: &RoomId,
        fan: &FanId,
    ) -> StoreResult<Option<RoomFanRow>> {
        let sql =
            format!("SELECT {ROOM_FAN_COLUMNS} FROM room_fans WHERE room_id = $1 AND fan_id = $2");
        on_pool!(self, read, |pool| {
            let row = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(room.as_str())
                .bind(fan.as_str())
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(decode_room_fan!(&row))),
                None => Ok(None),
            }
        })
    }
}
