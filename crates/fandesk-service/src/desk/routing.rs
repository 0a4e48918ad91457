//! Routing (docs/product.md › Routing, priority and shifts): automatic assignment to
//! on-shift agents with free capacity, offering the queue, the shift-aware choice of an
//! escalation lead, and the off-hours auto-reply. The choices are the domain's
//! (`desk::choose_agent`, `desk::choose_escalation_lead`); this module gathers their facts
//! (the [`Snapshot`] of the floor) and carries them out.

use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::floor::Snapshot;
use crate::desk::queue::MAX_QUEUE;
use crate::signals::alert_details::AlertDetails;
use crate::signals::alerts::NewAlert;
use crate::{App, new_id};
use fandesk_domain::conversation::Transition;
use fandesk_domain::desk::{
    choose_agent, choose_escalation_lead, next_coverage_start, off_hours_reply,
};
use fandesk_domain::signals::AlertThrottle;
use fandesk_domain::{AlertKind, ConversationId, MemberId, MessageId, Principal, Role, Visibility};
use fandesk_store::{
    DeskConversationRow, FanProfileRow, MemberRow, PostExtras, WriteOp, WriteOutcome,
};
use jiff::tz::TimeZone;

/// Who the timeline names for an automatic assignment: "Assigned to Sam by Automatic
/// routing".
const ROUTING_ACTOR: &str = "Automatic routing";
/// The built-in bot member that posts the off-hours reply, labelled automated.
const AWAY_BOT_ID: &str = "mem_away_message";
const AWAY_BOT_NAME: &str = "Away message";

/// The lead an escalation goes to, and whether they were chosen off shift while the team
/// has a schedule (supervisors are then alerted after the commit).
pub(crate) struct LeadChoice {
    pub(crate) lead: MemberRow,
    pub(crate) off_shift: bool,
}

