//! The export's reader: one read transaction (a snapshot of one commit on either backend)
//! walked table by table in pages ordered by key, so a workspace of any size is streamed
//! without being held in memory (docs/export.md › Streaming).

use super::line::{FORMAT, VERSION, Value, write_line};
use super::tables::{Kind, TABLES, Table};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult};
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};

/// Rows read per query.
const PAGE_ROWS: i64 = 1000;

/// How many rows of each line type the export holds, in file order.
pub type ExportCounts = Vec<(&'static str, u64)>;

/// The open read transaction the export runs in.
enum Snapshot {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// An export in progress: the header line, then each table's lines page by page.
pub struct ExportCursor {
    snapshot: Snapshot,
    header: Option<String>,
    counts: ExportCounts,
    table: usize,
    after: Option<String>,
}

impl Store {
    /// Starts an export of the workspace as of one commit; `exported_at` goes in the header.
    pub async fn export(&self, exported_at: jiff::Timestamp) -> StoreResult<ExportCursor> {
        let mut snapshot = match self {
            Store::Sqlite(db) => Snapshot::Sqlite(db.read.begin().await?),
            Store::Postgres(db) => {
                let mut transaction = db.pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *transaction)
                    .await?;
                Snapshot::Postgres(transaction)
            }
        };
        let mut counts = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let count = match &mut snapshot {
                Snapshot::Sqlite(transaction) => count::<Sqlite>(&mut **transaction, table).await?,
                Snapshot::Postgres(transaction) => {
                    count::<Postgres>(&mut **transaction, table).await?
                }
            };
            counts.push((table.line, count));
        }
        let header = header_line(exported_at, self.backend(), &counts);
        Ok(ExportCursor {
            snapshot,
            header: Some(header),
            counts,
            table: 0,
            after: None,
        })
    }
}

fn header_line(exported_at: jiff::Timestamp, backend: &str, counts: &ExportCounts) -> String {
    let counts: serde_json::Map<String, serde_json::Value> = counts
        .iter()
        .map(|(line, count)| ((*line).to_owned(), serde_json::Value::from(*count)))
        .collect();
    let header = serde_json::json!({
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at.to_string(),
        "backend": backend,
        "counts": counts,
    });
    // `"type"` first, as on every line.
    let body = header.to_string();
    format!("{{\"type\":\"header\",{}", &body[1..])
}

impl ExportCursor {
    /// Rows of each line type, as counted when the export began.
    pub fn counts(&self) -> &ExportCounts {
        &self.counts
    }

    /// Lines the whole export has, the header included.
    pub fn total_lines(&self) -> u64 {
        1 + self.counts.iter().map(|(_, count)| count).sum::<u64>()
    }

    /// The next lines, each ending in `\n`, with how many there are; `None` at the end.
    pub async fn next_chunk(&mut self) -> StoreResult<Option<(String, u64)>> {
        if let Some(header) = self.header.take() {
            return Ok(Some((header + "\n", 1)));
        }
        while let Some(table) = TABLES.get(self.table).copied() {
            let after = self.after.as_deref();
            let rows = match &mut self.snapshot {
                Snapshot::Sqlite(transaction) => {
                    page::<Sqlite>(&mut **transaction, table, after, "").await?
                }
                Snapshot::Postgres(transaction) => {
                    page::<Postgres>(&mut **transaction, table, after, " COLLATE \"C\"").await?
                }
            };
            if (rows.len() as i64) < PAGE_ROWS {
                self.table += 1;
                self.after = None;
            } else if let Some(Value::Text(Some(last))) = rows.last().and_then(|row| row.first()) {
                self.after = Some(last.clone());
            }
            if rows.is_empty() {
                continue;
            }
            let mut chunk = String::with_capacity(rows.len() * 256);
            for row in &rows {
                chunk.push_str(&write_line(table, row));
                chunk.push('\n');
            }
            return Ok(Some((chunk, rows.len() as u64)));
        }
        Ok(None)
    }

    /// Ends the read transaction.
    pub async fn finish(self) -> StoreResult<()> {
        match self.snapshot {
            Snapshot::Sqlite(transaction) => transaction.commit().await?,
            Snapshot::Postgres(transaction) => transaction.commit().await?,
        }
        Ok(())
    }
}

async fn count<D: Dialect>(connection: &mut D::Connection, table: &Table) -> StoreResult<u64> {
    let sql = format!("SELECT COUNT(*) AS n FROM {}", table.name);
    let rows = D::fetch_all(connection, D::prepare(Statement::new(AssertSqlSafe(sql)))).await?;
    let count = match rows.first() {
        Some(row) => row.int("n")?,
        None => 0,
    };
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Up to [`PAGE_ROWS`] rows after key `after`, in byte order of the key on both backends
/// (`collate` makes PostgreSQL's order the C order SQLite uses), so two exports of the
/// same rows are the same bytes whatever the backend.
async fn page<D: Dialect>(
    connection: &mut D::Connection,
    table: &Table,
    after: Option<&str>,
    collate: &str,
) -> StoreResult<Vec<Vec<Value>>> {
    let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let key = table.key();
    let filter = if after.is_some() {
        format!("WHERE {key}{collate} > $1 ")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {} FROM {} {filter}ORDER BY {key}{collate} LIMIT {PAGE_ROWS}",
        names.join(", "),
        table.name
    );
    let mut statement = Statement::new(AssertSqlSafe(sql));
    if let Some(after) = after {
        statement = statement.bind(after);
    }
    let rows = D::fetch_all(connection, D::prepare(statement)).await?;
    let mut values = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut row_values = Vec::with_capacity(table.columns.len());
        for column in table.columns {
            row_values.push(match column.kind {
                Kind::Text | Kind::JsonArray | Kind::JsonObject => {
                    Value::Text(row.optional_text(column.name)?)
                }
                Kind::Int => Value::Int(row.optional_int(column.name)?),
                Kind::Real => Value::Real(row.optional_real(column.name)?),
                Kind::Bool => Value::Bool(row.boolean(column.name)?),
            });
        }
        values.push(row_values);
    }
    Ok(values)
}
