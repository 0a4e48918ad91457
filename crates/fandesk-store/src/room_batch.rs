//! The group-commit transaction of live rooms, the twin of `batch.rs`: sends, deletions,
//! timeouts and state changes applied in one transaction. Each room's `seq` is assigned
//! here from the room row (locked with `FOR UPDATE` on PostgreSQL, so several nodes can
//! write one room), and slow mode, timeouts and room state are decided against the state
//! as of the preceding op, so two quick sends in one batch are judged like two batches.

use crate::room::{
    ROOM_COLUMNS, ROOM_EVENT_COLUMNS, ROOM_FAN_COLUMNS, RoomEventKind, RoomEventRow, RoomFanRow,
    RoomRow,
};
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::room::{
    RoomAction, RoomId, RoomRefusal, decide_room_post, effective_state, may_manage_rooms,
    may_moderate,
};
use fandesk_domain::{AuthorKind, FanId, MemberId, MessageId, Principal, Role};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use std::collections::HashMap;

/// One write in a room batch.
#[derive(Clone, Debug)]
pub enum RoomOp {
    /// A chat message. `body` is already validated and trimmed.
    Post {
        message_id: MessageId,
        room_id: RoomId,
        author: Principal,
        client_msg_id: String,
        body: String,
        at: Timestamp,
    },
    /// A moderator deletes `message_id`; the deletion is an entry of its own (`event_id`).
    Delete {
        event_id: MessageId,
        room_id: RoomId,
        actor: Principal,
        message_id: MessageId,
        at: Timestamp,
    },
    /// A moderator times a fan out until `until` (a past `until` lifts a timeout).
    Timeout {
        room_id: RoomId,
        actor: Principal,
        fan_id: FanId,
        until: Timestamp,
        at: Timestamp,
    },
    /// Open or close the room.
    Change {
        room_id: RoomId,
        actor: Principal,
        action: RoomAction,
        at: Timestamp,
    },
}

impl RoomOp {
    fn room_id(&self) -> &RoomId {
        match self {
            RoomOp::Post { room_id, .. }
            | RoomOp::Delete { room_id, .. }
            | RoomOp::Timeout { room_id, .. }
            | RoomOp::Change { room_id, .. } => room_id,
        }
    }

    /// The fan whose room record this op reads or writes.
    fn fan(&self) -> Option<&FanId> {
        match self {
            RoomOp::Post {
                author: Principal::Fan { id, .. },
                ..
            } => Some(id),
            RoomOp::Timeout { fan_id, .. } => Some(fan_id),
            _ => None,
        }
    }

    fn client_msg_id(&self) -> Option<&str> {
        match self {
            RoomOp::Post { client_msg_id, .. } => Some(client_msg_id),
            _ => None,
        }
    }
}

/// What one op did.
#[derive(Clone, Debug)]
pub enum RoomOutcome {
    /// A new message.
    Posted {
        event: RoomEventRow,
    },
    /// The author already sent this `client_msg_id` in this room: the original, as stored now.
    Duplicate {
        event: RoomEventRow,
    },
    /// The deletion entry, and the message as it is now (marked deleted). Boxed so the
    /// common outcomes stay one row wide.
    Deleted {
        deletion: RoomEventRow,
        message: Box<RoomEventRow>,
    },
    /// The message had been deleted before; nothing was written.
    AlreadyDeleted {
        message: RoomEventRow,
    },
    TimedOut {
        fan: RoomFanRow,
    },
    Changed {
        room: RoomRow,
    },
}

pub type RoomOpResult = Result<RoomOutcome, RoomRefusal>;

type IdempotencyKey = (RoomId, String, String);

/// The state a batch is decided against, loaded inside the transaction.
struct Loaded {
    rooms: HashMap<RoomId, RoomRow>,
    fans: HashMap<(RoomId, FanId), RoomFanRow>,
    /// Earlier messages with the batch's `client_msg_id`s.
    existing: Vec<RoomEventRow>,
    /// The messages the batch's deletions name.
    targets: Vec<RoomEventRow>,
}

