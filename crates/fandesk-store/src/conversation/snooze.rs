//! Snoozing inside the group commit (docs/product.md › Conversations): the fan's message
//! that ends a snooze, and the timer's wake-up checked against the snooze it was set for.

use super::rows::ConversationRow;
use fandesk_domain::RuleViolation;
use fandesk_domain::conversation::Transition;
use fandesk_domain::snooze::{self, WakeCause};
use jiff::Timestamp;

/// A fan message into a snoozed conversation wakes it; whether it did.
pub(crate) fn wake_on_fan_message(conversation: &mut ConversationRow, at: Timestamp) -> bool {
    let woken = snooze::wake(
        conversation.status,
        conversation.snoozed_until,
        WakeCause::FanWrote,
        at,
    );
    if let Some(status) = woken {
        conversation.status = status;
        conversation.snoozed_until = None;
    }
    woken.is_some()
}

/// A timer's wake-up applies only to the snooze it was set for, once due: a snooze
/// replaced by a later one, or already ended by the fan, is left alone.
pub(crate) fn check_wake(
    transition: &Transition,
    conversation: &ConversationRow,
    at: Timestamp,
) -> Result<(), RuleViolation> {
    let Transition::Wake { until } = transition else {
        return Ok(());
    };
    let cause = WakeCause::TimeUp {
        snoozed_until: *until,
    };
    match snooze::wake(conversation.status, conversation.snoozed_until, cause, at) {
        Some(_) => Ok(()),
        None => Err(RuleViolation::InvalidTransition(
            "the conversation is not snoozed until then",
        )),
    }
}
