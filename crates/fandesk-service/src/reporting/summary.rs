//! Metric summaries and the weekly report (docs/product.md › Metrics and reports;
//! docs/api.md › Metrics and reports: `GET /api/v1/metrics/summary`). Both read the metric
//! rows the group commit maintains for the period and fold them with `fandesk_analytics` —
//! the message table is never scanned. Not to be confused with `metrics.rs`, the Prometheus
//! registry.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use fandesk_analytics::report::{IsoWeek, ReportInput, WeeklyReport, weekly_report};
use fandesk_analytics::revenue::{Conversion, RevenueRow, revenue_by};
use fandesk_analytics::{
    GroupSummary, Period, ShiftCalendar, Stats, day_segments, summary_from_totals,
};
use fandesk_domain::desk::{Shift, parse_weekday};
use fandesk_domain::{Capability, Principal};
use fandesk_store::{ConversionRow, MetricGrouping, MetricRows, Store};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Latest events whose titles the weekly report names (older ones show their id).
const MAX_EVENT_TITLES: u32 = 1_000;

/// Longest summary period: a year (docs/api.md › Errors: "limit exceeded").
const MAX_PERIOD: SignedDuration = SignedDuration::from_hours(366 * 24);

/// How a summary is grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryGrouping {
    Agent,
    Shift,
    Day,
    None,
}

impl SummaryGrouping {
    pub fn parse(text: &str) -> Option<SummaryGrouping> {
        match text {
            "agent" => Some(SummaryGrouping::Agent),
            "shift" => Some(SummaryGrouping::Shift),
            "day" => Some(SummaryGrouping::Day),
            "none" => Some(SummaryGrouping::None),
            _ => None,
        }
    }
}

/// Mean, p50 and p90 in seconds (nearest rank) and the count.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub count: u64,
}

impl From<&Stats> for StatsView {
    fn from(stats: &Stats) -> Self {
        StatsView {
            mean: stats.mean,
            p50: stats.p50,
            p90: stats.p90,
            count: stats.count,
        }
    }
}

/// One group of `GET /api/v1/metrics/summary` (docs/api.md fields, then extensions).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SummaryGroupView {
    /// Member id, shift name, local date `YYYY-MM-DD`, or `all`; `null` for records with
    /// no agent (openings no human answered) or outside every shift.
    pub key: Option<String>,
    pub first_response_secs: StatsView,
    pub resolution_rate: Option<f64>,
    pub reply_rate: Option<f64>,
    pub mean_conversation_length: Option<f64>,
    pub sla_breaches: u64,
    /// The member's name when grouped by agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First public reply of any kind, automated included.
    pub first_touch_secs: StatsView,
    /// Openings whose clock started in the period.
    pub volume: u64,
    /// Of those, openings no human has answered yet.
    pub unanswered: u64,
    /// Conversations resolved in the period.
    pub resolved: u64,
    /// Team messages whose 24 h answer window has closed (the reply rate's denominator).
    pub team_messages: u64,
    /// Team messages whose 24 h answer window is still open, answered or not: not in the
    /// reply rate yet.
    pub pending: u64,
    /// Conversions recorded in the period credited to this group: to the agent, to the
    /// shift of the credited reply, to the day (or all) they were recorded
    /// (docs/metrics.md › Conversions and revenue).
    pub conversions: u64,
    /// Their value, in cents.
    pub revenue_cents: i64,
}

impl SummaryGroupView {
    fn new(group: &GroupSummary, name: Option<String>) -> SummaryGroupView {
        SummaryGroupView {
            key: group.key.clone(),
            first_response_secs: StatsView::from(&group.first_response_secs),
            resolution_rate: group.resolution_rate,
            reply_rate: group.reply_rate,
            mean_conversation_length: group.mean_conversation_length,
            sla_breaches: group.sla_breaches,
            name,
            first_touch_secs: StatsView::from(&group.first_touch_secs),
            volume: group.volume,
            unanswered: group.unanswered,
            resolved: group.resolved,
            team_messages: group.team_messages,
            pending: group.pending,
            conversions: 0,
            revenue_cents: 0,
        }
    }
}