/// The pure part of a batch: what every op does and what to write.
struct Plan {
    results: Vec<RoomOpResult>,
    /// Entries to insert, in `seq` order per room (messages deleted later in the same
    /// batch are inserted already marked).
    inserts: Vec<RoomEventRow>,
    /// Messages committed earlier and deleted now.
    marked: Vec<RoomEventRow>,
    rooms: Vec<RoomRow>,
    fans: Vec<RoomFanRow>,
}

fn plan(ops: &[RoomOp], loaded: Loaded) -> Plan {
    let Loaded {
        mut rooms,
        mut fans,
        existing,
        targets,
    } = loaded;
    let key_of = |event: &RoomEventRow| {
        let id = event.client_msg_id.clone()?;
        Some((event.room_id.clone(), event.author_id.clone(), id))
    };
    let mut sent: HashMap<IdempotencyKey, MessageId> = existing
        .iter()
        .filter_map(|event| Some((key_of(event)?, event.id.clone())))
        .collect();
    // Every message the batch may hand back or delete, kept current as ops apply.
    let mut messages: HashMap<MessageId, RoomEventRow> = existing
        .into_iter()
        .chain(targets)
        .map(|event| (event.id.clone(), event))
        .collect();
    let mut plan = Plan {
        results: Vec::with_capacity(ops.len()),
        inserts: Vec::new(),
        marked: Vec::new(),
        rooms: Vec::new(),
        fans: Vec::new(),
    };
    let mut touched_rooms: Vec<RoomId> = Vec::new();
    let mut touched_fans: Vec<(RoomId, FanId)> = Vec::new();
    for op in ops {
        if let (RoomOp::Post { author, .. }, Some(client_id)) = (op, op.client_msg_id()) {
            let key = (
                op.room_id().clone(),
                author.author_id().to_owned(),
                client_id.to_owned(),
            );
            if let Some(original) = sent.get(&key).and_then(|id| messages.get(id)) {
                plan.results.push(Ok(RoomOutcome::Duplicate {
                    event: original.clone(),
                }));
                continue;
            }
        }
        let Some(room) = rooms.get_mut(op.room_id()) else {
            plan.results.push(Err(RoomRefusal::Missing("room")));
            continue;
        };
        let fan_key = op.fan().map(|fan| (room.id.clone(), fan.clone()));
        let fan = fan_key.as_ref().map(|key| {
            fans.entry(key.clone())
                .or_insert_with(|| RoomFanRow::new(key.0.clone(), key.1.clone()))
        });
        let result = apply_op(op, room, fan, &mut messages);
        match &result {
            Ok(RoomOutcome::Posted { event }) => {
                if let Some(key) = key_of(event) {
                    sent.insert(key, event.id.clone());
                }
                plan.inserts.push(event.clone());
            }
            Ok(RoomOutcome::Deleted { deletion, message }) => {
                match plan.inserts.iter_mut().find(|event| event.id == message.id) {
                    Some(inserted) => *inserted = (**message).clone(),
                    None => plan.marked.push((**message).clone()),
                }
                plan.inserts.push(deletion.clone());
            }
            _ => {}
        }
        if result.is_ok() {
            if !touched_rooms.contains(&room.id) {
                touched_rooms.push(room.id.clone());
            }
            if let Some(key) = fan_key
                && !touched_fans.contains(&key)
            {
                touched_fans.push(key);
            }
        }
        plan.results.push(result);
    }
    plan.rooms = touched_rooms
        .iter()
        .filter_map(|id| rooms.remove(id))
        .collect();
    plan.fans = touched_fans
        .iter()
        .filter_map(|key| fans.remove(key))
        .collect();
    plan
}

