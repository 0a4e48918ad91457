//! The bot rules inside the group commit (docs/product.md › Bots): decided against the
//! state as of the preceding op, in one batch as across batches; the hand-off entry and
//! the hand-off opening commit with the bot's last allowed reply, and FRT runs from it.

use crate::metrics::{change, post};
use crate::support::{add_member, apply, created, member_id, open_conversation};
use fandesk_analytics::OpeningKind;
use fandesk_domain::bot_rule::BotRuleBroken;
use fandesk_domain::conversation::Transition;
use fandesk_domain::{
    AuthorKind, BotLimits, ConversationId, Principal, Role, RuleViolation, TimelineEvent,
    Visibility,
};
use fandesk_store::{MessageRow, PostExtras, Store, WriteOp, WriteOutcome};

/// A public post at `seconds` under a limit of `max_exchanges`.
fn limited(
    conversation: &ConversationId,
    author: &Principal,
    seconds: i64,
    max_exchanges: u32,
) -> WriteOp {
    let mut op = post(conversation, author, seconds, Visibility::Public);
    if let WriteOp::Post { extras, .. } = &mut op {
        *extras = PostExtras {
            bot_limits: BotLimits { max_exchanges },
            ..PostExtras::default()
        };
    }
    op
}

fn refusal(result: &crate::support::OpResult) -> Option<BotRuleBroken> {
    match result {
        Err(RuleViolation::BotRule(broken)) => Some(*broken),
        _ => None,
    }
}

fn handoff(result: &crate::support::OpResult) -> Option<&MessageRow> {
    match result {
        Ok(WriteOutcome::Created { handoff, .. }) => handoff.as_ref(),
        _ => None,
    }
}

store_test!(
    two_racing_bot_sends_in_one_batch,
    two_racing_bot_sends_in_one_batch_sqlite,
    two_racing_bot_sends_in_one_batch_postgres
);
async fn two_racing_bot_sends_in_one_batch(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let bot = add_member(store, Role::Bot).await;
    let other_bot = add_member(store, Role::Bot).await;
    apply(store, &[post(&conversation, &fan, 1, Visibility::Public)]).await;
    let results = apply(
        store,
        &[
            post(&conversation, &bot, 2, Visibility::Public),
            post(&conversation, &other_bot, 2, Visibility::Public),
        ],
    )
    .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(refusal(&results[1]), Some(BotRuleBroken::InARow));
    // The next batch sees the committed state: still refused, then fine after the fan.
    let results = apply(
        store,
        &[
            post(&conversation, &other_bot, 3, Visibility::Public),
            post(&conversation, &bot, 3, Visibility::Internal),
            post(&conversation, &fan, 4, Visibility::Public),
            post(&conversation, &other_bot, 5, Visibility::Public),
        ],
    )
    .await;
    assert_eq!(refusal(&results[0]), Some(BotRuleBroken::InARow));
    assert!(results[1..].iter().all(Result::is_ok), "{results:?}");
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.bot.exchanges, 2);
    assert!(row.bot.automated_last && !row.bot.handed_off);
}

store_test!(
    exchanges_hand_off_once_per_opening,
    exchanges_hand_off_once_per_opening_sqlite,
    exchanges_hand_off_once_per_opening_postgres
);
async fn exchanges_hand_off_once_per_opening(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let bot = add_member(store, Role::Bot).await;
    let agent = add_member(store, Role::Agent).await;
    // One op per batch: the state lives in the conversation row between batches.
    let mut results = Vec::new();
    for op in [
        limited(&conversation, &fan, 10, 2),
        limited(&conversation, &bot, 11, 2),
        limited(&conversation, &fan, 20, 2),
        limited(&conversation, &bot, 21, 2),
        limited(&conversation, &fan, 30, 2),
        limited(&conversation, &bot, 31, 2),
    ] {
        results.extend(apply(store, std::slice::from_ref(&op)).await);
    }
    assert!(handoff(&results[1]).is_none());
    let entry = handoff(&results[3]).expect("the second exchange hands off");
    let (reply, after) = created(&results[3]);
    assert_eq!(entry.seq, reply.seq + 1);
    assert_eq!(entry.public_seq, None);
    assert_eq!(entry.visibility, Visibility::Internal);
    assert_eq!(entry.author_kind, AuthorKind::System);
    assert_eq!(entry.event, Some(TimelineEvent::BotHandoff));
    assert!(!entry.automated);
    assert_eq!(after.last_seq, entry.seq);
    assert_eq!(refusal(&results[5]), Some(BotRuleBroken::HandedOff));
    // Stored in the timeline, read back with its event.
    let timeline = store
        .list_messages(&conversation, fandesk_domain::Audience::Team, 0, 100)
        .await
        .unwrap();
    let stored: Vec<_> = timeline.iter().map(|m| (m.seq, m.event)).collect();
    assert_eq!(
        stored,
        vec![
            (1, None),
            (2, None),
            (3, None),
            (4, None),
            (5, Some(TimelineEvent::BotHandoff)),
            (6, None)
        ]
    );
    // A human still talks; a new opening starts the rules over.
    let results = apply(
        store,
        &[
            limited(&conversation, &agent, 40, 2),
            change(&conversation, &agent, 50, Transition::Resolve),
        ],
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let results = apply(
        store,
        &[change(&conversation, &agent, 60, Transition::Reopen)],
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let row = store
        .find_conversation(&conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.bot, fandesk_domain::BotTurns::default());
}

store_test!(
    frt_runs_from_the_handoff,
    frt_runs_from_the_handoff_sqlite,
    frt_runs_from_the_handoff_postgres
);
async fn frt_runs_from_the_handoff(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let bot = add_member(store, Role::Bot).await;
    let agent = add_member(store, Role::Agent).await;
    let results = apply(
        store,
        &[
            limited(&conversation, &fan, 100, 1),
            limited(&conversation, &bot, 105, 1),
        ],
    )
    .await;
    let entry = handoff(&results[1]).expect("one exchange hands off");
    assert_eq!(entry.created_at, crate::support::at(105));
    // The fan writes again, then the agent answers 40 s after the hand-off: FRT 40 s,
    // not 45 s from the fan's first message nor 20 s from their latest.
    apply(
        store,
        &[
            limited(&conversation, &fan, 125, 1),
            limited(&conversation, &agent, 145, 1),
        ],
    )
    .await;
    let rows = store
        .list_conversation_metric_rows(conversation.as_str())
        .await
        .unwrap();
    let openings: Vec<_> = rows
        .openings
        .iter()
        .map(|o| (o.kind, o.clock_at, o.frt_ms, o.first_touch_ms()))
        .collect();
    assert_eq!(
        openings,
        vec![
            // The bot's reply was the first touch of the creation opening, which no human
            // answered before the hand-off retired it.
            (
                OpeningKind::Created,
                Some(crate::support::at(100)),
                None,
                Some(5_000)
            ),
            (
                OpeningKind::Handoff,
                Some(crate::support::at(105)),
                Some(40_000),
                Some(40_000)
            ),
        ]
    );
    assert_eq!(rows.openings[1].replier, Some(member_id(&agent)));
}
