//! Metric rows maintained by the group commit (docs/metrics.md › How the numbers are kept):
//! after any sequence of batches, the stored rows equal `fandesk_analytics::replay` of the
//! same events, and a period's rows come back from `list_metric_rows` without touching
//! messages.

use crate::support::{add_member, apply, at, created, member_id, open_conversation};
use fandesk_analytics::{Actor, Event, EventKind, OpeningKind, Policy, Records, replay};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{ConversationId, MessageId, Principal, Role, Visibility};
use fandesk_store::{MetricRows, Store, WriteOp};
use jiff::Timestamp;

pub(crate) fn post(
    conversation: &ConversationId,
    author: &Principal,
    seconds: i64,
    visibility: Visibility,
) -> WriteOp {
    WriteOp::Post {
        message_id: MessageId(crate::support::new_id()),
        conversation_id: conversation.clone(),
        author: author.clone(),
        client_msg_id: Some(crate::support::new_id()),
        body: "text".to_owned(),
        visibility,
        at: at(seconds),
        extras: Default::default(),
    }
}

pub(crate) fn change(
    conversation: &ConversationId,
    actor: &Principal,
    seconds: i64,
    transition: Transition,
) -> WriteOp {
    WriteOp::Transition {
        message_id: MessageId(crate::support::new_id()),
        conversation_id: conversation.clone(),
        actor: actor.clone(),
        transition,
        at: at(seconds),
    }
}

fn actor(principal: &Principal) -> Actor {
    match principal {
        Principal::Fan { .. } => Actor::Fan,
        Principal::Member {
            id,
            role: Role::Bot,
            ..
        } => Actor::Bot(id.clone()),
        Principal::Member { id, .. } => Actor::Member(id.clone()),
    }
}

/// The events of committed ops, as the oracle sees them, starting with the creation.
async fn committed_events(
    store: &Store,
    conversation: &ConversationId,
    ops: &[WriteOp],
    results: &[crate::support::OpResult],
) -> Vec<Event> {
    let row = store
        .find_conversation(conversation)
        .await
        .unwrap()
        .unwrap();
    let mut events = vec![Event {
        id: conversation.0.clone(),
        conversation: conversation.clone(),
        at: row.created_at,
        actor: Actor::Fan,
        kind: EventKind::Created,
    }];
    for (op, result) in ops.iter().zip(results) {
        let (message, after) = created(result);
        let kind = match op {
            WriteOp::Post {
                author, visibility, ..
            } => match (author, visibility) {
                (_, Visibility::Internal) => EventKind::Internal,
                (Principal::Fan { .. }, _) => EventKind::FanMessage,
                (
                    Principal::Member {
                        role: Role::Bot, ..
                    },
                    _,
                ) => EventKind::AutomatedReply,
                _ => EventKind::HumanReply,
            },
            WriteOp::Transition {
                transition: Transition::Resolve,
                ..
            } => EventKind::Resolved {
                assignee: after.assignee_id.clone(),
            },
            WriteOp::Transition {
                transition: Transition::Reopen,
                ..
            } => EventKind::Reopened,
            WriteOp::Transition {
                transition: Transition::Escalate { .. },
                ..
            } => EventKind::Escalated,
            WriteOp::Transition { .. } => EventKind::Internal,
        };
        let who = match op {
            WriteOp::Post { author, .. } => actor(author),
            WriteOp::Transition { actor: who, .. } => actor(who),
        };
        events.push(Event {
            id: message.id.0.clone(),
            conversation: conversation.clone(),
            at: message.created_at,
            actor: who,
            kind,
        });
    }
    events
}

fn as_records(rows: MetricRows) -> Records {
    Records {
        openings: rows.openings,
        team_messages: rows.team_messages,
        resolutions: rows.resolutions,
    }
}