/// Applies one op to the in-memory room (and the fan's record, when the op concerns one).
fn apply_op(
    op: &RoomOp,
    room: &mut RoomRow,
    fan: Option<&mut RoomFanRow>,
    messages: &mut HashMap<MessageId, RoomEventRow>,
) -> RoomOpResult {
    match op {
        RoomOp::Post {
            message_id,
            author,
            client_msg_id,
            body,
            at,
            ..
        } => {
            let state = effective_state(room.state, room.opens_at, *at);
            let standing = fan.as_deref().map(RoomFanRow::standing);
            let decision =
                decide_room_post(author, state, room.slow_mode_secs, standing.as_ref(), *at)?;
            if let Some(fan) = fan {
                fan.last_message_at = Some(*at);
            }
            let author_kind = match author.role() {
                None => AuthorKind::Fan,
                Some(Role::Bot) => AuthorKind::Bot,
                Some(_) => AuthorKind::Member,
            };
            let mut event = append(
                room,
                message_id,
                RoomEventKind::Message,
                author,
                author_kind,
                *at,
            );
            event.client_msg_id = Some(client_msg_id.clone());
            event.body = body.clone();
            event.automated = decision.automated;
            messages.insert(event.id.clone(), event.clone());
            Ok(RoomOutcome::Posted { event })
        }
        RoomOp::Delete {
            event_id,
            actor,
            message_id,
            at,
            ..
        } => {
            may_moderate(actor)?;
            let message = messages
                .get_mut(message_id)
                .filter(|message| {
                    message.room_id == room.id && message.kind == RoomEventKind::Message
                })
                .ok_or(RoomRefusal::Missing("message"))?;
            if message.deleted_at.is_some() {
                return Ok(RoomOutcome::AlreadyDeleted {
                    message: message.clone(),
                });
            }
            message.deleted_at = Some(*at);
            message.deleted_by = member_id(actor);
            let mut deletion = append(
                room,
                event_id,
                RoomEventKind::Deletion,
                actor,
                AuthorKind::Member,
                *at,
            );
            deletion.target_id = Some(message_id.clone());
            Ok(RoomOutcome::Deleted {
                deletion,
                message: Box::new(message.clone()),
            })
        }
        RoomOp::Timeout { actor, until, .. } => {
            may_moderate(actor)?;
            let fan = fan.ok_or(RoomRefusal::Missing("fan"))?;
            fan.timed_out_until = Some(*until);
            fan.timed_out_by = member_id(actor);
            Ok(RoomOutcome::TimedOut { fan: fan.clone() })
        }
        RoomOp::Change {
            actor, action, at, ..
        } => {
            may_manage_rooms(actor)?;
            room.state = action.apply(effective_state(room.state, room.opens_at, *at))?;
            room.updated_at = *at;
            Ok(RoomOutcome::Changed { room: room.clone() })
        }
    }
}

fn member_id(principal: &Principal) -> Option<MemberId> {
    match principal {
        Principal::Member { id, .. } => Some(id.clone()),
        Principal::Fan { .. } => None,
    }
}

/// Takes the room's next `seq` for a new entry with an empty body.
fn append(
    room: &mut RoomRow,
    id: &MessageId,
    kind: RoomEventKind,
    author: &Principal,
    author_kind: AuthorKind,
    at: Timestamp,
) -> RoomEventRow {
    room.last_seq += 1;
    room.updated_at = at;
    RoomEventRow {
        id: id.clone(),
        room_id: room.id.clone(),
        seq: room.last_seq,
        kind,
        author_id: author.author_id().to_owned(),
        author_kind,
        author_name: author.name().to_owned(),
        client_msg_id: None,
        body: String::new(),
        automated: false,
        target_id: None,
        deleted_at: None,
        deleted_by: None,
        created_at: at,
    }
}

/// Rows per multi-row INSERT: 14 parameters a row stays far below both backends' limits.
const INSERT_CHUNK: usize = 400;

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sorted_unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut items: Vec<&str> = items.collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// Runs `SELECT {columns} FROM {table} WHERE {column} IN (…)` and decodes every row.
macro_rules! select_in {
    ($tx:expr, $db:ty, $sql:expr, $values:expr, $decode:ident) => {{
        let mut query = sqlx::query::<$db>(AssertSqlSafe($sql.as_str()));
        for value in $values {
            query = query.bind(*value);
        }
        let mut decoded = Vec::new();
        for row in query.fetch_all(&mut *$tx).await? {
            decoded.push($decode!(&row));
        }
        decoded
    }};
}

