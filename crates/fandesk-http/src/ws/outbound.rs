//! Close codes used by this server's WebSockets. The outbound queue itself is the
//! service's [`fandesk_service::frame_queue::FrameQueue`], shared with the room fan-out
//! hub: a full queue closes the connection with
//! [`fandesk_service::frame_queue::CLOSE_SLOW_CONSUMER`] (4008) and the client resumes from
//! its last `seq` (docs/api.md › WebSocket).

pub const CLOSE_GOING_AWAY: u16 = 1001;
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
