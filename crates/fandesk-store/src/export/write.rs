//! The import: checked lines inserted in file order, a batch of lines per transaction,
//! each row only when its key is new (so importing twice changes nothing), members matched
//! by id, then by email (docs/export.md › Import).

use super::line::{Parsed, Record, Value, parse_line};
use super::tables::{
    CHANNEL_MESSAGES, CHANNELS, CONVERSATIONS, CONVERSIONS, DECISIONS, FANS, MEMBERS, MESSAGES,
    METRIC_TEAM_MESSAGES, Table,
};
use crate::dialect::Dialect;
use crate::metrics::reply_hour;
use crate::statement::{Columns, Param, Statement, execute};
use crate::{Store, StoreError, StoreResult};
use sqlx::{AssertSqlSafe, Pool, Postgres, Sqlite};
use std::collections::HashMap;

/// Lines per transaction.
const BATCH_LINES: usize = 500;

/// A password hash no password matches (it is not a PHC string): a member created by an
/// import cannot log in (docs/export.md › Members).
const NO_PASSWORD: &str = "!imported";

/// What an import did: rows inserted per kind, and rows skipped because their key was
/// already there (or, for members, matched by email).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub lines: u64,
    pub members: u64,
    pub fans: u64,
    pub conversations: u64,
    pub messages: u64,
    /// Metric rows (openings, team messages, resolutions) inserted.
    pub metric_rows: u64,
    /// Team channels, their messages and decision-log entries inserted.
    pub channel_rows: u64,
    /// Conversions inserted.
    pub conversions: u64,
    pub skipped: u64,
}

/// Checks one line without writing: what `fandesk import` runs over a whole file before
/// it writes anything. `first` says whether it is the file's first line (the header).
pub fn check_import_line(line_number: u64, text: &str, first: bool) -> StoreResult<()> {
    parse(line_number, text, first).map(|_| ())
}

fn parse(line_number: u64, text: &str, first: bool) -> StoreResult<Option<Record>> {
    let bad = |reason: String| StoreError::BadLine {
        line: line_number,
        reason,
    };
    let parsed = parse_line(text).map_err(bad)?;
    match (parsed, first) {
        (Parsed::Header, true) => Ok(None),
        (Parsed::Header, false) => Err(bad("a header may only be the first line".to_owned())),
        (Parsed::Row(_), true) => Err(bad("the first line must be the header".to_owned())),
        (Parsed::Row(record), false) => Ok(Some(record)),
    }
}

/// An import in progress. Lines go in with [`Importer::push_line`]; every
/// `BATCH_LINES` lines are written in one transaction, and [`Importer::finish`] writes
/// the rest. A line the checks or the database refuse fails with its number, and its
/// batch is rolled back whole.
pub struct Importer<'s> {
    store: &'s Store,
    batch: Vec<(u64, Record)>,
    /// Exported member id → the importing workspace's id, for members matched by email.
    members: HashMap<String, String>,
    summary: ImportSummary,
    lines: u64,
}

impl Store {
    pub fn importer(&self) -> Importer<'_> {
        Importer {
            store: self,
            batch: Vec::with_capacity(BATCH_LINES),
            members: HashMap::new(),
            summary: ImportSummary::default(),
            lines: 0,
        }
    }
}

impl Importer<'_> {
    /// Takes the next line (numbered from 1, without its newline). Blank lines are skipped.
    pub async fn push_line(&mut self, line_number: u64, text: &str) -> StoreResult<()> {
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            return Ok(());
        }
        let first = self.lines == 0;
        self.lines += 1;
        if let Some(record) = parse(line_number, text, first)? {
            self.batch.push((line_number, record));
        }
        if self.batch.len() >= BATCH_LINES {
            self.flush().await?;
        }
        Ok(())
    }

    /// What has been committed so far.
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// Writes the last batch; an input without even a header is refused.
    pub async fn finish(mut self) -> StoreResult<ImportSummary> {
        if self.lines == 0 {
            return Err(StoreError::BadLine {
                line: 1,
                reason: "empty input: the first line must be the header".to_owned(),
            });
        }
        self.flush().await?;
        self.summary.lines = self.lines;
        Ok(self.summary)
    }

    async fn flush(&mut self) -> StoreResult<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let (members, summary) = match self.store {
            // SQLite runs in process: a statement per row costs no round trip, and one
            // statement of thousands of `$N` parameters is slower there (RELIABILITY.md ›
            // Export and import). PostgreSQL pays a round trip per statement.
            Store::Sqlite(db) => {
                write_batch::<Sqlite>(&db.write, &batch, &self.members, false).await?
            }
            Store::Postgres(db) => {
                write_batch::<Postgres>(&db.pool, &batch, &self.members, true).await?
            }
        };
        self.members.extend(members);
        let total = &mut self.summary;
        total.members += summary.members;
        total.fans += summary.fans;
        total.conversations += summary.conversations;
        total.messages += summary.messages;
        total.metric_rows += summary.metric_rows;
        total.channel_rows += summary.channel_rows;
        total.conversions += summary.conversions;
        total.skipped += summary.skipped;
        self.batch = batch;
        self.batch.clear();
        Ok(())
    }
}

