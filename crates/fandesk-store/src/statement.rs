//! SQL as data, and the one place that hands it to sqlx. A [`Statement`] is text plus
//! parameters, built without knowing the backend (both accept `$N` placeholders; SQLite
//! gets them as plain `?` where that means the same, `sqlite_params.rs`); the
//! [`Driver`] binds and runs it on either, and [`Columns`] reads a row of either. Both are
//! implemented once, for every sqlx backend that can carry our few column types, so the
//! shared code stays generic and each backend gets its own monomorphised copy.

use crate::{StoreError, StoreResult, from_micros};
use sqlx::encode::Encode;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::query::Query;
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{
    ColumnIndex, Database, Decode, Executor, FromRow, IntoArguments, Postgres, Row, SqlSafeStr,
    SqlStr, Sqlite, Type,
};
use std::future::Future;
use std::pin::Pin;

/// A future that may cross threads, as sqlx's executors return them.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A query of backend `D`, ready to run.
pub(crate) type Sql<'q, D> = Query<'q, D, <D as Database>::Arguments>;

/// One bound value. Every column the store writes is text, an integer, a real or a
/// boolean; `None` binds a typed NULL (PostgreSQL needs the type).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Param<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Param::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(value: &'a String) -> Self {
        Param::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Param::Text(value)
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(Some(value))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        Param::Int(value)
    }
}

impl From<f64> for Param<'_> {
    fn from(value: f64) -> Self {
        Param::Real(Some(value))
    }
}

impl From<Option<f64>> for Param<'_> {
    fn from(value: Option<f64>) -> Self {
        Param::Real(value)
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Param::Bool(value)
    }
}

/// SQL text and its parameters, in `$N` order.
#[derive(Debug)]
pub(crate) struct Statement<'a> {
    sql: SqlStr,
    params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    /// `sql` is a `&'static str`, or text the caller vouches for with `AssertSqlSafe`.
    pub(crate) fn new(sql: impl SqlSafeStr) -> Statement<'a> {
        Statement {
            sql: sql.into_sql_str(),
            params: Vec::new(),
        }
    }

    /// Binds the next `$N`.
    pub(crate) fn bind(mut self, value: impl Into<Param<'a>>) -> Statement<'a> {
        self.params.push(value.into());
        self
    }

    /// Binds one `$N` per value, in order (an `IN (…)` list).
    pub(crate) fn bind_all<T: Into<Param<'a>>>(
        mut self,
        values: impl IntoIterator<Item = T>,
    ) -> Statement<'a> {
        self.params.extend(values.into_iter().map(Into::into));
        self
    }
}

/// `$from, $from+1, …` for `count` parameters: the text of an `IN (…)` list.
pub(crate) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the store needs from an sqlx backend: binding [`Param`]s and running queries on
/// a connection. One blanket implementation below names the sqlx bounds (encoders,
/// executors) once; generic code then needs only `D: Dialect`, whose supertrait this is,
/// since Rust does not carry a trait's `where` clauses to its users.
pub(crate) trait Driver: Database {
    /// Binds a statement's parameters.
    fn prepare(statement: Statement<'_>) -> Sql<'static, Self>;

    /// Binds one value of a multi-row `VALUES` built with `QueryBuilder::push_values`.
    fn push_param(values: &mut Separated<'_, Self, &'static str>, param: Param<'_>);

    fn execute<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: Sql<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Self::QueryResult>>;

    fn fetch_all<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: Sql<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<Self::Row>>>;

    fn fetch_optional<'c, 'q: 'c>(
        connection: &'c mut Self::Connection,
        query: Sql<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Option<Self::Row>>>;
}

impl<D> Driver for D
where
    D: Database,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'v> Option<&'v str>: Encode<'v, D> + Type<D>,
    for<'v> Option<i64>: Encode<'v, D> + Type<D>,
    for<'v> Option<f64>: Encode<'v, D> + Type<D>,
    for<'v> bool: Encode<'v, D> + Type<D>,
{
    fn prepare(statement: Statement<'_>) -> Sql<'static, D> {
        // SQLite binds plain `?` without searching names (`sqlite_params.rs`); below a few
        // parameters the search costs less than rewriting the text.
        let plain = (D::NAME == <Sqlite as Database>::NAME
            && statement.params.len() >= crate::sqlite_params::REWRITE_FROM)
            .then(|| crate::sqlite_params::positional(statement.sql.as_str()))
            .flatten();
        let sql = match plain {
            Some(plain) => sqlx::AssertSqlSafe(plain).into_sql_str(),
            None => statement.sql,
        };
        let mut query = sqlx::query::<D>(sql);
        for param in statement.params {
            query = match param {
                Param::Text(value) => query.bind(value),
                Param::Int(value) => query.bind(value),
                Param::Real(value) => query.bind(value),
                Param::Bool(value) => query.bind(value),
            };
        }
        query
    }

    fn push_param(values: &mut Separated<'_, D, &'static str>, param: Param<'_>) {
        match param {
            Param::Text(value) => values.push_bind(value),
            Param::Int(value) => values.push_bind(value),
            Param::Real(value) => values.push_bind(value),
            Param::Bool(value) => values.push_bind(value),
        };
    }

    fn execute<'c, 'q: 'c>(
        connection: &'c mut D::Connection,
        query: Sql<'q, D>,
    ) -> BoxFuture<'c, sqlx::Result<D::QueryResult>> {
        connection.execute(query)
    }

    fn fetch_all<'c, 'q: 'c>(
        connection: &'c mut D::Connection,
        query: Sql<'q, D>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<D::Row>>> {
        connection.fetch_all(query)
    }

