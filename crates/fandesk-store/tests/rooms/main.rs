//! Live-room store tests (docs/product.md › Live rooms): dense `seq` per room across
//! batches and writers, idempotent sends, slow mode, timeouts, deletions and room states.
//! Each test runs on SQLite and, when `FANDESK_TEST_POSTGRES_URL` is set, on PostgreSQL in
//! a schema of its own.

/// Runs one test body on both backends (the pattern of `tests/store`):
/// `room_test!(name, name_sqlite, name_postgres);` above `async fn name(db: &TestDb)`.
macro_rules! room_test {
    ($name:ident, $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let db = $crate::support::TestDb::sqlite().await;
            $name(&db).await;
            db.store.close().await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(db) = $crate::support::TestDb::postgres().await else {
                eprintln!(
                    "{}: skipped, FANDESK_TEST_POSTGRES_URL is not set",
                    stringify!($postgres)
                );
                return;
            };
            $name(&db).await;
            db.store.close().await;
        }
    };
}

mod events;
mod moderation;
mod questions;
mod support;
mod timeline;
mod viewings;
