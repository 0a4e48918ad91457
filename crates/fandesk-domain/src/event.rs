//! Premieres and live events (docs/product.md › Events): their kinds and label, the status
//! and playback position computed from the time passed in (scheduled → live → ended, no
//! stored flag), when their chat room opens, and what may change once they have begun.

use crate::error::RuleViolation;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What every fan sees on a premiere, word for word: the video is not live.
pub const PREMIERE_LABEL: &str = "Premiere · pre-recorded";
/// What fans see on a live event.
pub const LIVE_LABEL: &str = "Live";
/// The event's chat room opens this long before `starts_at`: the countdown room.
pub const CHAT_OPENS_BEFORE_SECS: i64 = 15 * 60;
/// Longest event: a day.
pub const MAX_DURATION_SECS: u32 = 24 * 3_600;
/// The replay's window bounds, in seconds of video time either side of the start.
pub const MAX_REPLAY_OFFSET_SECS: i64 = 2 * 24 * 3_600;
/// Most messages one replay answer holds.
pub const MAX_REPLAY_MESSAGES: u32 = 1_000;
/// Longest `media_url`, in characters.
pub const MAX_MEDIA_URL_LEN: usize = 2_048;

/// An event (premiere or live). Not the same id space as rooms.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub String);

impl EventId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EventId {
    fn from(value: &str) -> Self {
        EventId(value.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A pre-recorded video played to everyone from the same position.
    Premiere,
    /// A live stream or session, typically with Q&A.
    Live,
}

impl EventKind {
    pub const ALL: [EventKind; 2] = [EventKind::Premiere, EventKind::Live];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Premiere => "premiere",
            EventKind::Live => "live",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The label shown with the event wherever fans see it.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Premiere => PREMIERE_LABEL,
            EventKind::Live => LIVE_LABEL,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Scheduled,
    Live,
    Ended,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "scheduled",
            EventStatus::Live => "live",
            EventStatus::Ended => "ended",
        }
    }
}

/// When an event takes place: `[starts_at, starts_at + duration_secs)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventWindow {
    pub starts_at: Timestamp,
    pub duration_secs: u32,
}

impl EventWindow {
    pub fn ends_at(self) -> Timestamp {
        self.starts_at
            .saturating_add(SignedDuration::from_secs(i64::from(self.duration_secs)))
            .unwrap_or(Timestamp::MAX)
    }

    /// When the event's chat room opens: [`CHAT_OPENS_BEFORE_SECS`] before the start.
    pub fn chat_opens_at(self) -> Timestamp {
        self.starts_at
            .saturating_sub(SignedDuration::from_secs(CHAT_OPENS_BEFORE_SECS))
            .unwrap_or(Timestamp::MIN)
    }

    /// Scheduled before `starts_at`, live from it (inclusive) until the end (exclusive),
    /// ended after.
    pub fn status(self, now: Timestamp) -> EventStatus {
        if now < self.starts_at {
            EventStatus::Scheduled
        } else if now < self.ends_at() {
            EventStatus::Live
        } else {
            EventStatus::Ended
        }
    }

    /// While live, where playback stands: `now − starts_at` in seconds, to the
    /// millisecond, so every viewer joining at the same instant starts at the same point.
    /// `None` before the start and after the end.
    pub fn position_secs(self, now: Timestamp) -> Option<f64> {
        if self.status(now) != EventStatus::Live {
            return None;
        }
        let millis = now.duration_since(self.starts_at).as_millis();
        Some(millis as f64 / 1_000.0)
    }
}

/// Where a message sent at `at` falls in the event's video time: `at − starts_at` in
/// seconds, to the millisecond (negative in the countdown chat).
pub fn offset_secs(starts_at: Timestamp, at: Timestamp) -> f64 {
    let millis = at.duration_since(starts_at).as_millis();
    millis as f64 / 1_000.0
}

/// The instants a replay window `[from_secs, to_secs)` of video time covers (absent
/// bounds are open). Each bound must lie within [`MAX_REPLAY_OFFSET_SECS`] of the start.
pub fn replay_window(
    starts_at: Timestamp,
    from_secs: Option<i64>,
    to_secs: Option<i64>,
) -> Result<(Timestamp, Timestamp), RuleViolation> {
    let bound = |field: &'static str, secs: i64| {
        if !(-MAX_REPLAY_OFFSET_SECS..=MAX_REPLAY_OFFSET_SECS).contains(&secs) {
            return Err(RuleViolation::invalid(
                field,
                format!("must be between -{MAX_REPLAY_OFFSET_SECS} and {MAX_REPLAY_OFFSET_SECS}"),
            ));
        }
        Ok(starts_at
            .saturating_add(SignedDuration::from_secs(secs))
            .unwrap_or(starts_at))
    };
    let from = match from_secs {
        Some(secs) => bound("from_secs", secs)?,
        None => Timestamp::MIN,
    };
    let to = match to_secs {
        Some(secs) => bound("to_secs", secs)?,
        None => Timestamp::MAX,
    };
    Ok((from, to))
}

