//! Rooms' viewings (who watched, from when to when, through which node) written in
//! batches, and what an event's figures are computed from: its room's viewings in a
//! window, its chat messages' send times, its questions asked and answered. Every node
//! writes its own viewings to the shared database, so every node reads the same rows.

use crate::statement::{Columns, Statement};
use crate::{EventRow, Store, StoreResult, to_micros};
use fandesk_analytics::Viewing;
use fandesk_domain::FanId;
use fandesk_domain::event::EventId;
use fandesk_domain::room::RoomId;
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

/// Rows in one multi-row insert (4 parameters each; well under both backends' limits).
const INSERT_CHUNK: usize = 500;

/// Where a viewing (`v`) ends for the figures: when it was left, or while it is open, the
/// later of its own `seen_at` and its node's heartbeat (`h`, joined by [`HEARTBEAT_JOIN`]).
const VIEWING_END: &str =
    "COALESCE(v.left_at, CASE WHEN h.seen_at > v.seen_at THEN h.seen_at ELSE v.seen_at END)";
/// Joins each viewing `v` to its node's heartbeat `h` (none before the node's first write).
const HEARTBEAT_JOIN: &str = "LEFT JOIN node_heartbeats h ON h.node = v.node";

/// A change to the viewings, in the order it happened on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewingChange {
    Joined {
        id: String,
        room: RoomId,
        fan: FanId,
        at: Timestamp,
    },
    Left {
        id: String,
        at: Timestamp,
    },
}

/// An event's questions: all asked, and those answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuestionCounts {
    pub asked: u64,
    pub answered: u64,
}

struct ViewingRow(Viewing);

impl<'r, R: Columns> FromRow<'r, R> for ViewingRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ViewingRow(Viewing {
            fan: row.text("fan_id")?,
            joined_at: row.time("joined_at")?,
            left_at: row.time("ends_at")?,
        }))
    }
}

struct EventViewingRow(EventRow, Viewing);

impl<'r, R: Columns> FromRow<'r, R> for EventViewingRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(EventViewingRow(
            EventRow::from_row(row)?,
            ViewingRow::from_row(row)?.0,
        ))
    }
}

/// Most viewings one fan's activity reads (the latest).
const FAN_VIEWINGS_LIMIT: i64 = 1_000;

struct TimeRow(Timestamp);

impl<'r, R: Columns> FromRow<'r, R> for TimeRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(TimeRow(row.time("created_at")?))
    }
}

struct CountsRow(i64, i64);

