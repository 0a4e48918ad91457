//! Node-local copies of shared state (the charter in force, the webhook list) re-read
//! whenever the bus says some node changed it. One listener per copy, started with the
//! `App`; it ends when the bus closes or the `App` is gone.

use crate::App;
use crate::app::error::ServiceResult;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Runs `reload` on this node after every event on `topic` (a lagged receiver reloads
/// too: it missed at least one change). `what` names the copy in the warning logged when a
/// reload fails.
pub(crate) fn on_bus_event<F, Fut>(app: &App, topic: &str, what: &'static str, reload: F)
where
    F: Fn(App) -> Fut + Send + 'static,
    Fut: Future<Output = ServiceResult<()>> + Send,
{
    let mut events = app.bus().subscribe(topic);
    let app = Arc::downgrade(&app.inner);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
            let Some(inner) = app.upgrade() else { break };
            if let Err(error) = reload(App { inner }).await {
                tracing::warn!(%error, "could not re-read {what}");
            }
        }
    });
}