/// 1 second to a day.
pub fn validate_duration_secs(secs: u32) -> Result<(), RuleViolation> {
    if secs == 0 || secs > MAX_DURATION_SECS {
        return Err(RuleViolation::invalid(
            "duration_secs",
            format!("must be between 1 and {MAX_DURATION_SECS}"),
        ));
    }
    Ok(())
}

/// A premiere needs the video it plays; a live event may carry a stream link. The link
/// is an absolute `http://` or `https://` URL with a host, without white space or control
/// characters, at most 2048 characters; it is returned in its normal (WHATWG) form.
pub fn validate_media_url(
    kind: EventKind,
    media_url: Option<&str>,
) -> Result<Option<String>, RuleViolation> {
    let Some(url) = media_url else {
        return match kind {
            EventKind::Premiere => Err(RuleViolation::invalid(
                "media_url",
                "a premiere needs the URL of its video",
            )),
            EventKind::Live => Ok(None),
        };
    };
    let plain = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    // Parsed as browsers parse it (a host that is no host, such as `http://[x`, is
    // refused) and kept in its normal form, which is what clients receive.
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|parsed| parsed.host_str().is_some_and(|host| !host.is_empty()));
    let Some(parsed) = parsed.filter(|_| plain) else {
        return Err(RuleViolation::invalid(
            "media_url",
            "must be an absolute http:// or https:// URL with a host, without white space or \
             control characters",
        ));
    };
    if url.chars().count() > MAX_MEDIA_URL_LEN {
        return Err(RuleViolation::invalid(
            "media_url",
            format!("must be at most {MAX_MEDIA_URL_LEN} characters"),
        ));
    }
    Ok(Some(parsed.to_string()))
}