store_test!(
    rows_equal_the_replay,
    rows_equal_the_replay_sqlite,
    rows_equal_the_replay_postgres
);
async fn rows_equal_the_replay(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let other = add_member(store, Role::Agent).await;
    let supervisor = add_member(store, Role::Supervisor).await;
    let lead = add_member(store, Role::EscalationLead).await;
    let bot = add_member(store, Role::Bot).await;
    let lead_id = member_id(&lead);
    let ops = vec![
        post(&conversation, &fan, 10, Visibility::Public),
        post(&conversation, &bot, 11, Visibility::Public),
        post(&conversation, &fan, 20, Visibility::Public),
        post(&conversation, &supervisor, 25, Visibility::Internal),
        // The agent claims it with the first human reply: FRT 90 s, a breach of 60 s.
        post(&conversation, &agent, 100, Visibility::Public),
        post(&conversation, &fan, 3_600, Visibility::Public),
        post(&conversation, &supervisor, 3_630, Visibility::Public),
        change(&conversation, &agent, 3_700, Transition::Resolve),
        change(&conversation, &other, 7_200, Transition::Reopen),
        post(&conversation, &fan, 7_300, Visibility::Public),
        change(
            &conversation,
            &agent,
            7_310,
            Transition::Escalate {
                lead: lead_id,
                name: "Lead".into(),
                reason: "refund".into(),
            },
        ),
        post(&conversation, &lead, 7_330, Visibility::Public),
        // Answered 24 h + 1 s later: not within the reply window.
        post(&conversation, &fan, 7_331 + 86_400, Visibility::Public),
        change(&conversation, &lead, 7_400 + 86_400, Transition::Resolve),
    ];
    // One op per batch up to the resolution, the rest in one batch. (A resolve and a
    // reopen of one conversation in one batch is refused by the reopen rule, which checks
    // the fan's other conversations as loaded before the batch.)
    let mut results = Vec::new();
    for op in &ops[..8] {
        results.extend(apply(store, std::slice::from_ref(op)).await);
    }
    results.extend(apply(store, &ops[8..]).await);
    let events = committed_events(store, &conversation, &ops, &results).await;
    let expected = replay(&events, &Policy::default());
    let stored = as_records(
        store
            .list_conversation_metric_rows(conversation.as_str())
            .await
            .unwrap(),
    );
    assert_eq!(stored, expected);

    // The hand-computed numbers, too.
    let openings: Vec<(OpeningKind, Option<i64>, Option<i64>, bool)> = stored
        .openings
        .iter()
        .map(|o| (o.kind, o.frt_ms, o.first_touch_ms(), o.breached))
        .collect();
    assert_eq!(
        openings,
        vec![
            (OpeningKind::Created, Some(90_000), Some(1_000), true),
            (OpeningKind::Reopened, Some(30_000), Some(30_000), false)
        ]
    );
    assert_eq!(stored.openings[0].replier, Some(member_id(&agent)));
    let answered: Vec<bool> = stored
        .team_messages
        .iter()
        .map(|m| m.answered_at.is_some())
        .collect();
    assert_eq!(answered, vec![true, true, false]);
    let resolutions: Vec<(bool, u64)> = stored
        .resolutions
        .iter()
        .map(|r| (r.escalated, r.public_messages))
        .collect();
    assert_eq!(resolutions, vec![(false, 6), (true, 9)]);
    assert_eq!(stored.resolutions[1].assignee, Some(member_id(&lead)));
}

store_test!(
    period_rows_and_sla_target,
    period_rows_and_sla_target_sqlite,
    period_rows_and_sla_target_postgres
);
async fn period_rows_and_sla_target(store: &Store) {
    store.set_sla_target_ms(10_000).await.unwrap();
    let agent = add_member(store, Role::Agent).await;
    let mut conversations = Vec::new();
    for offset in [0, 1_000, 2_000] {
        let (conversation, fan) = open_conversation(store).await;
        apply(
            store,
            &[post(&conversation, &fan, offset, Visibility::Public)],
        )
        .await;
        apply(
            store,
            &[post(&conversation, &agent, offset + 20, Visibility::Public)],
        )
        .await;
        conversations.push(conversation);
    }
    let rows = store.list_metric_rows(at(500), at(2_000)).await.unwrap();
    let frts: Vec<(Option<i64>, bool)> = rows
        .openings
        .iter()
        .map(|o| (o.frt_ms, o.breached))
        .collect();
    assert_eq!(
        frts,
        vec![(Some(20_000), true)],
        "only [from, to), judged against 10 s"
    );
    assert_eq!(rows.openings[0].conversation, conversations[1]);
    assert_eq!(rows.team_messages.len(), 1);
    assert!(rows.resolutions.is_empty());
    let everything = store
        .list_metric_rows(Timestamp::MIN, Timestamp::MAX)
        .await
        .unwrap();
    assert_eq!(everything.openings.len(), 3);
}

