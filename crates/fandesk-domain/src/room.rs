//! Live rooms (docs/product.md › Live rooms): room states, who may manage and moderate a
//! room, and the posting rules — room state, timeouts, slow mode — decided with the time
//! passed in (this crate never reads the clock).

use crate::capability::Capability;
use crate::error::RuleViolation;
use crate::role::{Principal, Role};
use crate::visibility::Audience;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Longest room title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest slow-mode interval: an hour between messages is already a very quiet room.
pub const MAX_SLOW_MODE_SECS: u32 = 3_600;
/// Longest timeout. Longer exclusions are bans, a different (later) tool.
pub const MAX_TIMEOUT_SECS: u64 = 7 * 24 * 3_600;

/// A live room (premiere or event chat). Not the same id space as conversations.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomId(pub String);

impl RoomId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RoomId {
    fn from(value: &str) -> Self {
        RoomId(value.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    /// Before the premiere: the countdown room. The team may post; fans wait.
    Scheduled,
    Open,
    /// After the event: read-only chat replay.
    Closed,
}

impl RoomState {
    pub const ALL: [RoomState; 3] = [RoomState::Scheduled, RoomState::Open, RoomState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            RoomState::Scheduled => "scheduled",
            RoomState::Open => "open",
            RoomState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<RoomState> {
        RoomState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// The state every rule and every client sees. A scheduled room whose `opens_at` has
/// passed counts as open, so a premiere opens on time without a job flipping a flag (and
/// without a window where the stored and the shown state disagree).
pub fn effective_state(
    stored: RoomState,
    opens_at: Option<Timestamp>,
    now: Timestamp,
) -> RoomState {
    match (stored, opens_at) {
        (RoomState::Scheduled, Some(at)) if at <= now => RoomState::Open,
        (state, _) => state,
    }
}

/// A team action on a room's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomAction {
    Open,
    Close,
}

impl RoomAction {
    /// The stored state after the action, given the room's *effective* state.
    pub fn apply(self, current: RoomState) -> Result<RoomState, RuleViolation> {
        match (self, current) {
            (RoomAction::Open, RoomState::Open) => {
                Err(RuleViolation::InvalidTransition("room is already open"))
            }
            // Opening a closed room reopens its chat (an encore, a mistaken close).
            (RoomAction::Open, _) => Ok(RoomState::Open),
            (RoomAction::Close, RoomState::Closed) => {
                Err(RuleViolation::InvalidTransition("room is already closed"))
            }
            (RoomAction::Close, _) => Ok(RoomState::Closed),
        }
    }
}

/// Creating, opening and closing rooms is for the owner and supervisors
/// ([`Capability::ManageRooms`]).
pub fn may_manage_rooms(principal: &Principal) -> Result<(), RuleViolation> {
    principal.require(Capability::ManageRooms)
}

/// Deleting messages and timing fans out is for human team members: a moderation call is
/// a human judgement (docs/product.md: humans own the relationship), so bots may not
/// ([`Capability::ModerateRooms`]).
pub fn may_moderate(principal: &Principal) -> Result<(), RuleViolation> {
    principal.require(Capability::ModerateRooms)
}

/// Trims a title and checks its length: 1–200 characters.
pub fn validate_title(title: &str) -> Result<String, RuleViolation> {
    let trimmed = title.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err(RuleViolation::invalid("title", "must not be empty"));
    }
    if chars > MAX_TITLE_CHARS {
        return Err(RuleViolation::invalid(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters (got {chars})"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// 0 turns slow mode off.
pub fn validate_slow_mode_secs(secs: u32) -> Result<(), RuleViolation> {
    if secs > MAX_SLOW_MODE_SECS {
        return Err(RuleViolation::invalid(
            "slow_mode_secs",
            format!("must be between 0 and {MAX_SLOW_MODE_SECS}"),
        ));
    }
    Ok(())
}

/// 0 lifts a timeout early.
pub fn validate_timeout_secs(secs: u64) -> Result<(), RuleViolation> {
    if secs > MAX_TIMEOUT_SECS {
        return Err(RuleViolation::invalid(
            "seconds",
            format!("must be between 0 and {MAX_TIMEOUT_SECS}"),
        ));
    }
    Ok(())
}

/// Whether `audience` may read the body of a deleted message. The team keeps it for
/// moderation review; fans get a tombstone, live or replayed (docs/product.md › Live rooms:
/// a resuming fan never sees the body).
pub fn shows_deleted_body(audience: Audience) -> bool {
    audience == Audience::Team
}

/// What a room remembers about one fan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FanStanding {
    pub last_message_at: Option<Timestamp>,
    pub timed_out_until: Option<Timestamp>,
}

/// Why a room op was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RoomRefusal {
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// Slow mode: the fan posted less than the room's interval ago (`rate_limited`).
    #[error("slow mode: wait {retry_after_secs} s before sending again")]
    SlowMode { retry_after_secs: u64 },
    /// A moderator timed the fan out (`forbidden`).
    #[error("you are timed out in this room until {until}")]
    TimedOut { until: Timestamp },
    /// The room, or the message an op names, does not exist (`not_found`).
    #[error("{0} not found")]
    Missing(&'static str),
}

/// What posting does besides appending the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomPost {
    /// Bot messages are always labelled automated (docs/product.md › Principles, 3).
    pub automated: bool,
}

/// Decides whether `author` may post now in a room in `state` (effective). Team members
/// are exempt from slow mode and timeouts; `standing` is the fan's record in this room.
pub fn decide_room_post(
    author: &Principal,
    state: RoomState,
    slow_mode_secs: u32,
    standing: Option<&FanStanding>,
    now: Timestamp,
) -> Result<RoomPost, RoomRefusal> {
    if state == RoomState::Closed {
        return Err(RuleViolation::InvalidTransition("room is closed").into());
    }
    let role = match author {
        Principal::Member { role, .. } => *role,
        Principal::Fan { .. } if state == RoomState::Scheduled => {
            return Err(RuleViolation::InvalidTransition("room is not open yet").into());
        }
        Principal::Fan { .. } => return fan_may_post(slow_mode_secs, standing, now),
    };
    Ok(RoomPost {
        automated: role == Role::Bot,
    })
}

fn fan_may_post(
    slow_mode_secs: u32,
    standing: Option<&FanStanding>,
    now: Timestamp,
) -> Result<RoomPost, RoomRefusal> {
    let standing = standing.cloned().unwrap_or_default();
    if let Some(until) = standing.timed_out_until
        && until > now
    {
        return Err(RoomRefusal::TimedOut { until });
    }
    if slow_mode_secs > 0
        && let Some(last) = standing.last_message_at
    {
        let next_allowed = last.as_microsecond() + i64::from(slow_mode_secs) * 1_000_000;
        let wait_micros = next_allowed - now.as_microsecond();
        if wait_micros > 0 {
            // Rounded up, so waiting the advertised time always suffices.
            let retry_after_secs = (wait_micros as u64).div_ceil(1_000_000);
            return Err(RoomRefusal::SlowMode { retry_after_secs });
        }
    }
    Ok(RoomPost { automated: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FanId, MemberId};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn fan() -> Principal {
        Principal::Fan {
            id: FanId::from("f1"),
            name: "Fan".into(),
        }
    }

    fn member(role: Role) -> Principal {
        Principal::Member {
            id: MemberId::from("m1"),
            role,
            name: "Member".into(),
        }
    }

    #[test]
    fn effective_state_opens_scheduled_rooms_on_time() {
        let cases = [
            (RoomState::Scheduled, None, RoomState::Scheduled),
            (RoomState::Scheduled, Some(at(10)), RoomState::Scheduled),
            (RoomState::Scheduled, Some(at(0)), RoomState::Open),
            (RoomState::Scheduled, Some(at(-5)), RoomState::Open),
            (RoomState::Open, Some(at(10)), RoomState::Open),
            (RoomState::Closed, Some(at(-5)), RoomState::Closed),
        ];
        for (stored, opens_at, expected) in cases {
            assert_eq!(
                effective_state(stored, opens_at, at(0)),
                expected,
                "{stored:?} opening {opens_at:?}"
            );
        }
    }

    #[test]
    fn actions() {
        use RoomState::{Closed, Open, Scheduled};
        let cases = [
            (RoomAction::Open, Scheduled, Some(Open)),
            (RoomAction::Open, Open, None),
            (RoomAction::Open, Closed, Some(Open)),
            (RoomAction::Close, Scheduled, Some(Closed)),
            (RoomAction::Close, Open, Some(Closed)),
            (RoomAction::Close, Closed, None),
        ];
        for (action, from, expected) in cases {
            assert_eq!(
                action.apply(from).ok(),
                expected,
                "{action:?} from {from:?}"
            );
        }
    }

    #[test]
    fn who_manages_and_moderates() {
        let roles = [
            (Role::Owner, true, true),
            (Role::Supervisor, true, true),
            (Role::EscalationLead, false, true),
            (Role::Agent, false, true),
            (Role::Bot, false, false),
        ];
        for (role, manages, moderates) in roles {
            assert_eq!(
                may_manage_rooms(&member(role)).is_ok(),
                manages,
                "{role:?} manages"
            );
            assert_eq!(
                may_moderate(&member(role)).is_ok(),
                moderates,
                "{role:?} moderates"
            );
        }
        assert!(may_manage_rooms(&fan()).is_err());
        assert!(may_moderate(&fan()).is_err());
    }

    /// `expected`: Ok(automated) or the refusal's wire code.
    fn check(
        author: Principal,
        state: RoomState,
        slow_mode_secs: u32,
        standing: FanStanding,
        now: i64,
        expected: Result<bool, &str>,
    ) {
        let got = decide_room_post(&author, state, slow_mode_secs, Some(&standing), at(now))
            .map(|post| post.automated)
            .map_err(|refusal| match refusal {
                RoomRefusal::Rule(RuleViolation::InvalidTransition(_)) => "conflict",
                RoomRefusal::Rule(_) => "other",
                RoomRefusal::SlowMode { .. } => "rate_limited",
                RoomRefusal::TimedOut { .. } => "forbidden",
                RoomRefusal::Missing(_) => "not_found",
            });
        assert_eq!(
            got, expected,
            "{author:?} in {state:?} (slow {slow_mode_secs}) {standing:?} at {now}"
        );
    }

    #[test]
    fn posting_rules() {
        use RoomState::*;
        let fresh = FanStanding::default;
        let posted = |seconds| FanStanding {
            last_message_at: Some(at(seconds)),
            timed_out_until: None,
        };
        let timed_out = |until| FanStanding {
            last_message_at: None,
            timed_out_until: Some(at(until)),
        };
        // Room state: fans post only in open rooms; the team also in scheduled ones.
        check(fan(), Open, 0, fresh(), 0, Ok(false));
        check(fan(), Scheduled, 0, fresh(), 0, Err("conflict"));
        check(fan(), Closed, 0, fresh(), 0, Err("conflict"));
        check(member(Role::Agent), Scheduled, 0, fresh(), 0, Ok(false));
        check(member(Role::Owner), Closed, 0, fresh(), 0, Err("conflict"));
        check(member(Role::Bot), Open, 0, fresh(), 0, Ok(true));
        // Slow mode: the interval is measured from the fan's last message.
        check(fan(), Open, 10, posted(0), 5, Err("rate_limited"));
        check(fan(), Open, 10, posted(0), 9, Err("rate_limited"));
        check(fan(), Open, 10, posted(0), 10, Ok(false));
        check(fan(), Open, 10, posted(0), 11, Ok(false));
        check(fan(), Open, 0, posted(0), 0, Ok(false));
        // Timeouts hold until their end.
        check(fan(), Open, 0, timed_out(60), 59, Err("forbidden"));
        check(fan(), Open, 0, timed_out(60), 60, Ok(false));
        // The team is exempt from both.
        check(member(Role::Agent), Open, 10, posted(0), 1, Ok(false));
        check(
            member(Role::Supervisor),
            Open,
            0,
            timed_out(60),
            1,
            Ok(false),
        );
    }

    #[test]
    fn slow_mode_says_how_long_to_wait_rounded_up() {
        let standing = FanStanding {
            last_message_at: Some(at(0)),
            timed_out_until: None,
        };
        let now = Timestamp::from_microsecond(at(3).as_microsecond() + 500_000).unwrap();
        let refusal =
            decide_room_post(&fan(), RoomState::Open, 10, Some(&standing), now).unwrap_err();
        assert_eq!(
            refusal,
            RoomRefusal::SlowMode {
                retry_after_secs: 7
            }
        );
    }

    #[test]
    fn limits() {
        assert_eq!(
            validate_title("  Premiere night ").unwrap(),
            "Premiere night"
        );
        assert!(validate_title(" ").is_err());
        assert!(validate_title(&"é".repeat(200)).is_ok());
        assert!(validate_title(&"x".repeat(201)).is_err());
        assert!(validate_slow_mode_secs(0).is_ok());
        assert!(validate_slow_mode_secs(3_600).is_ok());
        assert!(validate_slow_mode_secs(3_601).is_err());
        assert!(validate_timeout_secs(0).is_ok());
        assert!(validate_timeout_secs(MAX_TIMEOUT_SECS + 1).is_err());
        for state in RoomState::ALL {
            assert_eq!(RoomState::parse(state.as_str()), Some(state));
        }
        assert!(!shows_deleted_body(Audience::Fan));
        assert!(shows_deleted_body(Audience::Team));
    }
}
