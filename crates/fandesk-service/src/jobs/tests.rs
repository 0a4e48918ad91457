//! The scheduler against a real (SQLite) store, on a `ManualClock`: advancing the clock
//! is all it takes for due work to run.

use crate::auth::sessions::hash_token;
use crate::{App, Config, ManualClock, NewFanSession};
use fandesk_bus::LocalBus;
use fandesk_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Waits (bounded) until `done` holds; the scheduler runs in its own task.
async fn eventually<F, Fut>(mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_purges_expired_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let config = Config {
        fan_token_ttl: Duration::from_secs(3_600),
        ..Config::default()
    };
    let app = App::start(
        store.clone(),
        Arc::new(LocalBus::new()),
        config,
        clock.clone(),
    );
    let session = |name: &str| NewFanSession {
        display_name: name.into(),
        ..NewFanSession::default()
    };
    let (old, _) = app.create_fan_session(session("Ann")).await.unwrap();
    let old = hash_token(&old);
    // Half an hour on: still valid, and the purge (every 10 min) leaves it.
    clock.advance(Duration::from_secs(1_800));
    let (young, _) = app.create_fan_session(session("Bob")).await.unwrap();
    let young = hash_token(&young);
    app.run_due_jobs().await.unwrap();
    assert!(store.find_session(&old).await.unwrap().is_some());
    // An hour later Ann's token has expired, Bob's has not: the next purge, run by the
    // scheduler because the clock moved, deletes exactly Ann's.
    clock.advance(Duration::from_secs(3_000));
    let purged = eventually(|| async { store.find_session(&old).await.unwrap().is_none() }).await;
    assert!(purged, "the expired session was not purged");
    assert!(store.find_session(&young).await.unwrap().is_some());
    assert_eq!(app.purge_expired_sessions().await.unwrap(), 0);
    app.shutdown().await;
    store.close().await;
}
