//! The metrics side of the group commit (`docs/metrics.md`): each committed op becomes a
//! `fandesk_analytics::Event`, folded by `fandesk_analytics::step` into the conversation's
//! metric state, so the metric rows commit in the same transaction as the messages. Pure,
//! like `conversation::plan`, which calls it.

use crate::conversation::plan::WriteOp;
use crate::conversation::rows::{ConversationRow, MessageRow};
use fandesk_analytics::{
    Actor, Changes, ConversationMetrics, Event, EventKind, Opening, Policy, TeamMessage,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{AuthorKind, ConversationId, Principal, Role, Visibility};
use std::collections::HashMap;

/// The metric state of a batch's conversations and the rows it changed.
pub(crate) struct MetricState {
    openings: HashMap<ConversationId, Opening>,
    unanswered: HashMap<ConversationId, Vec<TeamMessage>>,
    policy: Policy,
    states: HashMap<ConversationId, ConversationMetrics>,
    changes: Changes,
}

impl MetricState {
    pub(crate) fn new(
        openings: HashMap<ConversationId, Opening>,
        unanswered: HashMap<ConversationId, Vec<TeamMessage>>,
        policy: Policy,
    ) -> MetricState {
        MetricState {
            openings,
            unanswered,
            policy,
            states: HashMap::new(),
            changes: Changes::default(),
        }
    }

    /// Builds a conversation's state the first time the batch touches it, from the row as
    /// committed before this batch (awaiting_since, escalated and last_public_seq are the
    /// fold's waiting_since, escalated and public_messages).
    pub(crate) fn seed(&mut self, conversation: &ConversationRow) {
        if self.states.contains_key(&conversation.id) {
            return;
        }
        let state = ConversationMetrics {
            conversation: conversation.id.clone(),
            opening: self.openings.remove(&conversation.id),
            unanswered: self.unanswered.remove(&conversation.id).unwrap_or_default(),
            waiting_since: conversation.awaiting_since,
            escalated: conversation.escalated,
            public_messages: conversation.last_public_seq,
        };
        self.states.insert(conversation.id.clone(), state);
    }

    /// Folds a committed op (`message` is its timeline entry, `after` the conversation
    /// right after it).
    pub(crate) fn record(&mut self, op: &WriteOp, message: &MessageRow, after: &ConversationRow) {
        let Some((actor, kind)) = event_of(op, message, after) else {
            return;
        };
        let event = Event {
            id: message.id.0.clone(),
            conversation: after.id.clone(),
            at: message.created_at,
            actor,
            kind,
        };
        if let Some(state) = self.states.get_mut(&after.id) {
            fandesk_analytics::step(state, &event, &self.policy, &mut self.changes);
        }
    }

    /// Folds the hand-off entry appended after a bot's last allowed reply: a new opening
    /// whose clock starts at the hand-off (docs/metrics.md › Openings).
    pub(crate) fn record_handoff(&mut self, entry: &MessageRow, after: &ConversationRow) {
        let event = Event {
            id: entry.id.0.clone(),
            conversation: after.id.clone(),
            at: entry.created_at,
            actor: Actor::System,
            kind: EventKind::BotHandoff,
        };
        if let Some(state) = self.states.get_mut(&after.id) {
            fandesk_analytics::step(state, &event, &self.policy, &mut self.changes);
        }
    }

    pub(crate) fn finish(mut self) -> Changes {
        self.changes.compact();
        self.changes
    }
}

fn actor_of(principal: &Principal) -> Actor {
    match principal {
        Principal::Fan { .. } => Actor::Fan,
        Principal::Member {
            id,
            role: Role::Bot,
            ..
        } => Actor::Bot(id.clone()),
        Principal::Member { id, .. } => Actor::Member(id.clone()),
    }
}

/// The metric event of a committed op, if it is one (`docs/metrics.md`).
/// Anything else — internal messages, assignment, take-over, hand-back, and write ops
/// added later — changes no metric.
fn event_of(
    op: &WriteOp,
    message: &MessageRow,
    after: &ConversationRow,
) -> Option<(Actor, EventKind)> {
    if let WriteOp::Post { author, .. } = op {
        if message.visibility != Visibility::Public {
            return None;
        }
        let kind = match message.author_kind {
            AuthorKind::Fan => EventKind::FanMessage,
            AuthorKind::Member if !message.automated => EventKind::HumanReply,
            AuthorKind::Member | AuthorKind::Bot => EventKind::AutomatedReply,
            AuthorKind::System => return None,
        };
        return Some((actor_of(author), kind));
    }
    if let WriteOp::Transition {
        actor, transition, ..
    } = op
    {
        let kind = match transition {
            Transition::Resolve => EventKind::Resolved {
                assignee: after.assignee_id.clone(),
            },
            Transition::Reopen => EventKind::Reopened,
            Transition::Escalate { .. } => EventKind::Escalated,
            _ => return None,
        };
        return Some((actor_of(actor), kind));
    }
    None
}

/// The creation event of a conversation (its first opening), for `insert_conversation`.
pub(crate) fn creation_changes(conversation: &ConversationRow) -> Changes {
    let mut state = ConversationMetrics::new(conversation.id.clone());
    let mut changes = Changes::default();
    let event = Event {
        id: conversation.id.0.clone(),
        conversation: conversation.id.clone(),
        at: crate::conversation::plan::to_stored_precision(conversation.created_at),
        actor: Actor::Fan,
        kind: EventKind::Created,
    };
    fandesk_analytics::step(&mut state, &event, &Policy::default(), &mut changes);
    changes
}

/// The oldest team message a fan message of this batch can still answer in time
/// (`fandesk_analytics::answerable_since`): older waiting ones need not be loaded.
pub(crate) fn answerable_since(ops: &[WriteOp]) -> jiff::Timestamp {
    let earliest = ops
        .iter()
        .filter_map(|op| {
            if let WriteOp::Post { at, .. } = op {
                Some(*at)
            } else {
                None
            }
        })
        .min();
    earliest.map_or(jiff::Timestamp::MIN, fandesk_analytics::answerable_since)
}

/// Whether an op may be a human's public reply, the only write an SLA verdict needs.
pub(crate) fn may_stop_clock(op: &WriteOp) -> bool {
    matches!(op, WriteOp::Post { author: Principal::Member { role, .. }, visibility: Visibility::Public, .. } if role.is_human())
}
