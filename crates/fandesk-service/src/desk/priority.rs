//! The priority score of a conversation (docs/product.md › Routing, priority and shifts):
//! fan value, detected intent and sentiment decided by the domain (`desk::score`), stored
//! without its waiting term with the inputs that made it ("why is this first?"); the
//! queue adds the waiting points as it reads.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::live::publish::publish_inbox_conversation;
use fandesk_domain::desk::{PriorityFacts, PriorityInput, score};
use fandesk_store::{DeskConversationRow, FanProfileRow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Fan messages of one opening the intent detector reads at most (newest).
const SCORED_MESSAGES: u32 = 100;

/// One input of a priority score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriorityInputView {
    /// `intent`, `vip`, `spend`, `sentiment` or `waiting`.
    pub name: String,
    pub points: i64,
    /// A sentence for the team, e.g. `urgent intent: mentions "refund"`.
    pub reason: String,
}

impl From<&PriorityInput> for PriorityInputView {
    fn from(input: &PriorityInput) -> Self {
        PriorityInputView {
            name: input.name.to_owned(),
            points: input.points,
            reason: input.reason.clone(),
        }
    }
}

/// A conversation after [`App::rescore`].
pub(crate) struct Rescored {
    pub desk: DeskConversationRow,
    pub profile: Option<FanProfileRow>,
    pub first_message_at: Option<Timestamp>,
}

impl App {
    /// Re-scores a conversation from its fan's profile and the fan's messages of this
    /// opening, stores the score without its waiting term and the inputs, and pushes the
    /// change to the team's `inbox`. Returns the updated row, the profile, and when the
    /// opening's first fan message (among the newest 100) arrived.
    pub(crate) async fn rescore(&self, mut desk: DeskConversationRow) -> ServiceResult<Rescored> {
        let conversation = &desk.conversation;
        let profile = self.store().find_fan_profile(&conversation.fan_id).await?;
        // After a bot hand-off the fan's messages to the bot still wait for a human: they
        // count for the new opening's score (a "refund" told to the bot is still urgent).
        let since = match conversation.awaiting_since {
            Some(waiting) if conversation.bot.handed_off => waiting.min(desk.opening()),
            _ => desk.opening(),
        };
        let messages = self
            .store()
            .list_fan_messages(&conversation.id, since, SCORED_MESSAGES)
            .await?;
        let bodies: Vec<String> = messages
            .iter()
            .map(|message| message.body.clone())
            .collect();
        // The mean of this opening's scored fan messages (the `sentiment` of each row).
        let scored: Vec<f64> = messages
            .iter()
            .filter_map(|message| message.sentiment)
            .collect();
        let sentiment =
            (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64);
        let (tags, spend) = match &profile {
            Some(profile) => (profile.tags.clone(), profile.lifetime_spend_cents),
            None => (Vec::new(), 0),
        };
        let facts = PriorityFacts {
            lifetime_spend_cents: spend,
            tags: &tags,
            fan_messages: &bodies,
            sentiment,
            waited_seconds: 0,
        };
        let priority = score(&facts);
        let inputs: Vec<PriorityInputView> = priority
            .inputs
            .iter()
            .map(PriorityInputView::from)
            .collect();
        let json = serde_json::to_string(&inputs)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        let base = priority.base_points();
        if base != desk.conversation.priority || json != desk.priority_inputs {
            self.store()
                .set_priority(&desk.conversation.id, base, &json)
                .await?;
            desk.conversation.priority = base;
            desk.priority_inputs = json;
            publish_inbox_conversation(self.bus().as_ref(), &desk.conversation);
        }
        let first_message_at = messages.first().map(|message| message.created_at);
        Ok(Rescored {
            desk,
            profile,
            first_message_at,
        })
    }
}
