//! Store integration tests: each test runs on SQLite and, when `FANDESK_TEST_POSTGRES_URL`
//! is set, on PostgreSQL in a schema of its own, so tests run in parallel.

/// Runs one test body on both backends, like zed's collab `test_both_dbs!`:
/// `store_test!(name, name_sqlite, name_postgres);` above `async fn name(store: &Store)`.
/// The body stays an ordinary function so rustfmt and clippy see it. It is handed
/// `&mut TestDb`, which dereferences to the `Store`; a test that reopens the database
/// declares `db: &mut TestDb` instead.
macro_rules! store_test {
    ($name:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let mut db = $crate::support::TestDb::sqlite().await;
            $name(&mut db).await;
            db.finish().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(mut db) = $crate::support::TestDb::postgres().await else {
                eprintln!(
                    "{}: skipped, FANDESK_TEST_POSTGRES_URL is not set",
                    stringify!($postgres)
                );
                return;
            };
            $name(&mut db).await;
            db.finish().await;
        }
    };
}

mod accounts;
mod api_tokens;
mod backup;
mod batch;
mod bots;
mod channels;
mod charter;
mod concurrency;
mod conversations;
mod desk;
mod durability;
mod export;
mod flows;
mod idempotency;
mod inbox;
mod integration;
mod members;
mod metric_counters;
mod metrics;
mod rules;
mod scheduled;
mod snooze;
mod support;
mod timeline;
