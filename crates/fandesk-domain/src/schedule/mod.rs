//! Scheduled messages' rules (docs/product.md › Scheduled messages): who a message goes to
//! ([`segment`]), when it falls due for each fan — at an instant, or at a wall-clock time
//! in each fan's own time zone, moved out of the quiet hours ([`timing`]) — and the bounds
//! of "reply later". No IO, no clock: `now` is passed in.

pub mod segment;
pub mod timing;

pub use segment::{MAX_FAN_IDS, MAX_SEGMENT_TAGS, Segment};
pub use timing::{
    MAX_AHEAD_DAYS, QuietHours, Timing, due_at, parse_date, parse_wall_time, validate_send_at,
    validate_timing,
};
