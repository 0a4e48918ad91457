//! Premieres and live events: their rows, created together with their chat room in one
//! transaction, read, listed and updated (an event's title is its room's title), and the
//! chat replay's messages by time.

use crate::room::{ROOM_EVENT_COLUMNS, RoomEventRow, RoomRow};
use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::MemberId;
use fandesk_domain::event::{EventId, EventKind, EventWindow};
use fandesk_domain::room::RoomId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub id: EventId,
    pub room_id: RoomId,
    pub kind: EventKind,
    pub title: String,
    pub starts_at: Timestamp,
    pub duration_secs: u32,
    pub media_url: Option<String>,
    pub qa: bool,
    pub created_by: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl EventRow {
    pub fn window(&self) -> EventWindow {
        EventWindow {
            starts_at: self.starts_at,
            duration_secs: self.duration_secs,
        }
    }
}

/// The new values of an event's fields (the whole row as it should be); the room's title
/// and `opens_at` follow in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventUpdate {
    pub title: String,
    pub starts_at: Timestamp,
    pub duration_secs: u32,
    pub media_url: Option<String>,
    pub qa: bool,
    /// The room's new `opens_at`; `None` leaves it as it is.
    pub room_opens_at: Option<Timestamp>,
    pub at: Timestamp,
}

const EVENT_COLUMNS: &str = "id, room_id, kind, title, starts_at, duration_secs, media_url, qa, \
     created_by, created_at, updated_at";

impl<'r, R: Columns> FromRow<'r, R> for EventRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let duration_secs = row.int("duration_secs")?;
        Ok(EventRow {
            id: EventId(row.text("id")?),
            room_id: RoomId(row.text("room_id")?),
            kind: row.parsed("kind", "event kind", EventKind::parse)?,
            title: row.text("title")?,
            starts_at: row.time("starts_at")?,
            duration_secs: u32::try_from(duration_secs).map_err(|_| {
                StoreError::Corrupt(format!("duration_secs {duration_secs}")).into_decode()
            })?,
            media_url: row.optional_text("media_url")?,
            qa: row.boolean("qa")?,
            created_by: MemberId(row.text("created_by")?),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Inserts the event's room and the event in one transaction.
    pub async fn insert_event(&self, event: &EventRow, room: &RoomRow) -> StoreResult<()> {
        let room_insert = crate::room::insert_room_statement(room);
        let event_insert = Statement::new(
            "INSERT INTO events (id, room_id, kind, title, starts_at, duration_secs, media_url, \
             qa, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(event.id.as_str())
        .bind(event.room_id.as_str())
        .bind(event.kind.as_str())
        .bind(&event.title)
        .bind(to_micros(event.starts_at))
        .bind(i64::from(event.duration_secs))
        .bind(event.media_url.as_deref())
        .bind(event.qa)
        .bind(event.created_by.as_str())
        .bind(to_micros(event.created_at))
        .bind(to_micros(event.updated_at));
        self.writer()
            .transaction(vec![room_insert, event_insert])
            .await?;
        Ok(())
    }

    pub async fn find_event(&self, id: &EventId) -> StoreResult<Option<EventRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Latest start first.
    pub async fn list_events(&self, limit: u32) -> StoreResult<Vec<EventRow>> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY starts_at DESC, id DESC LIMIT $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// Writes `update` to the event and its room in one transaction; `NotFound` when the
    /// event does not exist.
    pub async fn update_event(&self, id: &EventId, update: &EventUpdate) -> StoreResult<()> {
        let at = to_micros(update.at);
        let event = Statement::new(
            "UPDATE events SET title = $2, starts_at = $3, duration_secs = $4, media_url = $5, \
             qa = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(&update.title)
        .bind(to_micros(update.starts_at))
        .bind(i64::from(update.duration_secs))
        .bind(update.media_url.as_deref())
        .bind(update.qa)
        .bind(at);
        let room = Statement::new(
            "UPDATE rooms SET title = $2, opens_at = COALESCE($3, opens_at), updated_at = $4 \
             WHERE id = (SELECT room_id FROM events WHERE id = $1)",
        )
        .bind(id.as_str())
        .bind(&update.title)
        .bind(update.room_opens_at.map(to_micros))
        .bind(at);
        let changed = self.writer().transaction(vec![event, room]).await?;
        if changed.first() != Some(&1) {
            return Err(StoreError::NotFound("event"));
        }
        Ok(())
    }

    /// The room's messages sent in `[from, to)` and not deleted, in `seq` order (which is
    /// the order they were sent in), at most `limit`: an event's chat replay.
    pub async fn list_replay_messages(
        &self,
        room: &RoomId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<RoomEventRow>> {
        let sql = format!(
            "SELECT {ROOM_EVENT_COLUMNS} FROM room_events WHERE room_id = $1 AND kind = 'message' \
             AND deleted_at IS NULL AND created_at >= $2 AND created_at < $3 ORDER BY seq LIMIT $4"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(room.as_str())
            .bind(to_micros(from))
            .bind(to_micros(to))
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }
}
