//! A small language for writing event logs by hand: `log.fan("c1", 10)` is "in
//! conversation c1, the fan wrote 10 s after the base time".

#![allow(dead_code)]

use fandesk_analytics::{Actor, Event, EventKind};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;

/// Monday 16 November 2026, 09:00 UTC: the start of ISO week 2026-W47.
pub const BASE: i64 = 1_794_819_600;

pub fn t(seconds: i64) -> Timestamp {
    Timestamp::from_second(BASE + seconds).expect("valid time")
}

pub fn member(id: &str) -> Actor {
    Actor::Member(MemberId::from(id))
}

#[derive(Default)]
pub struct Log {
    pub events: Vec<Event>,
}

impl Log {
    pub fn push(
        &mut self,
        conversation: &str,
        seconds: i64,
        actor: Actor,
        kind: EventKind,
    ) -> &mut Log {
        let id = match kind {
            EventKind::Created => conversation.to_owned(),
            _ => format!("m{}", self.events.len()),
        };
        self.events.push(Event {
            id,
            conversation: ConversationId::from(conversation),
            at: t(seconds),
            actor,
            kind,
        });
        self
    }

    pub fn created(&mut self, conversation: &str, seconds: i64) -> &mut Log {
        self.push(conversation, seconds, Actor::Fan, EventKind::Created)
    }

    pub fn fan(&mut self, conversation: &str, seconds: i64) -> &mut Log {
        self.push(conversation, seconds, Actor::Fan, EventKind::FanMessage)
    }

    pub fn reply(&mut self, conversation: &str, seconds: i64, who: &str) -> &mut Log {
        self.push(conversation, seconds, member(who), EventKind::HumanReply)
    }

    pub fn bot(&mut self, conversation: &str, seconds: i64) -> &mut Log {
        self.push(
            conversation,
            seconds,
            Actor::Bot(MemberId::from("bot")),
            EventKind::AutomatedReply,
        )
    }

    pub fn internal(&mut self, conversation: &str, seconds: i64, who: &str) -> &mut Log {
        self.push(conversation, seconds, member(who), EventKind::Internal)
    }

    pub fn escalate(&mut self, conversation: &str, seconds: i64, who: &str) -> &mut Log {
        self.push(conversation, seconds, member(who), EventKind::Escalated)
    }

    pub fn resolve(
        &mut self,
        conversation: &str,
        seconds: i64,
        who: &str,
        assignee: Option<&str>,
    ) -> &mut Log {
        let assignee = assignee.map(MemberId::from);
        self.push(
            conversation,
            seconds,
            member(who),
            EventKind::Resolved { assignee },
        )
    }

    pub fn reopen(&mut self, conversation: &str, seconds: i64, who: &str) -> &mut Log {
        self.push(conversation, seconds, member(who), EventKind::Reopened)
    }

    pub fn handoff(&mut self, conversation: &str, seconds: i64) -> &mut Log {
        self.push(
            conversation,
            seconds,
            Actor::Bot(MemberId::from("bot")),
            EventKind::BotHandoff,
        )
    }
}
