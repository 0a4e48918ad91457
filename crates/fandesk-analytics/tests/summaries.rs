//! Hand-computed summaries: resolution rate, reply rate, conversation
//! length, mean / p50 / p90, and attribution to shifts across midnight and DST and to
//! local days (docs/metrics.md). Times are seconds after Monday 16
//! November 2026, 09:00 UTC.

mod support;

use fandesk_analytics::{GroupBy, GroupSummary, Period, Policy, Records, Stats, replay, summarize};
use fandesk_domain::desk::{Shift, is_on_shift, local_instant};
use jiff::Timestamp;
use jiff::civil::{DateTime, Weekday};
use jiff::tz::TimeZone;
use support::{Log, t};

fn summary_of(log: &Log, group_by: &GroupBy<'_>, now: Timestamp) -> Vec<GroupSummary> {
    let Records {
        openings,
        team_messages,
        resolutions,
    } = replay(&log.events, &Policy::default());
    let week = Period {
        from: t(0),
        to: t(7 * 86_400),
    };
    summarize(&openings, &team_messages, &resolutions, week, now, group_by).groups
}

fn stats(mean: f64, p50: f64, p90: f64, count: u64) -> Stats {
    Stats {
        mean: Some(mean),
        p50: Some(p50),
        p90: Some(p90),
        count,
    }
}

#[test]
fn resolution_rate_counts_each_conversation_once_and_escalations_against() {
    let mut log = Log::default();
    // Clean resolution (ann), an escalated one (lee), and one resolved twice (ann, then bob).
    log.created("a", 0)
        .fan("a", 0)
        .reply("a", 10, "ann")
        .resolve("a", 100, "ann", Some("ann"));
    log.created("b", 0)
        .fan("b", 0)
        .escalate("b", 5, "ann")
        .reply("b", 20, "lee")
        .resolve("b", 200, "lee", Some("lee"));
    log.created("c", 0)
        .fan("c", 0)
        .reply("c", 10, "ann")
        .resolve("c", 300, "ann", Some("ann"));
    log.reopen("c", 400, "bob")
        .fan("c", 410)
        .reply("c", 420, "bob")
        .resolve("c", 500, "bob", Some("bob"));
    // Resolved by a supervisor while unassigned: credited to the resolver.
    log.created("d", 0)
        .fan("d", 0)
        .resolve("d", 50, "sue", None);
    let all = summary_of(&log, &GroupBy::None, t(30 * 86_400));
    assert_eq!(all[0].resolved, 4);
    assert_eq!(all[0].resolution_rate, Some(3.0 / 4.0));
    let by_agent = summary_of(&log, &GroupBy::Agent, t(30 * 86_400));
    let rates: Vec<(Option<&str>, Option<f64>, u64)> = by_agent
        .iter()
        .map(|group| (group.key.as_deref(), group.resolution_rate, group.resolved))
        .collect();
    assert_eq!(
        rates,
        vec![
            (Some("ann"), Some(1.0), 1),
            (Some("bob"), Some(1.0), 1),
            (Some("lee"), Some(0.0), 1),
            (Some("sue"), Some(1.0), 1),
            (None, None, 0),
        ]
    );
    // "d" was never answered: its opening is in the unattributed group.
    assert_eq!(by_agent[4].volume, 1);
    assert_eq!(by_agent[4].unanswered, 1);
}

#[test]
fn reply_rate_and_conversation_length() {
    let mut log = Log::default();
    log.created("c", 0).fan("c", 0);
    log.reply("c", 10, "ann"); // answered at exactly 24 h: counts
    log.internal("c", 20, "sue"); // not a public message
    log.fan("c", 10 + 86_400);
    log.reply("c", 90_000, "ann"); // answered 24 h + 1 s later: does not count
    log.fan("c", 90_000 + 86_401);
    log.reply("c", 200_000, "bob").bot("c", 200_001); // two messages, one answer
    log.reply("c", 200_002, "bob");
    log.fan("c", 200_100);
    log.resolve("c", 200_200, "bob", Some("bob"));
    log.created("d", 0).reply("d", 600_000, "ann"); // unanswered, window still open at `now`
    let now = t(600_000 + 3_600);
    let all = summary_of(&log, &GroupBy::None, now);
    assert_eq!(
        (all[0].team_messages, all[0].reply_rate, all[0].pending),
        (4, Some(3.0 / 4.0), 1)
    );
    // Public: 4 fan + 4 human + 1 bot = 9 when resolved.
    assert_eq!(all[0].mean_conversation_length, Some(9.0));
    // Once d's window is over, its message counts as unanswered.
    let later = summary_of(&log, &GroupBy::None, t(600_000 + 86_401));
    assert_eq!(
        (
            later[0].team_messages,
            later[0].reply_rate,
            later[0].pending
        ),
        (5, Some(3.0 / 5.0), 0)
    );
    let by_agent = summary_of(&log, &GroupBy::Agent, later_now());
    let rates: Vec<(Option<&str>, Option<f64>)> = by_agent
        .iter()
        .map(|group| (group.key.as_deref(), group.reply_rate))
        .collect();
    assert_eq!(
        rates,
        vec![(Some("ann"), Some(1.0 / 3.0)), (Some("bob"), Some(1.0))]
    );
}

