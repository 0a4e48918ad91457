//! The summary query (`docs/metrics.md` › How the numbers are kept): the metric rows of a period reduced to per-group
//! totals inside the database, so only a handful of rows leave it. Agent keys are a
//! column; shift and day keys are `fandesk_analytics::Segments` turned into one `CASE`
//! over the record's instant, a binary search of nested `CASE`s. FRT and first-touch values
//! travel as one list per group (SQLite: text; PostgreSQL: a `bigint[]`), so percentiles
//! stay exact (nearest rank over every value). The reply rate
//! reads the hourly counters of `metric_reply_hours` for whole decided hours no group
//! boundary cuts, and `metric_team_messages` rows for the rest ([`ReplySplit`]); the
//! resolutions read `superseded_at` instead of ranking a period's rows (migration 0006).
//! The three reads run at once. The result equals `fandesk_analytics::summarize` over
//! `list_metric_rows` (tested on both backends, also under random traffic).

use super::{HOUR_MICROS, reply_hour};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult, to_micros};
use fandesk_analytics::{GroupTotals, REPLY_WINDOW_MS, Segments};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, Postgres, Sqlite};

/// How the database keys records.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricGrouping {
    /// One group with this key.
    Constant(String),
    /// The member column: replier, team message author, assignee at resolution.
    Member,
    /// By the record's instant.
    Segments(Segments),
}

/// One of the summary's three reads (the benchmark times them one by one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricPart {
    /// FRT, first touch, volume, breaches (`metric_openings`).
    Openings,
    /// Reply rate (`metric_team_messages`).
    TeamMessages,
    /// Resolution rate and conversation length (`metric_resolutions`).
    Resolutions,
    /// The reply rate from `metric_team_messages` rows alone, as before the hourly
    /// counters (the benchmark's A/B; same numbers as [`MetricPart::TeamMessages`]).
    TeamMessageRows,
    /// The resolutions with a window function instead of `superseded_at`, as before
    /// migration 0006 (the benchmark's A/B; same numbers as [`MetricPart::Resolutions`]).
    ResolutionsWindow,
}

impl MetricPart {
    pub const ALL: [MetricPart; 3] = [
        MetricPart::Openings,
        MetricPart::TeamMessages,
        MetricPart::Resolutions,
    ];
}

/// Parameters: `$1` from, `$2` to, `$3` now-dependent cut-off; segment keys follow.
struct KeySql {
    /// Segment ends (micros, written into the SQL as literals: computed here, never user
    /// text), and the keys bound after the fixed parameters.
    ends: Vec<i64>,
    keys: Vec<Option<String>>,
}

impl KeySql {
    fn new(grouping: &MetricGrouping) -> KeySql {
        match grouping {
            MetricGrouping::Constant(key) => KeySql {
                ends: Vec::new(),
                keys: vec![Some(key.clone())],
            },
            MetricGrouping::Member => KeySql {
                ends: Vec::new(),
                keys: Vec::new(),
            },
            MetricGrouping::Segments(segments) => KeySql {
                ends: segments.iter().map(|(end, _)| to_micros(*end)).collect(),
                keys: segments.iter().map(|(_, key)| key.clone()).collect(),
            },
        }
    }

    /// The key expression for a table whose member column is `member` and instant `at`.
    fn expression(&self, grouping: &MetricGrouping, member: &str, at: &str) -> String {
        match grouping {
            MetricGrouping::Constant(_) => "CAST($4 AS TEXT)".to_owned(),
            MetricGrouping::Member => member.to_owned(),
            MetricGrouping::Segments(_) if self.ends.is_empty() => "CAST(NULL AS TEXT)".to_owned(),
            MetricGrouping::Segments(_) => self.tree(at, 0, self.ends.len()),
        }
    }
}

/// `[start, end)` intervals of microseconds.
type Ranges = Vec<(i64, i64)>;

/// Where a period's reply-rate figures come from: `metric_reply_hours` for whole UTC hours
/// that lie in the period, whose every message's 24 h window is over at the cut-off, and
/// that no group boundary cuts (so each counter belongs to one group, keyed by its hour's
/// start); `metric_team_messages` rows for everything else. The two cover the period
/// exactly once.
#[derive(Debug, PartialEq, Eq)]
struct ReplySplit {
    counters: Ranges,
    rows: Ranges,
}