/// Sets each group's conversions and revenue (same keys); a key without a group gets one
/// with empty figures.
fn add_revenue(groups: &mut Vec<SummaryGroupView>, revenue: Vec<RevenueRow>) {
    for row in revenue {
        let index = match groups.iter().position(|group| group.key == row.key) {
            Some(index) => index,
            None => {
                let empty = GroupSummary {
                    key: row.key.clone(),
                    ..GroupSummary::default()
                };
                groups.push(SummaryGroupView::new(&empty, None));
                groups.len() - 1
            }
        };
        groups[index].conversions = row.conversions;
        groups[index].revenue_cents = row.value_cents;
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SummaryView {
    pub groups: Vec<SummaryGroupView>,
}

fn time_zone(name: Option<&str>, default: &TimeZone) -> ServiceResult<TimeZone> {
    match name {
        None => Ok(default.clone()),
        Some(name) => TimeZone::get(name).map_err(|_| {
            ServiceError::invalid("tz", "must be an IANA time zone such as Europe/Paris")
        }),
    }
}

/// The stored shifts as windows in the creator's time zone (`None`: none defined).
async fn load_shifts(store: &Store, zone: &TimeZone) -> ServiceResult<Option<Vec<Shift>>> {
    let shifts: Vec<Shift> = store
        .list_shifts()
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(Shift {
                weekdays: row
                    .weekdays
                    .iter()
                    .map(|day| parse_weekday(day))
                    .collect::<Option<_>>()?,
                start: row.start_time.parse().ok()?,
                end: row.end_time.parse().ok()?,
                time_zone: zone.clone(),
                name: row.name,
            })
        })
        .collect();
    Ok((!shifts.is_empty()).then_some(shifts))
}

/// Member id → name, for agent keys.
async fn member_names(store: &Store) -> ServiceResult<HashMap<String, String>> {
    Ok(store
        .list_members()
        .await?
        .into_iter()
        .map(|member| (member.id.0, member.name))
        .collect())
}

impl App {
    /// `GET /api/v1/metrics/summary`: `[from, to)` grouped by agent, shift, day (in `tz`,
    /// default the creator's time zone) or not at all.
    pub async fn metrics_summary(
        &self,
        actor: &Principal,
        from: Timestamp,
        to: Timestamp,
        grouping: SummaryGrouping,
        tz: Option<&str>,
    ) -> ServiceResult<SummaryView> {
        actor.require(Capability::ViewMetrics)?;
        if from >= to {
            return Err(ServiceError::invalid("to", "must be after from"));
        }
        if to.duration_since(from) > MAX_PERIOD {
            return Err(ServiceError::invalid(
                "to",
                "the period may span at most 366 days",
            ));
        }
        let creator_zone = self.inner.config.desk.creator_timezone.clone();
        let zone = time_zone(tz, &creator_zone)?;
        let period = Period { from, to };
        // Shift and day keys become segments of the period, so the database groups the
        // rows itself (`Store::aggregate_metrics`); the result equals
        // `fandesk_analytics::summarize` over the rows.
        let mut calendar = None;
        let store_grouping = match grouping {
            SummaryGrouping::Shift => match load_shifts(self.store(), &creator_zone).await? {
                Some(shifts) => {
                    let shifts = ShiftCalendar::new(&shifts, period);
                    let segments = shifts.segments(period);
                    calendar = Some(shifts);
                    MetricGrouping::Segments(segments)
                }
                None => return Err(ServiceError::invalid("group_by", "no shifts are defined")),
            },
            SummaryGrouping::Day => MetricGrouping::Segments(day_segments(&zone, period)),
            SummaryGrouping::Agent => MetricGrouping::Member,
            SummaryGrouping::None => MetricGrouping::Constant("all".to_owned()),
        };
        let totals = self
            .store()
            .aggregate_metrics(from, to, self.now(), &store_grouping)
            .await?;
        let summary = summary_from_totals(totals, grouping == SummaryGrouping::None);
        let names = if grouping == SummaryGrouping::Agent {
            member_names(self.store()).await?
        } else {
            HashMap::new()
        };
        let mut groups: Vec<SummaryGroupView> = summary
            .groups
            .iter()
            .map(|group| {
                let name = group.key.as_ref().and_then(|key| names.get(key).cloned());
                SummaryGroupView::new(group, name)
            })
            .collect();
        let conversions: Vec<Conversion> = self
            .store()
            .list_conversions(from, to)
            .await?
            .iter()
            .map(ConversionRow::as_conversion)
            .collect();
        let revenue = revenue_by(&conversions, |conversion| {
            Some(match grouping {
                SummaryGrouping::Agent => conversion.agent_id.clone(),
                SummaryGrouping::Shift => conversion
                    .reply_at
                    .and_then(|at| calendar.as_ref().and_then(|shifts| shifts.shift_at(at))),
                SummaryGrouping::Day => {
                    Some(zone.to_datetime(conversion.created_at).date().to_string())
                }
                SummaryGrouping::None => Some("all".to_owned()),
            })
        });
        add_revenue(&mut groups, revenue);
        for group in &mut groups {
            if group.name.is_none() && grouping == SummaryGrouping::Agent {
                group.name = group.key.as_ref().and_then(|key| names.get(key).cloned());
            }
        }
        Ok(SummaryView { groups })
    }

