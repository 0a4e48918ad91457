//! When the charter is next due for review (docs/product.md › Charter): `review.every_days`
//! after the last recorded sign-off, or after the charter was first written when nobody
//! has signed it off yet.

use jiff::{SignedDuration, Timestamp};

/// The instant the next review is due.
pub fn review_due_at(
    last_review: Option<Timestamp>,
    first_written: Timestamp,
    every_days: u32,
) -> Timestamp {
    let since = last_review.unwrap_or(first_written);
    let period = SignedDuration::from_hours(i64::from(every_days) * 24);
    since.saturating_add(period).unwrap_or(Timestamp::MAX)
}
