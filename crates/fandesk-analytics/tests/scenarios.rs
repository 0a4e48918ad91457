//! Hand-computed scenarios for every hard case of the metric definitions (reopen, bot
//! hand-off, automated replies, crediting the replier, SLA breach), each asserting exact
//! numbers (docs/metrics.md). Times are seconds after Monday 16 November
//! 2026, 09:00 UTC.

mod support;

use fandesk_analytics::{OpeningKind, Policy, replay};
use support::{Log, t};

/// (opening number, kind, clock start s, first touch ms, FRT ms, replier, breached).
type Expected<'a> = (
    u32,
    OpeningKind,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<&'a str>,
    bool,
);

fn check(name: &str, log: &Log, expected: &[Expected<'_>]) {
    let records = replay(&log.events, &Policy::default());
    let got: Vec<Expected<'_>> = records
        .openings
        .iter()
        .map(|opening| {
            let replier = opening.replier.as_ref().map(|id| id.as_str());
            let clock = opening.clock_at.map(|at| at.as_second() - t(0).as_second());
            (
                opening.number,
                opening.kind,
                clock,
                opening.first_touch_ms(),
                opening.frt_ms,
                replier,
                opening.breached,
            )
        })
        .collect();
    assert_eq!(got, expected, "{name}");
}

use OpeningKind::{Created, Handoff, Reopened};

#[test]
fn first_response_hard_cases() {
    let cases: Vec<(&str, Log, Vec<Expected<'static>>)> = vec![
        (
            "plain: fan at 10 s, agent answers at 40 s",
            {
                let mut log = Log::default();
                log.created("c", 0).fan("c", 10).reply("c", 40, "ann");
                log
            },
            vec![(
                1,
                Created,
                Some(10),
                Some(30_000),
                Some(30_000),
                Some("ann"),
                false,
            )],
        ),
        (
            "SLA: 60 s is on target, 61 s is a breach",
            {
                let mut log = Log::default();
                log.created("a", 0).fan("a", 0).reply("a", 60, "ann");
                log.created("b", 0).fan("b", 0).reply("b", 61, "ann");
                log
            },
            vec![
                (
                    1,
                    Created,
                    Some(0),
                    Some(60_000),
                    Some(60_000),
                    Some("ann"),
                    false,
                ),
                (
                    1,
                    Created,
                    Some(0),
                    Some(61_000),
                    Some(61_000),
                    Some("ann"),
                    true,
                ),
            ],
        ),
        (
            "fan messages before the answer: the first one starts the clock",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 10)
                    .fan("c", 20)
                    .fan("c", 50)
                    .reply("c", 70, "ann")
                    .fan("c", 80)
                    .reply("c", 500, "ann");
                log
            },
            vec![(
                1,
                Created,
                Some(10),
                Some(60_000),
                Some(60_000),
                Some("ann"),
                false,
            )],
        ),
        (
            "automated replies do not stop the clock; they give first touch",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 10)
                    .bot("c", 12)
                    .fan("c", 30)
                    .bot("c", 31)
                    .reply("c", 100, "ann");
                log
            },
            vec![(
                1,
                Created,
                Some(10),
                Some(2_000),
                Some(90_000),
                Some("ann"),
                true,
            )],
        ),
        (
            "internal messages are ignored",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .internal("c", 5, "sue")
                    .fan("c", 10)
                    .internal("c", 15, "ann")
                    .reply("c", 25, "ann");
                log
            },
            vec![(
                1,
                Created,
                Some(10),
                Some(15_000),
                Some(15_000),
                Some("ann"),
                false,
            )],
        ),
        (
            "a team message before any fan message starts nothing",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .reply("c", 5, "ann")
                    .fan("c", 20)
                    .reply("c", 50, "ann");
                log
            },
            vec![(
                1,
                Created,
                Some(20),
                Some(30_000),
                Some(30_000),
                Some("ann"),
                false,
            )],
        ),
        (
            "reopen: a new opening, its clock at the fan's next message",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .reply("c", 30, "ann")
                    .resolve("c", 100, "ann", Some("ann"));
                log.reopen("c", 1_000, "bob")
                    .reply("c", 1_010, "bob")
                    .fan("c", 1_100)
                    .reply("c", 1_160, "bob");
                log
            },
            vec![
                (
                    1,
                    Created,
                    Some(0),
                    Some(30_000),
                    Some(30_000),
                    Some("ann"),
                    false,
                ),
                (
                    2,
                    Reopened,
                    Some(1_100),
                    Some(60_000),
                    Some(60_000),
                    Some("bob"),
                    false,
                ),
            ],
        ),
        (
            "an opening resolved unanswered stays unanswered after a reopen",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .resolve("c", 50, "sue", None)
                    .reopen("c", 60, "sue")
                    .fan("c", 70)
                    .reply("c", 80, "ann");
                log
            },
            vec![
                (1, Created, Some(0), None, None, None, false),
                (
                    2,
                    Reopened,
                    Some(70),
                    Some(10_000),
                    Some(10_000),
                    Some("ann"),
                    false,
                ),
            ],
        ),
        (
            "bot hand-off: the bot's opening keeps its first touch, the clock restarts at the hand-off",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .bot("c", 1)
                    .fan("c", 20)
                    .bot("c", 21)
                    .handoff("c", 30)
                    .reply("c", 90, "ann");
                log
            },
            vec![
                (1, Created, Some(0), Some(1_000), None, None, false),
                (
                    2,
                    Handoff,
                    Some(30),
                    Some(60_000),
                    Some(60_000),
                    Some("ann"),
                    false,
                ),
            ],
        ),
        (
            "bot hand-off with a later bot message: first touch counts from the hand-off",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .bot("c", 1)
                    .handoff("c", 10)
                    .bot("c", 12)
                    .fan("c", 15)
                    .reply("c", 200, "ann");
                log
            },
            vec![
                (1, Created, Some(0), Some(1_000), None, None, false),
                (
                    2,
                    Handoff,
                    Some(10),
                    Some(2_000),
                    Some(190_000),
                    Some("ann"),
                    true,
                ),
            ],
        ),
        (
            "a replier who is not the assignee gets the credit",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .reply("c", 45, "sue")
                    .reply("c", 50, "ann")
                    .resolve("c", 90, "ann", Some("ann"));
                log
            },
            vec![(
                1,
                Created,
                Some(0),
                Some(45_000),
                Some(45_000),
                Some("sue"),
                false,
            )],
        ),
        (
            "escalation is not an opening: the lead's reply is not a first response",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .reply("c", 10, "ann")
                    .fan("c", 20)
                    .escalate("c", 25, "ann")
                    .reply("c", 95, "lee");
                log
            },
            vec![(
                1,
                Created,
                Some(0),
                Some(10_000),
                Some(10_000),
                Some("ann"),
                false,
            )],
        ),
        (
            "an escalated, unanswered opening is answered by the lead",
            {
                let mut log = Log::default();
                log.created("c", 0)
                    .fan("c", 0)
                    .escalate("c", 5, "ann")
                    .reply("c", 95, "lee");
                log
            },
            vec![(
                1,
                Created,
                Some(0),
                Some(95_000),
                Some(95_000),
                Some("lee"),
                true,
            )],
        ),
    ];
    for (name, log, expected) in &cases {
        check(name, log, expected);
    }
}
