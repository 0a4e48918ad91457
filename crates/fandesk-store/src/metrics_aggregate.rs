//! The summary query (issue 6 › 3): the metric rows of a period reduced to per-group
//! totals inside the database, so only a handful of rows leave it. Agent keys are a
//! column; shift and day keys are `fandesk_analytics::Segments` turned into one `CASE`
//! over the record's instant. FRT and first-touch values travel as one concatenated list
//! per group, so percentiles stay exact (nearest rank over every value). The result equals
//! `fandesk_analytics::summarize` over `list_metric_rows` (tested on both backends).

use crate::{Store, StoreError, StoreResult, to_micros};
use fandesk_analytics::{GroupTotals, REPLY_WINDOW_MS, Segments};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

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

/// Parameters: `$1` from, `$2` to, `$3` now-dependent cut-off; segment keys follow.
struct KeySql {
    /// Values bound after the fixed parameters: segment ends (micros) and keys.
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
            MetricGrouping::Segments(_) => {
                let count = self.ends.len();
                let mut sql = String::from("CASE");
                for index in 0..count {
                    sql.push_str(&format!(
                        " WHEN {at} < CAST(${} AS BIGINT) THEN CAST(${} AS TEXT)",
                        4 + index,
                        4 + count + index
                    ));
                }
                sql.push_str(" END");
                sql
            }
        }
    }
}

fn values(list: Option<String>) -> StoreResult<Vec<i64>> {
    list.as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|value| !value.is_empty())
        .map(|value| {
            value
                .trim()
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("aggregate value {value:?}")))
        })
        .collect()
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Per-group totals of `[from, to)`; `now` decides which team messages' 24 h reply
    /// windows are over (younger unanswered ones are left out, as in `summarize`).
    pub async fn aggregate_metrics(
        &self,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        grouping: &MetricGrouping,
    ) -> StoreResult<Vec<(Option<String>, GroupTotals)>> {
        let key = KeySql::new(grouping);
        let list = |expression: &str| match self {
            Store::Sqlite(_) => format!("group_concat({expression})"),
            Store::Postgres(_) => format!("string_agg(CAST({expression} AS TEXT), ',')"),
        };
        let touch = "CASE WHEN first_touch_at < clock_at THEN 0 ELSE (first_touch_at - clock_at) / 1000 END";
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
        let messages_sql = format!(
            "SELECT {key_sql} AS group_key, COUNT(*) AS decided, \
             CAST(SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS answered \
             FROM metric_team_messages WHERE sent_at >= $1 AND sent_at < $2 \
               AND (answered_at IS NOT NULL OR sent_at <= $3) GROUP BY 1",
            key_sql = key.expression(grouping, "author_id", "sent_at"),
        );
        // A conversation resolved twice in the period counts once, by its last resolution.
        let resolutions_sql = format!(
            "SELECT {key_sql} AS group_key, COUNT(*) AS resolved, \
             CAST(SUM(CASE WHEN escalated THEN 0 ELSE 1 END) AS BIGINT) AS clean, \
             CAST(SUM(public_messages) AS BIGINT) AS length_sum \
             FROM (SELECT assignee_id, resolved_at, escalated, public_messages, \
                   ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY resolved_at DESC, id DESC) AS position \
                   FROM metric_resolutions WHERE resolved_at >= $1 AND resolved_at < $2 AND $3 = $3) AS latest \
             WHERE position = 1 GROUP BY 1",
            key_sql = key.expression(grouping, "assignee_id", "resolved_at"),
        );
        // Undecided: unanswered and younger than the window (in whole ms, as `summarize`).
        let cutoff = to_micros(now) - (REPLY_WINDOW_MS + 1) * 1_000;
        let (from, to) = (to_micros(from), to_micros(to));
        let mut totals: Vec<(Option<String>, GroupTotals)> = Vec::new();
        on_pool!(self, read, |pool| {
            use sqlx::Row as _;
            for (index, sql) in [&openings_sql, &messages_sql, &resolutions_sql]
                .into_iter()
                .enumerate()
            {
                let mut query = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(from)
                    .bind(to)
                    .bind(cutoff);
                for end in &key.ends {
                    query = query.bind(*end);
                }
                for group_key in &key.keys {
                    query = query.bind(group_key.clone());
                }
                for row in query.fetch_all(pool).await? {
                    let group_key: Option<String> = row.try_get("group_key")?;
                    let mut group = GroupTotals::default();
                    match index {
                        0 => {
                            group.volume = count(row.try_get("volume")?);
                            group.unanswered = count(row.try_get("unanswered")?);
                            group.breaches = count(row.try_get("breaches")?);
                            group.frt = values(row.try_get("frt")?)?;
                            group.touch = values(row.try_get("touch")?)?;
                        }
                        1 => {
                            group.decided = count(row.try_get("decided")?);
                            group.answered = count(row.try_get("answered")?);
                        }
                        _ => {
                            group.resolved = count(row.try_get("resolved")?);
                            group.resolved_clean = count(row.try_get("clean")?);
                            group.length_sum = count(row.try_get("length_sum")?);
                        }
                    }
                    totals.push((group_key, group));
                }
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(totals)
    }
}