store_test!(
    a_refused_op_changes_no_metric,
    a_refused_op_changes_no_metric_sqlite,
    a_refused_op_changes_no_metric_postgres
);
async fn a_refused_op_changes_no_metric(store: &Store) {
    let (conversation, fan) = open_conversation(store).await;
    let agent = add_member(store, Role::Agent).await;
    let other = add_member(store, Role::Agent).await;
    apply(
        store,
        &[
            post(&conversation, &fan, 0, Visibility::Public),
            post(&conversation, &agent, 5, Visibility::Public),
        ],
    )
    .await;
    // Assigned to `agent` now: `other` may not answer, and nothing is recorded for it.
    let results = apply(store, &[post(&conversation, &other, 6, Visibility::Public)]).await;
    assert!(results[0].is_err());
    let rows = store
        .list_conversation_metric_rows(conversation.as_str())
        .await
        .unwrap();
    assert_eq!(rows.team_messages.len(), 1);
    assert_eq!(rows.openings[0].replier, Some(member_id(&agent)));
}

store_test!(
    aggregates_equal_the_fold,
    aggregates_equal_the_fold_sqlite,
    aggregates_equal_the_fold_postgres
);
async fn aggregates_equal_the_fold(store: &Store) {
    use fandesk_analytics::Period;
    let agents = [
        add_member(store, Role::Agent).await,
        add_member(store, Role::Agent).await,
    ];
    let supervisor = add_member(store, Role::Supervisor).await;
    let bot = add_member(store, Role::Bot).await;
    // Twelve conversations spread over three days, with every kind of event.
    for n in 0..12_i64 {
        let (conversation, fan) = open_conversation(store).await;
        let base = n * 19_000;
        let agent = &agents[n as usize % 2];
        let mut ops = vec![post(&conversation, &fan, base, Visibility::Public)];
        if n % 3 == 0 {
            ops.push(post(&conversation, &bot, base + 2, Visibility::Public));
        }
        if n % 4 != 3 {
            let replier = if n % 5 == 0 { &supervisor } else { agent };
            ops.push(post(
                &conversation,
                replier,
                base + 10 + n * 7,
                Visibility::Public,
            ));
            ops.push(post(
                &conversation,
                &fan,
                base + 86_000 + n * 50,
                Visibility::Public,
            ));
        }
        for op in &ops {
            apply(store, std::slice::from_ref(op)).await;
        }
        if n % 2 == 0 {
            apply(
                store,
                &[change(
                    &conversation,
                    &supervisor,
                    base + 90_000,
                    Transition::Resolve,
                )],
            )
            .await;
        }
    }
    // One conversation resolved three times: some periods hold all its resolutions, some
    // one, some cut between them.
    let (conversation, fan) = open_conversation(store).await;
    for (index, seconds) in [1_000_i64, 60_000, 130_000].into_iter().enumerate() {
        let mut ops = Vec::new();
        if index > 0 {
            ops.push(change(
                &conversation,
                &agents[0],
                seconds - 500,
                Transition::Reopen,
            ));
        }
        ops.push(post(&conversation, &fan, seconds - 400, Visibility::Public));
        ops.push(post(
            &conversation,
            &agents[0],
            seconds - 300,
            Visibility::Public,
        ));
        ops.push(change(
            &conversation,
            &supervisor,
            seconds,
            Transition::Resolve,
        ));
        for op in &ops {
            apply(store, std::slice::from_ref(op)).await;
        }
    }
    // Ragged and hour-aligned periods; cut-offs before, inside and after the data, so the
    // hourly reply counters and the rows each cover part of the period.
    let aligned = Timestamp::from_second(1_699_999_200 + 3_600).unwrap();
    let combos = [
        (at(-3_600), at(250_000), at(150_000)),
        (at(-3_600), at(250_000), at(900_000)),
        (aligned, at(200_000), at(900_000)),
        (at(40_000), at(120_000), at(100_000)),
        (at(50_000), at(200_000), at(900_000)),
        (at(-3_600), at(250_000), at(-3_600)),
    ];
    for (from, to, now) in combos {
        check_aggregates(store, Period { from, to }, now).await;
    }
}

