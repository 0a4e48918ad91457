//! Opening a store: SQLite in the data directory (WAL, `synchronous=FULL`, asserted) or
//! PostgreSQL; migrations run on open.

use crate::statement::PoolRef;
use crate::{StoreError, StoreResult};
use sqlx::AssertSqlSafe;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The database file's name inside the data directory.
pub const SQLITE_FILE: &str = "fandesk.db";

/// A handle to the database. Cheap to clone (pools are shared).
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteDb),
    Postgres(PostgresDb),
}

#[derive(Clone, Debug)]
pub struct SqliteDb {
    /// Exactly one connection: SQLite has one writer per database, and funnelling every
    /// write through one connection avoids `SQLITE_BUSY` between our own writers.
    pub(crate) write: SqlitePool,
    /// Readers run concurrently with the writer thanks to WAL.
    pub(crate) read: SqlitePool,
    /// Copies the WAL into the database file off the write path; stops when the last
    /// clone of the store is dropped or closed.
    checkpointer: Arc<Checkpointer>,
}

/// Pages the write connection lets the WAL reach before it checkpoints itself, inside a
/// commit — only when the background checkpointer falls behind (≈ 64 MiB of 4 KiB pages).
const WRITER_AUTOCHECKPOINT_PAGES: &str = "16384";
/// How often the background checkpointer copies committed WAL frames into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Page cache per connection, in KiB (a negative `cache_size`): a full group commit
/// dirties ~1,500 index and table pages (≈ 6 MiB), which must fit without spilling
/// mid-transaction. The caches fill as the database grows and never shrink, so together
/// they are memory the server keeps for good: it was up to 128 MiB (64 for the writer, 16
/// for each of the four readers); 16 + 4 × 4 MiB cost no measurable DM throughput
/// (BENCHMARKS.md › memory). Pages of the database file are read through the mmap below;
/// the caches matter most for pages still in the WAL and for the writer's dirty pages.
const WRITER_CACHE_KIB: &str = "-16384";
const READER_CACHE_KIB: &str = "-4096";
/// Reads go through the OS page cache via mmap instead of copying pages.
const MMAP_BYTES: &str = "268435456";

#[derive(Debug)]
struct Checkpointer {
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
}

impl Checkpointer {
    /// Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every
    /// [`CHECKPOINT_EVERY`]. A passive checkpoint never blocks the writer or the readers,
    /// and the writer never pays for copying frames or the database file's fsync.
    fn spawn(pool: SqlitePool) -> Checkpointer {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                }
                let result = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await;
                if let Err(error) = result {
                    tracing::warn!(%error, "background WAL checkpoint failed; the writer checkpoints instead");
                }
            }
            pool.close().await;
        });
        Checkpointer {
            stop: std::sync::Mutex::new(Some(stop)),
        }
    }

    fn stop(&self) {
        let sender = self
            .stop
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Creates the data directory (0700 when this creates it) and the database file with mode
/// 0600, and narrows an existing database, WAL and shared-memory file to 0600: the files
/// hold every conversation and token hash, so no other local user may read them. SQLite
/// gives the `-wal` and `-shm` files it creates the database file's mode.
fn restrict_files(dir: &Path) -> std::io::Result<()> {
    let existed = dir.exists();
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !existed {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(dir.join(SQLITE_FILE))?;
        for suffix in ["", "-wal", "-shm"] {
            let path = dir.join(format!("{SQLITE_FILE}{suffix}"));
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = existed;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct PostgresDb {
    pub(crate) pool: PgPool,
}

impl Store {
    /// Opens (creating if needed) `DIR/fandesk.db`, checks durability settings, migrates.
    pub async fn open_sqlite(dir: &Path) -> StoreResult<Store> {
        restrict_files(dir).map_err(|error| {
            StoreError::Misconfigured(format!(
                "cannot prepare data dir {}: {error}",
                dir.display()
            ))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join(SQLITE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Statement journals and sorts stay in memory, not in temp files.
            .pragma("temp_store", "MEMORY")
            .pragma("mmap_size", MMAP_BYTES)
            .disable_statement_logging();
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", WRITER_CACHE_KIB)
                    .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
                    // Batch statements vary in shape (IN lists, chunk sizes).
                    .statement_cache_capacity(512),
            )
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", READER_CACHE_KIB)
                    .read_only(true),
            )
            .await?;
        let checkpoint = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let checkpointer = Arc::new(Checkpointer::spawn(checkpoint));
        let store = Store::Sqlite(SqliteDb {
            write,
            read,
            checkpointer,
        });
        store.assert_durable().await?;
        Ok(store)
    }

    /// Connects to PostgreSQL and migrates. `schema`, when given, is created if missing and
    /// used as the search path (tests use one schema per test).
    pub async fn connect_postgres(url: &str, schema: Option<&str>) -> StoreResult<Store> {
        let mut options = PgConnectOptions::from_str(url)?.disable_statement_logging();
        if let Some(schema) = schema {
            if !schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(StoreError::Misconfigured(format!(
                    "bad schema name {schema:?}"
                )));
            }
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&pool)
            .await?;
            pool.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Store::Postgres(PostgresDb { pool }))
    }

    /// The pool reads run on: SQLite's reader pool (WAL lets readers run beside the
    /// writer); PostgreSQL's one pool.
    pub(crate) fn reader(&self) -> PoolRef<'_> {
        match self {
            Store::Sqlite(db) => PoolRef::Sqlite(&db.read),
            Store::Postgres(db) => PoolRef::Postgres(&db.pool),
        }
    }

    /// The pool writes run on: SQLite's one-connection writer pool (one writer per
    /// database); PostgreSQL's one pool. Reads that must see the latest write use it too.
    pub(crate) fn writer(&self) -> PoolRef<'_> {
        match self {
            Store::Sqlite(db) => PoolRef::Sqlite(&db.write),
            Store::Postgres(db) => PoolRef::Postgres(&db.pool),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Refuses to run SQLite without WAL and `synchronous=FULL`: an ack must mean the
    /// message survives a power cut (`docs/product.md` › Principles, 1).
    async fn assert_durable(&self) -> StoreResult<()> {
        let Store::Sqlite(db) = self else {
            return Ok(());
        };
        for pool in [&db.write, &db.read] {
            let mut connection = pool.acquire().await?;
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *connection)
                .await?;
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *connection)
                .await?;
            if synchronous != 2 || !journal.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Misconfigured(format!(
                    "SQLite must run with journal_mode=WAL and synchronous=FULL \
                     (got journal_mode={journal}, synchronous={synchronous})"
                )));
            }
        }
        Ok(())
    }

    /// Closes every pool, waiting for in-flight queries.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(db) => {
                db.checkpointer.stop();
                db.write.close().await;
                db.read.close().await;
            }
            Store::Postgres(db) => db.pool.close().await,
        }
    }
}