impl ReplySplit {
    /// `cutoff`: messages sent at or before it are decided; `boundaries`: where the group
    /// changes (segment ends).
    fn new(from: i64, to: i64, cutoff: i64, boundaries: &[i64]) -> ReplySplit {
        let first = reply_hour(from)
            + if from.rem_euclid(HOUR_MICROS) == 0 {
                0
            } else {
                HOUR_MICROS
            };
        // The hour ending at `end` is decided when its last microsecond is.
        let end = reply_hour(to).min(reply_hour(cutoff.saturating_add(1)));
        let mut counters: Ranges = Vec::new();
        let mut rows: Ranges = Vec::new();
        if first >= end {
            push_range(&mut rows, from, to);
            return ReplySplit { counters, rows };
        }
        push_range(&mut rows, from, first);
        let mut cut: Vec<i64> = boundaries
            .iter()
            .filter(|at| first < **at && **at < end && at.rem_euclid(HOUR_MICROS) != 0)
            .map(|at| reply_hour(*at))
            .collect();
        cut.sort_unstable();
        cut.dedup();
        let mut start = first;
        for hour in cut {
            push_range(&mut counters, start, hour);
            push_range(&mut rows, hour, hour + HOUR_MICROS);
            start = hour + HOUR_MICROS;
        }
        push_range(&mut counters, start, end);
        push_range(&mut rows, end, to);
        ReplySplit { counters, rows }
    }
}

/// Appends `[start, end)` unless empty, merged with the last range when they touch.
fn push_range(ranges: &mut Ranges, start: i64, end: i64) {
    if start >= end {
        return;
    }
    match ranges.last_mut() {
        Some(last) if last.1 == start => last.1 = end,
        _ => ranges.push((start, end)),
    }
}