impl App {
    /// Assigns an unassigned conversation to the chosen on-shift agent. True when the
    /// conversation has an assignee afterwards (ours, or a claim that came first).
    ///
    /// The assignment is the agent's own pick from the queue (`Transition::Assign` with the
    /// agent as actor), decided inside the group commit against the state as of the
    /// preceding write: it succeeds only while nobody is assigned, so it can never
    /// overwrite a concurrent claim or manual assignment (docs/product.md › Routing,
    /// priority and shifts).
    pub(crate) async fn auto_assign(
        &self,
        desk: &DeskConversationRow,
        snapshot: &mut Snapshot,
    ) -> ServiceResult<bool> {
        let conversation = &desk.conversation;
        if !snapshot.has_candidate() {
            return Ok(false);
        }
        let previous = self
            .store()
            .find_previous_agent(&conversation.fan_id, &conversation.id)
            .await?;
        let Some(choice) = choose_agent(&snapshot.agent_loads(), previous.as_ref()) else {
            return Ok(false);
        };
        let actor = Principal::Member {
            id: choice.member_id.clone(),
            role: Role::Agent,
            name: ROUTING_ACTOR.into(),
        };
        let transition = Transition::Assign {
            member: choice.member_id.clone(),
            name: snapshot.name_of(&choice.member_id),
            role: Role::Agent,
        };
        let op = WriteOp::Transition {
            message_id: MessageId(new_id("msg")),
            conversation_id: conversation.id.clone(),
            actor,
            transition,
            at: self.now(),
        };
        match self.inner.writer.submit(op).await {
            Ok(WriteOutcome::Created { .. }) => {
                let reason = choice.reason.as_str();
                self.store()
                    .insert_desk_assignment(
                        &new_id("asg"),
                        &conversation.id,
                        &choice.member_id,
                        reason,
                        snapshot.now,
                    )
                    .await?;
                snapshot.record_assignment(&choice.member_id);
                self.publish_queue_entry(&conversation.id, None);
                tracing::info!(conversation = %conversation.id, member = %choice.member_id, reason, "assigned automatically");
                Ok(true)
            }
            Ok(WriteOutcome::Duplicate { .. }) => Ok(true),
            // Claimed, assigned or resolved in the meantime: it is not ours to route.
            Err(ServiceError::Forbidden(_) | ServiceError::Conflict(_)) => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Offers queued conversations, highest score first, to agents with free capacity.
    pub(crate) async fn rebalance(&self, slot: &mut Option<Snapshot>) -> ServiceResult<()> {
        let queue = self.store().list_queue(false, MAX_QUEUE).await?;
        if queue.is_empty() {
            return Ok(());
        }
        // The floor as of now, read after the queue: a conversation in the queue is then
        // never offered by loads older than it (a capacity raised, or a shift started,
        // before the conversation was opened is seen), whatever this pass loaded before.
        *slot = None;
        let snapshot = Snapshot::ensure(self, slot).await?;
        for entry in queue {
            if !snapshot.has_candidate() {
                break;
            }
            if !entry.conversation.escalated && !self.flow_holds(&entry).await? {
                self.auto_assign(&entry, snapshot).await?;
            }
        }
        Ok(())
    }

    /// The escalation lead for an escalation by `actor`: the least loaded lead on shift,
    /// never the escalating member. When no lead is on shift the escalation still needs an
    /// owner ("a flag with the lead who owns it", docs/product.md › Conversations): it goes
    /// to the least loaded lead, and the answer says so when the team has a schedule that
    /// left no lead on shift (`LeadChoice::off_shift`), so that supervisors are alerted
    /// once the escalation has committed (`App::alert_off_shift_escalation`).
    ///
    /// The charter's escalation paths narrow the candidates first: when the reason
    /// mentions a path's words, only that path's leads are considered (all leads when none
    /// of them is still a lead).
    pub(crate) async fn choose_lead(
        &self,
        actor: &Principal,
        reason: &str,
    ) -> ServiceResult<LeadChoice> {
        let snapshot = Snapshot::load(self).await?;
        let escalating = match actor {
            Principal::Member { id, .. } => Some(id),
            Principal::Fan { .. } => None,
        };
        let path_leads = self.path_leads(reason).await?;
        let candidates = |all_on_shift: bool| {
            let leads = snapshot.lead_loads(all_on_shift);
            let on_path: Vec<_> = leads
                .iter()
                .filter(|lead| path_leads.contains(&lead.id))
                .cloned()
                .collect();
            if on_path.is_empty() { leads } else { on_path }
        };
        let (choice, off_shift) = match choose_escalation_lead(&candidates(false), escalating) {
            Some(choice) => (choice, false),
            None => {
                let choice =
                    choose_escalation_lead(&candidates(true), escalating).ok_or_else(|| {
                        ServiceError::Conflict("there is no escalation lead to escalate to".into())
                    })?;
                (choice, snapshot.roster.has_staffed_shifts())
            }
        };
        let lead = self
            .store()
            .find_member(&choice.member_id)
            .await?
            .ok_or(ServiceError::NotFound("member"))?;
        Ok(LeadChoice { lead, off_shift })
    }

    /// Alerts supervisors that an escalation went to a lead off shift, at most once per
    /// conversation per `AlertThrottle::ESCALATION_OFF_SHIFT`. Called after the escalation
    /// committed, so a refused or failed escalation never alerts.
    pub(crate) async fn alert_off_shift_escalation(&self, conversation: &str, lead: &MemberId) {
        let kind = AlertKind::EscalationOffShift.as_str();
        let last = self
            .store()
            .last_alert_at(kind, Some(&ConversationId::from(conversation)), None)
            .await;
        match last {
            Ok(last) if !AlertThrottle::ESCALATION_OFF_SHIFT.allows(last, self.now()) => return,
            Ok(_) => {}
            Err(error) => return tracing::warn!(%error, "cannot read the last off-shift alert"),
        }
        let alert = NewAlert {
            conversation_id: Some(conversation.into()),
            rule: None,
            excerpt: None,
            details: AlertDetails::EscalationOffShift {
                lead_id: lead.0.clone(),
            },
        };
        if let Err(error) = self.raise_alert(alert).await {
            tracing::warn!(%error, "could not alert that no escalation lead is on shift");
        }
    }

    /// The members named by the first charter escalation path whose words `reason`
    /// mentions (by member id or email); empty when no path matches.
    async fn path_leads(&self, reason: &str) -> ServiceResult<Vec<MemberId>> {
        let active = self.charter().await?;
        let Some(path) = active.charter.escalation_path(&active.escalation, reason) else {
            return Ok(Vec::new());
        };
        let members = self.store().list_members().await?;
        Ok(members
            .into_iter()
            .filter(|member| {
                path.leads.iter().any(|lead| {
                    member.id.as_str() == lead || member.email.eq_ignore_ascii_case(lead)
                })
            })
            .map(|member| member.id)
            .collect())
    }

    /// The off-hours auto-reply (docs/product.md › Routing, priority and shifts): when the
    /// team has a schedule and nobody is on shift, one automated public message per opening
    /// tells the fan when the next shift starts, in the fan's time zone (the creator's when
    /// the fan gave none).
    pub(crate) async fn off_hours_reply(
        &self,
        desk: &DeskConversationRow,
        profile: Option<&FanProfileRow>,
        snapshot: &Snapshot,
    ) -> ServiceResult<()> {
        // Without a schedule there are no "off hours", only a team that has not set one up.
        if !snapshot.roster.has_staffed_shifts() || snapshot.anyone_on_shift() {
            return Ok(());
        }
        let config = &self.inner.config.desk;
        let next = next_coverage_start(&snapshot.roster.staffed_shifts(), snapshot.now);
        let zone = profile
            .and_then(|profile| profile.fan.timezone.as_deref())
            .and_then(|name| TimeZone::get(name).ok())
            .unwrap_or_else(|| config.creator_timezone.clone());
        let body = off_hours_reply(next, &zone);
        let opening = desk.opening();
        if !self
            .store()
            .claim_off_hours_reply(&desk.conversation.id, opening, snapshot.now)
            .await?
        {
            return Ok(());
        }
        let op = WriteOp::Post {
            message_id: MessageId(new_id("msg")),
            conversation_id: desk.conversation.id.clone(),
            author: self.away_bot().await?,
            client_msg_id: Some(format!("off-hours-{}", opening.as_microsecond())),
            body,
            visibility: Visibility::Public,
            at: self.now(),
            extras: PostExtras {
                bot_limits: self.bot_limits().await?,
                ..PostExtras::default()
            },
        };
        match self.inner.writer.submit(op).await {
            // Someone was assigned in the meantime (a human owns the reply now), or the bot
            // rules refuse it (another automated message came first, or the opening was
            // handed to a human): the fan gets no away message.
            Ok(_)
            | Err(
                ServiceError::Forbidden(_)
                | ServiceError::Conflict(_)
                | ServiceError::BotRuleViolation(_),
            ) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The built-in bot that signs automated desk replies, created on first use.
    async fn away_bot(&self) -> ServiceResult<Principal> {
        let id = MemberId::from(AWAY_BOT_ID);
        self.ensure_builtin_bot(&id, "away-message@fandesk.invalid", AWAY_BOT_NAME)
            .await?;
        Ok(Principal::Member {
            id,
            role: Role::Bot,
            name: AWAY_BOT_NAME.into(),
        })
    }
}
