//! Property test: random event logs are folded incrementally the way the
//! store does it — in random batches, the state rebuilt between batches from the stored
//! rows and the conversation row only — and the rows must equal a straightforward
//! recomputation from the full log, written here independently as the oracle.

mod support;

use fandesk_analytics::{
    Actor, Changes, ConversationMetrics, DEFAULT_SLA_TARGET_MS, Event, EventKind, GroupBy, Opening,
    OpeningKind, Period, Policy, REPLY_WINDOW_MS, Records, Resolution, TeamMessage,
    answerable_since, step, summarize,
};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use proptest::prelude::*;
use std::collections::HashMap;
use support::t;

const MEMBERS: [&str; 3] = ["ann", "bob", "lee"];

/// One generated step: conversation, gap since the previous event (ms), what happened.
type Draw = (usize, i64, u8, usize);

fn draws() -> impl Strategy<Value = Vec<Draw>> {
    let gap = prop_oneof![
        4 => 0_i64..5_000,
        2 => 0_i64..120_000,
        1 => Just(0_i64),
        1 => (REPLY_WINDOW_MS - 2)..(REPLY_WINDOW_MS + 2),
        1 => 0_i64..(3 * REPLY_WINDOW_MS),
    ];
    prop::collection::vec((0_usize..4, gap, 0_u8..16, 0_usize..4), 1..80)
}

/// Turns draws into a log; a conversation's first event is its creation.
fn build_log(draws: &[Draw]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut created = [false; 4];
    let mut micros = t(0).as_microsecond();
    for (index, (conversation, gap, kind, who)) in draws.iter().enumerate() {
        micros += gap * 1_000 + (index as i64 % 3);
        let at = Timestamp::from_microsecond(micros).unwrap();
        let conversation_id = ConversationId(format!("c{conversation}"));
        let member = || MemberId::from(MEMBERS[who % MEMBERS.len()]);
        if !created[*conversation] {
            created[*conversation] = true;
            let id = conversation_id.0.clone();
            events.push(Event {
                id,
                conversation: conversation_id.clone(),
                at,
                actor: Actor::Fan,
                kind: EventKind::Created,
            });
        }
        let (actor, kind) = match kind {
            0..=4 => (Actor::Fan, EventKind::FanMessage),
            5..=7 => (Actor::Member(member()), EventKind::HumanReply),
            8 | 9 => (Actor::Bot(MemberId::from("bot")), EventKind::AutomatedReply),
            10 => (Actor::Member(member()), EventKind::Internal),
            11 => (Actor::Member(member()), EventKind::Escalated),
            12 => {
                let assignee = (*who < MEMBERS.len()).then(member);
                (Actor::Member(member()), EventKind::Resolved { assignee })
            }
            13 => (Actor::Member(member()), EventKind::Reopened),
            _ => (Actor::Bot(MemberId::from("bot")), EventKind::BotHandoff),
        };
        events.push(Event {
            id: format!("m{index}"),
            conversation: conversation_id,
            at,
            actor,
            kind,
        });
    }
    events
}

/// What the store's conversation row tracks on its own (batch.rs), mirrored here.
#[derive(Default, Clone)]
struct ConversationRow {
    awaiting_since: Option<Timestamp>,
    escalated: bool,
    last_public_seq: u64,
}

impl ConversationRow {
    fn apply(&mut self, event: &Event) {
        match event.kind {
            EventKind::FanMessage => {
                self.awaiting_since.get_or_insert(event.at);
                self.last_public_seq += 1;
            }
            EventKind::HumanReply => {
                self.awaiting_since = None;
                self.last_public_seq += 1;
            }
            EventKind::AutomatedReply => self.last_public_seq += 1,
            EventKind::Escalated => self.escalated = true,
            _ => {}
        }
    }
}

