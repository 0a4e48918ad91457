//! How nodes tell each other about their room audiences: a [`Report`] per room on the
//! internal bus topic [`TOPIC`] (never a WebSocket topic) — this node's current count, the
//! peak it saw, and the fans first seen here since its last report — merged by every
//! other node into its [`RoomViewers`]. Reports repeat while a node has viewers, so the
//! counts of a node that died expire instead of staying forever.

use crate::live::publish::{Frames, publish_ephemeral};
use crate::room::viewers::RoomViewers;
use bytes::Bytes;
use fandesk_bus::Bus;
use fandesk_domain::FanId;
use fandesk_domain::room::RoomId;
use serde::{Deserialize, Serialize};
use std::sync::Weak;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// The bus topic of viewer reports.
pub(crate) const TOPIC: &str = "_viewers";
/// A node with viewers in a room repeats its report this often.
pub(crate) const REPEAT: Duration = Duration::from_secs(5);
/// Fans named in one report at most (a premiere's opening minute may bring tens of
/// thousands; the rest follow in the next ticks, well under NATS's message size limit).
pub(crate) const MAX_JOINED: usize = 5_000;

/// One node's word on one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Report {
    pub node: String,
    pub room: RoomId,
    /// Fans watching through this node now.
    pub current: u64,
    /// The highest cluster-wide count this node saw.
    pub peak: u64,
    /// Fans first seen watching on this node since its previous report.
    pub joined: Vec<FanId>,
}

pub(crate) fn publish(bus: &dyn Bus, report: &Report) {
    match serde_json::to_vec(report) {
        Ok(bytes) => {
            publish_ephemeral(bus, TOPIC.to_owned(), Frames::team_only(Bytes::from(bytes)))
        }
        Err(error) => tracing::warn!(%error, "could not encode a viewer report"),
    }
}

/// Merges every other node's reports into `viewers` until `stop` or until it is gone. A
/// lagged listener loses some reports; the repeats restore the counts, and only fans
/// named in the lost reports are missing from `unique`.
pub(crate) fn listen(
    viewers: Weak<RoomViewers>,
    bus: &dyn Bus,
    node: String,
    stop: CancellationToken,
) {
    let mut reports = bus.subscribe(TOPIC);
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => return,
                event = reports.recv() => event,
            };
            let event = match event {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "viewer reports lost; counts recover with the next repeats"
                    );
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some(viewers) = viewers.upgrade() else {
                return;
            };
            match serde_json::from_slice::<Report>(&event.team) {
                Ok(report) => viewers.merge(&node, report, Instant::now()),
                Err(error) => tracing::warn!(%error, "malformed viewer report"),
            }
        }
    });
}