/// Only team messages whose 24 h answer window has closed count in the reply rate,
/// answered or not; the others are pending. Counting a young message when it is answered
/// and leaving it out while it is not would bias any period including the last 24 hours
/// upwards.
#[test]
fn reply_rate_counts_only_closed_windows() {
    const DAY: i64 = 86_400;
    struct Case {
        name: &'static str,
        /// Seconds after the team message (at 1 000 s) that the fan answered, if ever.
        answer_after: Option<i64>,
        /// Seconds after the team message at which the summary is asked.
        asked_after: i64,
        /// (team_messages, pending, reply_rate)
        expected: (u64, u64, Option<f64>),
    }
    let cases = [
        Case {
            name: "young unanswered message: pending, not counted",
            answer_after: None,
            asked_after: 3_600,
            expected: (0, 1, None),
        },
        Case {
            name: "young answered message: pending too, not counted",
            answer_after: Some(60),
            asked_after: 3_600,
            expected: (0, 1, None),
        },
        Case {
            name: "old unanswered message: counted as not replied",
            answer_after: None,
            asked_after: DAY + 1,
            expected: (1, 0, Some(0.0)),
        },
        Case {
            name: "old answered message: counted as replied",
            answer_after: Some(60),
            asked_after: DAY + 1,
            expected: (1, 0, Some(1.0)),
        },
        Case {
            name: "answered at exactly 24 h, asked then: the window is still open",
            answer_after: Some(DAY),
            asked_after: DAY,
            expected: (0, 1, None),
        },
        Case {
            name: "answered at exactly 24 h, asked a second later: replied",
            answer_after: Some(DAY),
            asked_after: DAY + 1,
            expected: (1, 0, Some(1.0)),
        },
        Case {
            name: "answered after 24 h: not replied",
            answer_after: Some(DAY + 1),
            asked_after: DAY + 2,
            expected: (1, 0, Some(0.0)),
        },
    ];
    for case in cases {
        let mut log = Log::default();
        log.created("c", 0).fan("c", 0).reply("c", 1_000, "ann");
        if let Some(after) = case.answer_after {
            log.fan("c", 1_000 + after);
        }
        let now = t(1_000 + case.asked_after);
        for group_by in [GroupBy::None, GroupBy::Agent] {
            let groups = summary_of(&log, &group_by, now);
            let group = groups
                .iter()
                .find(|group| group.key.as_deref().is_some_and(|key| key != "bot"))
                .unwrap_or_else(|| panic!("{}: no group in {groups:?}", case.name));
            assert_eq!(
                (group.team_messages, group.pending, group.reply_rate),
                case.expected,
                "{}",
                case.name
            );
        }
    }
    // Young and old messages side by side: the young answered one does not lift the rate.
    let mut log = Log::default();
    log.created("old", 0).fan("old", 0).reply("old", 10, "ann");
    log.created("new", 0).fan("new", 0);
    log.reply("new", 2 * DAY, "ann").fan("new", 2 * DAY + 30);
    log.reply("new", 2 * DAY + 60, "ann");
    let all = summary_of(&log, &GroupBy::None, t(2 * DAY + 3_600));
    assert_eq!(
        (all[0].team_messages, all[0].pending, all[0].reply_rate),
        (1, 2, Some(0.0))
    );
}

fn later_now() -> Timestamp {
    t(30 * 86_400)
}

#[test]
fn mean_p50_p90_over_ten_openings() {
    let mut log = Log::default();
    // FRTs 10, 20, …, 100 s: mean 55, p50 rank 5 → 50, p90 rank 9 → 90; 4 breaches (> 60 s).
    for n in 1..=10 {
        let conversation = format!("c{n}");
        log.created(&conversation, 0)
            .fan(&conversation, 0)
            .reply(&conversation, n * 10, "ann");
    }
    let all = summary_of(&log, &GroupBy::None, later_now());
    assert_eq!(all[0].first_response_secs, stats(55.0, 50.0, 90.0, 10));
    assert_eq!(all[0].first_touch_secs, stats(55.0, 50.0, 90.0, 10));
    assert_eq!(
        (all[0].sla_breaches, all[0].volume, all[0].unanswered),
        (4, 10, 0)
    );
}