/// The incremental path: batches, with the state rebuilt from "stored" rows each time.
fn incremental(events: &[Event], cuts: &[usize]) -> Records {
    let policy = Policy::default();
    let mut table = Records::default();
    let mut rows: HashMap<ConversationId, ConversationRow> = HashMap::new();
    let mut start = 0;
    let mut boundaries: Vec<usize> = cuts.iter().map(|cut| cut % (events.len() + 1)).collect();
    boundaries.push(events.len());
    boundaries.sort_unstable();
    for end in boundaries {
        let batch = &events[start..end.max(start)];
        start = end.max(start);
        let Some(first) = batch.first() else { continue };
        // What the store loads (metric_step.rs): only messages still answerable in time.
        let cutoff = answerable_since(first.at).as_microsecond();
        let mut states: HashMap<ConversationId, ConversationMetrics> = HashMap::new();
        let mut changes = Changes::default();
        for event in batch {
            let state = states.entry(event.conversation.clone()).or_insert_with(|| {
                let row = rows.get(&event.conversation).cloned().unwrap_or_default();
                ConversationMetrics {
                    conversation: event.conversation.clone(),
                    opening: table
                        .openings
                        .iter()
                        .find(|o| o.conversation == event.conversation && o.latest)
                        .cloned(),
                    unanswered: table
                        .team_messages
                        .iter()
                        .filter(|m| m.conversation == event.conversation && m.answered_at.is_none())
                        .filter(|m| m.sent_at.as_microsecond() >= cutoff)
                        .cloned()
                        .collect(),
                    waiting_since: row.awaiting_since,
                    escalated: row.escalated,
                    public_messages: row.last_public_seq,
                }
            });
            step(state, event, &policy, &mut changes);
            rows.entry(event.conversation.clone())
                .or_default()
                .apply(event);
        }
        changes.compact();
        table.apply(changes);
    }
    table
}

fn millis(from: Timestamp, to: Timestamp) -> i64 {
    ((to.as_microsecond() - from.as_microsecond()) / 1_000).max(0)
}

/// The oracle: each record recomputed from the whole log by its definition.
fn oracle(events: &[Event]) -> Records {
    let mut records = Records::default();
    let mut conversations: Vec<&ConversationId> = Vec::new();
    for event in events {
        if !conversations.contains(&&event.conversation) {
            conversations.push(&event.conversation);
        }
    }
    for conversation in conversations {
        let log: Vec<&Event> = events
            .iter()
            .filter(|e| &e.conversation == conversation)
            .collect();
        let starts: Vec<usize> = (0..log.len())
            .filter(|&i| {
                matches!(
                    log[i].kind,
                    EventKind::Created | EventKind::Reopened | EventKind::BotHandoff
                )
            })
            .collect();
        for (number, &begin) in starts.iter().enumerate() {
            let end = starts.get(number + 1).copied().unwrap_or(log.len());
            let segment = &log[begin..end];
            let handoff = segment[0].kind == EventKind::BotHandoff;
            // For a hand-off: the oldest fan message no human answered before it.
            let waiting = log[..begin].iter().fold(None, |waiting, e| match e.kind {
                EventKind::FanMessage => waiting.or(Some(e.at)),
                EventKind::HumanReply => None,
                _ => waiting,
            });
            let clock_index = if handoff {
                Some(0)
            } else {
                segment.iter().position(|e| e.kind == EventKind::FanMessage)
            };
            let clock_at = clock_index.map(|i| segment[i].at);
            let after = clock_index.map_or(&[][..], |i| &segment[i + 1..]);
            let touch = after
                .iter()
                .find(|e| matches!(e.kind, EventKind::HumanReply | EventKind::AutomatedReply));
            let reply = after.iter().find(|e| e.kind == EventKind::HumanReply);
            let frt_ms = reply.map(|r| millis(clock_at.unwrap(), r.at));
            records.openings.push(Opening {
                id: format!("{conversation}#{}", number + 1),
                conversation: conversation.clone(),
                number: number as u32 + 1,
                kind: match segment[0].kind {
                    EventKind::Created => OpeningKind::Created,
                    EventKind::Reopened => OpeningKind::Reopened,
                    _ => OpeningKind::Handoff,
                },
                opened_at: segment[0].at,
                first_fan_at: if handoff { waiting } else { clock_at },
                clock_at,
                first_touch_at: touch.map(|e| e.at),
                replied_at: reply.map(|e| e.at),
                replier: reply.and_then(|e| e.actor.member().cloned()),
                frt_ms,
                breached: frt_ms.is_some_and(|frt| frt > DEFAULT_SLA_TARGET_MS),
                latest: end == log.len(),
            });
        }
        for (index, event) in log.iter().enumerate() {
            if event.kind == EventKind::HumanReply {
                let answer = log[index + 1..]
                    .iter()
                    .find(|e| e.kind == EventKind::FanMessage);
                records.team_messages.push(TeamMessage {
                    id: event.id.clone(),
                    conversation: conversation.clone(),
                    author: event.actor.member().cloned().unwrap(),
                    sent_at: event.at,
                    answered_at: answer
                        .map(|e| e.at)
                        .filter(|at| millis(event.at, *at) <= REPLY_WINDOW_MS),
                });
            }
            if let EventKind::Resolved { assignee } = &event.kind {
                let before = &log[..index];
                let public = before
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.kind,
                            EventKind::FanMessage
                                | EventKind::HumanReply
                                | EventKind::AutomatedReply
                        )
                    })
                    .count();
                records.resolutions.push(Resolution {
                    id: event.id.clone(),
                    conversation: conversation.clone(),
                    resolved_at: event.at,
                    escalated: before.iter().any(|e| e.kind == EventKind::Escalated),
                    assignee: assignee.clone().or_else(|| event.actor.member().cloned()),
                    public_messages: public as u64,
                });
            }
        }
    }
    records
}

