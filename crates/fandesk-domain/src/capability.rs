//! Who may do what: one table of role × capability (docs/product.md › Roles). Every
//! permission check of the service asks it through [`Principal::require`] or
//! [`Role::may`]; nothing else lists roles for a permission.
//!
//! The table grants by role alone. A few grants are narrowed further by the state of the
//! thing acted on, next to that state: an escalation lead monitors and works *escalated*
//! conversations only, an agent works conversations assigned to them or unassigned
//! (`permission`, `change`). Fans hold no capability; what a fan may do (open their own
//! conversation, post in it, watch a room) is decided by the conversation or room.

use crate::error::RuleViolation;
use crate::role::{Principal, Role};

/// Something a team member may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Create team members (owner).
    ManageMembers,
    /// List the team's members.
    ViewTeam,
    /// Follow the team's `inbox` topic (queue and assignment changes).
    WatchInbox,
    /// List alerts and follow the `alerts` topic.
    WatchAlerts,
    /// Read the keyword and restricted-word rules.
    ViewRules,
    /// Create and delete keyword and restricted-word rules.
    ManageRules,
    /// The desk: the queue, members' load and on-shift state, shifts and coverage.
    ViewDesk,
    /// Create, change and delete shifts.
    ManageShifts,
    /// Set a member's ceiling of automatic assignments.
    ManageCapacity,
    /// Clock in and out (humans work shifts; bots do not).
    WorkShifts,
    /// List and render canned responses.
    UseCanned,
    /// Create, edit and delete canned responses; the library's health.
    ManageCanned,
    /// Resolve, reopen, assign, unassign, escalate, take over, hand back — each further
    /// decided against the conversation (`change`).
    ChangeConversations,
    /// Work in every conversation whoever it is assigned to: post, resolve, reassign,
    /// unassign, escalate, take over, hand back.
    SuperviseConversations,
    /// Join a conversation silently (escalation leads: escalated conversations only).
    Monitor,
    /// Read the audit log.
    ReadAudit,
    /// Browse every team message with its reply time.
    ReviewMessages,
    /// Metric summaries and the weekly report.
    ViewMetrics,
    /// Edit a fan's tags, notes, attributes and time zone: a human's judgement, so not for
    /// bots (which set the spend only).
    EditFanProfiles,
    /// Set a fan's lifetime spend (the creator's platform through a bot token, or the
    /// owner).
    SetFanSpend,
    /// Create, open and close live rooms.
    ManageRooms,
    /// Delete room messages and time fans out: a human judgement, so not for bots.
    ModerateRooms,
    /// Read the charter, its versions and reviews (agents read the voice beside the
    /// composer).
    ReadCharter,
    /// Save a new version of the charter (owner).
    EditCharter,
    /// Record a review of the charter, which restarts the review clock.
    ReviewCharter,
    /// Create, list and delete outgoing webhooks and read their delivery logs.
    ManageIntegrations,
    /// Schedule messages to fans and segments, follow and cancel them.
    ScheduleMessages,
    /// Schedule a public reply to send later ("reply later"): a human's message.
    ScheduleReplies,
    /// Read fan profiles (for anyone else no fan exists).
    ViewFanProfiles,
    /// Export the workspace's fans and conversations, internal notes included, and import
    /// such an export (owner: the whole history leaves or enters at once).
    MoveData,
    /// Write, version, activate and deactivate scripted bot flows.
    ManageFlows,
    /// Read team channels and the decision log, post in channels (an announcements channel
    /// takes `ManageChannels` too), start threads, mark actions done.
    UseChannels,
    /// Create, archive and restore team channels; post in announcements channels.
    ManageChannels,
    /// Record a fan's conversion (a purchase or sign-up; the creator's platform through a
    /// bot token, or the owner).
    RecordConversions,
    /// Create, list and revoke integration API tokens (owner: a token opens the API).
    ManageApiTokens,
}

use Role::{Agent, Bot, EscalationLead, Owner, Supervisor};

const EVERY_MEMBER: &[Role] = &[Owner, Supervisor, EscalationLead, Agent, Bot];
const HUMANS: &[Role] = &[Owner, Supervisor, EscalationLead, Agent];
const MANAGERS: &[Role] = &[Owner, Supervisor];
const SUPERVISING: &[Role] = &[Owner, Supervisor, EscalationLead];

impl Capability {
    pub const ALL: [Capability; 35] = [
        Capability::ManageMembers,
        Capability::ViewTeam,
        Capability::WatchInbox,
        Capability::WatchAlerts,
        Capability::ViewRules,
        Capability::ManageRules,
        Capability::ViewDesk,
        Capability::ManageShifts,
        Capability::ManageCapacity,
        Capability::WorkShifts,
        Capability::UseCanned,
        Capability::ManageCanned,
        Capability::ChangeConversations,
        Capability::SuperviseConversations,
        Capability::Monitor,
        Capability::ReadAudit,
        Capability::ReviewMessages,
        Capability::ViewMetrics,
        Capability::EditFanProfiles,
        Capability::SetFanSpend,
        Capability::ManageRooms,
        Capability::ModerateRooms,
        Capability::ReadCharter,
        Capability::EditCharter,
        Capability::ReviewCharter,
        Capability::ManageIntegrations,
        Capability::ScheduleMessages,
        Capability::ScheduleReplies,
        Capability::ViewFanProfiles,
        Capability::MoveData,
        Capability::ManageFlows,
        Capability::UseChannels,
        Capability::ManageChannels,
        Capability::RecordConversions,
        Capability::ManageApiTokens,
    ];

