//! The incremental fold: one conversation's metric state, advanced one event at a time.
//! Every rule below is a sentence of docs/metrics.md; the hard cases (reopen, bot
//! hand-off, automated replies, crediting the replier) are spelled out where they are
//! decided.

use crate::event::{Actor, Event, EventKind};
use crate::record::{Opening, OpeningKind, Resolution, TeamMessage, millis_between};
use fandesk_domain::ConversationId;
use jiff::Timestamp;
use std::collections::HashMap;

/// The first-response target when none is configured (docs/product.md › SLA: 60 s by
/// default).
pub const DEFAULT_SLA_TARGET_MS: i64 = 60_000;

/// How long a team message waits for the fan's answer (docs/metrics.md › Reply rate:
/// answered by the fan within 24 h); an answer at exactly 24 h still counts.
pub const REPLY_WINDOW_MS: i64 = 24 * 3_600 * 1_000;

/// The oldest team message a fan message at or after `earliest` can still answer in
/// time, with a second to spare for the rounding to whole milliseconds: a loader of
/// [`ConversationMetrics::unanswered`] may leave out anything older.
pub fn answerable_since(earliest: Timestamp) -> Timestamp {
    let window = jiff::SignedDuration::from_millis(REPLY_WINDOW_MS + 1_000);
    earliest.checked_sub(window).unwrap_or(Timestamp::MIN)
}

/// The settings a decision depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A first response slower than this is an SLA breach (docs/metrics.md › SLA breach).
    pub sla_target_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            sla_target_ms: DEFAULT_SLA_TARGET_MS,
        }
    }
}

/// What the fold remembers about one conversation between events. The store rebuilds it
/// from the conversation row and the metric rows, so nothing here lives only in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationMetrics {
    pub conversation: ConversationId,
    /// The current opening (`latest`), if the conversation was created.
    pub opening: Option<Opening>,
    /// Public human team messages the fan has not answered yet. Only those younger than
    /// [`REPLY_WINDOW_MS`] can still be answered in time; older ones may be left out.
    pub unanswered: Vec<TeamMessage>,
    /// The oldest fan message no human has answered (the conversation's `awaiting_since`).
    pub waiting_since: Option<Timestamp>,
    /// Ever escalated (escalation is a flag that is never cleared, docs/product.md ›
    /// Conversations).
    pub escalated: bool,
    /// Public messages so far (the conversation's `last_public_seq`).
    pub public_messages: u64,
}

impl ConversationMetrics {
    /// A conversation before its creation event.
    pub fn new(conversation: ConversationId) -> ConversationMetrics {
        ConversationMetrics {
            conversation,
            opening: None,
            unanswered: Vec::new(),
            waiting_since: None,
            escalated: false,
            public_messages: 0,
        }
    }
}

/// The rows an event (or a batch of them) created or changed, to be upserted by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub openings: Vec<Opening>,
    pub team_messages: Vec<TeamMessage>,
    pub resolutions: Vec<Resolution>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.openings.is_empty() && self.team_messages.is_empty() && self.resolutions.is_empty()
    }

    /// Keeps only the last version of each row, in the order rows first appeared, so a
    /// batch writes each row once (a multi-row upsert may not touch a row twice).
    pub fn compact(&mut self) {
        keep_last(&mut self.openings, |row| row.id.clone());
        keep_last(&mut self.team_messages, |row| row.id.clone());
        keep_last(&mut self.resolutions, |row| row.id.clone());
    }
}

fn keep_last<T>(rows: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<Option<T>> = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        match position.get(&key(&row)) {
            Some(&index) => kept[index] = Some(row),
            None => {
                position.insert(key(&row), kept.len());
                kept.push(Some(row));
            }
        }
    }
    rows.extend(kept.into_iter().flatten());
}

/// Every record of a replayed log, each in its final state, in order of first appearance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub openings: Vec<Opening>,
    pub team_messages: Vec<TeamMessage>,
    pub resolutions: Vec<Resolution>,
}

impl Records {
    /// Applies upserts, as the store's tables do.
    pub fn apply(&mut self, changes: Changes) {
        upsert(&mut self.openings, changes.openings, |row| row.id.clone());
        upsert(&mut self.team_messages, changes.team_messages, |row| {
            row.id.clone()
        });
        upsert(&mut self.resolutions, changes.resolutions, |row| {
            row.id.clone()
        });
    }
}

fn upsert<T>(table: &mut Vec<T>, rows: Vec<T>, key: impl Fn(&T) -> String) {
    let mut position: HashMap<String, usize> = table
        .iter()
        .enumerate()
        .map(|(index, row)| (key(row), index))
        .collect();
    for row in rows {
        match position.get(&key(&row)) {
            Some(&index) => table[index] = row,
            None => {
                position.insert(key(&row), table.len());
                table.push(row);
            }
        }
    }
}