    fn fetch_optional<'c, 'q: 'c>(
        connection: &'c mut D::Connection,
        query: Sql<'q, D>,
    ) -> BoxFuture<'c, sqlx::Result<Option<D::Row>>> {
        connection.fetch_optional(query)
    }
}

/// `push_values` closures bind through this: `values.value(row.id.as_str())`.
pub(crate) trait PushValue {
    fn value<'v>(&mut self, value: impl Into<Param<'v>>) -> &mut Self;
}

impl<D: Driver> PushValue for Separated<'_, D, &'static str> {
    fn value<'v>(&mut self, value: impl Into<Param<'v>>) -> &mut Self {
        D::push_param(self, value.into());
        self
    }
}

/// Reading a row of either backend by column name. Stored times are microseconds since
/// the Unix epoch; values that cannot be ours become [`StoreError::Corrupt`].
pub(crate) trait Columns: Row {
    fn text(&self, column: &str) -> sqlx::Result<String>;
    fn optional_text(&self, column: &str) -> sqlx::Result<Option<String>>;
    fn int(&self, column: &str) -> sqlx::Result<i64>;
    fn optional_int(&self, column: &str) -> sqlx::Result<Option<i64>>;
    fn real(&self, column: &str) -> sqlx::Result<f64>;
    fn optional_real(&self, column: &str) -> sqlx::Result<Option<f64>>;
    fn boolean(&self, column: &str) -> sqlx::Result<bool>;
    /// A text column turned into a closed vocabulary by `parse`; `what` names it.
    fn parsed<T>(
        &self,
        column: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> sqlx::Result<T>;

    fn time(&self, column: &str) -> sqlx::Result<jiff::Timestamp> {
        from_micros(self.int(column)?).map_err(StoreError::into_decode)
    }

    fn optional_time(&self, column: &str) -> sqlx::Result<Option<jiff::Timestamp>> {
        self.optional_int(column)?
            .map(from_micros)
            .transpose()
            .map_err(StoreError::into_decode)
    }

    /// A sequence number (stored as a signed integer, never negative).
    fn seq(&self, column: &str) -> sqlx::Result<u64> {
        to_seq(self.int(column)?)
    }

    fn optional_seq(&self, column: &str) -> sqlx::Result<Option<u64>> {
        self.optional_int(column)?.map(to_seq).transpose()
    }
}

fn to_seq(value: i64) -> sqlx::Result<u64> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("negative sequence {value}")).into_decode())
}