/// One transaction: every record of the batch, or none. Returns the member ids it matched
/// by email and what it inserted.
async fn write_batch<D: Dialect>(
    pool: &Pool<D>,
    batch: &[(u64, Record)],
    known: &HashMap<String, String>,
    multi_row: bool,
) -> StoreResult<(HashMap<String, String>, ImportSummary)> {
    let mut transaction = pool.begin().await?;
    let mut matched = HashMap::new();
    let mut summary = ImportSummary::default();
    let mut index = 0;
    while index < batch.len() {
        let (line, record) = &batch[index];
        let table = record.table;
        if std::ptr::eq(table, &MEMBERS) {
            let created = write_member::<D>(&mut transaction, record, &mut matched)
                .await
                .map_err(|error| refused(*line, record, error))?;
            count(&mut summary, table, u64::from(created), u64::from(!created));
            index += 1;
            continue;
        }
        // The run of lines of this table: on PostgreSQL one multi-row statement (one round
        // trip).
        let end = batch[index..]
            .iter()
            .position(|(_, other)| !std::ptr::eq(other.table, table))
            .map_or(batch.len(), |offset| index + offset);
        let group = &batch[index..end];
        let ids = |id: &str| matched.get(id).or_else(|| known.get(id)).cloned();
        let rows: Vec<Vec<Value>> = group
            .iter()
            .map(|(_, record)| with_member_ids(record, ids))
            .collect();
        let together = if multi_row {
            execute::<D>(&mut transaction, Statement::new("SAVEPOINT import_rows")).await?;
            Some(insert_rows::<D>(&mut transaction, table, &rows).await)
        } else {
            None
        };
        match together {
            Some(Ok(inserted)) => {
                execute::<D>(
                    &mut transaction,
                    Statement::new("RELEASE SAVEPOINT import_rows"),
                )
                .await?;
                let inserted = inserted as u64;
                count(&mut summary, table, inserted, group.len() as u64 - inserted);
            }
            refused_or_single => {
                // Row by row: SQLite always; PostgreSQL to name the line it refuses.
                if refused_or_single.is_some() {
                    execute::<D>(
                        &mut transaction,
                        Statement::new("ROLLBACK TO SAVEPOINT import_rows"),
                    )
                    .await?;
                }
                for ((line, record), values) in group.iter().zip(&rows) {
                    let inserted = write_row::<D>(&mut transaction, table, values)
                        .await
                        .map_err(|error| refused(*line, record, error))?;
                    count(
                        &mut summary,
                        table,
                        u64::from(inserted),
                        u64::from(!inserted),
                    );
                }
            }
        }
        index = end;
    }
    transaction.commit().await.map_err(StoreError::at_commit)?;
    Ok((matched, summary))
}

/// A member is the same person when the id is taken (kept as it is) or, failing that,
/// the email (their id then replaces the exported one); otherwise they are created
/// without a usable password. Returns whether a member was created.
async fn write_member<D: Dialect>(
    connection: &mut D::Connection,
    record: &Record,
    matched: &mut HashMap<String, String>,
) -> StoreResult<bool> {
    let id = record.key();
    let email = record.text("email").unwrap_or_default();
    let by_id = Statement::new("SELECT id FROM members WHERE id = $1").bind(id);
    if D::fetch_optional(connection, D::prepare(by_id))
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let by_email = Statement::new("SELECT id FROM members WHERE email = $1").bind(email);
    if let Some(row) = D::fetch_optional(connection, D::prepare(by_email)).await? {
        matched.insert(id.to_owned(), row.text("id")?);
        return Ok(false);
    }
    let names: Vec<&str> = record
        .table
        .columns
        .iter()
        .map(|column| column.name)
        .collect();
    let sql = format!(
        "INSERT INTO members ({}, password_hash) VALUES ({}, ${})",
        names.join(", "),
        crate::statement::placeholders(1, names.len()),
        names.len() + 1
    );
    let statement = Statement::new(AssertSqlSafe(sql))
        .bind_all(record.values.iter().map(param))
        .bind(NO_PASSWORD);
    execute::<D>(connection, statement).await?;
    Ok(true)
}

