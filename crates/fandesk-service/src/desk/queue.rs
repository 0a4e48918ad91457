//! The queue (docs/product.md › Routing, priority and shifts): waiting conversations
//! ordered by their current score, each with its live waiting timer, its SLA deadline and
//! the inputs of its score ("why is this first?"); and the team's view of who is on shift
//! with what load. Changes are pushed to the team's `inbox` as ephemeral `queue.updated`
//! events.

use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::floor::Snapshot;
use crate::desk::priority::PriorityInputView;
use crate::live::event::ServerEvent;
use fandesk_domain::desk::{PriorityFacts, score};
use fandesk_domain::{Capability, ConversationId, Principal, Topic};
use fandesk_store::DeskConversationRow;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// Largest page of the queue.
pub const MAX_QUEUE: u32 = 200;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueueEntryView {
    pub conversation_id: String,
    pub fan_id: String,
    pub fan_name: String,
    /// `open` or `pending`.
    pub status: String,
    pub assignee_id: Option<String>,
    pub escalated: bool,
    /// The current score: `priority` plus the waiting points (10 a minute).
    pub score: i64,
    /// The stored score without its waiting term (the conversation's `priority`).
    pub priority: i64,
    /// Every input that added points, waiting last.
    pub inputs: Vec<PriorityInputView>,
    /// Since when the fan waits: their oldest unanswered message, else the opening.
    #[schema(value_type = String, format = DateTime)]
    pub waiting_since: Timestamp,
    pub waited_seconds: i64,
    /// Whether a fan message waits for a human reply.
    pub awaiting_reply: bool,
    /// When the first-response target is missed, if a fan message waits.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sla_due_at: Option<Timestamp>,
    pub sla_breached: bool,
    /// Past the stretch goal (30 s by default).
    pub stretch_missed: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// The instant the timers were computed at; clients count on from it.
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
    pub sla_target_secs: u64,
    pub sla_stretch_secs: u64,
    /// Highest score first.
    pub entries: Vec<QueueEntryView>,
}

/// A team member's desk state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgentDeskView {
    pub id: String,
    pub name: String,
    pub role: String,
    /// Clocked in, or inside one of their shifts and not clocked out since it began.
    pub on_shift: bool,
    pub clocked_in: bool,
    /// Unresolved conversations assigned to them.
    pub active_conversations: i64,
    /// Unresolved escalations they own.
    pub escalations: i64,
    /// Ceiling of automatic assignments; 0 takes none.
    pub max_concurrent: i64,
}

fn seconds(duration: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// The first-response targets the queue shows: the charter's `response` section.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Targets {
    pub target: std::time::Duration,
    pub stretch: std::time::Duration,
}

impl Targets {
    pub(crate) fn of(charter: &fandesk_domain::charter::Charter) -> Targets {
        Targets {
            target: charter.first_response_target(),
            stretch: charter.stretch_target(),
        }
    }
}

/// Builds one entry as of `now`.
pub(crate) fn entry_of(
    desk: &DeskConversationRow,
    now: Timestamp,
    targets: Targets,
) -> QueueEntryView {
    let conversation = &desk.conversation;
    let waiting_since = conversation
        .awaiting_since
        .unwrap_or_else(|| desk.opening());
    let waited_seconds = now.duration_since(waiting_since).as_secs().max(0);
    let mut inputs: Vec<PriorityInputView> =
        serde_json::from_str(&desk.priority_inputs).unwrap_or_default();
    let waiting = score(&PriorityFacts {
        lifetime_spend_cents: 0,
        tags: &[],
        fan_messages: &[],
        sentiment: None,
        waited_seconds,
    });
    inputs.extend(waiting.inputs.iter().map(PriorityInputView::from));
    // After a bot hand-off the first-response clock runs from the hand-off (the opening).
    let clock_start = conversation.awaiting_since.map(|since| {
        if conversation.bot.handed_off {
            since.max(desk.opening())
        } else {
            since
        }
    });
    let sla_due_at = clock_start.and_then(|since| since.checked_add(seconds(targets.target)).ok());
    let stretch_due =
        clock_start.and_then(|since| since.checked_add(seconds(targets.stretch)).ok());
    QueueEntryView {
        conversation_id: conversation.id.0.clone(),
        fan_id: conversation.fan_id.0.clone(),
        fan_name: desk.fan_name.clone(),
        status: conversation.status.as_str().to_owned(),
        assignee_id: conversation.assignee_id.as_ref().map(|id| id.0.clone()),
        escalated: conversation.escalated,
        score: conversation.priority + waiting.total,
        priority: conversation.priority,
        inputs,
        waiting_since,
        waited_seconds,
        awaiting_reply: conversation.awaiting_since.is_some(),
        sla_breached: sla_due_at.is_some_and(|due| now > due),
        stretch_missed: stretch_due.is_some_and(|due| now > due),
        sla_due_at,
    }
}

