//! The weekly report (docs/metrics.md › Weekly report: HTML with SVG charts, CSV and
//! JSON): per agent and per shift tables with week-over-week deltas, the FRT
//! distribution, volume by hour, and the daily resolution and engagement trends. Built
//! from metric records only; rendered by `report_render`.

use crate::record::{Opening, Resolution, TeamMessage};
use crate::revenue::{Conversion, RevenueRow, revenue_report};
use crate::summary::{GroupBy, GroupSummary, Period, summarize};
use fandesk_domain::desk::local_instant;
use jiff::Timestamp;
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::HashMap;

pub use crate::report_render::{to_csv, to_html, to_json};

/// An ISO week such as `2026-W47`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoWeek {
    pub year: i16,
    pub week: i8,
}

impl IsoWeek {
    /// Parses `YYYY-Www`.
    pub fn parse(text: &str) -> Result<IsoWeek, String> {
        let invalid = || format!("{text:?} is not an ISO week such as 2026-W47");
        let (year, week) = text.trim().split_once("-W").ok_or_else(invalid)?;
        let year: i16 = year.parse().map_err(|_| invalid())?;
        let week: i8 = week.parse().map_err(|_| invalid())?;
        ISOWeekDate::new(year, week, Weekday::Monday).map_err(|_| invalid())?;
        Ok(IsoWeek { year, week })
    }

    /// The week containing `at` in `time_zone`.
    pub fn containing(at: Timestamp, time_zone: &TimeZone) -> IsoWeek {
        let iso = time_zone.to_datetime(at).date().iso_week_date();
        IsoWeek {
            year: iso.year(),
            week: iso.week(),
        }
    }

    pub fn monday(self) -> Date {
        ISOWeekDate::new(self.year, self.week, Weekday::Monday)
            .map(|date| date.date())
            .unwrap_or(Date::MIN)
    }

    /// The week before.
    pub fn previous(self) -> IsoWeek {
        let monday = self
            .monday()
            .checked_sub(jiff::Span::new().days(7))
            .unwrap_or(Date::MIN);
        let iso = monday.iso_week_date();
        IsoWeek {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// Monday 00:00 to the next Monday 00:00, local time in `time_zone`.
    pub fn period(self, time_zone: &TimeZone) -> Period {
        let monday = self.monday();
        let next = monday
            .checked_add(jiff::Span::new().days(7))
            .unwrap_or(Date::MAX);
        let start = |date: Date| {
            local_instant(time_zone, date.to_datetime(jiff::civil::Time::midnight()))
                .unwrap_or(Timestamp::MIN)
        };
        Period {
            from: start(monday),
            to: start(next),
        }
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// What the report is built from: the metric records of the week and the week before.
pub struct ReportInput<'a> {
    pub week: IsoWeek,
    pub time_zone: &'a TimeZone,
    pub openings: &'a [Opening],
    pub team_messages: &'a [TeamMessage],
    pub resolutions: &'a [Resolution],
    /// The shift running at an instant (`ShiftCalendar::shift_at`).
    pub shift_of: &'a dyn Fn(Timestamp) -> Option<String>,
    /// Member id → display name.
    pub names: &'a HashMap<String, String>,
    pub now: Timestamp,
    /// Conversions of the period (those recorded in the week count).
    pub conversions: &'a [Conversion],
    /// Event id → title, for the revenue per event.
    pub event_titles: &'a HashMap<String, String>,
}

/// Change from the previous week (this week − previous; `None` when either is missing).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delta {
    pub frt_mean_secs: Option<f64>,
    pub frt_p90_secs: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub reply_rate: Option<f64>,
    pub sla_breaches: i64,
    pub volume: i64,
}

/// One line of a table: a group this week, the week before, and the difference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    pub key: Option<String>,
    /// The member's or shift's name; `(unanswered)` / `(off shift)` for the null key.
    pub name: String,
    pub this_week: GroupSummary,
    pub previous_week: GroupSummary,
    pub delta: Delta,
    /// Conversions recorded this week credited to this group (docs/metrics.md ›
    /// Conversions and revenue): to the agent, or to the shift of the credited reply.
    pub conversions: u64,
    /// Their value, in cents.
    pub revenue_cents: i64,
}

/// Conversions recorded this week tied to one event, and their value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRevenue {
    pub event_id: String,
    pub title: String,
    pub conversions: u64,
    pub revenue_cents: i64,
}

/// FRT distribution bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub label: String,
    pub count: u64,
}

