//! Per-test databases: a SQLite data directory in a `TempDir`, or a PostgreSQL schema (or a
//! whole database, for child processes) of its own, so tests run in parallel. PostgreSQL
//! is used when `FANDESK_TEST_POSTGRES_URL` is set.

use anyhow::Context;
use fandesk_store::Store;
use sqlx::Connection;
use tempfile::TempDir;

/// The variable that switches every test to PostgreSQL.
pub const POSTGRES_URL_VAR: &str = "FANDESK_TEST_POSTGRES_URL";

/// The PostgreSQL server to test against, when configured.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// 32 random lowercase hex digits (128 bits), for unique names (schemas, emails, canaries).
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// Where one test server keeps its data.
pub enum TestDatabase {
    /// Dropping the directory removes the database file.
    Sqlite(TempDir),
    /// Dropped (`DROP SCHEMA … CASCADE`) when this value is dropped.
    Postgres { url: String, schema: String },
}

impl TestDatabase {
    /// A fresh database on the backend chosen by the environment.
    pub fn fresh() -> anyhow::Result<TestDatabase> {
        Ok(match postgres_url() {
            Some(url) => TestDatabase::Postgres {
                url,
                schema: format!("e2e_{}", random_hex()),
            },
            None => TestDatabase::Sqlite(tempfile::tempdir().context("temp dir")?),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            TestDatabase::Sqlite(_) => "sqlite",
            TestDatabase::Postgres { .. } => "postgres",
        }
    }

    /// Opens (and migrates) the store. Can be called again to reopen the same data.
    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(match self {
            TestDatabase::Sqlite(dir) => Store::open_sqlite(dir.path()).await?,
            TestDatabase::Postgres { url, schema } => {
                Store::connect_postgres(url, Some(schema)).await?
            }
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { url, schema } = self {
            drop_on_thread(
                url.clone(),
                format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
            );
        }
    }
}

/// A whole PostgreSQL database of its own, for a `fandesk serve` child process that takes
/// only a URL. Created with `CREATE DATABASE`, dropped (forcibly) on drop.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// `None` when `FANDESK_TEST_POSTGRES_URL` is not set.
    pub async fn create() -> anyhow::Result<Option<PostgresDatabase>> {
        let Some(admin_url) = postgres_url() else {
            return Ok(None);
        };
        let name = format!("fandesk_e2e_{}", random_hex());
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .context("connect to the admin database")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .context("CREATE DATABASE")?;
        pool.close().await;
        let mut url = reqwest::Url::parse(&admin_url).context("parse FANDESK_TEST_POSTGRES_URL")?;
        url.set_path(&format!("/{name}"));
        Ok(Some(PostgresDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }))
    }

    /// The URL to hand to `fandesk serve --database`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        drop_on_thread(
            self.admin_url.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one cleanup statement on a thread with its own runtime: `Drop` cannot await and may
/// run inside (or after) the test's runtime, even while a failed test unwinds.
fn drop_on_thread(url: String, statement: String) {
    let cleanup = std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut connection = sqlx::PgConnection::connect(&url).await?;
            // A connection left behind by an aborted server must not hang the test run.
            sqlx::query("SET lock_timeout = '10s'")
                .execute(&mut connection)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut connection)
                .await?;
            connection.close().await?;
            Ok(())
        })
    });
    match cleanup.join() {
        Ok(Err(error)) => eprintln!("test database cleanup failed: {error:#}"),
        Err(_) => eprintln!("test database cleanup panicked"),
        Ok(Ok(())) => {}
    }
}