impl App {
    /// `GET /queue`: unassigned open or pending conversations by current score; with
    /// `include_assigned`, also assigned ones whose fan waits for a reply.
    pub async fn queue(
        &self,
        actor: &Principal,
        include_assigned: bool,
        limit: u32,
    ) -> ServiceResult<QueueView> {
        actor.require(Capability::ViewDesk)?;
        let rows = self
            .store()
            .list_queue(include_assigned, limit.clamp(1, MAX_QUEUE))
            .await?;
        let now = self.now();
        let targets = Targets::of(&self.charter().await?.charter);
        Ok(QueueView {
            generated_at: now,
            sla_target_secs: targets.target.as_secs(),
            sla_stretch_secs: targets.stretch.as_secs(),
            entries: rows.iter().map(|row| entry_of(row, now, targets)).collect(),
        })
    }

    pub(crate) async fn queue_entry(
        &self,
        desk: &DeskConversationRow,
    ) -> ServiceResult<QueueEntryView> {
        let targets = Targets::of(&self.charter().await?.charter);
        Ok(entry_of(desk, self.now(), targets))
    }

    /// Ephemeral `queue.updated` on `inbox`: the conversation's entry, or `null` when it
    /// left the queue. Team-only: no fan frame (docs/product.md: fans never see internal
    /// content).
    pub(crate) fn publish_queue_entry(
        &self,
        conversation: &ConversationId,
        entry: Option<QueueEntryView>,
    ) {
        let event = ServerEvent::QueueUpdated {
            conversation_id: conversation.as_str(),
            entry: entry.as_ref(),
        };
        self.publish_team(&Topic::Inbox.to_string(), &event);
    }

    /// `GET /desk/agents`: every human member with on-shift state and load.
    pub async fn desk_agents(&self, actor: &Principal) -> ServiceResult<Vec<AgentDeskView>> {
        actor.require(Capability::ViewDesk)?;
        let snapshot = Snapshot::load(self).await?;
        Ok(snapshot
            .loads
            .iter()
            .map(|row| AgentDeskView {
                id: row.id.0.clone(),
                name: row.name.clone(),
                role: row.role.as_str().to_owned(),
                on_shift: snapshot.roster.on_shift(&row.id, snapshot.now),
                clocked_in: snapshot.roster.clocked_in(&row.id),
                active_conversations: row.active,
                escalations: row.escalations,
                max_concurrent: row.max_concurrent,
            })
            .collect())
    }

    /// Sets a member's ceiling of automatic assignments (owner and supervisors).
    pub async fn set_capacity(
        &self,
        actor: &Principal,
        member: &str,
        max_concurrent: i64,
    ) -> ServiceResult<()> {
        actor.require(Capability::ManageCapacity)?;
        if !(0..=100).contains(&max_concurrent) {
            return Err(ServiceError::invalid("max_concurrent", "must be 0 to 100"));
        }
        self.store()
            .set_max_concurrent(&member.into(), max_concurrent)
            .await?;
        self.desk_rebalance();
        Ok(())
    }
}
