//! The write-time summary structures of migration 0006 under random traffic: whatever the
//! events and however they are split into batches, `metric_reply_hours` equals the counts
//! of the team message rows, and the summary read through them (and through
//! `superseded_at`) equals `fandesk_analytics::summarize` over the rows, for every
//! grouping, over ragged periods and cut-offs.

use crate::metrics::{change, post};
use crate::support::{add_member, apply, at, open_conversation};
use fandesk_analytics::{
    GroupBy, Period, ShiftCalendar, day_segments, summarize, summary_from_totals,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::desk::Shift;
use fandesk_domain::{Role, Visibility};
use fandesk_store::{MetricGrouping, Store, WriteOp};
use std::collections::BTreeMap;

/// splitmix64: a reproducible sequence without a dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound.max(1)
    }
}

store_test!(
    random_traffic_keeps_counters_exact,
    random_traffic_keeps_counters_exact_sqlite,
    random_traffic_keeps_counters_exact_postgres
);
async fn random_traffic_keeps_counters_exact(store: &Store) {
    let mut random = Random(6);
    let members = [
        add_member(store, Role::Agent).await,
        add_member(store, Role::Agent).await,
        add_member(store, Role::Supervisor).await,
    ];
    let bot = add_member(store, Role::Bot).await;
    for _ in 0..8 {
        let (conversation, fan) = open_conversation(store).await;
        let mut seconds = random.below(20_000) as i64;
        // Up to three rounds of traffic, each ended by a resolution; reopened in between.
        for round in 0..1 + random.below(3) {
            if round > 0 {
                seconds += 60;
                let reopen = change(&conversation, &members[0], seconds, Transition::Reopen);
                apply(store, &[reopen]).await;
            }
            let mut ops: Vec<WriteOp> = Vec::new();
            for _ in 0..random.below(8) + 2 {
                // Minutes to a day and a half apart: some answers come after 24 h.
                seconds += match random.below(4) {
                    0 => 30 + random.below(600) as i64,
                    1 => 1_800 + random.below(7_200) as i64,
                    2 => 20_000 + random.below(10_000) as i64,
                    _ => 80_000 + random.below(50_000) as i64,
                };
                let member = &members[random.below(3) as usize];
                ops.push(match random.below(7) {
                    0..=2 => post(&conversation, &fan, seconds, Visibility::Public),
                    3 | 4 => post(&conversation, member, seconds, Visibility::Public),
                    5 => post(&conversation, member, seconds, Visibility::Internal),
                    _ => post(&conversation, &bot, seconds, Visibility::Public),
                });
            }
            // Random batch boundaries.
            let mut rest = &ops[..];
            while !rest.is_empty() {
                let take = 1 + random.below(rest.len() as u64) as usize;
                apply(store, &rest[..take]).await;
                rest = &rest[take..];
            }
            seconds += 60;
            let resolve = change(&conversation, &members[2], seconds, Transition::Resolve);
            apply(store, &[resolve]).await;
        }
    }
    let everything = store
        .list_metric_rows(at(-1_000_000), at(10_000_000))
        .await
        .unwrap();
    assert!(everything.team_messages.len() > 10, "enough team messages");
    let resolved_twice = {
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &everything.resolutions {
            *per.entry(row.conversation.as_str()).or_default() += 1;
        }
        per.values().filter(|count| **count > 1).count()
    };
    assert!(resolved_twice > 0, "some conversation resolved twice");

    // The counters equal the rows, hour by hour.
    let mut expected: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for message in &everything.team_messages {
        let micros = message.sent_at.as_microsecond();
        let counter = expected
            .entry((
                micros - micros.rem_euclid(3_600_000_000),
                message.author.0.clone(),
            ))
            .or_default();
        counter.0 += 1;
        counter.1 += i64::from(message.answered_at.is_some());
    }
    let stored: BTreeMap<(i64, String), (i64, i64)> = store
        .list_reply_hours(at(-1_000_000), at(10_000_000))
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

    // The summary equals the fold for random periods and cut-offs.
    let zone = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
    let shift = |name: &str, start: &str, end: &str| Shift {
        name: name.into(),
        weekdays: vec![
            jiff::civil::Weekday::Monday,
            jiff::civil::Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday,
            jiff::civil::Weekday::Thursday,
            jiff::civil::Weekday::Friday,
            jiff::civil::Weekday::Saturday,
            jiff::civil::Weekday::Sunday,
        ],
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        time_zone: zone.clone(),
    };
    let shifts = [
        shift("day", "09:30", "18:15"),
        shift("night", "21:00", "06:00"),
    ];
    for _ in 0..6 {
        let from = random.below(300_000) as i64 - 50_000;
        let to = from + 3_600 + random.below(600_000) as i64;
        let now = from + random.below(900_000) as i64;
        let period = Period {
            from: at(from),
            to: at(to),
        };
        let calendar = ShiftCalendar::new(&shifts, period);
        let shift_of = |instant| calendar.shift_at(instant);
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
        let rows = store
            .list_metric_rows(period.from, period.to)
            .await
            .unwrap();
        for (group_by, grouping) in cases {
            let expected = summarize(
                &rows.openings,
                &rows.team_messages,
                &rows.resolutions,
                period,
                at(now),
                &group_by,
            );
            let totals = store
                .aggregate_metrics(period.from, period.to, at(now), &grouping)
                .await
                .unwrap();
            let got = summary_from_totals(totals, matches!(grouping, MetricGrouping::Constant(_)));
            assert_eq!(got, expected, "{grouping:?} {period:?} now {now}");
        }
    }
}