async fn check_aggregates(store: &Store, period: fandesk_analytics::Period, now: Timestamp) {
    use fandesk_analytics::{GroupBy, ShiftCalendar, day_segments, summarize, summary_from_totals};
    use fandesk_domain::desk::Shift;
    use fandesk_store::MetricGrouping;
    let rows = store
        .list_metric_rows(period.from, period.to)
        .await
        .unwrap();
    let zone = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
    let shift = Shift {
        name: "day".into(),
        weekdays: vec![
            jiff::civil::Weekday::Monday,
            jiff::civil::Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday,
        ],
        start: "09:30".parse().unwrap(),
        end: "18:00".parse().unwrap(),
        time_zone: zone.clone(),
    };
    let calendar = ShiftCalendar::new(&[shift], period);
    let shift_of = |at: Timestamp| calendar.shift_at(at);
    let cases: Vec<(GroupBy<'_>, MetricGrouping)> = vec![
        (GroupBy::None, MetricGrouping::Constant("all".into())),
        (GroupBy::Agent, MetricGrouping::Member),
        (
            GroupBy::Shift(&shift_of),
            MetricGrouping::Segments(calendar.segments(period)),
        ),
        (
            GroupBy::Day(&zone),
            MetricGrouping::Segments(day_segments(&zone, period)),
        ),
    ];
    for (group_by, grouping) in cases {
        let expected = summarize(
            &rows.openings,
            &rows.team_messages,
            &rows.resolutions,
            period,
            now,
            &group_by,
        );
        let totals = store
            .aggregate_metrics(period.from, period.to, now, &grouping)
            .await
            .unwrap();
        let got = summary_from_totals(totals, matches!(grouping, MetricGrouping::Constant(_)));
        assert_eq!(got, expected, "{grouping:?} {period:?} now {now}");
        assert!(!expected.groups.is_empty());
    }
}

store_test!(
    reply_hours_equal_the_rows,
    reply_hours_equal_the_rows_sqlite,
    reply_hours_equal_the_rows_postgres
);
/// `metric_reply_hours` holds, per UTC hour and author, exactly the count of the team
/// message rows and of their answered ones, whatever the batches looked like.
async fn reply_hours_equal_the_rows(store: &Store) {
    use std::collections::BTreeMap;
    let agents = [
        add_member(store, Role::Agent).await,
        add_member(store, Role::Agent).await,
    ];
    for n in 0..6_i64 {
        let (conversation, fan) = open_conversation(store).await;
        let agent = &agents[n as usize % 2];
        let base = n * 2_000;
        let ops = [
            post(&conversation, &fan, base, Visibility::Public),
            post(&conversation, agent, base + 30, Visibility::Public),
            post(&conversation, agent, base + 40, Visibility::Public),
            post(&conversation, agent, base + 50, Visibility::Internal),
            post(&conversation, &fan, base + 600, Visibility::Public),
            post(&conversation, agent, base + 4_000, Visibility::Public),
            // After 24 h: too late to answer the last reply.
            post(
                &conversation,
                &fan,
                base + 4_001 + 86_400,
                Visibility::Public,
            ),
        ];
        // Every op alone, everything in one batch, or the answer with its reply.
        match n % 3 {
            0 => {
                for op in &ops {
                    apply(store, std::slice::from_ref(op)).await;
                }
            }
            1 => {
                apply(store, &ops).await;
            }
            _ => {
                apply(store, &ops[..1]).await;
                apply(store, &ops[1..5]).await;
                apply(store, &ops[5..]).await;
            }
        }
    }
    let (from, to) = (at(-86_400), at(200_000));
    let rows = store.list_metric_rows(from, to).await.unwrap();
    let mut expected: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for message in &rows.team_messages {
        let micros = message.sent_at.as_microsecond();
        let hour = micros - micros.rem_euclid(3_600_000_000);
        let counter = expected
            .entry((hour, message.author.0.clone()))
            .or_default();
        counter.0 += 1;
        counter.1 += i64::from(message.answered_at.is_some());
    }
    assert_eq!(rows.team_messages.len(), 18);
    assert_eq!(
        rows.team_messages
            .iter()
            .filter(|m| m.answered_at.is_some())
            .count(),
        12
    );
    let stored: BTreeMap<(i64, String), (i64, i64)> = store
        .list_reply_hours(from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                (row.hour.as_microsecond(), row.author),
                (row.sent, row.answered),
            )
        })
        .collect();
    assert_eq!(stored, expected);
}