/// One day of the week's trends.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DailyPoint {
    pub date: String,
    pub volume: u64,
    pub resolution_rate: Option<f64>,
    pub reply_rate: Option<f64>,
    pub frt_p50_secs: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeeklyReport {
    pub week: String,
    pub time_zone: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub overall: ReportRow,
    pub agents: Vec<ReportRow>,
    pub shifts: Vec<ReportRow>,
    pub frt_distribution: Vec<Bucket>,
    /// Openings by local hour of their clock start, 0–23.
    pub volume_by_hour: Vec<u64>,
    pub daily: Vec<DailyPoint>,
    /// Conversions and revenue per event (premieres and live events), by title.
    pub events: Vec<EventRevenue>,
}

/// Upper bounds (seconds, exclusive) and labels of the FRT distribution.
const BUCKETS: [(i64, &str); 8] = [
    (15, "< 15 s"),
    (30, "15–30 s"),
    (60, "30–60 s"),
    (120, "1–2 min"),
    (300, "2–5 min"),
    (900, "5–15 min"),
    (3_600, "15–60 min"),
    (i64::MAX, "≥ 1 h"),
];

fn delta(now: &GroupSummary, before: &GroupSummary) -> Delta {
    let minus = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    Delta {
        frt_mean_secs: minus(
            now.first_response_secs.mean,
            before.first_response_secs.mean,
        ),
        frt_p90_secs: minus(now.first_response_secs.p90, before.first_response_secs.p90),
        resolution_rate: minus(now.resolution_rate, before.resolution_rate),
        reply_rate: minus(now.reply_rate, before.reply_rate),
        sla_breaches: now.sla_breaches as i64 - before.sla_breaches as i64,
        volume: now.volume as i64 - before.volume as i64,
    }
}

/// Pairs this week's groups with last week's by key; groups only seen last week still
/// get a row (their work dropped to nothing is news).
fn rows(
    input: &ReportInput<'_>,
    group_by: &GroupBy<'_>,
    name_of: &dyn Fn(Option<&str>) -> String,
) -> Vec<ReportRow> {
    let this_week = input.week.period(input.time_zone);
    let last_week = input.week.previous().period(input.time_zone);
    let summary = |period| {
        summarize(
            input.openings,
            input.team_messages,
            input.resolutions,
            period,
            input.now,
            group_by,
        )
        .groups
    };
    let current = summary(this_week);
    let mut previous: Vec<GroupSummary> = summary(last_week);
    let mut rows: Vec<ReportRow> = current
        .into_iter()
        .map(|group| {
            let before = previous
                .iter()
                .position(|old| old.key == group.key)
                .map(|index| previous.remove(index))
                .unwrap_or_else(|| GroupSummary {
                    key: group.key.clone(),
                    ..GroupSummary::default()
                });
            row(group, before, name_of)
        })
        .collect();
    for before in previous {
        let empty = GroupSummary {
            key: before.key.clone(),
            ..GroupSummary::default()
        };
        rows.push(row(empty, before, name_of));
    }
    rows.sort_by(|a, b| {
        (a.key.is_none(), &a.name, &a.key).cmp(&(b.key.is_none(), &b.name, &b.key))
    });
    rows
}

fn row(
    this_week: GroupSummary,
    previous_week: GroupSummary,
    name_of: &dyn Fn(Option<&str>) -> String,
) -> ReportRow {
    ReportRow {
        key: this_week.key.clone(),
        name: name_of(this_week.key.as_deref()),
        delta: delta(&this_week, &previous_week),
        this_week,
        previous_week,
        conversions: 0,
        revenue_cents: 0,
    }
}

/// Sets each row's conversions and revenue from `revenue` (same keys); a key without a
/// row gets one with empty figures.
fn add_revenue(
    rows: &mut Vec<ReportRow>,
    revenue: Vec<RevenueRow>,
    name_of: &dyn Fn(Option<&str>) -> String,
) {
    for group in revenue {
        let index = match rows.iter().position(|row| row.key == group.key) {
            Some(index) => index,
            None => {
                let empty = GroupSummary {
                    key: group.key.clone(),
                    ..GroupSummary::default()
                };
                rows.push(row(empty.clone(), empty, name_of));
                rows.len() - 1
            }
        };
        rows[index].conversions = group.conversions;
        rows[index].revenue_cents = group.value_cents;
    }
    rows.sort_by(|a, b| {
        (a.key.is_none(), &a.name, &a.key).cmp(&(b.key.is_none(), &b.name, &b.key))
    });
}