fn sorted(mut records: Records) -> Records {
    records.openings.sort_by(|a, b| a.id.cmp(&b.id));
    records.team_messages.sort_by(|a, b| a.id.cmp(&b.id));
    records.resolutions.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn incremental_rows_equal_the_recomputation(draws in draws(), cuts in prop::collection::vec(0_usize..100, 0..6)) {
        let events = build_log(&draws);
        let incremental = sorted(incremental(&events, &cuts));
        let expected = sorted(oracle(&events));
        prop_assert_eq!(&incremental, &expected);

        // And the headline numbers, straight from the log for FRT and resolution rate.
        let Records { openings, team_messages, resolutions } = &incremental;
        let forever = Period { from: t(-1), to: t(100 * 86_400) };
        let all = summarize(openings, team_messages, resolutions, forever, t(200 * 86_400), &GroupBy::None);
        let frts: Vec<i64> = expected.openings.iter().filter_map(|o| o.frt_ms).collect();
        prop_assert_eq!(all.groups[0].first_response_secs.count, frts.len() as u64);
        if !frts.is_empty() {
            let mean = frts.iter().sum::<i64>() as f64 / frts.len() as f64 / 1_000.0;
            prop_assert!((all.groups[0].first_response_secs.mean.unwrap() - mean).abs() < 1e-9);
        }
        let mut last: HashMap<&ConversationId, bool> = HashMap::new();
        for event in &events {
            if let EventKind::Resolved { .. } = event.kind {
                let escalated = events.iter().take_while(|e| !std::ptr::eq(*e, event))
                    .any(|e| e.conversation == event.conversation && e.kind == EventKind::Escalated);
                last.insert(&event.conversation, escalated);
            }
        }
        let clean = last.values().filter(|escalated| !**escalated).count();
        let rate = (!last.is_empty()).then(|| clean as f64 / last.len() as f64);
        prop_assert_eq!(all.groups[0].resolution_rate, rate);
    }
}