/// A Berlin shift, for shift attribution.
fn berlin(name: &str, weekdays: &[Weekday], start: &str, end: &str) -> Shift {
    Shift {
        name: name.to_owned(),
        weekdays: weekdays.to_vec(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
    }
}

fn berlin_at(local: &str) -> Timestamp {
    let datetime: DateTime = local.parse().unwrap();
    local_instant(&TimeZone::get("Europe/Berlin").unwrap(), datetime).unwrap()
}

fn seconds_after_base(at: Timestamp) -> i64 {
    at.as_second() - t(0).as_second()
}

#[test]
fn shift_of_the_fan_message_across_midnight_and_dst() {
    use Weekday::*;
    let every_day = [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ];
    let shifts = [
        berlin("day", &every_day, "06:00", "22:00"),
        berlin("night", &every_day, "22:00", "06:00"),
    ];
    let shift_of = |at: Timestamp| {
        shifts
            .iter()
            .find(|shift| is_on_shift(shift, at))
            .map(|shift| shift.name.clone())
    };
    let mut log = Log::default();
    // Arrives 05:59 Tuesday (the Monday night shift), answered 06:05 (day shift): night.
    let arrival = seconds_after_base(berlin_at("2026-11-17T05:59:00"));
    log.created("a", arrival - 10)
        .fan("a", arrival)
        .reply("a", arrival + 360, "ann");
    // Arrives 23:30 Wednesday, a night shift crossing midnight: night.
    let arrival = seconds_after_base(berlin_at("2026-11-18T23:30:00"));
    log.created("b", arrival)
        .fan("b", arrival)
        .reply("b", arrival + 20, "ann");
    // Arrives 06:00 exactly: the night shift's end is exclusive, so day.
    let arrival = seconds_after_base(berlin_at("2026-11-19T06:00:00"));
    log.created("c", arrival)
        .fan("c", arrival)
        .reply("c", arrival + 30, "bob");
    let groups = summary_of(&log, &GroupBy::Shift(&shift_of), later_now());
    let got: Vec<(Option<&str>, u64, Option<f64>)> = groups
        .iter()
        .map(|group| {
            (
                group.key.as_deref(),
                group.volume,
                group.first_response_secs.mean,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("day"), 1, Some(30.0)),
            (Some("night"), 2, Some(190.0))
        ]
    );

    // DST: Berlin falls back on Sunday 25 October 2026 (03:00 CEST → 02:00 CET). The
    // Saturday night shift lasts 9 h; a message at the second 02:30 is still in it, one at
    // 06:30 CET belongs to nobody (no Sunday-morning shift).
    let weekend_night = [berlin("saturday night", &[Saturday], "22:00", "06:00")];
    let shift_of = |at: Timestamp| {
        weekend_night
            .iter()
            .find(|shift| is_on_shift(shift, at))
            .map(|shift| shift.name.clone())
    };
    let second_0230 =
        Timestamp::from_second(berlin_at("2026-10-25T02:30:00").as_second() + 3_600).unwrap();
    assert_eq!(second_0230.to_string(), "2026-10-25T01:30:00Z");
    let mut log = Log::default();
    for (name, at) in [("x", second_0230), ("y", berlin_at("2026-10-25T06:30:00"))] {
        let seconds = seconds_after_base(at);
        log.created(name, seconds)
            .fan(name, seconds)
            .reply(name, seconds + 5, "ann");
    }
    let Records {
        openings,
        team_messages,
        resolutions,
    } = replay(&log.events, &Policy::default());
    let october = Period {
        from: berlin_at("2026-10-24T00:00:00"),
        to: berlin_at("2026-10-26T00:00:00"),
    };
    let groups = summarize(
        &openings,
        &team_messages,
        &resolutions,
        october,
        later_now(),
        &GroupBy::Shift(&shift_of),
    )
    .groups;
    let got: Vec<(Option<&str>, u64)> = groups
        .iter()
        .map(|group| (group.key.as_deref(), group.volume))
        .collect();
    assert_eq!(got, vec![(Some("saturday night"), 1), (None, 1)]);
}

#[test]
fn day_groups_in_the_requested_time_zone() {
    let mut log = Log::default();
    // 22:30 UTC Monday is 07:30 Tuesday in Tokyo.
    log.created("a", 13 * 3_600 + 1_800)
        .fan("a", 13 * 3_600 + 1_800)
        .reply("a", 13 * 3_600 + 1_830, "ann");
    log.created("b", 3_600)
        .fan("b", 3_600)
        .reply("b", 3_660, "ann");
    let utc = TimeZone::UTC;
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    let keys = |zone: &TimeZone| -> Vec<(Option<String>, u64)> {
        summary_of(&log, &GroupBy::Day(zone), later_now())
            .into_iter()
            .map(|group| (group.key, group.volume))
            .collect()
    };
    assert_eq!(keys(&utc), vec![(Some("2026-11-16".to_owned()), 2)]);
    assert_eq!(
        keys(&tokyo),
        vec![
            (Some("2026-11-16".to_owned()), 1),
            (Some("2026-11-17".to_owned()), 1)
        ]
    );
}

#[test]
fn the_period_is_half_open_and_empty_groups_are_nulls() {
    let mut log = Log::default();
    log.created("in", 0).fan("in", 0).reply("in", 5, "ann");
    log.created("out", 7 * 86_400)
        .fan("out", 7 * 86_400)
        .reply("out", 7 * 86_400 + 5, "ann");
    let all = summary_of(&log, &GroupBy::None, later_now());
    assert_eq!(all[0].volume, 1);
    let empty = summary_of(&Log::default(), &GroupBy::None, later_now());
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].first_response_secs, Stats::default());
    assert_eq!(
        (
            empty[0].resolution_rate,
            empty[0].reply_rate,
            empty[0].mean_conversation_length
        ),
        (None, None, None)
    );
    assert!(summary_of(&Log::default(), &GroupBy::Agent, later_now()).is_empty());
}
