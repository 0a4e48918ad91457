//! The SQL of a room group commit: load what the batch touches, let [`plan`] decide,
//! write the decisions. One transaction per batch, generic over the backend's [`Dialect`].

use super::plan::{Loaded, RoomOp, RoomOpResult, plan};
use super::{
    ROOM_COLUMNS, ROOM_EVENT_COLUMNS, ROOM_FAN_COLUMNS, RoomEventRow, RoomFanRow, RoomRow,
};
use crate::dialect::Dialect;
use crate::statement::{PushValue, Statement, execute, fetch_all, placeholders};
use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_domain::room::RoomId;
use fandesk_domain::{FanId, MemberId, MessageId};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Sqlite};
use std::collections::HashMap;

/// Rows per multi-row INSERT: 14 parameters a row stays far below both backends' limits.
const INSERT_CHUNK: usize = 400;

impl Store {
    /// Applies room `ops` in one transaction and returns one result per op, in order. A
    /// refused op does not affect the others; a database failure fails the whole batch
    /// and nothing of it is committed.
    pub async fn apply_room_batch(&self, ops: &[RoomOp]) -> StoreResult<Vec<RoomOpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        crate::stored_text::apply_screened(ops, |ops| async move {
            match self {
                Store::Sqlite(db) => commit::<Sqlite>(&db.write, &ops).await,
                Store::Postgres(db) => commit::<Postgres>(&db.pool, &ops).await,
            }
        })
        .await
    }
}

async fn commit<D: Dialect>(
    pool: &sqlx::Pool<D>,
    ops: &[RoomOp],
) -> StoreResult<Vec<RoomOpResult>> {
    let mut tx = pool.begin().await?;
    let loaded = load::<D>(&mut tx, ops).await?;
    let plan = plan(ops, loaded);
    for chunk in plan.inserts.chunks(INSERT_CHUNK) {
        insert_events::<D>(&mut tx, chunk).await?;
    }
    for message in &plan.marked {
        let statement =
            Statement::new("UPDATE room_events SET deleted_at = $2, deleted_by = $3 WHERE id = $1")
                .bind(message.id.as_str())
                .bind(message.deleted_at.map(to_micros))
                .bind(message.deleted_by.as_ref().map(MemberId::as_str));
        execute::<D>(&mut tx, statement).await?;
    }
    for fan in &plan.fans {
        let statement = Statement::new(
            "INSERT INTO room_fans (room_id, fan_id, last_message_at, timed_out_until, timed_out_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, fan_id) DO UPDATE SET \
             last_message_at = excluded.last_message_at, timed_out_until = excluded.timed_out_until, \
             timed_out_by = excluded.timed_out_by",
        )
        .bind(fan.room_id.as_str())
        .bind(fan.fan_id.as_str())
        .bind(fan.last_message_at.map(to_micros))
        .bind(fan.timed_out_until.map(to_micros))
        .bind(fan.timed_out_by.as_ref().map(MemberId::as_str));
        execute::<D>(&mut tx, statement).await?;
    }
    for room in &plan.rooms {
        let statement = Statement::new(
            "UPDATE rooms SET state = $2, last_seq = $3, updated_at = $4, slow_mode_secs = $5 \
             WHERE id = $1",
        )
        .bind(room.id.as_str())
        .bind(room.state.as_str())
        .bind(room.last_seq as i64)
        .bind(to_micros(room.updated_at))
        .bind(i64::from(room.slow_mode_secs));
        execute::<D>(&mut tx, statement).await?;
    }
    tx.commit().await.map_err(StoreError::at_commit)?;
    Ok(plan.results)
}

fn sorted_unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut items: Vec<&str> = items.collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// Loads (and on PostgreSQL locks) what the batch is decided against.
async fn load<D: Dialect>(tx: &mut D::Connection, ops: &[RoomOp]) -> StoreResult<Loaded> {
    // 1. Every room the batch touches, locked in id order on PostgreSQL.
    let room_ids = sorted_unique(ops.iter().map(|op| op.room_id().as_str()));
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms WHERE id IN ({}) ORDER BY id{}",
        placeholders(1, room_ids.len()),
        D::LOCK_ROWS
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind_all(room_ids.iter().copied());
    let rooms: HashMap<RoomId, RoomRow> = fetch_all::<D, RoomRow>(tx, statement)
        .await?
        .into_iter()
        .map(|room| (room.id.clone(), room))
        .collect();
    // 2. The records of the fans the batch concerns (the room lock guards them).
    let fan_ids = sorted_unique(ops.iter().filter_map(|op| op.fan().map(FanId::as_str)));
    let mut fans = HashMap::new();
    if !fan_ids.is_empty() {
        let sql = format!(
            "SELECT {ROOM_FAN_COLUMNS} FROM room_fans WHERE fan_id IN ({}) AND room_id IN ({})",
            placeholders(1, fan_ids.len()),
            placeholders(fan_ids.len() + 1, room_ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind_all(fan_ids.iter().copied())
            .bind_all(room_ids.iter().copied());
        for fan in fetch_all::<D, RoomFanRow>(tx, statement).await? {
            fans.insert((fan.room_id.clone(), fan.fan_id.clone()), fan);
        }
    }
    // 3. Earlier sends of the same client_msg_ids (idempotency), and deletion targets.
    let client_ids = sorted_unique(ops.iter().filter_map(RoomOp::client_msg_id));
    let mut existing = Vec::new();
    if !client_ids.is_empty() {
        let sql = format!(
            "SELECT {ROOM_EVENT_COLUMNS} FROM room_events WHERE client_msg_id IN ({})",
            placeholders(1, client_ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind_all(client_ids.iter().copied());
        existing = fetch_all::<D, RoomEventRow>(tx, statement).await?;
    }
    let target_ids = sorted_unique(ops.iter().filter_map(|op| match op {
        RoomOp::Delete { message_id, .. } => Some(message_id.as_str()),
        _ => None,
    }));
    let mut targets = Vec::new();
    if !target_ids.is_empty() {
        let sql = format!(
            "SELECT {ROOM_EVENT_COLUMNS} FROM room_events WHERE id IN ({})",
            placeholders(1, target_ids.len())
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind_all(target_ids.iter().copied());
        targets = fetch_all::<D, RoomEventRow>(tx, statement).await?;
    }
    Ok(Loaded {
        rooms,
        fans,
        existing,
        targets,
    })
}

/// One multi-row INSERT of timeline entries.
async fn insert_events<D: Dialect>(
    tx: &mut D::Connection,
    events: &[RoomEventRow],
) -> StoreResult<()> {
    let mut insert =
        QueryBuilder::<D>::new(format!("INSERT INTO room_events ({ROOM_EVENT_COLUMNS}) "));
    insert.push_values(events, |mut values, event| {
        values
            .value(event.id.as_str())
            .value(event.room_id.as_str())
            .value(event.seq as i64)
            .value(event.kind.as_str())
            .value(event.author_id.as_str())
            .value(event.author_kind.as_str())
            .value(event.author_name.as_str())
            .value(event.client_msg_id.as_deref())
            .value(event.body.as_str())
            .value(event.automated)
            .value(event.target_id.as_ref().map(MessageId::as_str))
            .value(event.deleted_at.map(to_micros))
            .value(event.deleted_by.as_ref().map(MemberId::as_str))
            .value(to_micros(event.created_at));
    });
    D::execute(tx, insert.build()).await?;
    Ok(())
}
