//! The rooms' group-commit batch (`commit`): room ops applied by
//! [`Store::apply_room_batch`] (room row locked on PostgreSQL; slow mode, timeouts and
//! state decided inside the transaction), then each committed timeline entry — a message
//! or a deletion — published on the room's topic, encoded once per audience and shared by
//! every viewer.

use crate::app::metrics::Metrics;
use crate::commit::{Batch, Queued, Writer};
use crate::live::frame::room_event_frame;
use crate::live::publish::{Frames, publish_timeline};
use fandesk_bus::Bus;
use fandesk_domain::room::RoomRefusal;
use fandesk_domain::{Audience, Topic};
use fandesk_store::{RoomEventRow, RoomOp, RoomOutcome, Store, StoreResult};
use std::future::Future;
use std::sync::Arc;

/// The rooms' writer.
pub(crate) type RoomWriter = Writer<RoomBatch>;
/// A room op waiting for its commit.
pub(crate) type RoomQueued = Queued<RoomOutcome>;

/// Where committed room entries go.
pub(crate) struct RoomBatch {
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<Metrics>,
}

impl Batch for RoomBatch {
    type Op = RoomOp;
    type Outcome = RoomOutcome;
    type Refusal = RoomRefusal;
    const NAME: &'static str = "room";

    fn apply<'a>(
        store: &'a Store,
        ops: &'a [RoomOp],
    ) -> impl Future<Output = StoreResult<Vec<Result<RoomOutcome, RoomRefusal>>>> + Send + 'a {
        store.apply_room_batch(ops)
    }

    fn publish(&self, outcome: &RoomOutcome) {
        match outcome {
            RoomOutcome::Posted { event } => {
                self.metrics.messages_written.inc();
                publish(self.bus.as_ref(), event);
            }
            RoomOutcome::Deleted { deletion, .. } => publish(self.bus.as_ref(), deletion),
            _ => {}
        }
    }
}

/// Fans out a committed room timeline entry. Every room entry is public, so fans number
/// it with the room's one sequence (`public_seq` = `seq`).
fn publish(bus: &dyn Bus, event: &RoomEventRow) {
    let topic = Topic::Room(event.room_id.0.clone()).to_string();
    let frames = Frames {
        team: room_event_frame(&topic, event, Audience::Team),
        fan: Some(room_event_frame(&topic, event, Audience::Fan)),
    };
    publish_timeline(bus, topic, event.seq, Some(event.seq), frames);
}
