//! The database side of the multi-node bus: a node that missed timeline events of a
//! topic (lost on NATS, or overtaken by a later one from another node) reads them back
//! here, framed exactly as the committing node published them (`conversation::commit`,
//! `room::commit`), so subscribers cannot tell a filled event from a received one.

use crate::live::frame::{message_frame, room_event_frame};
use crate::live::publish::{Frames, timeline_event};
use fandesk_bus::{FillResult, GapFill};
use fandesk_domain::channel::ChannelId;
use fandesk_domain::event::EventId;
use fandesk_domain::room::RoomId;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{ChannelMessageFilter, RoomEventFilter, Store};
use std::future::Future;
use std::pin::Pin;

/// Rows read per query.
const PAGE: u32 = 200;
/// Events one fill returns at most; a subscriber further behind than this is lagged
/// anyway and resumes from the store itself.
const FILL_MAX: usize = 5_000;

pub(crate) struct StoreGapFill {
    pub(crate) store: Store,
}

impl GapFill for StoreGapFill {
    fn fill<'a>(
        &'a self,
        topic: &'a str,
        after: u64,
        before: u64,
    ) -> Pin<Box<dyn Future<Output = FillResult> + Send + 'a>> {
        Box::pin(async move {
            match Topic::parse(topic) {
                Ok(Topic::Conversation(id)) => self.conversation(topic, &id, after, before).await,
                Ok(Topic::Room(id)) => self.room(topic, &RoomId(id), after, before).await,
                Ok(Topic::Event(id)) => self.event(topic, &EventId(id), after, before).await,
                Ok(Topic::Channel(id)) => self.channel(topic, &ChannelId(id), after, before).await,
                // Inbox, alerts and the charter carry ephemeral events only.
                Ok(_) | Err(_) => Ok(Vec::new()),
            }
        })
    }
}

impl StoreGapFill {
    async fn conversation(
        &self,
        topic: &str,
        id: &fandesk_domain::ConversationId,
        mut after: u64,
        before: u64,
    ) -> FillResult {
        let mut events = Vec::new();
        loop {
            let rows = self
                .store
                .list_messages(id, Audience::Team, after, PAGE)
                .await
                .map_err(|error| error.to_string())?;
            let full = rows.len() == PAGE as usize;
            for row in rows.iter().take_while(|row| row.seq < before) {
                let frames = Frames {
                    team: message_frame(topic, row, Audience::Team).unwrap_or_default(),
                    fan: message_frame(topic, row, Audience::Fan),
                };
                events.push(timeline_event(
                    topic.to_owned(),
                    row.seq,
                    row.public_seq,
                    frames,
                ));
                after = row.seq;
            }
            if !full || after + 1 >= before || events.len() >= FILL_MAX {
                return Ok(events);
            }
        }
    }

    async fn room(&self, topic: &str, id: &RoomId, mut after: u64, before: u64) -> FillResult {
        let mut events = Vec::new();
        loop {
            let rows = self
                .store
                .list_room_events(id, RoomEventFilter::All, after, PAGE)
                .await
                .map_err(|error| error.to_string())?;
            let full = rows.len() == PAGE as usize;
            for row in rows.iter().take_while(|row| row.seq < before) {
                let frames = Frames {
                    team: room_event_frame(topic, row, Audience::Team),
                    fan: Some(room_event_frame(topic, row, Audience::Fan)),
                };
                events.push(timeline_event(
                    topic.to_owned(),
                    row.seq,
                    Some(row.seq),
                    frames,
                ));
                after = row.seq;
            }
            if !full || after + 1 >= before || events.len() >= FILL_MAX {
                return Ok(events);
            }
        }
    }

    /// An event's question entries, each with its question as it is now (as replay does).
    async fn event(&self, topic: &str, id: &EventId, mut after: u64, before: u64) -> FillResult {
        let mut events = Vec::new();
        loop {
            let entries = self
                .store
                .list_question_entries(id, after, PAGE)
                .await
                .map_err(|error| error.to_string())?;
            let full = entries.len() == PAGE as usize;
            for entry in entries.iter().take_while(|entry| entry.seq < before) {
                let frames = crate::event::commit::entry_frames(topic, entry);
                events.push(timeline_event(
                    topic.to_owned(),
                    entry.seq,
                    Some(entry.seq),
                    frames,
                ));
                after = entry.seq;
            }
            if !full || after + 1 >= before || events.len() >= FILL_MAX {
                return Ok(events);
            }
        }
    }

    /// A team channel's messages (team frames only, as published).
    async fn channel(
        &self,
        topic: &str,
        id: &ChannelId,
        mut after: u64,
        before: u64,
    ) -> FillResult {
        let mut events = Vec::new();
        loop {
            let filter = ChannelMessageFilter {
                after_seq: after,
                thread_root_id: None,
            };
            let rows = self
                .store
                .list_channel_messages(id, &filter, PAGE)
                .await
                .map_err(|error| error.to_string())?;
            let full = rows.len() == PAGE as usize;
            for row in rows.iter().take_while(|row| row.seq < before) {
                let frames = crate::channel::commit::message_frames(topic, row);
                events.push(timeline_event(topic.to_owned(), row.seq, None, frames));
                after = row.seq;
            }
            if !full || after + 1 >= before || events.len() >= FILL_MAX {
                return Ok(events);
            }
        }
    }
}
