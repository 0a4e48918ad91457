//! Durable timers (`docs/product.md` › SLA: timers are jobs in the database, run once
//! even with several nodes): a job is a row with a `due_at`, claimed when due under a lease, and marked
//! done once handled. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so nodes never
//! wait for or take each other's jobs; SQLite claims inside its single writer connection.
//! A worker that dies holding a job lets its lease run out, and the job runs again, so
//! handlers re-check their facts (at least once, de-duplicated by the handler).

use crate::dialect::Dialect;
use crate::statement::{Columns, PushValue, Statement, fetch_all};
use crate::{Store, StoreResult, from_micros, to_micros};
use jiff::{SignedDuration, Timestamp};
use sqlx::{AssertSqlSafe, FromRow, Postgres, QueryBuilder, Sqlite};

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

impl<'r, R: Columns> FromRow<'r, R> for JobRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(JobRow {
            id: row.text("id")?,
            kind: row.text("kind")?,
            key: row.text("job_key")?,
            payload: row.text("payload")?,
            due_at: row.time("due_at")?,
            attempts: row.int("attempts")?,
        })
    }
}

impl Store {
    /// Schedules a job; `false` when a job with this key already exists (done or not).
    pub async fn insert_job(&self, job: &NewJob, at: Timestamp) -> StoreResult<bool> {
        let statement = Statement::new(
            "INSERT INTO jobs (id, kind, job_key, payload, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_key) DO NOTHING",
        )
        .bind(job.id.as_str())
        .bind(job.kind.as_str())
        .bind(job.key.as_str())
        .bind(job.payload.as_str())
        .bind(to_micros(job.due_at))
        .bind(to_micros(at));
        Ok(self.writer().execute(statement).await? == 1)
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
        let due: Option<(String,)> = self
            .reader()
            .fetch_optional(
                Statement::new(
                    "SELECT id FROM jobs WHERE done_at IS NULL AND due_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until <= $1) LIMIT 1",
                )
                .bind(to_micros(now)),
            )
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let until = now.saturating_add(lease).unwrap_or(now);
        let mut jobs = match self {
            Store::Sqlite(db) => claim::<Sqlite>(&db.write, now, until, limit).await?,
            Store::Postgres(db) => claim::<Postgres>(&db.pool, now, until, limit).await?,
        };
        // RETURNING keeps no order.
        jobs.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(jobs)
    }

    /// Marks a claimed job handled; it never runs again.
    pub async fn complete_job(&self, id: &str, at: Timestamp) -> StoreResult<()> {
        let statement =
            Statement::new("UPDATE jobs SET done_at = $2, claimed_until = NULL WHERE id = $1")
                .bind(id)
                .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Gives a claimed job back to run again at `retry_at` (its handler failed).
    pub async fn release_job(&self, id: &str, retry_at: Timestamp) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE jobs SET claimed_until = NULL, due_at = $2 WHERE id = $1 AND done_at IS NULL",
        )
        .bind(id)
        .bind(to_micros(retry_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// The job with `key`, claimed or not (operations and tests): when it is due, how
    /// often it was claimed, whether a lease holds it, and whether it is done.
    pub async fn find_job(&self, key: &str) -> StoreResult<Option<JobState>> {
        let statement = Statement::new(
            "SELECT due_at, attempts, claimed_until, done_at FROM jobs WHERE job_key = $1",
        )
        .bind(key);
        let row: Option<(i64, i64, Option<i64>, Option<i64>)> =
            self.reader().fetch_optional(statement).await?;
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
        let (count,): (i64,) = self
            .reader()
            .fetch_one(Statement::new(
                "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL",
            ))
            .await?;
        Ok(count)
    }
}

/// Jobs per multi-row insert: 6 parameters a row.
const JOB_CHUNK: usize = 1000;

/// Schedules `jobs` inside the caller's transaction (a feature that writes its own rows
/// and their jobs together); keys that exist already are skipped, as in
/// [`Store::insert_job`].
pub(crate) async fn insert_jobs<D: Dialect>(
    tx: &mut D::Connection,
    jobs: &[NewJob],
    at: Timestamp,
) -> StoreResult<()> {
    for chunk in jobs.chunks(JOB_CHUNK) {
        let mut insert = QueryBuilder::<D>::new(
            "INSERT INTO jobs (id, kind, job_key, payload, due_at, created_at) ",
        );
        insert.push_values(chunk, |mut values, job| {
            values
                .value(job.id.as_str())
                .value(job.kind.as_str())
                .value(job.key.as_str())
                .value(job.payload.as_str())
                .value(to_micros(job.due_at))
                .value(to_micros(at));
        });
        insert.push(" ON CONFLICT (job_key) DO NOTHING");
        D::execute(tx, insert.build()).await?;
    }
    Ok(())
}

/// The claim itself, on the writer: PostgreSQL skips rows another node is claiming.
async fn claim<D: Dialect>(
    pool: &sqlx::Pool<D>,
    now: Timestamp,
    until: Timestamp,
    limit: u32,
) -> StoreResult<Vec<JobRow>> {
    let sql = CLAIM.replace("{lock}", D::SKIP_LOCKED);
    let statement = Statement::new(AssertSqlSafe(sql))
        .bind(to_micros(now))
        .bind(to_micros(until))
        .bind(i64::from(limit));
    fetch_all::<D, JobRow>(&mut *pool.acquire().await?, statement).await
}
