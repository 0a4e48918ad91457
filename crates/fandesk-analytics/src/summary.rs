//! Records of a period → one summary per group (docs/api.md › Metrics and reports:
//! `GET /api/v1/metrics/summary`, per agent, per shift, per day).
//!
//! Each record belongs to the period, day and shift of one instant: an opening to its
//! clock start (for a fan-started opening, the fan message's arrival — docs/metrics.md
//! › Grouping: "the shift in which the fan message arrived"), a team message
//! to when it was sent, a resolution to when it happened. By agent, an opening goes to its
//! replier, a team message to its author, a resolution to the assignee of the time.

use crate::record::{Opening, Resolution, TeamMessage, millis_between};
use crate::stats::Stats;
use crate::step::REPLY_WINDOW_MS;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// How records are grouped.
pub enum GroupBy<'a> {
    /// One group, key `"all"`.
    None,
    /// By member id; records without one (an opening no human answered) have key `null`.
    Agent,
    /// By the shift running at the record's instant (`None`: off shift, key `null`). The
    /// caller resolves shifts, midnight crossings and DST included (`desk::shift`).
    Shift(&'a dyn Fn(Timestamp) -> Option<String>),
    /// By local date (`YYYY-MM-DD`) in a time zone.
    Day(&'a TimeZone),
}

impl GroupBy<'_> {
    fn key_at(&self, at: Timestamp, member: Option<&str>) -> Option<String> {
        match self {
            GroupBy::None => Some("all".to_owned()),
            GroupBy::Agent => member.map(str::to_owned),
            GroupBy::Shift(shift_of) => shift_of(at),
            GroupBy::Day(time_zone) => Some(time_zone.to_datetime(at).date().to_string()),
        }
    }
}

/// The numbers of one group (the original summary fields first, then the later ones).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GroupSummary {
    pub key: Option<String>,
    /// FRT of the openings answered by a human (docs/metrics.md › First response time).
    pub first_response_secs: Stats,
    /// Resolved without ever being escalated ÷ resolved, counting each conversation once
    /// per period by its last resolution in it (docs/metrics.md › Resolution rate).
    pub resolution_rate: Option<f64>,
    /// Public human team messages answered by the fan within 24 h ÷ those whose 24 h are
    /// over or that were answered (docs/metrics.md › Reply rate).
    pub reply_rate: Option<f64>,
    /// Public messages per conversation resolved in the period.
    pub mean_conversation_length: Option<f64>,
    /// First responses over the SLA target (docs/metrics.md › SLA breach).
    pub sla_breaches: u64,
    /// Time from the clock start to the first public reply of any kind, automated
    /// included (docs/metrics.md › First touch).
    pub first_touch_secs: Stats,
    /// Openings whose clock started in the period (fan demand).
    pub volume: u64,
    /// Of those, openings no human has answered yet.
    pub unanswered: u64,
    /// Conversations resolved in the period (the resolution rate's denominator).
    pub resolved: u64,
    /// Team messages whose 24 h answer window has closed (the reply rate's denominator).
    pub team_messages: u64,
    /// Team messages whose 24 h answer window is still open, answered or not: not in the
    /// reply rate until it closes (docs/metrics.md › Reply rate).
    pub pending: u64,
}

/// The answer of a summary query.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub groups: Vec<GroupSummary>,
}

/// The raw totals of one group, before statistics: what [`summarize`] accumulates from
/// records, and what a database can aggregate itself (`Store::aggregate_metrics`) so that
/// only these totals, not the rows, leave it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupTotals {
    /// FRT of each answered opening, ms.
    pub frt: Vec<i64>,
    /// First-touch time of each touched opening, ms.
    pub touch: Vec<i64>,
    pub breaches: u64,
    pub volume: u64,
    pub unanswered: u64,
    pub resolved: u64,
    pub resolved_clean: u64,
    pub length_sum: u64,
    /// Team messages whose 24 h answer window has closed, and of those the answered ones.
    pub decided: u64,
    pub answered: u64,
    /// Team messages whose 24 h answer window is still open (answered or not).
    pub pending: u64,
}

impl GroupTotals {
    pub fn merge(&mut self, other: GroupTotals) {
        self.frt.extend(other.frt);
        self.touch.extend(other.touch);
        self.breaches += other.breaches;
        self.volume += other.volume;
        self.unanswered += other.unanswered;
        self.resolved += other.resolved;
        self.resolved_clean += other.resolved_clean;
        self.length_sum += other.length_sum;
        self.decided += other.decided;
        self.answered += other.answered;
        self.pending += other.pending;
    }
}

type Accumulator = GroupTotals;

