//! One committed event, encoded once per audience and shared by every subscriber.

use bytes::Bytes;

/// A fan-out event. The frames are complete WebSocket text frames, encoded once at commit
/// time and shared by every subscriber (ARCHITECTURE.md › Bird's-eye view).
#[derive(Debug, Clone)]
pub struct Event {
    pub topic: String,
    /// Position in the topic's full (team) timeline; `None` for ephemeral events.
    pub seq: Option<u64>,
    /// Position in the public timeline, when fans may see this event.
    pub public_seq: Option<u64>,
    /// The frame for team members.
    pub team: Bytes,
    /// The frame for fans, or `None` when fans must never see this event. Built only by
    /// the service's fan-safe serializer.
    pub fan: Option<Bytes>,
}
