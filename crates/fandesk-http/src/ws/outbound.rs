//! A connection's bounded outbound queue and its close signal. Producers never block on a
//! slow client: when the queue is full the connection is closed with 4008 and the client
//! resumes from its last `seq` (PROTOCOL.md › WebSocket).

use axum::body::Bytes;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Close codes used by this server.
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;

#[derive(Clone)]
pub struct Outbound {
    frames: mpsc::Sender<Bytes>,
    pub closer: Closer,
}

impl Outbound {
    pub fn new(capacity: usize) -> (Outbound, mpsc::Receiver<Bytes>) {
        let (frames, receiver) = mpsc::channel(capacity.max(1));
        (
            Outbound {
                frames,
                closer: Closer::default(),
            },
            receiver,
        )
    }

    /// Queues a frame without waiting; a full queue closes the connection with 4008.
    /// Returns false if the frame was not queued.
    pub fn push(&self, frame: Bytes) -> bool {
        match self.frames.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.closer
                    .close(CLOSE_SLOW_CONSUMER, "slow consumer: resume with after_seq");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues a frame, waiting for room (used for replay, which the client paces).
    pub async fn push_waiting(&self, frame: Bytes) -> bool {
        tokio::select! {
            sent = self.frames.send(frame) => sent.is_ok(),
            () = self.closer.closed() => false,
        }
    }
}

/// The first close reason wins; everything watching the token stops.
#[derive(Clone, Default)]
pub struct Closer {
    token: CancellationToken,
    reason: Arc<Mutex<Option<(u16, &'static str)>>>,
}

impl Closer {
    pub fn close(&self, code: u16, reason: &'static str) {
        let mut slot = self
            .reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = Some((code, reason));
        }
        drop(slot);
        self.token.cancel();
    }

    pub async fn closed(&self) {
        self.token.cancelled().await;
    }

    pub fn is_closed(&self) -> bool {
        self.token.is_cancelled()
    }

    pub fn reason(&self) -> Option<(u16, &'static str)> {
        *self
            .reason
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_closes_with_4008() {
        let (outbound, mut receiver) = Outbound::new(2);
        assert!(outbound.push(Bytes::from_static(b"1")));
        assert!(outbound.push(Bytes::from_static(b"2")));
        assert!(!outbound.closer.is_closed());
        assert!(!outbound.push(Bytes::from_static(b"3")));
        assert_eq!(
            outbound.closer.reason().map(|reason| reason.0),
            Some(CLOSE_SLOW_CONSUMER)
        );
        assert_eq!(receiver.recv().await.as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn the_first_reason_wins() {
        let closer = Closer::default();
        closer.close(CLOSE_UNAUTHORIZED, "revoked");
        closer.close(CLOSE_GOING_AWAY, "shutdown");
        assert_eq!(closer.reason(), Some((CLOSE_UNAUTHORIZED, "revoked")));
    }
}
