//! The channels' group-commit batch: creations, posts, archive and restore and the
//! sweep's steps applied by [`Store::apply_channel_batch`] (the channel row locked on
//! PostgreSQL; the limit, idempotency, threads and the archive state decided inside the
//! transaction), then each committed message published on `channel:{id}` — a team-only
//! timeline event, so no fan frame exists — and each new decision emitted to the webhooks
//! subscribed to `decision.created`.

use crate::app::error::{ServiceError, ServiceResult};
use crate::channel::view::{ChannelMessageView, DecisionView};
use crate::commit::{Batch, Writer};
use crate::integration::{Emitter, IntegrationEvent};
use crate::live::frame::channel_message_frame;
use crate::live::publish::{Frames, publish_timeline};
use fandesk_bus::Bus;
use fandesk_domain::Topic;
use fandesk_domain::channel::ChannelRefusal;
use fandesk_domain::integration::WebhookEvent;
use fandesk_store::{ChannelMessageRow, ChannelOp, ChannelOutcome, ChannelRow, Store, StoreResult};
use std::future::Future;
use std::sync::Arc;

/// The channels' writer.
pub(crate) type ChannelWriter = Writer<ChannelBatch>;

/// Where committed channel writes go.
pub(crate) struct ChannelBatch {
    pub bus: Arc<dyn Bus>,
    pub emitter: Emitter,
}

impl Batch for ChannelBatch {
    type Op = ChannelOp;
    type Outcome = ChannelOutcome;
    type Refusal = ChannelRefusal;
    const NAME: &'static str = "channel";

    fn apply<'a>(
        store: &'a Store,
        ops: &'a [ChannelOp],
    ) -> impl Future<Output = StoreResult<Vec<Result<ChannelOutcome, ChannelRefusal>>>> + Send + 'a
    {
        store.apply_channel_batch(ops)
    }

    fn publish(&self, outcome: &ChannelOutcome) {
        let ChannelOutcome::Message {
            message,
            decision,
            created: true,
        } = outcome
        else {
            return;
        };
        publish_message(self.bus.as_ref(), message);
        if let Some(decision) = decision
            && self.emitter.wants(WebhookEvent::DecisionCreated)
        {
            let view = DecisionView::new(decision);
            // A view of strings and times: it always serializes.
            let value = serde_json::to_value(&view).unwrap_or_default();
            self.emitter
                .emit(IntegrationEvent::DecisionCreated(value), message.created_at);
        }
    }
}

/// The frames of a channel message: the team's only (fans never receive a channel frame).
pub(crate) fn message_frames(topic: &str, message: &ChannelMessageRow) -> Frames {
    Frames::team_only(channel_message_frame(topic, message))
}

fn publish_message(bus: &dyn Bus, message: &ChannelMessageRow) {
    let topic = Topic::Channel(message.channel_id.0.clone()).to_string();
    let frames = message_frames(&topic, message);
    // No public sequence: fans have no place in a channel's timeline.
    publish_timeline(bus, topic, message.seq, None, frames);
}

/// What the use cases read from an outcome.
pub(crate) trait ChannelOutcomeExt {
    /// The channel a create, archive or restore left.
    fn channel(self) -> ServiceResult<ChannelRow>;
    /// The message a post committed (or found), and whether it is new.
    fn message(self) -> ServiceResult<(ChannelMessageView, bool)>;
}

impl ChannelOutcomeExt for ChannelOutcome {
    fn channel(self) -> ServiceResult<ChannelRow> {
        match self {
            ChannelOutcome::Channel { channel, .. } => Ok(channel),
            other => Err(ServiceError::Internal(format!(
                "a channel op answered {other:?}"
            ))),
        }
    }

    fn message(self) -> ServiceResult<(ChannelMessageView, bool)> {
        match self {
            ChannelOutcome::Message {
                message, created, ..
            } => Ok((ChannelMessageView::new(&message), created)),
            other => Err(ServiceError::Internal(format!(
                "a channel post answered {other:?}"
            ))),
        }
    }
}
