//! Where SQLite and PostgreSQL differ, said once. Both run the same SQL wherever they agree
//! (SQLite accepts `$N` placeholders, `ON CONFLICT … DO UPDATE`, `UPDATE … FROM`); the
//! shared code is generic over [`Dialect`] and asks it only for what differs: row locks,
//! the aggregate list type, and how a group commit inserts its messages.

use crate::conversation::rows::MessageRow;
use crate::statement::{Columns, Driver};
use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};
use sqlx::{Database, Postgres, Row, Sqlite};
use std::future::Future;

/// A backend the store runs on: `sqlx::Sqlite` or `sqlx::Postgres`.
pub(crate) trait Dialect: Driver + Database<Row: Columns> {
    /// Appended to a group commit's `SELECT` of the rows it is about to update. PostgreSQL
    /// locks them (the ids come sorted, so two nodes lock in the same order) and several
    /// nodes can write one conversation or room; SQLite needs none, as every write goes
    /// through its single write connection.
    const LOCK_ROWS: &'static str;

    /// Appended to the job claim's inner `SELECT`: PostgreSQL nodes skip the jobs another
    /// node is claiming instead of waiting for them.
    const SKIP_LOCKED: &'static str;

    /// A statement that makes transactions passing the same integer key wait for each
    /// other until one commits (PostgreSQL: a transaction-level advisory lock), for a rule
    /// about rows that do not exist yet (e.g. a count limit) decided on several nodes.
    /// `None` on SQLite, whose single write connection already serialises them.
    const EXCLUSIVE_KEY: Option<&'static str>;

    /// The SQL of a group's list of integer values (FRT, first touch), so percentiles stay
    /// exact: SQLite's text `group_concat`, PostgreSQL's `bigint[]` (binary, no printing).
    fn value_list(expression: &str) -> String;

    /// Reads a list made by [`Dialect::value_list`].
    fn read_value_list(row: &Self::Row, column: &str) -> StoreResult<Vec<i64>>;

    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Inserts a group commit's new messages inside its transaction. SQLite: multi-row
    /// `VALUES`. PostgreSQL: one `UNNEST` of column arrays — one statement shape whatever
    /// the batch size, so it is planned once.
    fn insert_messages<'c>(
        connection: &'c mut Self::Connection,
        rows: &'c [MessageRow],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'c;
}

impl Dialect for Sqlite {
    const LOCK_ROWS: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const EXCLUSIVE_KEY: Option<&'static str> = None;

    fn value_list(expression: &str) -> String {
        format!("group_concat({expression})")
    }

    fn read_value_list(row: &SqliteRow, column: &str) -> StoreResult<Vec<i64>> {
        let list: Option<String> = row.try_get(column)?;
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

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn insert_messages<'c>(
        connection: &'c mut sqlx::SqliteConnection,
        rows: &'c [MessageRow],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'c {
        crate::conversation::commit::insert_messages_values::<Sqlite>(connection, rows)
    }
}

impl Dialect for Postgres {
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const EXCLUSIVE_KEY: Option<&'static str> = Some("SELECT pg_advisory_xact_lock($1)");

    fn value_list(expression: &str) -> String {
        format!("array_agg({expression}) FILTER (WHERE {expression} IS NOT NULL)")
    }

    fn read_value_list(row: &PgRow, column: &str) -> StoreResult<Vec<i64>> {
        Ok(row
            .try_get::<Option<Vec<i64>>, _>(column)?
            .unwrap_or_default())
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn insert_messages<'c>(
        connection: &'c mut sqlx::PgConnection,
        rows: &'c [MessageRow],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'c {
        crate::conversation::commit::insert_messages_unnest(connection, rows)
    }
}