impl<'r, R: Columns> FromRow<'r, R> for CountsRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(CountsRow(row.int("asked")?, row.int("answered")?))
    }
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Writes a node's viewing changes in one transaction: the joins in multi-row inserts,
    /// then each leave; then marks every viewing still open on `node` as seen at `now`.
    /// A leave whose join is in the same batch is applied after it.
    pub async fn record_viewings(
        &self,
        node: &str,
        changes: &[ViewingChange],
        now: Timestamp,
    ) -> StoreResult<()> {
        let joins: Vec<(&str, &RoomId, &FanId, i64)> = changes
            .iter()
            .filter_map(|change| match change {
                ViewingChange::Joined { id, room, fan, at } => {
                    Some((id.as_str(), room, fan, to_micros(*at)))
                }
                ViewingChange::Left { .. } => None,
            })
            .collect();
        let mut statements = Vec::new();
        for chunk in joins.chunks(INSERT_CHUNK) {
            let values = (0..chunk.len())
                .map(|n| {
                    let p = n * 4;
                    format!(
                        "(${}, ${}, ${}, $1, ${}, ${})",
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 5
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO room_viewings (id, room_id, fan_id, node, joined_at, seen_at) \
                 VALUES {values}"
            );
            let mut statement = Statement::new(AssertSqlSafe(sql)).bind(node);
            for &(id, room, fan, at) in chunk {
                statement = statement
                    .bind(id)
                    .bind(room.as_str())
                    .bind(fan.as_str())
                    .bind(at);
            }
            statements.push(statement);
        }
        for change in changes {
            if let ViewingChange::Left { id, at } = change {
                statements.push(
                    Statement::new(
                        "UPDATE room_viewings \
                         SET left_at = CASE WHEN $2 < joined_at THEN joined_at ELSE $2 END, \
                         seen_at = CASE WHEN $2 < joined_at THEN joined_at ELSE $2 END \
                         WHERE id = $1 AND left_at IS NULL",
                    )
                    .bind(id.as_str())
                    .bind(to_micros(*at)),
                );
            }
        }
        // One row marks every viewing open on `node` seen (never moved back).
        statements.push(
            Statement::new(
                "INSERT INTO node_heartbeats (node, seen_at) VALUES ($1, $2) \
                 ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at \
                 WHERE node_heartbeats.seen_at < excluded.seen_at",
            )
            .bind(node)
            .bind(to_micros(now)),
        );
        self.writer().transaction(statements).await?;
        Ok(())
    }

    /// Ends the viewings `node` left open when it stopped without saying so (a crash): at
    /// the last time it marked them seen. Called when the node starts; returns how many.
    pub async fn close_stale_viewings(&self, node: &str) -> StoreResult<u64> {
        let last_seen = Statement::new(
            "UPDATE room_viewings SET seen_at = \
             (SELECT h.seen_at FROM node_heartbeats h WHERE h.node = $1) \
             WHERE node = $1 AND left_at IS NULL AND seen_at < \
             (SELECT h.seen_at FROM node_heartbeats h WHERE h.node = $1)",
        )
        .bind(node);
        let close = Statement::new(
            "UPDATE room_viewings SET left_at = seen_at WHERE node = $1 AND left_at IS NULL",
        )
        .bind(node);
        let counts = self.writer().transaction(vec![last_seen, close]).await?;
        Ok(counts.last().copied().unwrap_or(0))
    }

    /// The viewings of `room` that overlap `[from, to)`; an open viewing ends where its
    /// node last marked it seen.
    pub async fn list_viewings(
        &self,
        room: &RoomId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<Viewing>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT v.fan_id, v.joined_at, {VIEWING_END} AS ends_at FROM room_viewings v \
                 {HEARTBEAT_JOIN} WHERE v.room_id = $1 AND v.joined_at < $3 AND {VIEWING_END} > $2"
        )))
        .bind(room.as_str())
        .bind(to_micros(from))
        .bind(to_micros(to));
        let rows: Vec<ViewingRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| row.0).collect())
    }

    /// A fan's latest viewings of events' rooms, each with its event.
    pub async fn list_fan_event_viewings(
        &self,
        fan: &FanId,
    ) -> StoreResult<Vec<(EventRow, Viewing)>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT e.id, e.room_id, e.kind, e.title, e.starts_at, e.duration_secs, \
             e.media_url, e.qa, e.created_by, e.created_at, e.updated_at, v.fan_id, \
             v.joined_at, {VIEWING_END} AS ends_at \
             FROM room_viewings v JOIN events e ON e.room_id = v.room_id {HEARTBEAT_JOIN} \
             WHERE v.fan_id = $1 ORDER BY v.joined_at DESC LIMIT $2"
        )))
        .bind(fan.as_str())
        .bind(FAN_VIEWINGS_LIMIT);
        let rows: Vec<EventViewingRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| (row.0, row.1)).collect())
    }

    /// When each chat message of `room` sent in `[from, to)` was sent (deleted ones too:
    /// they were part of the conversation while it happened).
    pub async fn list_room_message_times(
        &self,
        room: &RoomId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<Timestamp>> {
        let statement = Statement::new(
            "SELECT created_at FROM room_events WHERE room_id = $1 AND kind = 'message' \
             AND created_at >= $2 AND created_at < $3",
        )
        .bind(room.as_str())
        .bind(to_micros(from))
        .bind(to_micros(to));
        let rows: Vec<TimeRow> = self.reader().fetch_all(statement).await?;
        Ok(rows.into_iter().map(|row| row.0).collect())
    }

    /// Questions asked at `event` (hidden ones included) and those answered.
    pub async fn count_event_questions(&self, event: &EventId) -> StoreResult<QuestionCounts> {
        let statement = Statement::new(
            "SELECT COUNT(*) AS asked, \
             COALESCE(SUM(CASE WHEN state = 'answered' THEN 1 ELSE 0 END), 0) AS answered \
             FROM event_questions WHERE event_id = $1",
        )
        .bind(event.as_str());
        let row: CountsRow = self.reader().fetch_one(statement).await?;
        Ok(QuestionCounts {
            asked: count(row.0),
            answered: count(row.1),
        })
    }
}