/// The transaction body, instantiated once per backend. `$lock` is the row-lock suffix.
macro_rules! run_room_batch {
    ($tx:expr, $db:ty, $lock:expr, $ops:expr) => {{
        let tx = $tx;
        let ops: &[RoomOp] = $ops;
        // 1. Load (and on PostgreSQL lock, in id order) every room the batch touches.
        let room_ids = sorted_unique(ops.iter().map(|op| op.room_id().as_str()));
        let sql =
            format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id IN ({}) ORDER BY id{}", placeholders(1, room_ids.len()), $lock);
        let rooms: HashMap<RoomId, RoomRow> = select_in!(tx, $db, sql, &room_ids, decode_room)
            .into_iter()
            .map(|room: RoomRow| (room.id.clone(), room))
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
            let mut query = sqlx::query::<$db>(AssertSqlSafe(sql.as_str()));
            for value in fan_ids.iter().chain(&room_ids) {
                query = query.bind(*value);
            }
            for row in query.fetch_all(&mut *tx).await? {
                let fan: RoomFanRow = decode_room_fan!(&row);
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
            existing = select_in!(tx, $db, sql, &client_ids, decode_room_event);
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
            targets = select_in!(tx, $db, sql, &target_ids, decode_room_event);
        }
        // 4. Decide, then write what was decided.
        let plan = plan(ops, Loaded { rooms, fans, existing, targets });
        for chunk in plan.inserts.chunks(INSERT_CHUNK) {
            let mut insert =
                sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO room_events ({ROOM_EVENT_COLUMNS}) "));
            insert.push_values(chunk, |mut values, event| {
                values
                    .push_bind(event.id.0.clone())
                    .push_bind(event.room_id.0.clone())
                    .push_bind(event.seq as i64)
                    .push_bind(event.kind.as_str())
                    .push_bind(event.author_id.clone())
                    .push_bind(event.author_kind.as_str())
                    .push_bind(event.author_name.clone())
                    .push_bind(event.client_msg_id.clone())
                    .push_bind(event.body.clone())
                    .push_bind(event.automated)
                    .push_bind(event.target_id.as_ref().map(|id| id.0.clone()))
                    .push_bind(event.deleted_at.map(to_micros))
                    .push_bind(event.deleted_by.as_ref().map(|id| id.0.clone()))
                    .push_bind(to_micros(event.created_at));
            });
            insert.build().execute(&mut *tx).await?;
        }
        for message in &plan.marked {
            sqlx::query::<$db>("UPDATE room_events SET deleted_at = $2, deleted_by = $3 WHERE id = $1")
                .bind(message.id.as_str())
                .bind(message.deleted_at.map(to_micros))
                .bind(message.deleted_by.as_ref().map(MemberId::as_str))
                .execute(&mut *tx)
                .await?;
        }
        for fan in &plan.fans {
            sqlx::query::<$db>(
                "INSERT INTO room_fans (room_id, fan_id, last_message_at, timed_out_until, timed_out_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, fan_id) DO UPDATE SET \
                 last_message_at = excluded.last_message_at, timed_out_until = excluded.timed_out_until, \
                 timed_out_by = excluded.timed_out_by",
            )
            .bind(fan.room_id.as_str())
            .bind(fan.fan_id.as_str())
            .bind(fan.last_message_at.map(to_micros))
            .bind(fan.timed_out_until.map(to_micros))
            .bind(fan.timed_out_by.as_ref().map(MemberId::as_str))
            .execute(&mut *tx)
            .await?;
        }
        for room in &plan.rooms {
            sqlx::query::<$db>("UPDATE rooms SET state = $2, last_seq = $3, updated_at = $4 WHERE id = $1")
                .bind(room.id.as_str())
                .bind(room.state.as_str())
                .bind(room.last_seq as i64)
                .bind(to_micros(room.updated_at))
                .execute(&mut *tx)
                .await?;
        }
        plan.results
    }};
}

impl Store {
    /// Applies room `ops` in one transaction and returns one result per op, in order. A
    /// refused op does not affect the others; a database failure fails the whole batch
    /// and nothing of it is committed.
    pub async fn apply_room_batch(&self, ops: &[RoomOp]) -> StoreResult<Vec<RoomOpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(db) => {
                let mut tx = db.write.begin().await?;
                let results = run_room_batch!(&mut *tx, sqlx::Sqlite, "", ops);
                tx.commit().await?;
                Ok(results)
            }
            Store::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                let results = run_room_batch!(&mut *tx, sqlx::Postgres, " FOR UPDATE", ops);
                tx.commit().await?;
                Ok(results)
            }
        }
    }
}