/// Summarises the records that fall in `period`, grouped by `group_by`. `now` decides
/// which team messages' 24 h answer windows have closed: only those count in the reply
/// rate, answered or not; the younger ones are `pending`, answered or not, so a period
/// that includes the last 24 hours is not biased towards the answered ones.
pub fn summarize(
    openings: &[Opening],
    team_messages: &[TeamMessage],
    resolutions: &[Resolution],
    period: Period,
    now: Timestamp,
    group_by: &GroupBy<'_>,
) -> Summary {
    let mut groups: BTreeMap<Option<String>, Accumulator> = BTreeMap::new();
    if matches!(group_by, GroupBy::None) {
        groups.entry(Some("all".to_owned())).or_default();
    }
    for opening in openings {
        let Some(clock_at) = opening.clock_at.filter(|at| period.contains(*at)) else {
            continue;
        };
        let key = group_by.key_at(clock_at, opening.replier.as_ref().map(|id| id.as_str()));
        let group = groups.entry(key).or_default();
        group.volume += 1;
        match opening.frt_ms {
            Some(frt) => {
                group.frt.push(frt);
                group.breaches += u64::from(opening.breached);
            }
            None => group.unanswered += 1,
        }
        if let Some(touch) = opening.first_touch_ms() {
            group.touch.push(touch);
        }
    }
    for message in team_messages
        .iter()
        .filter(|message| period.contains(message.sent_at))
    {
        let key = group_by.key_at(message.sent_at, Some(message.author.as_str()));
        let group = groups.entry(key).or_default();
        if window_open(message.sent_at, now) {
            group.pending += 1;
            continue;
        }
        group.decided += 1;
        group.answered += u64::from(message.answered_at.is_some());
    }
    // "Conversations resolved in the period": a conversation resolved, reopened and
    // resolved again counts once, as of its last resolution in the period.
    let mut last: HashMap<&str, &Resolution> = HashMap::new();
    for resolution in resolutions
        .iter()
        .filter(|row| period.contains(row.resolved_at))
    {
        let entry = last
            .entry(resolution.conversation.as_str())
            .or_insert(resolution);
        if (resolution.resolved_at, &resolution.id) > (entry.resolved_at, &entry.id) {
            *entry = resolution;
        }
    }
    for resolution in last.into_values() {
        let key = group_by.key_at(
            resolution.resolved_at,
            resolution.assignee.as_ref().map(|id| id.as_str()),
        );
        let group = groups.entry(key).or_default();
        group.resolved += 1;
        group.resolved_clean += u64::from(!resolution.escalated);
        group.length_sum += resolution.public_messages;
    }
    summary_from_totals(
        groups.into_iter().collect(),
        matches!(group_by, GroupBy::None),
    )
}

/// The summary of per-group totals (several entries of one key are merged). With
/// `overall`, the `"all"` group is present even when empty, as [`summarize`] does for
/// [`GroupBy::None`].
pub fn summary_from_totals(totals: Vec<(Option<String>, GroupTotals)>, overall: bool) -> Summary {
    let mut groups: BTreeMap<Option<String>, GroupTotals> = BTreeMap::new();
    if overall {
        groups.entry(Some("all".to_owned())).or_default();
    }
    for (key, group) in totals {
        groups.entry(key).or_default().merge(group);
    }
    let mut summaries: Vec<GroupSummary> = groups
        .into_iter()
        .map(|(key, group)| finish(key, group))
        .collect();
    // Named groups in key order, the unattributed (`null`) group last.
    summaries.sort_by(|a, b| (a.key.is_none(), &a.key).cmp(&(b.key.is_none(), &b.key)));
    Summary { groups: summaries }
}

/// Whether the 24 h answer window of a team message sent at `sent_at` is still open at
/// `now` (whole milliseconds; a window closes strictly after 24 h, since an answer at
/// exactly 24 h counts).
fn window_open(sent_at: Timestamp, now: Timestamp) -> bool {
    millis_between(sent_at, now) <= REPLY_WINDOW_MS
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn finish(key: Option<String>, mut group: Accumulator) -> GroupSummary {
    GroupSummary {
        key,
        first_response_secs: Stats::from_millis(&mut group.frt),
        resolution_rate: ratio(group.resolved_clean, group.resolved),
        reply_rate: ratio(group.answered, group.decided),
        mean_conversation_length: ratio(group.length_sum, group.resolved),
        sla_breaches: group.breaches,
        first_touch_secs: Stats::from_millis(&mut group.touch),
        volume: group.volume,
        unanswered: group.unanswered,
        resolved: group.resolved,
        team_messages: group.decided,
        pending: group.pending,
    }
}
