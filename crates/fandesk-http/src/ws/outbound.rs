//! Close codes used by this server's WebSockets. The outbound queue itself is the
//! service's [`fandesk_service::frame_queue::FrameQueue`], shared with the room fan-out
//! hub: a full queue closes the connection with
//! [`fandesk_service::frame_queue::CLOSE_SLOW_CONSUMER`] (4008) and the client resumes from
//! its last `seq` (docs/api.md › WebSocket).

pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