/// Folds a whole log from nothing (events in commit order, any mix of conversations).
pub fn replay(events: &[Event], policy: &Policy) -> Records {
    let mut states: HashMap<ConversationId, ConversationMetrics> = HashMap::new();
    let mut changes = Changes::default();
    for event in events {
        let state = states
            .entry(event.conversation.clone())
            .or_insert_with(|| ConversationMetrics::new(event.conversation.clone()));
        step(state, event, policy, &mut changes);
    }
    changes.compact();
    let mut records = Records::default();
    records.apply(changes);
    records
}

/// Advances `state` by `event` and appends every row it created or changed to `changes`.
pub fn step(
    state: &mut ConversationMetrics,
    event: &Event,
    policy: &Policy,
    changes: &mut Changes,
) {
    let at = event.at;
    match &event.kind {
        EventKind::Created => open(state, OpeningKind::Created, at, changes),
        EventKind::Reopened => open(state, OpeningKind::Reopened, at, changes),
        EventKind::BotHandoff => open(state, OpeningKind::Handoff, at, changes),
        EventKind::FanMessage => {
            state.public_messages += 1;
            state.waiting_since.get_or_insert(at);
            // Reply rate: this message answers every team message of the last 24 h that
            // was still waiting; older ones stay unanswered for good.
            for mut message in state.unanswered.drain(..) {
                if millis_between(message.sent_at, at) <= REPLY_WINDOW_MS {
                    message.answered_at = Some(at);
                    changes.team_messages.push(message);
                }
            }
            // FRT: the first fan message after an opening starts the clock; later ones
            // before the answer do not move it.
            if let Some(opening) = &mut state.opening
                && opening.clock_at.is_none()
            {
                opening.first_fan_at = Some(at);
                opening.clock_at = Some(at);
                changes.openings.push(opening.clone());
            }
        }
        EventKind::HumanReply => {
            state.public_messages += 1;
            state.waiting_since = None;
            let Some(author) = event.actor.member().cloned() else {
                return;
            };
            // FRT: the first public human reply after the clock started stops it, and is
            // credited to whoever wrote it, assigned or not.
            if let Some(opening) = &mut state.opening
                && let Some(clock_at) = opening.clock_at
                && opening.replied_at.is_none()
            {
                let frt_ms = millis_between(clock_at, at);
                opening.first_touch_at.get_or_insert(at);
                opening.replied_at = Some(at);
                opening.replier = Some(author.clone());
                opening.frt_ms = Some(frt_ms);
                opening.breached = frt_ms > policy.sla_target_ms;
                changes.openings.push(opening.clone());
            }
            let message = TeamMessage {
                id: event.id.clone(),
                conversation: state.conversation.clone(),
                author,
                sent_at: at,
                answered_at: None,
            };
            changes.team_messages.push(message.clone());
            state.unanswered.push(message);
        }
        EventKind::AutomatedReply => {
            state.public_messages += 1;
            // Automated replies do not stop the clock; the first one is the opening's
            // first touch (docs/metrics.md › First touch).
            if let Some(opening) = &mut state.opening
                && opening.clock_at.is_some()
                && opening.first_touch_at.is_none()
            {
                opening.first_touch_at = Some(at);
                changes.openings.push(opening.clone());
            }
        }
        // Internal messages are invisible to the fan and to every metric.
        EventKind::Internal => {}
        EventKind::Escalated => state.escalated = true,
        EventKind::Resolved { assignee } => {
            let assignee = assignee.clone().or_else(|| match &event.actor {
                Actor::Member(id) => Some(id.clone()),
                _ => None,
            });
            changes.resolutions.push(Resolution {
                id: event.id.clone(),
                conversation: state.conversation.clone(),
                resolved_at: at,
                escalated: state.escalated,
                assignee,
                public_messages: state.public_messages,
            });
        }
    }
}

/// Starts a new opening, retiring the current one (an unanswered opening stays
/// unanswered: a reopen or hand-off never credits a later reply to it).
fn open(state: &mut ConversationMetrics, kind: OpeningKind, at: Timestamp, changes: &mut Changes) {
    let number = match state.opening.take() {
        Some(mut previous) => {
            previous.latest = false;
            let number = previous.number + 1;
            changes.openings.push(previous);
            number
        }
        None => 1,
    };
    // A bot hand-off starts the clock at once: the fan is handed to a human
    // because they want one; the message they are waiting on, if any, is kept for the
    // record.
    let (first_fan_at, clock_at) = match kind {
        OpeningKind::Handoff => (state.waiting_since, Some(at)),
        OpeningKind::Created | OpeningKind::Reopened => (None, None),
    };
    let opening = Opening {
        id: format!("{}#{number}", state.conversation),
        conversation: state.conversation.clone(),
        number,
        kind,
        opened_at: at,
        first_fan_at,
        clock_at,
        first_touch_at: None,
        replied_at: None,
        replier: None,
        frt_ms: None,
        breached: false,
        latest: true,
    };
    changes.openings.push(opening.clone());
    state.opening = Some(opening);
}