fn refused(line: u64, record: &Record, error: StoreError) -> StoreError {
    StoreError::BadLine {
        line,
        reason: format!("{} {:?} refused: {error}", record.table.line, record.key()),
    }
}

fn count(summary: &mut ImportSummary, table: &Table, inserted: u64, skipped: u64) {
    summary.skipped += skipped;
    let counter = if std::ptr::eq(table, &MEMBERS) {
        &mut summary.members
    } else if std::ptr::eq(table, &FANS) {
        &mut summary.fans
    } else if std::ptr::eq(table, &CONVERSATIONS) {
        &mut summary.conversations
    } else if std::ptr::eq(table, &MESSAGES) {
        &mut summary.messages
    } else if std::ptr::eq(table, &CONVERSIONS) {
        &mut summary.conversions
    } else if [&CHANNELS, &CHANNEL_MESSAGES, &DECISIONS]
        .iter()
        .any(|channel_table| std::ptr::eq(table, *channel_table))
    {
        &mut summary.channel_rows
    } else {
        &mut summary.metric_rows
    };
    *counter += inserted;
}

/// The record's values with member references rewritten through `ids`.
fn with_member_ids(record: &Record, ids: impl Fn(&str) -> Option<String>) -> Vec<Value> {
    record
        .table
        .columns
        .iter()
        .zip(&record.values)
        .map(|(column, value)| match value {
            Value::Text(Some(id)) if column.member => {
                Value::Text(Some(ids(id).unwrap_or_else(|| id.clone())))
            }
            other => other.clone(),
        })
        .collect()
}

/// Inserts the rows whose key is new in one statement; returns how many it inserted.
async fn insert_rows<D: Dialect>(
    connection: &mut D::Connection,
    table: &Table,
    rows: &[Vec<Value>],
) -> StoreResult<usize> {
    let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let width = names.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|row| {
            format!(
                "({})",
                crate::statement::placeholders(1 + row * width, width)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO NOTHING RETURNING {}",
        table.name,
        names.join(", "),
        tuples.join(", "),
        table.key(),
        table.key()
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind_all(rows.iter().flatten().map(param));
    let returned = D::fetch_all(connection, D::prepare(statement)).await?;
    if std::ptr::eq(table, &METRIC_TEAM_MESSAGES) {
        let mut inserted = std::collections::HashSet::with_capacity(returned.len());
        for row in &returned {
            inserted.insert(row.text(table.key())?);
        }
        for values in rows {
            if matches!(&values[0], Value::Text(Some(key)) if inserted.contains(key)) {
                count_reply_hour::<D>(connection, values).await?;
            }
        }
    }
    Ok(returned.len())
}

/// Inserts one row unless its key is taken; returns whether it was inserted.
async fn write_row<D: Dialect>(
    connection: &mut D::Connection,
    table: &Table,
    values: &[Value],
) -> StoreResult<bool> {
    let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO NOTHING",
        table.name,
        names.join(", "),
        crate::statement::placeholders(1, names.len()),
        table.key()
    );
    let statement = Statement::new(AssertSqlSafe(sql)).bind_all(values.iter().map(param));
    let inserted = execute::<D>(connection, statement).await? > 0;
    if inserted && std::ptr::eq(table, &METRIC_TEAM_MESSAGES) {
        count_reply_hour::<D>(connection, values).await?;
    }
    Ok(inserted)
}

/// A team-message metric row also counts in its hour's reply counters (migration 0006),
/// which are not exported: they are the sums of these rows.
async fn count_reply_hour<D: Dialect>(
    connection: &mut D::Connection,
    values: &[Value],
) -> StoreResult<()> {
    let (Value::Text(Some(author)), Value::Int(Some(sent_at)), Value::Int(answered_at)) =
        (&values[2], &values[3], &values[4])
    else {
        return Err(StoreError::Corrupt(
            "metric_team_message columns".to_owned(),
        ));
    };
    let statement = Statement::new(
        "INSERT INTO metric_reply_hours (hour, author_id, sent, answered) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (hour, author_id) DO UPDATE SET sent = metric_reply_hours.sent + 1, \
         answered = metric_reply_hours.answered + excluded.answered",
    )
    .bind(reply_hour(*sent_at))
    .bind(author.as_str())
    .bind(i64::from(answered_at.is_some()));
    execute::<D>(connection, statement).await?;
    Ok(())
}

fn param(value: &Value) -> Param<'_> {
    match value {
        Value::Text(text) => Param::Text(text.as_deref()),
        Value::Int(number) => Param::Int(*number),
        Value::Real(number) => Param::Real(*number),
        Value::Bool(flag) => Param::Bool(*flag),
    }
}
