//! The conversations' group-commit batch (`commit`): messages and status changes applied
//! by [`Store::apply_batch`] — sequence numbers and permission rules decided inside the
//! transaction, against the state as of the preceding write — then each committed entry
//! published on its topic (with `conversation.updated` when it changed the conversation),
//! handed to the signal processor, and emitted to the webhooks that subscribe to it.

use crate::app::metrics::Metrics;
use crate::commit::{Batch, Queued, Writer};
use crate::conversation::view::{ConversationView, MessageView};
use crate::desk::HandoffNotifier;
use crate::integration::{Emitter, IntegrationEvent};
use crate::live::frame::message_frame;
use crate::live::publish::{Audiences, Frames, publish_conversation, publish_timeline};
use crate::signals::processor::SignalInput;
use fandesk_bus::Bus;
use fandesk_domain::integration::WebhookEvent;
use fandesk_domain::{Audience, RuleViolation, Topic, Visibility};
use fandesk_store::{ConversationRow, MessageRow, Store, StoreResult, WriteOp, WriteOutcome};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The conversations' writer.
pub(crate) type ConversationWriter = Writer<ConversationBatch>;
/// A conversation op waiting for its commit.
pub(crate) type ConversationQueued = Queued<WriteOutcome>;

/// Where committed conversation entries go.
pub(crate) struct ConversationBatch {
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<Metrics>,
    /// The after-commit signal processor; never waited for (a full queue drops).
    pub signals: mpsc::Sender<SignalInput>,
    /// Webhooks' events; never waited for either.
    pub emitter: Emitter,
    /// Hand-offs go to the desk, to be queued and routed like any opening.
    pub handoffs: HandoffNotifier,
}

impl Batch for ConversationBatch {
    type Op = WriteOp;
    type Outcome = WriteOutcome;
    type Refusal = RuleViolation;
    const NAME: &'static str = "conversation";

    fn apply<'a>(
        store: &'a Store,
        ops: &'a [WriteOp],
    ) -> impl Future<Output = StoreResult<Vec<Result<WriteOutcome, RuleViolation>>>> + Send + 'a
    {
        store.apply_batch(ops)
    }

    fn publish(&self, outcome: &WriteOutcome) {
        let WriteOutcome::Created {
            message,
            conversation,
            changed,
            status_changed,
            turned_negative,
            handoff,
        } = outcome
        else {
            return;
        };
        self.metrics.messages_written.inc();
        let update = match (*changed, *status_changed) {
            (_, true) => Some(Audiences::TeamAndFan),
            (true, false) => Some(Audiences::Team),
            (false, false) => None,
        };
        publish(self.bus.as_ref(), message, conversation, update);
        self.emit(message, conversation, *changed);
        if let Some(entry) = handoff {
            // Team-only: its fan frame is `None`, and webhooks get it only as an internal
            // message.
            self.metrics.messages_written.inc();
            publish(self.bus.as_ref(), entry, conversation, None);
            self.emit(entry, conversation, false);
            self.handoffs.handed_off(&conversation.id, entry.created_at);
        }
        if SignalInput::wanted(message) {
            let input = SignalInput {
                message: message.clone(),
                conversation: conversation.clone(),
                turned_negative: *turned_negative,
            };
            if self.signals.try_send(input).is_err() {
                self.metrics.signals_dropped.inc();
            }
        }
    }
}

impl ConversationBatch {
    /// `message.created` (or `message.created.internal`) and, when the entry changed the
    /// conversation, `conversation.updated` — built only when some webhook wants them.
    fn emit(&self, message: &MessageRow, conversation: &ConversationRow, changed: bool) {
        let event = match message.visibility {
            Visibility::Public => WebhookEvent::MessageCreated,
            Visibility::Internal => WebhookEvent::MessageCreatedInternal,
        };
        if self.emitter.wants(event)
            && let Some(view) = MessageView::new(message, Audience::Team)
        {
            self.emitter
                .emit(IntegrationEvent::MessageCreated(view), message.created_at);
        }
        if changed && self.emitter.wants(WebhookEvent::ConversationUpdated) {
            emit_conversation(&self.emitter, conversation);
        }
    }
}

/// `conversation.updated` with the team's view of `conversation`.
pub(crate) fn emit_conversation(emitter: &Emitter, conversation: &ConversationRow) {
    if let ConversationView::Team(view) = ConversationView::new(conversation, Audience::Team) {
        emitter.emit(
            IntegrationEvent::ConversationUpdated(view),
            conversation.updated_at,
        );
    }
}

/// Fans out a committed timeline entry, and the conversation's new state to `update` when
/// the entry changed it: the team for any change (a claim, an assignment, an escalation),
/// fans only for a status change, the one thing of it their view shows.
fn publish(
    bus: &dyn Bus,
    message: &MessageRow,
    conversation: &ConversationRow,
    update: Option<Audiences>,
) {
    let topic = Topic::Conversation(conversation.id.clone()).to_string();
    let frames = Frames {
        team: message_frame(&topic, message, Audience::Team).unwrap_or_default(),
        fan: message_frame(&topic, message, Audience::Fan),
    };
    publish_timeline(bus, topic, message.seq, message.public_seq, frames);
    if let Some(audiences) = update {
        publish_conversation(bus, conversation, audiences);
    }
}
