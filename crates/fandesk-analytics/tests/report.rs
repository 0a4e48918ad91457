//! Weekly report rendering (docs/metrics.md › Weekly report): insta snapshots of the JSON
//! and CSV of a hand-written fortnight, and the HTML page's inline SVG charts.

mod support;

use fandesk_analytics::report::{
    IsoWeek, ReportInput, WeeklyReport, to_csv, to_html, to_json, weekly_report,
};
use fandesk_analytics::revenue::Conversion;
use fandesk_analytics::{Period, Policy, Records, ShiftCalendar, replay};
use fandesk_domain::desk::Shift;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use support::{Log, t};

const DAY: i64 = 86_400;

/// Week 2026-W47 (from t(0) − 9 h, UTC) and the week before, with two agents, a lead, a
/// bot hand-off, an escalation and a supervisor's reply; shifts `day` 08:00–20:00 and
/// `night` 20:00–08:00 UTC.
fn fortnight() -> Log {
    let mut log = Log::default();
    // Previous week (W46): two conversations, one slow.
    log.created("p1", -6 * DAY)
        .fan("p1", -6 * DAY)
        .reply("p1", -6 * DAY + 40, "ann")
        .resolve("p1", -6 * DAY + 600, "ann", Some("ann"));
    log.created("p2", -5 * DAY)
        .fan("p2", -5 * DAY)
        .reply("p2", -5 * DAY + 300, "bob")
        .fan("p2", -5 * DAY + 400);
    log.resolve("p2", -5 * DAY + 900, "bob", Some("bob"));
    // This week.
    log.created("a", 0)
        .fan("a", 10)
        .bot("a", 11)
        .reply("a", 30, "ann")
        .fan("a", 90)
        .resolve("a", 200, "ann", Some("ann"));
    log.created("b", DAY)
        .fan("b", DAY)
        .reply("b", DAY + 75, "bob")
        .escalate("b", DAY + 100, "bob");
    log.reply("b", DAY + 160, "lee")
        .fan("b", DAY + 3_600)
        .resolve("b", DAY + 4_000, "lee", Some("lee"));
    log.created("c", 2 * DAY + 12 * 3_600)
        .fan("c", 2 * DAY + 12 * 3_600)
        .bot("c", 2 * DAY + 12 * 3_600 + 1);
    log.handoff("c", 2 * DAY + 12 * 3_600 + 20)
        .reply("c", 2 * DAY + 12 * 3_600 + 50, "ann");
    log.created("d", 3 * DAY)
        .fan("d", 3 * DAY)
        .reply("d", 3 * DAY + 20, "sue")
        .resolve("d", 3 * DAY + 50, "sue", Some("ann"));
    log.created("e", 4 * DAY).fan("e", 4 * DAY); // unanswered
    log
}

fn report() -> WeeklyReport {
    let Records {
        openings,
        team_messages,
        resolutions,
    } = replay(&fortnight().events, &Policy::default());
    let every_day = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    let shift = |name: &str, start: &str, end: &str| Shift {
        name: name.to_owned(),
        weekdays: every_day.to_vec(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        time_zone: TimeZone::UTC,
    };
    let calendar = ShiftCalendar::new(
        &[
            shift("day", "08:00", "20:00"),
            shift("night", "20:00", "08:00"),
        ],
        Period {
            from: t(-8 * DAY),
            to: t(8 * DAY),
        },
    );
    let names: HashMap<String, String> = [
        ("ann", "Ann Agent"),
        ("bob", "Bob, \"B\" Agent"),
        ("lee", "Lee Lead"),
        ("sue", "Sue <Supervisor>"),
    ]
    .into_iter()
    .map(|(id, name)| (id.to_owned(), name.to_owned()))
    .collect();
    // Two conversions this week credited to Ann's reply in `a` (the `day` shift, an
    // event's), one not credited; one last week (left out).
    let conversion = |at: i64, agent: Option<(&str, i64)>, event: Option<&str>, value| Conversion {
        event_id: event.map(str::to_owned),
        value_cents: value,
        created_at: t(at),
        agent_id: agent.map(|(id, _)| id.to_owned()),
        reply_at: agent.map(|(_, at)| t(at)),
    };
    let conversions = [
        conversion(600, Some(("ann", 30)), Some("evt_1"), 1_999),
        conversion(DAY, Some(("ann", 30)), None, 500),
        conversion(2 * DAY, None, Some("evt_1"), 250),
        conversion(-6 * DAY, Some(("ann", -6 * DAY + 40)), None, 10_000),
    ];
    let event_titles: HashMap<String, String> =
        [("evt_1".to_owned(), "Album premiere".to_owned())].into();
    weekly_report(&ReportInput {
        week: IsoWeek::parse("2026-W47").unwrap(),
        time_zone: &TimeZone::UTC,
        openings: &openings,
        team_messages: &team_messages,
        resolutions: &resolutions,
        shift_of: &|at| calendar.shift_at(at),
        names: &names,
        now: t(30 * DAY),
        conversions: &conversions,
        event_titles: &event_titles,
    })
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(to_json(&report()));
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(to_csv(&report()));
}

#[test]
fn html_has_the_svg_charts_and_escapes_names() {
    let html = to_html(&report());
    for id in [
        "frt-distribution",
        "volume-by-hour",
        "resolution-trend",
        "engagement-trend",
    ] {
        assert!(
            html.contains(&format!("<svg id=\"{id}\"")),
            "chart {id} missing"
        );
    }
    assert_eq!(html.matches("<svg ").count(), 4);
    assert_eq!(html.matches("</svg>").count(), 4);
    assert!(html.contains("<rect "), "bars are drawn");
    assert!(html.contains("<path d=\"M"), "trend lines are drawn");
    assert!(html.contains("Sue &lt;Supervisor&gt;"));
    assert!(!html.contains("<Supervisor>"));
    assert!(!html.contains("<script"));
    for section in ["Per agent", "Per shift", "Overall"] {
        assert!(html.contains(section), "{section}");
    }
}

#[test]
fn week_over_week_deltas() {
    let report = report();
    let ann = report
        .agents
        .iter()
        .find(|row| row.key.as_deref() == Some("ann"))
        .unwrap();
    // This week ann answered a (20 s) and c (30 s after the hand-off); last week p1 (40 s).
    assert_eq!(ann.this_week.first_response_secs.mean, Some(25.0));
    assert_eq!(ann.previous_week.first_response_secs.mean, Some(40.0));
    assert_eq!(ann.delta.frt_mean_secs, Some(-15.0));
    assert_eq!(report.overall.this_week.volume, 6);
    assert_eq!(report.overall.previous_week.volume, 2);
    assert_eq!(report.overall.delta.volume, 4);
    assert_eq!(report.volume_by_hour.iter().sum::<u64>(), 6);
    assert_eq!(
        report
            .frt_distribution
            .iter()
            .map(|bucket| bucket.count)
            .sum::<u64>(),
        4
    );
}
