//! Durable timers (PRODUCT.md › Multi-node: "scheduled jobs run exactly once across
//! nodes"): a job is a row with a `due_at`, claimed when due under a lease, and marked
//! done once handled. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so nodes never
//! wait for or take each other's jobs; SQLite claims inside its single writer connection.
//! A worker that dies holding a job lets its lease run out, and the job runs again, so
//! handlers re-check their facts (at least once, de-duplicated by the handler).

use crate::{Store, StoreResult, from_micros, to_micros};
use jiff::{SignedDuration, Timestamp};

/// A job to schedule. At most one job exists per `key` (ever), so scheduling is idempotent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    /// What handles it, e.g. `sla_first_response`.
    pub kind: String,
    pub key: String,
    /// JSON facts for the handler.
    pub payload: String,
    pub due_at: Timestamp,
}

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub key: String,
    pub payload: String,
    pub due_at: Timestamp,
    /// Claims so far, this one included.
    pub attempts: i64,
}

/// See [`Store::find_job`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub due_at: Timestamp,
    pub attempts: i64,
    pub claimed: bool,
    pub done: bool,
}

const CLAIM: &str = "UPDATE jobs SET claimed_until = $2, attempts = attempts + 1 WHERE id IN \
     (SELECT id FROM jobs WHERE done_at IS NULL AND due_at <= $1 \
      AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY due_at, id LIMIT $3{lock}) \
     RETURNING id, kind, job_key, payload, due_at, attempts";

impl Store {
    /// Schedules a job; `false` when a job with this key already exists (done or not).
    pub async fn insert_job(&self, job: &NewJob, at: Timestamp) -> StoreResult<bool> {
        let inserted = on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO jobs (id, kind, job_key, payload, due_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_key) DO NOTHING",
            )
            .bind(job.id.as_str())
            .bind(job.kind.as_str())
            .bind(job.key.as_str())
            .bind(job.payload.as_str())
            .bind(to_micros(job.due_at))
            .bind(to_micros(at))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Claims up to `limit` jobs due at `now` for `lease`, oldest due first. A claimed job
    /// is not handed out again until its lease ends or it is released.
    pub async fn claim_due_jobs(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> StoreResult<Vec<JobRow>> {
        // Look first on the read side: the scheduler asks every second, and on SQLite an
        // empty claim would still queue behind (and hold up) the group commit's writer.
        let due: Option<String> = on_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM jobs WHERE done_at IS NULL AND due_at <= $1 \
                 AND (claimed_until IS NULL OR claimed_until <= $1) LIMIT 1",
            )
            .bind(to_micros(now))
            .fetch_optional(pool)
            .await?
        });
        if due.is_none() {
            return Ok(Vec::new());
        }
        let until = now.saturating_add(lease).unwrap_or(now);
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = CLAIM.replace("{lock}", lock);
        let mut jobs = on_pool!(self, write, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(to_micros(now))
                .bind(to_micros(until))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            let mut jobs = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                jobs.push(JobRow {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    key: row.try_get("job_key")?,
                    payload: row.try_get("payload")?,
                    due_at: from_micros(row.try_get("due_at")?)?,
                    attempts: row.try_get("attempts")?,
                });
            }
            jobs
        });
        // RETURNING keeps no order.
        jobs.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(jobs)
    }

    /// Marks a claimed job handled; it never runs again.
    pub async fn complete_job(&self, id: &str, at: Timestamp) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query("UPDATE jobs SET done_at = $2, claimed_until = NULL WHERE id = $1")
                .bind(id)
                .bind(to_micros(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Gives a claimed job back to run again at `retry_at` (its handler failed).
    pub async fn release_job(&self, id: &str, retry_at: Timestamp) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query("UPDATE jobs SET claimed_until = NULL, due_at = $2 WHERE id = $1 AND done_at IS NULL")
                .bind(id)
                .bind(to_micros(retry_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The job with `key`, claimed or not (operations and tests): when it is due, how
    /// often it was claimed, whether a lease holds it, and whether it is done.
    pub async fn find_job(&self, key: &str) -> StoreResult<Option<JobState>> {
        let row: Option<(i64, i64, Option<i64>, Option<i64>)> = on_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT due_at, attempts, claimed_until, done_at FROM jobs WHERE job_key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(due_at, attempts, claimed_until, done_at)| {
            Ok(JobState {
                due_at: from_micros(due_at)?,
                attempts,
                claimed: claimed_until.is_some(),
                done: done_at.is_some(),
            })
        })
        .transpose()
    }

    /// How many jobs are not yet done (operations and tests).
    pub async fn count_pending_jobs(&self) -> StoreResult<i64> {
        on_pool!(self, read, |pool| {
            Ok(
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
                    .fetch_one(pool)
                    .await?,
            )
        })
    }
}