    /// `GET /api/v1/reports/weekly`: the weekly report of `week` (`YYYY-Www`, default the
    /// last complete week) in the creator's time zone or `tz`.
    pub async fn weekly_report(
        &self,
        actor: &Principal,
        week: Option<&str>,
        tz: Option<&str>,
    ) -> ServiceResult<WeeklyReport> {
        actor.require(Capability::ViewMetrics)?;
        let zone = time_zone(tz, &self.inner.config.desk.creator_timezone)?;
        let week = match week {
            Some(text) => {
                IsoWeek::parse(text).map_err(|reason| ServiceError::invalid("week", reason))?
            }
            None => IsoWeek::containing(self.now(), &zone).previous(),
        };
        build_weekly_report(
            self.store(),
            week,
            &zone,
            &self.inner.config.desk.creator_timezone,
            self.now(),
        )
        .await
    }

    /// Refreshes the live desk gauges, then renders the Prometheus registry (`/metrics`).
    pub async fn render_metrics(&self) -> String {
        match self.store().live_desk_figures().await {
            Ok(figures) => self.metrics().set_desk_figures(&figures, self.now()),
            Err(error) => tracing::warn!(%error, "could not read the live desk figures"),
        }
        self.metrics().render()
    }
}

/// The weekly report straight from a store (the `fandesk report` command has no running
/// server): the week and the week before, shifts in `creator_zone`, names of members.
pub async fn build_weekly_report(
    store: &Store,
    week: IsoWeek,
    zone: &TimeZone,
    creator_zone: &TimeZone,
    now: Timestamp,
) -> ServiceResult<WeeklyReport> {
    let this_week = week.period(zone);
    let last_week = week.previous().period(zone);
    let MetricRows {
        openings,
        team_messages,
        resolutions,
    } = store.list_metric_rows(last_week.from, this_week.to).await?;
    let shifts = load_shifts(store, creator_zone).await?.unwrap_or_default();
    let calendar = ShiftCalendar::new(
        &shifts,
        Period {
            from: last_week.from,
            to: this_week.to,
        },
    );
    let names = member_names(store).await?;
    let conversions: Vec<_> = store
        .list_conversions(this_week.from, this_week.to)
        .await?
        .iter()
        .map(ConversionRow::as_conversion)
        .collect();
    let event_titles: HashMap<String, String> = store
        .list_events(MAX_EVENT_TITLES)
        .await?
        .into_iter()
        .map(|event| (event.id.0, event.title))
        .collect();
    Ok(weekly_report(&ReportInput {
        week,
        time_zone: zone,
        openings: &openings,
        team_messages: &team_messages,
        resolutions: &resolutions,
        shift_of: &|at| calendar.shift_at(at),
        names: &names,
        now,
        conversions: &conversions,
        event_titles: &event_titles,
    }))
}