/// `(column >= a AND column < b) OR …` with the bounds as integer literals (computed
/// here, never user text).
fn ranges_sql(column: &str, ranges: &Ranges) -> String {
    if ranges.is_empty() {
        return "FALSE".to_owned();
    }
    ranges
        .iter()
        .map(|(start, end)| format!("({column} >= {start} AND {column} < {end})"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

impl KeySql {
    /// The key of segments `lo..hi` as a binary search: nested `CASE`s comparing `at` with
    /// literal ends, so a row costs about log2(segments) comparisons, not one per segment.
    /// Records lie in the period, before the last end.
    fn tree(&self, at: &str, lo: usize, hi: usize) -> String {
        if hi - lo == 1 {
            return format!("CAST(${} AS TEXT)", 4 + lo);
        }
        let mid = (lo + hi) / 2;
        format!(
            "CASE WHEN {at} < {} THEN {} ELSE {} END",
            self.ends[mid - 1],
            self.tree(at, lo, mid),
            self.tree(at, mid, hi)
        )
    }
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Per-group totals of `[from, to)`; `now` decides which team messages' 24 h reply
    /// windows have closed (younger ones are pending, answered or not, as in `summarize`).
    pub async fn aggregate_metrics(
        &self,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        grouping: &MetricGrouping,
    ) -> StoreResult<Vec<(Option<String>, GroupTotals)>> {
        // Three independent reads, each on a connection of the read pool at once.
        let (openings, team_messages, resolutions) = tokio::try_join!(
            self.aggregate_metric_part(MetricPart::Openings, from, to, now, grouping),
            self.aggregate_metric_part(MetricPart::TeamMessages, from, to, now, grouping),
            self.aggregate_metric_part(MetricPart::Resolutions, from, to, now, grouping),
        )?;
        let mut totals = openings;
        totals.extend(team_messages);
        totals.extend(resolutions);
        Ok(totals)
    }

    /// One part of [`Store::aggregate_metrics`].
    pub async fn aggregate_metric_part(
        &self,
        part: MetricPart,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        grouping: &MetricGrouping,
    ) -> StoreResult<Vec<(Option<String>, GroupTotals)>> {
        match self {
            Store::Sqlite(db) => {
                aggregate_part::<Sqlite>(&db.read, part, from, to, now, grouping).await
            }
            Store::Postgres(db) => {
                aggregate_part::<Postgres>(&db.pool, part, from, to, now, grouping).await
            }
        }
    }
}

async fn aggregate_part<D: Dialect>(
    pool: &sqlx::Pool<D>,
    part: MetricPart,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
    grouping: &MetricGrouping,
) -> StoreResult<Vec<(Option<String>, GroupTotals)>> {
    let key = KeySql::new(grouping);
    let list = D::value_list;
    let touch =
        "CASE WHEN first_touch_at < clock_at THEN 0 ELSE (first_touch_at - clock_at) / 1000 END";
    let openings_sql = format!(
        "SELECT {key_sql} AS group_key, COUNT(*) AS volume, \
         CAST(SUM(CASE WHEN frt_ms IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unanswered, \
         CAST(SUM(CASE WHEN frt_ms IS NOT NULL AND breached THEN 1 ELSE 0 END) AS BIGINT) AS breaches, \
         {frt} AS frt, {touch_list} AS touch \
         FROM metric_openings WHERE clock_at IS NOT NULL AND clock_at >= $1 AND clock_at < $2 \
           AND $3 = $3 GROUP BY 1",
        key_sql = key.expression(grouping, "replier_id", "clock_at"),
        frt = list("frt_ms"),
        touch_list = list(&format!(
            "CASE WHEN first_touch_at IS NULL THEN NULL ELSE {touch} END"
        )),
    );
    // Decided: sent at or before the cut-off, when the 24 h window has closed (in whole
    // ms, as `summarize`); younger messages are pending, answered or not.
    let cutoff = to_micros(now) - (REPLY_WINDOW_MS + 1) * 1_000;
    let (from, to) = (to_micros(from), to_micros(to));
    // Whole hours are read from the hourly counters, the rest from the rows.
    let split = match part {
        MetricPart::TeamMessageRows => ReplySplit {
            counters: Vec::new(),
            rows: vec![(from, to)],
        },
        _ => ReplySplit::new(from, to, cutoff, &key.ends),
    };
    let messages_sql = format!(
        "SELECT {key_sql} AS group_key, \
         CAST(SUM(CASE WHEN sent_at <= $3 THEN 1 ELSE 0 END) AS BIGINT) AS decided, \
         CAST(SUM(CASE WHEN sent_at <= $3 AND answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS answered, \
         CAST(SUM(CASE WHEN sent_at > $3 THEN 1 ELSE 0 END) AS BIGINT) AS pending \
         FROM metric_team_messages WHERE sent_at >= $1 AND sent_at < $2 AND ({ranges}) \
           GROUP BY 1",
        key_sql = key.expression(grouping, "author_id", "sent_at"),
        ranges = ranges_sql("sent_at", &split.rows),
    );
    let counters_sql = format!(
        "SELECT {key_sql} AS group_key, CAST(SUM(sent) AS BIGINT) AS decided, \
         CAST(SUM(answered) AS BIGINT) AS answered, CAST(0 AS BIGINT) AS pending \
         FROM metric_reply_hours WHERE hour >= $1 AND hour < $2 AND ({ranges}) \
           AND $3 = $3 GROUP BY 1",
        key_sql = key.expression(grouping, "author_id", "hour"),
        ranges = ranges_sql("hour", &split.counters),
    );
    // A conversation resolved twice in the period counts once, by its last resolution:
    // the one in the period whose next resolution is not.
    let resolutions_sql = format!(
        "SELECT {key_sql} AS group_key, COUNT(*) AS resolved, \
         CAST(SUM(CASE WHEN escalated THEN 0 ELSE 1 END) AS BIGINT) AS clean, \
         CAST(SUM(public_messages) AS BIGINT) AS length_sum \
         FROM metric_resolutions WHERE resolved_at >= $1 AND resolved_at < $2 \
           AND (superseded_at IS NULL OR superseded_at >= $2) AND $3 = $3 GROUP BY 1",
        key_sql = key.expression(grouping, "assignee_id", "resolved_at"),
    );
    let window_sql = format!(
        "SELECT {key_sql} AS group_key, COUNT(*) AS resolved, \
         CAST(SUM(CASE WHEN escalated THEN 0 ELSE 1 END) AS BIGINT) AS clean, \
         CAST(SUM(public_messages) AS BIGINT) AS length_sum \
         FROM (SELECT assignee_id, resolved_at, escalated, public_messages, \
               ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY resolved_at DESC, id DESC) AS position \
               FROM metric_resolutions WHERE resolved_at >= $1 AND resolved_at < $2 AND $3 = $3) AS latest \
         WHERE position = 1 GROUP BY 1",
        key_sql = key.expression(grouping, "assignee_id", "resolved_at"),
    );
    let reads: Vec<(usize, &String)> = match part {
        MetricPart::Openings => vec![(0, &openings_sql)],
        MetricPart::TeamMessages | MetricPart::TeamMessageRows => [
            (!split.counters.is_empty()).then_some((1, &counters_sql)),
            (!split.rows.is_empty()).then_some((1, &messages_sql)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        MetricPart::Resolutions => vec![(2, &resolutions_sql)],
        MetricPart::ResolutionsWindow => vec![(2, &window_sql)],
    };
    let mut connection = pool.acquire().await?;
    let mut totals: Vec<(Option<String>, GroupTotals)> = Vec::new();
    for (index, sql) in reads {
        let statement = Statement::new(AssertSqlSafe(sql.as_str()))
            .bind(from)
            .bind(to)
            .bind(cutoff)
            .bind_all(key.keys.iter().map(Option::as_deref));
        for row in D::fetch_all(&mut connection, D::prepare(statement)).await? {
            let mut group = GroupTotals::default();
            match index {
                0 => {
                    group.volume = count(row.int("volume")?);
                    group.unanswered = count(row.int("unanswered")?);
                    group.breaches = count(row.int("breaches")?);
                    group.frt = D::read_value_list(&row, "frt")?;
                    group.touch = D::read_value_list(&row, "touch")?;
                }
                1 => {
                    group.decided = count(row.int("decided")?);
                    group.answered = count(row.int("answered")?);
                    group.pending = count(row.int("pending")?);
                }
                _ => {
                    group.resolved = count(row.int("resolved")?);
                    group.resolved_clean = count(row.int("clean")?);
                    group.length_sum = count(row.int("length_sum")?);
                }
            }
            totals.push((row.optional_text("group_key")?, group));
        }
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR_MICROS;

    /// Every microsecond of the period in exactly one range, counters on whole decided
    /// hours that no boundary cuts.
    fn check(from: i64, to: i64, cutoff: i64, boundaries: &[i64]) -> ReplySplit {
        let split = ReplySplit::new(from, to, cutoff, boundaries);
        let mut all: Ranges = split.counters.iter().chain(&split.rows).copied().collect();
        all.sort_unstable();
        let mut at = from;
        for (start, end) in &all {
            assert_eq!(*start, at, "{split:?}");
            at = *end;
        }
        assert_eq!(at, to, "{split:?}");
        for (start, end) in &split.counters {
            assert_eq!(start.rem_euclid(H), 0);
            assert_eq!(end.rem_euclid(H), 0);
            assert!(*end - 1 <= cutoff, "{split:?}");
            assert!(
                !boundaries
                    .iter()
                    .any(|b| start < b && b < end && b.rem_euclid(H) != 0)
            );
        }
        split
    }

    #[test]
    fn whole_decided_hours_come_from_the_counters() {
        // A week on hour marks, long decided, boundaries on hour marks: counters only.
        let week = 168 * H;
        let split = check(100 * H, 100 * H + week, 1_000 * H, &[110 * H, 130 * H]);
        assert_eq!(split.counters, vec![(100 * H, 100 * H + week)]);
        assert!(split.rows.is_empty());
        // Ragged ends, a half-hour boundary, and a cut-off inside the period.
        let split = check(
            10 * H + 5,
            40 * H + 7,
            30 * H + H / 2,
            &[20 * H + H / 2, 40 * H + 7],
        );
        assert_eq!(split.counters, vec![(11 * H, 20 * H), (21 * H, 30 * H)]);
        assert_eq!(
            split.rows,
            vec![(10 * H + 5, 11 * H), (20 * H, 21 * H), (30 * H, 40 * H + 7)]
        );
        // The last microsecond of an hour decides it.
        let split = check(0, 3 * H, 2 * H - 1, &[]);
        assert_eq!(split.counters, vec![(0, 2 * H)]);
        // Nothing decided, or less than an hour: rows only.
        assert!(check(0, 3 * H, -1, &[]).counters.is_empty());
        assert_eq!(check(5, H + 4, 10 * H, &[]).rows, vec![(5, H + 4)]);
        // Before 1970 the hours still start on hour marks.
        check(-5 * H - 3, -H + 2, 0, &[-3 * H - 1]);
    }
}
