//! Where a task that writes to the store runs (ARCHITECTURE.md › Deliberate choices ›
//! Writers on SQLite run on threads of their own).
//!
//! On SQLite every write goes through one connection, and a transaction holds it from
//! `BEGIN` to `COMMIT`. Each statement of the transaction is a round trip to SQLite's
//! worker thread, after which the task that owns the transaction must be polled again. On
//! the shared runtime, under a room's fan-out, that task waits behind thousands of
//! connection tasks each time (measured: 100–200 ms per transaction at 10,000 viewers
//! while the statements themselves took under 2 ms), and every other writer waits for the
//! connection with it. So on SQLite the group-commit writers and the other steady writers
//! run on a thread of their own each, in a runtime of their own (the task on that thread,
//! what it spawns — the writer's publisher — on two worker threads beside it): the OS
//! schedules those threads as soon as they have work, and nothing queues in front of them.
//!
//! On PostgreSQL the task stays on the shared runtime: the pool has many connections
//! (no writer waits for another's), and a connection opened on a second runtime would
//! depend on that runtime's I/O driver for as long as it lives in the shared pool.

use fandesk_store::Store;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// Runs `task` to completion where a writer of `store` should run: on SQLite on a new
/// thread named `name` (at most 15 bytes show in `top -H`), elsewhere on the current
/// runtime. The handle finishes when the task does (or when its thread panicked).
pub(crate) fn spawn_writer_task<F>(store: &Store, name: &str, task: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    if store.backend() != "sqlite" {
        return tokio::spawn(task);
    }
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    let name = name.to_owned();
    // The thread takes the task from here; if no thread can be started it is still here.
    let slot = Arc::new(Mutex::new(Some(task)));
    let for_thread = slot.clone();
    let started = std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let task = for_thread.lock().ok().and_then(|mut task| task.take());
            if let Some(task) = task {
                // The task runs on this thread; what it spawns (a writer's publisher, the
                // pool's housekeeping) on two workers beside it, so that publishing one
                // batch overlaps with committing the next, and the write connection's
                // return to the pool (a task sqlx spawns after each commit) never waits
                // for a batch to be published before the next `BEGIN` can have it.
                match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name(format!("{name}+"))
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(task),
                    Err(error) => tracing::error!(%error, "could not start a writer's runtime"),
                }
            }
            let _ = done.send(());
        });
    if let Err(error) = started {
        tracing::warn!(%error, "could not start a writer thread; it runs on the shared runtime");
        let task = slot.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            return tokio::spawn(task);
        }
    }
    tokio::spawn(async move {
        let _ = finished.await;
    })
}

#[cfg(test)]
mod tests {
    use super::spawn_writer_task;
    use fandesk_store::Store;

    /// On SQLite the task runs on a thread of its own, named as asked, and what it spawns
    /// runs beside it; the handle finishes when the task does.
    #[tokio::test]
    async fn on_sqlite_a_writer_runs_on_a_thread_of_its_own() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("store");
        let (seen, names) = tokio::sync::oneshot::channel();
        let handle = spawn_writer_task(&store, "commit-test", async move {
            let own = std::thread::current().name().map(str::to_owned);
            let spawned = tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .expect("spawned task");
            let _ = seen.send((own, spawned));
        });
        handle.await.expect("the handle finishes");
        let (own, spawned) = names.await.expect("the task ran");
        assert_eq!(own.as_deref(), Some("commit-test"));
        assert_eq!(spawned.as_deref(), Some("commit-test+"));
        assert_ne!(
            std::thread::current().name(),
            Some("commit-test"),
            "not the test's own thread"
        );
        store.close().await;
    }
}