impl<R> Columns for R
where
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> sqlx::Result<String> {
        self.try_get(column)
    }

    fn optional_text(&self, column: &str) -> sqlx::Result<Option<String>> {
        self.try_get(column)
    }

    fn int(&self, column: &str) -> sqlx::Result<i64> {
        self.try_get(column)
    }

    fn optional_int(&self, column: &str) -> sqlx::Result<Option<i64>> {
        self.try_get(column)
    }

    fn real(&self, column: &str) -> sqlx::Result<f64> {
        self.try_get(column)
    }

    fn optional_real(&self, column: &str) -> sqlx::Result<Option<f64>> {
        self.try_get(column)
    }

    fn boolean(&self, column: &str) -> sqlx::Result<bool> {
        self.try_get(column)
    }

    fn parsed<T>(
        &self,
        column: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> sqlx::Result<T> {
        let text: &str = self.try_get(column)?;
        parse(text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {text:?}")).into_decode())
    }
}

/// A row type both backends can decode (`FromRow` for SQLite and PostgreSQL rows).
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{
}

impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

/// Runs `statement` on `connection`; returns the rows it changed.
pub(crate) async fn execute<D: crate::dialect::Dialect>(
    connection: &mut D::Connection,
    statement: Statement<'_>,
) -> StoreResult<u64> {
    let result = D::execute(connection, D::prepare(statement)).await?;
    Ok(D::rows_affected(&result))
}

/// Every row of `statement`, decoded.
pub(crate) async fn fetch_all<D, O>(
    connection: &mut D::Connection,
    statement: Statement<'_>,
) -> StoreResult<Vec<O>>
where
    D: crate::dialect::Dialect,
    O: for<'r> FromRow<'r, D::Row>,
{
    let rows = D::fetch_all(connection, D::prepare(statement)).await?;
    let mut decoded = Vec::with_capacity(rows.len());
    for row in &rows {
        decoded.push(O::from_row(row)?);
    }
    Ok(decoded)
}

/// The first row of `statement`, if any, decoded.
pub(crate) async fn fetch_optional<D, O>(
    connection: &mut D::Connection,
    statement: Statement<'_>,
) -> StoreResult<Option<O>>
where
    D: crate::dialect::Dialect,
    O: for<'r> FromRow<'r, D::Row>,
{
    match D::fetch_optional(connection, D::prepare(statement)).await? {
        Some(row) => Ok(Some(O::from_row(&row)?)),
        None => Ok(None),
    }
}

/// One of the store's pools, of either backend: single statements of `Store` methods run
/// here (multi-statement transactions are generic functions over the dialect).
#[derive(Clone, Copy, Debug)]
pub(crate) enum PoolRef<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl PoolRef<'_> {
    pub(crate) async fn execute(self, statement: Statement<'_>) -> StoreResult<u64> {
        match self {
            PoolRef::Sqlite(pool) => {
                execute::<Sqlite>(&mut *pool.acquire().await?, statement).await
            }
            PoolRef::Postgres(pool) => {
                execute::<Postgres>(&mut *pool.acquire().await?, statement).await
            }
        }
    }

    pub(crate) async fn fetch_all<O: Record>(
        self,
        statement: Statement<'_>,
    ) -> StoreResult<Vec<O>> {
        match self {
            PoolRef::Sqlite(pool) => {
                fetch_all::<Sqlite, O>(&mut *pool.acquire().await?, statement).await
            }
            PoolRef::Postgres(pool) => {
                fetch_all::<Postgres, O>(&mut *pool.acquire().await?, statement).await
            }
        }
    }

    pub(crate) async fn fetch_optional<O: Record>(
        self,
        statement: Statement<'_>,
    ) -> StoreResult<Option<O>> {
        match self {
            PoolRef::Sqlite(pool) => {
                fetch_optional::<Sqlite, O>(&mut *pool.acquire().await?, statement).await
            }
            PoolRef::Postgres(pool) => {
                fetch_optional::<Postgres, O>(&mut *pool.acquire().await?, statement).await
            }
        }
    }

    /// The one row of `statement` (an aggregate); none is a database error, as in sqlx.
    pub(crate) async fn fetch_one<O: Record>(self, statement: Statement<'_>) -> StoreResult<O> {
        self.fetch_optional(statement)
            .await?
            .ok_or_else(|| StoreError::from(sqlx::Error::RowNotFound))
    }

    /// Runs `statements` in order in one transaction; returns the rows each changed.
    pub(crate) async fn transaction(self, statements: Vec<Statement<'_>>) -> StoreResult<Vec<u64>> {
        match self {
            PoolRef::Sqlite(pool) => transaction::<Sqlite>(pool, statements).await,
            PoolRef::Postgres(pool) => transaction::<Postgres>(pool, statements).await,
        }
    }
}

async fn transaction<D: crate::dialect::Dialect>(
    pool: &sqlx::Pool<D>,
    statements: Vec<Statement<'_>>,
) -> StoreResult<Vec<u64>> {
    let mut tx = pool.begin().await?;
    let mut changed = Vec::with_capacity(statements.len());
    for statement in statements {
        changed.push(execute::<D>(&mut *tx, statement).await?);
    }
    tx.commit().await?;
    Ok(changed)
}