/// A new event must not have ended already.
/// The origin (`scheme://host[:port]`) of a stored `media_url`, as a browser's
/// Content-Security-Policy names it: the fan's event page lets its video load from there
/// and nowhere else. `None` for a URL without a plain http(s) origin, or whose origin
/// holds anything but host characters (so it can never add a directive to a policy).
pub fn media_origin(media_url: &str) -> Option<String> {
    let parsed = url::Url::parse(media_url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let origin = parsed.origin().ascii_serialization();
    let host_chars = |c: char| c.is_ascii_alphanumeric() || ".-:[]/".contains(c);
    origin.chars().all(host_chars).then_some(origin)
}

pub fn validate_new_window(window: EventWindow, now: Timestamp) -> Result<(), RuleViolation> {
    if window.status(now) == EventStatus::Ended {
        return Err(RuleViolation::invalid(
            "starts_at",
            "the event would already have ended",
        ));
    }
    Ok(())
}

/// The start, the duration and the video are fixed once the event has begun (viewers are
/// already watching from a position); the title and Q&A may change at any time.
pub fn may_reschedule(status: EventStatus) -> Result<(), RuleViolation> {
    match status {
        EventStatus::Scheduled => Ok(()),
        EventStatus::Live => Err(RuleViolation::InvalidTransition(
            "the event has begun: its start, duration and video can no longer change",
        )),
        EventStatus::Ended => Err(RuleViolation::InvalidTransition(
            "the event has ended: its start, duration and video can no longer change",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_origin_is_scheme_host_and_port_only() {
        assert_eq!(
            media_origin("https://cdn.example.com/films/a.webm?t=1#x").as_deref(),
            Some("https://cdn.example.com")
        );
        assert_eq!(
            media_origin("http://127.0.0.1:8089/v.webm").as_deref(),
            Some("http://127.0.0.1:8089")
        );
        assert_eq!(
            media_origin("https://BÜCHER.example/v").as_deref(),
            Some("https://xn--bcher-kva.example")
        );
        assert_eq!(
            media_origin("http://[::1]:80/v").as_deref(),
            Some("http://[::1]")
        );
        assert_eq!(media_origin("ftp://example.com/v"), None);
        assert_eq!(media_origin("not a url"), None);
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    const START: &str = "2026-12-07T20:00:00Z";

    fn window() -> EventWindow {
        EventWindow {
            starts_at: at(START),
            duration_secs: 600,
        }
    }

    #[test]
    fn status_and_position_on_a_manual_clock() {
        // (viewer arrives at, status, position)
        let cases: [(&str, EventStatus, Option<f64>); 8] = [
            ("2026-12-07T19:00:00Z", EventStatus::Scheduled, None),
            ("2026-12-07T19:59:59.999Z", EventStatus::Scheduled, None),
            // On time.
            ("2026-12-07T20:00:00Z", EventStatus::Live, Some(0.0)),
            // Late, to the millisecond.
            ("2026-12-07T20:01:30.250Z", EventStatus::Live, Some(90.25)),
            ("2026-12-07T20:09:59.999Z", EventStatus::Live, Some(599.999)),
            // The end is exclusive.
            ("2026-12-07T20:10:00Z", EventStatus::Ended, None),
            ("2026-12-08T20:00:00Z", EventStatus::Ended, None),
            ("2026-12-07T20:05:00Z", EventStatus::Live, Some(300.0)),
        ];
        for (now, status, position) in cases {
            assert_eq!(window().status(at(now)), status, "status at {now}");
            assert_eq!(
                window().position_secs(at(now)),
                position,
                "position at {now}"
            );
        }
    }

    #[test]
    fn chat_opens_fifteen_minutes_before_and_the_end_follows_the_duration() {
        assert_eq!(window().chat_opens_at(), at("2026-12-07T19:45:00Z"));
        assert_eq!(window().ends_at(), at("2026-12-07T20:10:00Z"));
    }

    #[test]
    fn labels() {
        assert_eq!(EventKind::Premiere.label(), "Premiere · pre-recorded");
        assert_eq!(EventKind::Live.label(), "Live");
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("Premiere"), None);
    }

    #[test]
    fn media_urls() {
        let cases: [(EventKind, Option<&str>, bool); 13] = [
            (
                EventKind::Premiere,
                Some("https://cdn.example/a.webm"),
                true,
            ),
            (EventKind::Premiere, Some("http://cdn.example/a.webm"), true),
            (
                EventKind::Premiere,
                Some(" http://cdn.example/a.webm"),
                false,
            ),
            (EventKind::Premiere, None, false),
            (EventKind::Live, None, true),
            (EventKind::Live, Some("https://live.example/stream"), true),
            (EventKind::Premiere, Some("ftp://cdn.example/a.webm"), false),
            (EventKind::Premiere, Some("https://"), false),
            (EventKind::Premiere, Some("https:///path"), false),
            (
                EventKind::Premiere,
                Some("https://cdn.example/a b.webm"),
                false,
            ),
            (
                EventKind::Premiere,
                Some("https://cdn.example/a\u{1c}.webm"),
                false,
            ),
            (
                EventKind::Premiere,
                Some("http://[cdn.example/a.webm"),
                false,
            ),
            (EventKind::Premiere, Some("http://a]b/c"), false),
        ];
        for (kind, url, ok) in cases {
            assert_eq!(
                validate_media_url(kind, url).is_ok(),
                ok,
                "{kind:?} {url:?}"
            );
        }
        let long = format!("https://cdn.example/{}", "a".repeat(MAX_MEDIA_URL_LEN));
        assert!(validate_media_url(EventKind::Premiere, Some(&long)).is_err());
        assert_eq!(
            validate_media_url(EventKind::Premiere, Some("https://X.example/v")),
            Ok(Some("https://x.example/v".to_owned()))
        );
    }

    #[test]
    fn replay_offsets_and_windows() {
        let start = at(START);
        // (sent at, offset)
        let cases = [
            ("2026-12-07T19:45:00Z", -900.0),
            ("2026-12-07T20:00:00Z", 0.0),
            ("2026-12-07T20:01:30.250Z", 90.25),
        ];
        for (sent, offset) in cases {
            assert_eq!(offset_secs(start, at(sent)), offset, "{sent}");
        }
        assert_eq!(
            replay_window(start, Some(-60), Some(30)),
            Ok((at("2026-12-07T19:59:00Z"), at("2026-12-07T20:00:30Z")))
        );
        assert_eq!(
            replay_window(start, None, None),
            Ok((Timestamp::MIN, Timestamp::MAX))
        );
        let max = MAX_REPLAY_OFFSET_SECS;
        assert_eq!(
            replay_window(start, Some(-max), Some(max)),
            Ok((at("2026-12-05T20:00:00Z"), at("2026-12-09T20:00:00Z")))
        );
        for (from, to) in [
            (Some(-max - 1), None),
            (None, Some(max + 1)),
            (Some(i64::MIN), None),
        ] {
            assert!(replay_window(start, from, to).is_err(), "{from:?} {to:?}");
        }
    }

    #[test]
    fn durations() {
        for (secs, ok) in [
            (0, false),
            (1, true),
            (MAX_DURATION_SECS, true),
            (MAX_DURATION_SECS + 1, false),
        ] {
            assert_eq!(validate_duration_secs(secs).is_ok(), ok, "{secs}");
        }
    }

    #[test]
    fn new_windows_and_rescheduling() {
        // Created before, during, after the window.
        let cases = [
            ("2026-12-07T12:00:00Z", true),
            ("2026-12-07T20:05:00Z", true),
            ("2026-12-07T20:10:00Z", false),
        ];
        for (now, ok) in cases {
            assert_eq!(validate_new_window(window(), at(now)).is_ok(), ok, "{now}");
        }
        assert!(may_reschedule(EventStatus::Scheduled).is_ok());
        assert!(matches!(
            may_reschedule(EventStatus::Live),
            Err(RuleViolation::InvalidTransition(_))
        ));
        assert!(matches!(
            may_reschedule(EventStatus::Ended),
            Err(RuleViolation::InvalidTransition(_))
        ));
    }
}