/// Builds the report of `input.week`.
pub fn weekly_report(input: &ReportInput<'_>) -> WeeklyReport {
    let period = input.week.period(input.time_zone);
    let overall = rows(input, &GroupBy::None, &|_| "All".to_owned()).remove(0);
    let agent_name = |key: Option<&str>| match key {
        Some(id) => input
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned()),
        None => "(unanswered)".to_owned(),
    };
    let week_conversions: Vec<Conversion> = input
        .conversions
        .iter()
        .filter(|conversion| period.contains(conversion.created_at))
        .cloned()
        .collect();
    let revenue = revenue_report(&week_conversions, input.shift_of);
    let mut overall = overall;
    overall.conversions = week_conversions.len() as u64;
    overall.revenue_cents = week_conversions.iter().map(|c| c.value_cents).sum();
    let mut agents = rows(input, &GroupBy::Agent, &agent_name);
    add_revenue(&mut agents, revenue.by_agent, &agent_name);
    let shift_name =
        |key: Option<&str>| key.map_or_else(|| "(off shift)".to_owned(), str::to_owned);
    let mut shifts = rows(input, &GroupBy::Shift(input.shift_of), &shift_name);
    add_revenue(&mut shifts, revenue.by_shift, &shift_name);
    let events = revenue
        .by_event
        .into_iter()
        .filter_map(|group| {
            let event_id = group.key?;
            Some(EventRevenue {
                title: input
                    .event_titles
                    .get(&event_id)
                    .cloned()
                    .unwrap_or_else(|| event_id.clone()),
                event_id,
                conversions: group.conversions,
                revenue_cents: group.value_cents,
            })
        })
        .collect();
    let week_openings: Vec<&Opening> = input
        .openings
        .iter()
        .filter(|opening| opening.clock_at.is_some_and(|at| period.contains(at)))
        .collect();
    let mut frt_distribution: Vec<Bucket> = BUCKETS
        .iter()
        .map(|(_, label)| Bucket {
            label: (*label).to_owned(),
            count: 0,
        })
        .collect();
    let mut volume_by_hour = vec![0_u64; 24];
    for opening in &week_openings {
        if let Some(frt) = opening.frt_ms {
            let index = BUCKETS
                .iter()
                .position(|(bound, _)| frt / 1_000 < *bound)
                .unwrap_or(BUCKETS.len() - 1);
            frt_distribution[index].count += 1;
        }
        if let Some(at) = opening.clock_at {
            volume_by_hour[input.time_zone.to_datetime(at).hour() as usize] += 1;
        }
    }
    let by_day = summarize(
        input.openings,
        input.team_messages,
        input.resolutions,
        period,
        input.now,
        &GroupBy::Day(input.time_zone),
    );
    let daily = (0..7)
        .map(|offset| {
            let date = input
                .week
                .monday()
                .checked_add(jiff::Span::new().days(offset))
                .unwrap_or(Date::MAX)
                .to_string();
            let group = by_day
                .groups
                .iter()
                .find(|group| group.key.as_deref() == Some(date.as_str()));
            DailyPoint {
                volume: group.map_or(0, |group| group.volume),
                resolution_rate: group.and_then(|group| group.resolution_rate),
                reply_rate: group.and_then(|group| group.reply_rate),
                frt_p50_secs: group.and_then(|group| group.first_response_secs.p50),
                date,
            }
        })
        .collect();
    WeeklyReport {
        week: input.week.to_string(),
        time_zone: input.time_zone.iana_name().unwrap_or("UTC").to_owned(),
        from: period.from,
        to: period.to,
        overall,
        agents,
        shifts,
        frt_distribution,
        volume_by_hour,
        daily,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        let week = IsoWeek::parse("2026-W47").unwrap();
        assert_eq!(week.to_string(), "2026-W47");
        assert_eq!(week.monday().to_string(), "2026-11-16");
        assert_eq!(
            IsoWeek::parse("2026-W01").unwrap().previous().to_string(),
            "2025-W52"
        );
        assert_eq!(
            IsoWeek::parse("2021-W01").unwrap().previous().to_string(),
            "2020-W53"
        );
        for bad in ["2026-47", "2026-W54", "W47", "2026-Wx", ""] {
            assert!(IsoWeek::parse(bad).is_err(), "{bad}");
        }
        // In Berlin the week starts at 23:00 UTC on Sunday.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(
            week.period(&berlin).from.to_string(),
            "2026-11-15T23:00:00Z"
        );
        assert_eq!(
            IsoWeek::containing(week.period(&berlin).from, &berlin),
            week
        );
    }
}
