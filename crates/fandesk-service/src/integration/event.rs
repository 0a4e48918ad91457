//! What features announce to webhooks, and the JSON body a receiver gets
//! (docs/api.md › Webhooks):
//!
//! ```json
//! {"id":"evt_…","event":"message.created","created_at":"…","data":{"message":{…}}}
//! ```
//!
//! `id` names the event (the same for every webhook it goes to); each webhook's copy has
//! its own delivery id (`X-Fandesk-Delivery`). Internal content reaches only webhooks that
//! subscribe to `message.created.internal`: an internal message is that event, never
//! `message.created`, and an alert that quotes a team message (a `restricted_word` alert,
//! which may quote an internal note) loses its excerpt for the others.

use crate::conversation::view::{MessageView, TeamConversationView};
use crate::signals::alerts::AlertView;
use fandesk_domain::integration::WebhookEvent;
use jiff::Timestamp;
use serde::Serialize;

/// Something that happened, for the webhooks subscribed to it.
#[derive(Clone, Debug)]
pub enum IntegrationEvent {
    /// A committed message, as the team sees it: `message.created` when public,
    /// `message.created.internal` when internal.
    MessageCreated(MessageView),
    /// A conversation was opened, or its status, assignee or escalation changed.
    ConversationUpdated(TeamConversationView),
    /// An alert was raised. `quotes_internal`: its excerpt may come from internal content.
    AlertRaised {
        alert: AlertView,
        quotes_internal: bool,
    },
    /// A decision or action was logged: the decision log's item as `GET
    /// /api/v1/decisions` lists it.
    DecisionCreated(serde_json::Value),
}

/// The `data` of a body.
#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Message {
        message: &'a MessageView,
    },
    Conversation {
        conversation: &'a TeamConversationView,
    },
    Alert {
        alert: &'a AlertView,
    },
    Decision {
        decision: &'a serde_json::Value,
    },
}

#[derive(Serialize)]
struct Body<'a> {
    id: &'a str,
    event: &'a str,
    created_at: Timestamp,
    data: Data<'a>,
}

impl IntegrationEvent {
    /// The event it is, by subscription name.
    pub fn kind(&self) -> WebhookEvent {
        match self {
            IntegrationEvent::MessageCreated(message) if message.visibility == "public" => {
                WebhookEvent::MessageCreated
            }
            IntegrationEvent::MessageCreated(_) => WebhookEvent::MessageCreatedInternal,
            IntegrationEvent::ConversationUpdated(_) => WebhookEvent::ConversationUpdated,
            IntegrationEvent::AlertRaised { .. } => WebhookEvent::AlertRaised,
            IntegrationEvent::DecisionCreated(_) => WebhookEvent::DecisionCreated,
        }
    }

    /// Whether the full body quotes internal content, so webhooks without
    /// `message.created.internal` get [`Self::body`] with `internal = false`.
    pub(crate) fn has_internal_variant(&self) -> bool {
        matches!(
            self,
            IntegrationEvent::AlertRaised {
                quotes_internal: true,
                ..
            }
        )
    }

    /// The JSON body of event `id`, for a webhook that sees internal content or not.
    pub(crate) fn body(&self, id: &str, at: Timestamp, internal: bool) -> String {
        let redacted;
        let data = match self {
            IntegrationEvent::MessageCreated(message) => Data::Message { message },
            IntegrationEvent::ConversationUpdated(conversation) => {
                Data::Conversation { conversation }
            }
            IntegrationEvent::AlertRaised {
                alert,
                quotes_internal,
            } => {
                if *quotes_internal && !internal {
                    redacted = AlertView {
                        excerpt: None,
                        ..alert.clone()
                    };
                    Data::Alert { alert: &redacted }
                } else {
                    Data::Alert { alert }
                }
            }
            IntegrationEvent::DecisionCreated(decision) => Data::Decision { decision },
        };
        let body = Body {
            id,
            event: self.kind().as_str(),
            created_at: at,
            data,
        };
        // Views of strings, numbers and times: serializing cannot fail.
        serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned())
    }
}
