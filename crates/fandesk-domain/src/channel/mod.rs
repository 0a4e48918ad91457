//! Team channels (docs/product.md › Team channels): their kinds and who posts in them, the
//! limits on their names, purposes and guidelines, who belongs to one, threads, and when
//! an idle channel is warned and archived. Fans have no part in any of it: every channel
//! route answers them 404, as if channels did not exist.

pub mod decision;
pub mod tag;

use crate::capability::Capability;
use crate::error::RuleViolation;
use crate::role::Principal;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

pub use decision::{DecisionId, DecisionKind, DecisionStatus};
pub use tag::{Tag, parse_tag};

/// Longest channel name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest purpose, in characters after trimming.
pub const MAX_PURPOSE_CHARS: usize = 500;
/// Longest pinned guideline, in characters after trimming.
pub const MAX_GUIDELINE_CHARS: usize = 4_000;
/// Most named members of one channel.
pub const MAX_MEMBERS: usize = 500;
/// How long before the archive the channel is warned (docs/product.md: "a warning in the
/// channel 7 days before").
pub const WARNING_DAYS: i64 = 7;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub String);

impl ChannelId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ChannelId {
    fn from(value: &str) -> Self {
        ChannelId(value.to_owned())
    }
}

/// What a channel is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Every member of the channel posts.
    Open,
    /// Only the owner and supervisors post; the others read.
    Announcements,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 2] = [ChannelKind::Open, ChannelKind::Announcements];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Open => "open",
            ChannelKind::Announcements => "announcements",
        }
    }

    pub fn parse(text: &str) -> Option<ChannelKind> {
        ChannelKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Why a channel write was refused inside its transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelRefusal {
    Rule(RuleViolation),
    /// The channel (or the message named) does not exist.
    Missing(&'static str),
    /// Creating or restoring a channel would pass the charter's `channels.limit` of
    /// active channels.
    Limit(u32),
}

impl From<RuleViolation> for ChannelRefusal {
    fn from(violation: RuleViolation) -> Self {
        ChannelRefusal::Rule(violation)
    }
}

/// Trims `text` and checks it holds 1..=`max` characters (0 allowed when `optional`).
fn bounded(
    field: &'static str,
    text: &str,
    max: usize,
    optional: bool,
) -> Result<String, RuleViolation> {
    crate::text::refuse_nul(field, text)?;
    let trimmed = text.trim();
    let chars = trimmed.chars().count();
    if chars == 0 && !optional {
        return Err(RuleViolation::invalid(field, "must not be empty"));
    }
    if chars > max {
        return Err(RuleViolation::invalid(
            field,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A channel's name, trimmed: 1–80 characters.
pub fn validate_name(name: &str) -> Result<String, RuleViolation> {
    bounded("name", name, MAX_NAME_CHARS, false)
}

/// A channel's purpose, trimmed: required, 1–500 characters.
pub fn validate_purpose(purpose: &str) -> Result<String, RuleViolation> {
    bounded("purpose", purpose, MAX_PURPOSE_CHARS, false)
}

/// A channel's pinned guideline, trimmed: up to 4,000 characters, may be empty.
pub fn validate_guideline(guideline: &str) -> Result<String, RuleViolation> {
    bounded("guideline", guideline, MAX_GUIDELINE_CHARS, true)
}

/// Who may post in a channel of `kind`: every member of it in an open channel, the owner
/// and supervisors in an announcements channel.
pub fn may_post(actor: &Principal, kind: ChannelKind) -> Result<(), RuleViolation> {
    actor.require(Capability::UseChannels)?;
    if kind == ChannelKind::Announcements && !actor.may(Capability::ManageChannels) {
        return Err(RuleViolation::Forbidden(
            "only the owner and supervisors post in an announcements channel",
        ));
    }
    Ok(())
}

/// Whether a team member belongs to a channel: everyone when it names no members,
/// else the named ones (the owner and supervisors, who manage channels, always do).
pub fn is_member(actor: &Principal, members: &[String]) -> bool {
    if actor.is_fan() {
        return false;
    }
    members.is_empty()
        || actor.may(Capability::ManageChannels)
        || members.iter().any(|member| member == actor.author_id())
}

/// What the archiving sweep does to an active channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveStep {
    /// Still in use, or already warned and not yet due.
    Nothing,
    /// Idle for `archive_after_days - 7` days: post the warning (once).
    Warn,
    /// Idle for `archive_after_days`: archive it.
    Archive,
}

/// The sweep's decision for a channel last active at `active_at` (its last member message,
/// its creation or its restoration), `warned` if the warning of this idle spell was posted.
/// With fewer than 7 days before archiving, the warning comes at once.
pub fn archive_step(
    active_at: Timestamp,
    warned: bool,
    archive_after_days: u32,
    now: Timestamp,
) -> ArchiveStep {
    let days = |n: i64| SignedDuration::from_hours(24 * n);
    let idle = now.duration_since(active_at);
    let after = days(i64::from(archive_after_days));
    if idle >= after {
        return ArchiveStep::Archive;
    }
    let warn_at = after - days(WARNING_DAYS);
    if !warned && idle >= warn_at.max(SignedDuration::ZERO) {
        return ArchiveStep::Warn;
    }
    ArchiveStep::Nothing
}

/// The text of the warning posted before the archive.
pub fn archive_warning(archive_after_days: u32, archive_at: Timestamp) -> String {
    format!(
        "This channel has had no message for a while: it will be archived on {} \
         (after {archive_after_days} days without a message) unless someone posts.",
        archive_at.strftime("%Y-%m-%d %H:%M UTC")
    )
}

/// When a channel last active at `active_at` is archived.
pub fn archive_at(active_at: Timestamp, archive_after_days: u32) -> Timestamp {
    active_at
        .saturating_add(SignedDuration::from_hours(
            24 * i64::from(archive_after_days),
        ))
        .unwrap_or(active_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FanId, MemberId};
    use crate::role::Role;

    fn member(role: Role, id: &str) -> Principal {
        Principal::Member {
            id: MemberId::from(id),
            role,
            name: id.to_owned(),
        }
    }

    #[test]
    fn who_posts_where() {
        use ChannelKind::*;
        use Role::*;
        // (role, kind, may post)
        let cases = [
            (Owner, Open, true),
            (Owner, Announcements, true),
            (Supervisor, Announcements, true),
            (EscalationLead, Open, true),
            (EscalationLead, Announcements, false),
            (Agent, Open, true),
            (Agent, Announcements, false),
            (Bot, Open, true),
            (Bot, Announcements, false),
        ];
        for (role, kind, expected) in cases {
            assert_eq!(
                may_post(&member(role, "m"), kind).is_ok(),
                expected,
                "{role:?} in {kind:?}"
            );
        }
        let fan = Principal::Fan {
            id: FanId::from("f"),
            name: "F".into(),
        };
        assert!(may_post(&fan, Open).is_err());
        assert!(!is_member(&fan, &[]));
    }

    #[test]
    fn membership() {
        let named = vec!["a1".to_owned()];
        assert!(is_member(&member(Role::Agent, "a2"), &[]));
        assert!(is_member(&member(Role::Agent, "a1"), &named));
        assert!(!is_member(&member(Role::Agent, "a2"), &named));
        assert!(is_member(&member(Role::Supervisor, "s"), &named));
    }

    #[test]
    fn texts() {
        assert_eq!(validate_name("  ops ").unwrap(), "ops");
        assert!(validate_name(" ").is_err());
        assert!(validate_name(&"x".repeat(81)).is_err());
        assert!(validate_purpose("").is_err());
        assert_eq!(validate_guideline("  ").unwrap(), "");
        assert!(validate_guideline("a\0b").is_err());
        assert_eq!(
            ChannelKind::parse("announcements"),
            Some(ChannelKind::Announcements)
        );
        assert_eq!(ChannelKind::parse("Open"), None);
    }

    #[test]
    fn archive_steps() {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let day = |n: i64| start + SignedDuration::from_hours(24 * n);
        // (archive after, idle days, warned, step)
        let cases = [
            (30, 0, false, ArchiveStep::Nothing),
            (30, 22, false, ArchiveStep::Nothing),
            (30, 23, false, ArchiveStep::Warn),
            (30, 23, true, ArchiveStep::Nothing),
            (30, 29, true, ArchiveStep::Nothing),
            (30, 30, true, ArchiveStep::Archive),
            (30, 30, false, ArchiveStep::Archive),
            (3, 0, false, ArchiveStep::Warn),
            (3, 2, true, ArchiveStep::Nothing),
            (3, 3, true, ArchiveStep::Archive),
        ];
        for (after, idle, warned, step) in cases {
            assert_eq!(
                archive_step(start, warned, after, day(idle)),
                step,
                "after {after}, idle {idle}, warned {warned}"
            );
        }
        assert_eq!(archive_at(start, 30), day(30));
        assert!(archive_warning(30, day(30)).contains("archived on"));
    }
}