    /// The table: the roles that hold this capability.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Capability::ManageMembers => &[Owner],
            Capability::ViewTeam => EVERY_MEMBER,
            Capability::WatchInbox => EVERY_MEMBER,
            Capability::WatchAlerts => SUPERVISING,
            Capability::ViewRules => EVERY_MEMBER,
            Capability::ManageRules => MANAGERS,
            Capability::ViewDesk => EVERY_MEMBER,
            Capability::ManageShifts => MANAGERS,
            Capability::ManageCapacity => MANAGERS,
            Capability::WorkShifts => HUMANS,
            Capability::UseCanned => EVERY_MEMBER,
            Capability::ManageCanned => MANAGERS,
            Capability::ChangeConversations => HUMANS,
            Capability::SuperviseConversations => MANAGERS,
            Capability::Monitor => SUPERVISING,
            Capability::ReadAudit => MANAGERS,
            Capability::ReviewMessages => SUPERVISING,
            Capability::ViewMetrics => SUPERVISING,
            Capability::EditFanProfiles => HUMANS,
            Capability::SetFanSpend => &[Owner, Bot],
            Capability::ManageRooms => MANAGERS,
            Capability::ModerateRooms => HUMANS,
            Capability::ReadCharter => EVERY_MEMBER,
            Capability::EditCharter => &[Owner],
            Capability::ReviewCharter => MANAGERS,
            Capability::ManageIntegrations => &[Owner],
            Capability::ScheduleMessages => MANAGERS,
            Capability::ScheduleReplies => HUMANS,
            Capability::ViewFanProfiles => EVERY_MEMBER,
            Capability::MoveData => &[Owner],
            Capability::ManageFlows => MANAGERS,
            Capability::UseChannels => EVERY_MEMBER,
            Capability::ManageChannels => MANAGERS,
            Capability::RecordConversions => &[Owner, Bot],
            Capability::ManageApiTokens => &[Owner],
        }
    }

    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// Why `principal`, who lacks this capability, is refused (the `forbidden` message).
    pub fn refusal(self, principal: &Principal) -> &'static str {
        let fan = principal.is_fan();
        match self {
            Capability::ManageMembers => "only the owner manages members",
            Capability::ViewTeam => "fans cannot list team members",
            Capability::WatchInbox => "the inbox is for team members",
            Capability::WatchAlerts => "alerts are for supervisors, leads and the owner",
            Capability::ViewRules => "rules are team-only",
            Capability::ManageRules => "rules are edited by the owner and supervisors",
            Capability::ViewDesk => "the desk is for the team",
            Capability::ManageShifts => "the schedule is managed by the owner and supervisors",
            Capability::ManageCapacity => "capacity is managed by the owner and supervisors",
            Capability::WorkShifts if fan => "only team members clock in",
            Capability::WorkShifts => "bots do not work shifts",
            Capability::UseCanned => "canned responses are for the team",
            Capability::ManageCanned => {
                "the canned-response library is managed by the owner and supervisors"
            }
            Capability::ChangeConversations if fan => "only team members change a conversation",
            Capability::ChangeConversations => "bots cannot change a conversation",
            Capability::SuperviseConversations => {
                "only the owner and supervisors work every conversation"
            }
            Capability::Monitor => "monitoring is for owner, supervisor, escalation_lead",
            Capability::ReadAudit => "the audit log is for owner, supervisor",
            Capability::ReviewMessages => {
                "message review is for owner, supervisor, escalation_lead"
            }
            Capability::ViewMetrics => {
                "metrics are for the owner, supervisors and escalation leads"
            }
            Capability::EditFanProfiles if fan => "fan profiles are for the team",
            Capability::EditFanProfiles => {
                "bots do not edit fan profiles; they set the lifetime spend only"
            }
            Capability::ViewFanProfiles => "fan profiles are for the team",
            Capability::SetFanSpend => {
                "lifetime spend is set by the creator's platform (a bot token) or the owner"
            }
            Capability::ManageRooms => "only the owner and supervisors manage rooms",
            Capability::ModerateRooms if fan => "only team members moderate rooms",
            Capability::ModerateRooms => "bots cannot moderate rooms",
            Capability::ReadCharter => "the charter is for the team",
            Capability::EditCharter => "only the owner edits the charter",
            Capability::ReviewCharter => "the charter is reviewed by the owner and supervisors",
            Capability::ManageIntegrations => "only the owner manages webhooks",
            Capability::ScheduleMessages => {
                "scheduled messages are managed by the owner and supervisors"
            }
            Capability::ScheduleReplies if fan => "only team members schedule replies",
            Capability::ScheduleReplies => "bots send their replies themselves",
            Capability::MoveData => "only the owner exports and imports the workspace",
            Capability::ManageFlows => "bot flows are written by the owner and supervisors",
            Capability::UseChannels => "team channels are for the team",
            Capability::ManageChannels => "channels are managed by the owner and supervisors",
            Capability::RecordConversions => {
                "conversions are recorded by the creator's platform (a bot token) or the owner"
            }
            Capability::ManageApiTokens => "only the owner manages API tokens",
        }
    }
}

