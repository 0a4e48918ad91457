//! The group commit of live rooms, the twin of `conversation/plan.rs`: sends, deletions,
//! timeouts and state changes decided in one batch. Each room's `seq` is assigned here
//! from the room row (locked on PostgreSQL by `commit.rs`, so several nodes can write one
//! room), and slow mode, timeouts and room state are decided against the state as of the
//! preceding op, so two quick sends in one batch are judged like two batches. Pure:
//! `commit.rs` loads and writes.

use super::{RoomEventKind, RoomEventRow, RoomFanRow, RoomRow};
use fandesk_domain::room::{
    RoomAction, RoomId, RoomRefusal, decide_room_post, effective_state, may_manage_rooms,
    may_moderate,
};
use fandesk_domain::{AuthorKind, FanId, MemberId, MessageId, Principal, Role};
use jiff::Timestamp;
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
    /// A moderator sets the room's slow mode (`secs` already validated; 0 turns it off).
    /// Posts later in the same batch are decided with the new interval.
    SlowMode {
        room_id: RoomId,
        actor: Principal,
        secs: u32,
        at: Timestamp,
    },
}

impl RoomOp {
    pub(crate) fn room_id(&self) -> &RoomId {
        match self {
            RoomOp::Post { room_id, .. }
            | RoomOp::Delete { room_id, .. }
            | RoomOp::Timeout { room_id, .. }
            | RoomOp::Change { room_id, .. }
            | RoomOp::SlowMode { room_id, .. } => room_id,
        }
    }

    /// The fan whose room record this op reads or writes.
    pub(crate) fn fan(&self) -> Option<&FanId> {
        match self {
            RoomOp::Post {
                author: Principal::Fan { id, .. },
                ..
            } => Some(id),
            RoomOp::Timeout { fan_id, .. } => Some(fan_id),
            _ => None,
        }
    }

    pub(crate) fn client_msg_id(&self) -> Option<&str> {
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
pub(crate) struct Loaded {
    pub rooms: HashMap<RoomId, RoomRow>,
    pub fans: HashMap<(RoomId, FanId), RoomFanRow>,
    /// Earlier messages with the batch's `client_msg_id`s.
    pub existing: Vec<RoomEventRow>,
    /// The messages the batch's deletions name.
    pub targets: Vec<RoomEventRow>,
}

/// The pure part of a batch: what every op does and what to write.
pub(crate) struct Plan {
    pub results: Vec<RoomOpResult>,
    /// Entries to insert, in `seq` order per room (messages deleted later in the same
    /// batch are inserted already marked).
    pub inserts: Vec<RoomEventRow>,
    /// Messages committed earlier and deleted now.
    pub marked: Vec<RoomEventRow>,
    pub rooms: Vec<RoomRow>,
    pub fans: Vec<RoomFanRow>,
}

pub(crate) fn plan(ops: &[RoomOp], loaded: Loaded) -> Plan {
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
        RoomOp::SlowMode {
            actor, secs, at, ..
        } => {
            may_moderate(actor)?;
            room.slow_mode_secs = *secs;
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
