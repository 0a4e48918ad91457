//! Close codes used by this server's WebSockets, and writing a connection's queued frames
//! to its socket. The outbound queue itself is the
//! service's [`fandesk_service::frame_queue::FrameQueue`], shared with the room fan-out
//! hub: a full queue closes the connection with
//! [`fandesk_service::frame_queue::CLOSE_SLOW_CONSUMER`] (4008) and the client resumes from
//! its last `seq` (docs/api.md › WebSocket).

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use fandesk_service::frame_queue::{FrameQueue, Outgoing};
use futures_util::SinkExt;

pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code after a failed write: nothing more can be sent.
pub const CLOSE_ABNORMAL: u16 = 1006;
/// A text frame that is not UTF-8 (RFC 6455 › 7.4.1).
pub const CLOSE_INVALID_PAYLOAD: u16 = 1007;
pub const CLOSE_POLICY: u16 = 1008;
/// A message or frame over `WsConfig::max_message_bytes` (RFC 6455 › 7.4.1).
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_UNAUTHORIZED: u16 = 4001;

/// The close code and reason for a read error, when the client broke a rule the code
/// names: an oversize message (1009) or a text frame that is not UTF-8 (1007). Other
/// errors (the connection dropped, a protocol violation tungstenite already answered)
/// get none. axum wraps tungstenite's error without exposing its type, so the error's
/// text (tungstenite's `Display`) is what tells them apart; a test holds both cases.
pub fn close_for_read_error(error: &axum::Error) -> Option<(u16, &'static str)> {
    let text = error.to_string();
    if text.starts_with("Space limit exceeded") {
        Some((CLOSE_TOO_BIG, "message too big"))
    } else if text.starts_with("UTF-8 encoding error") {
        Some((CLOSE_INVALID_PAYLOAD, "text frames must be UTF-8"))
    } else {
        None
    }
}

/// Writes everything taken from the queue and flushes once. False when the connection is
/// over (the write failed, or the queue was closed while the client did not read).
pub async fn write_all(
    socket: &mut WebSocket,
    outgoing: &mut Vec<Outgoing>,
    queue: &FrameQueue,
) -> bool {
    let written = tokio::select! {
        written = write_items(socket, outgoing) => written,
        () = queue.closed() => return false,
    };
    if written.is_err() {
        queue.close(CLOSE_ABNORMAL, "write failed");
        return false;
    }
    true
}

pub async fn write_items(
    socket: &mut WebSocket,
    outgoing: &mut Vec<Outgoing>,
) -> Result<(), axum::Error> {
    for item in outgoing.drain(..) {
        match item {
            Outgoing::Frame(frame) => feed(socket, frame).await?,
            Outgoing::Batch(frames) => {
                for frame in frames.iter() {
                    feed(socket, frame.clone()).await?;
                }
            }
        }
    }
    socket.flush().await
}

async fn feed(socket: &mut WebSocket, frame: Bytes) -> Result<(), axum::Error> {
    match Utf8Bytes::try_from(frame) {
        Ok(text) => socket.feed(Message::Text(text)).await,
        // Frames are serde_json output, always UTF-8; skip rather than send garbage.
        Err(_) => Ok(()),
    }
}