impl Role {
    /// Whether this role holds `capability` (the table in [`Capability::roles`]).
    pub fn may(self, capability: Capability) -> bool {
        capability.allows(self)
    }
}

impl Principal {
    /// Whether this principal holds `capability`; fans hold none.
    pub fn may(&self, capability: Capability) -> bool {
        self.role().is_some_and(|role| role.may(capability))
    }

    /// The one permission check: `Forbidden` with the capability's refusal unless this
    /// principal holds it.
    pub fn require(&self, capability: Capability) -> Result<(), RuleViolation> {
        if self.may(capability) {
            Ok(())
        } else {
            Err(RuleViolation::Forbidden(capability.refusal(self)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FanId, MemberId};

    fn check(role: Role, capability: Capability, expected: bool) {
        assert_eq!(
            role.may(capability),
            expected,
            "{role:?} × {capability:?}: expected {expected}"
        );
        let principal = Principal::Member {
            id: MemberId::from("m"),
            role,
            name: "M".into(),
        };
        assert_eq!(principal.require(capability).is_ok(), expected);
    }

    /// The table as docs/product.md states it, one row per capability, columns in the order
    /// owner, supervisor, escalation lead, agent, bot.
    #[test]
    fn who_may_do_what() {
        use Capability::*;
        const O: bool = true;
        const X: bool = false;
        let table: [(Capability, [bool; 5]); 35] = [
            (ManageMembers, [O, X, X, X, X]),
            (ViewTeam, [O, O, O, O, O]),
            (WatchInbox, [O, O, O, O, O]),
            (WatchAlerts, [O, O, O, X, X]),
            (ViewRules, [O, O, O, O, O]),
            (ManageRules, [O, O, X, X, X]),
            (ViewDesk, [O, O, O, O, O]),
            (ManageShifts, [O, O, X, X, X]),
            (ManageCapacity, [O, O, X, X, X]),
            (WorkShifts, [O, O, O, O, X]),
            (UseCanned, [O, O, O, O, O]),
            (ManageCanned, [O, O, X, X, X]),
            (ChangeConversations, [O, O, O, O, X]),
            (SuperviseConversations, [O, O, X, X, X]),
            (Monitor, [O, O, O, X, X]),
            (ReadAudit, [O, O, X, X, X]),
            (ReviewMessages, [O, O, O, X, X]),
            (ViewMetrics, [O, O, O, X, X]),
            (EditFanProfiles, [O, O, O, O, X]),
            (SetFanSpend, [O, X, X, X, O]),
            (ManageRooms, [O, O, X, X, X]),
            (ModerateRooms, [O, O, O, O, X]),
            (ReadCharter, [O, O, O, O, O]),
            (EditCharter, [O, X, X, X, X]),
            (ReviewCharter, [O, O, X, X, X]),
            (ManageIntegrations, [O, X, X, X, X]),
            (ScheduleMessages, [O, O, X, X, X]),
            (ScheduleReplies, [O, O, O, O, X]),
            (ViewFanProfiles, [O, O, O, O, O]),
            (MoveData, [O, X, X, X, X]),
            (ManageFlows, [O, O, X, X, X]),
            (UseChannels, [O, O, O, O, O]),
            (ManageChannels, [O, O, X, X, X]),
            (RecordConversions, [O, X, X, X, O]),
            (ManageApiTokens, [O, X, X, X, X]),
        ];
        assert_eq!(
            table.map(|(capability, _)| capability),
            Capability::ALL,
            "every capability has exactly one row, in order"
        );
        for (capability, row) in table {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                check(role, capability, expected);
            }
        }
    }

    #[test]
    fn fans_hold_no_capability_and_are_told_why() {
        let fan = Principal::Fan {
            id: FanId::from("f"),
            name: "F".into(),
        };
        for capability in Capability::ALL {
            assert!(!fan.may(capability));
            assert_eq!(
                fan.require(capability),
                Err(RuleViolation::Forbidden(capability.refusal(&fan)))
            );
        }
        let bot = Principal::Member {
            id: MemberId::from("b"),
            role: Role::Bot,
            name: "B".into(),
        };
        assert_eq!(
            bot.require(Capability::ModerateRooms),
            Err(RuleViolation::Forbidden("bots cannot moderate rooms"))
        );
        assert_eq!(
            fan.require(Capability::ModerateRooms),
            Err(RuleViolation::Forbidden("only team members moderate rooms"))
        );
    }
}
