//! The floor as of one pass of the desk: who is on shift and every member's load, loaded
//! once and updated as the pass assigns, so one pass never overfills an agent.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::roster::Roster;
use fandesk_domain::desk::AgentLoad;
use fandesk_domain::{MemberId, Role};
use fandesk_store::MemberLoadRow;
use jiff::{SignedDuration, Timestamp};

/// Loads and on-shift states as of one pass of the desk. Assignments made during the pass
/// are counted in, so one pass never overfills an agent.
pub(crate) struct Snapshot {
    pub now: Timestamp,
    pub roster: Roster,
    pub loads: Vec<MemberLoadRow>,
}

impl Snapshot {
    pub(crate) async fn load(app: &App) -> ServiceResult<Snapshot> {
        let now = app.now();
        let since = now
            .checked_sub(SignedDuration::from_hours(24))
            .unwrap_or(now);
        let roster = Roster::load(app).await?;
        let loads = app.store().list_member_loads(since).await?;
        Ok(Snapshot { now, roster, loads })
    }

    /// The pass's snapshot, loaded on first use.
    pub(crate) async fn ensure<'a>(
        app: &App,
        slot: &'a mut Option<Snapshot>,
    ) -> ServiceResult<&'a mut Snapshot> {
        if slot.is_none() {
            *slot = Some(Snapshot::load(app).await?);
        }
        slot.as_mut()
            .ok_or_else(|| ServiceError::Internal("desk snapshot missing".into()))
    }

    pub(crate) fn load_of(&self, row: &MemberLoadRow, active: i64, on_shift: bool) -> AgentLoad {
        AgentLoad {
            id: row.id.clone(),
            on_shift,
            active_conversations: u32::try_from(active.max(0)).unwrap_or(u32::MAX),
            max_concurrent: u32::try_from(row.max_concurrent.max(0)).unwrap_or(u32::MAX),
            assigned_today: u32::try_from(row.assigned_recently.max(0)).unwrap_or(u32::MAX),
        }
    }

    /// Agents (docs/product.md › Routing, priority and shifts: automatic assignment goes to
    /// agents).
    pub(crate) fn agent_loads(&self) -> Vec<AgentLoad> {
        self.loads
            .iter()
            .filter(|row| row.role == Role::Agent)
            .map(|row| self.load_of(row, row.active, self.roster.on_shift(&row.id, self.now)))
            .collect()
    }

    /// Escalation leads, loaded by the escalations they own; `all_on_shift` treats every
    /// lead as on shift (the fallback when none is).
    pub(crate) fn lead_loads(&self, all_on_shift: bool) -> Vec<AgentLoad> {
        self.loads
            .iter()
            .filter(|row| row.role == Role::EscalationLead)
            .map(|row| {
                let on_shift = all_on_shift || self.roster.on_shift(&row.id, self.now);
                self.load_of(row, row.escalations, on_shift)
            })
            .collect()
    }

    pub(crate) fn has_candidate(&self) -> bool {
        self.agent_loads()
            .iter()
            .any(|agent| agent.on_shift && agent.has_capacity())
    }

    /// Whether any human team member is on shift (off-hours means nobody is).
    pub(crate) fn anyone_on_shift(&self) -> bool {
        self.loads
            .iter()
            .any(|row| self.roster.on_shift(&row.id, self.now))
    }

    pub(crate) fn name_of(&self, member: &MemberId) -> String {
        self.loads
            .iter()
            .find(|row| row.id == *member)
            .map_or_else(|| member.0.clone(), |row| row.name.clone())
    }

    pub(crate) fn record_assignment(&mut self, member: &MemberId) {
        if let Some(row) = self.loads.iter_mut().find(|row| row.id == *member) {
            row.active += 1;
            row.assigned_recently += 1;
        }
    }
}
