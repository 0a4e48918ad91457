//! A flow in a conversation (docs/api.md › Flows): the desk worker calls [`App::step_flow`]
//! for each conversation it handles, before routing, so a conversation waits for its flow
//! rather than being assigned under it. A new conversation is pinned to the active flow's
//! version; the fan's first message is answered by the greeting, and each later one
//! advances the flow by one step of the domain's step function, whose actions are carried out here: one automated public message from
//! the flow's bot through the group commit (so the bot rules decide it like any other),
//! attributes stored in the fan's profile, and the hand-off — the message that hands off,
//! then the team-only note.
//!
//! The conversation's place in the flow is claimed (compare-and-set on the last answered
//! fan message) before anything is sent, and every message carries a key derived from the
//! input it answers, so a fan message is never answered twice.

use super::parse_stored;
use crate::App;
use crate::app::error::{ServiceError, ServiceResult};
use crate::desk::floor::Snapshot;
use fandesk_domain::flow::{Facts, FlowAction, FlowInput, Outcome, step};
use fandesk_domain::{
    Audience, AuthorKind, BotRuleBroken, ConversationId, MemberId, MessageId, Principal, Role,
    Visibility,
};
use fandesk_store::{
    ConversationFlowRow, DeskConversationRow, FanProfileUpdate, FlowState, MemberRow, PostExtras,
    StoreError, WriteOp,
};

/// The built-in bot member that signs every flow's messages (under the flow's name).
const FLOW_BOT_ID: &str = "mem_flow_bot";
/// Fan messages read at most to find the newest one to answer.
const INPUT_WINDOW: u32 = 50;

/// How carrying out a step ended.
enum Carried {
    /// Every action was carried out.
    Done,
    /// The flow's message came right after another automated one (the fan's newer
    /// message was answered by the message before).
    InARow,
    /// The conversation no longer takes the flow (a human took it, or it was handed off).
    Refused,
}

impl App {
    /// Runs the conversation's flow one step, if it has one. True while the flow still
    /// speaks in the conversation: routing and the away message then wait for its hand-off.
    pub(crate) async fn step_flow(
        &self,
        desk: &DeskConversationRow,
        created: bool,
        snapshot: &mut Option<Snapshot>,
    ) -> ServiceResult<bool> {
        let conversation = &desk.conversation;
        let Some(before) = self.conversation_flow(desk, created).await? else {
            return Ok(false);
        };
        if !before.running() {
            return Ok(false);
        }
        if conversation.bot.handed_off || !conversation.status.is_active() {
            self.finish_flow(&before).await?;
            return Ok(false);
        }
        // The flow speaks when the fan writes: the greeting answers the fan's first
        // message(s), each later step the newest fan message since the last answered one.
        let Some((input_seq, body)) = self.newest_fan_message(&before).await? else {
            return Ok(true);
        };
        let version = self
            .store()
            .find_flow_version(&before.flow_id, before.version)
            .await?
            .ok_or(ServiceError::NotFound("flow version"))?;
        let flow = parse_stored(&version)?;
        let facts = self.flow_facts(desk, snapshot).await?;
        let outcome = match before.state {
            FlowState::Starting => step(&flow, None, FlowInput::Start, &facts),
            _ => step(
                &flow,
                before.waiting_at.as_deref(),
                FlowInput::Fan(&body),
                &facts,
            ),
        };
        let after = ConversationFlowRow {
            state: if outcome.waiting_at.is_some() {
                FlowState::Waiting
            } else {
                FlowState::Done
            },
            waiting_at: outcome.waiting_at.clone(),
            last_input_seq: input_seq,
            updated_at: self.now(),
            ..before.clone()
        };
        if !self
            .store()
            .advance_conversation_flow(&before, &after)
            .await?
        {
            // Another node answered this input first.
            return Ok(true);
        }
        let answered = format!("{}-{}", before.version, after.last_input_seq);
        match self.carry_out(desk, &flow.name, &answered, outcome).await? {
            Carried::Done => Ok(after.running()),
            // The fan wrote again while this answer was on its way, and the answer to the
            // earlier message already follows it: this input is dropped, the flow stays
            // where it was (its buttons still stand).
            Carried::InARow => {
                let back = ConversationFlowRow {
                    last_input_seq: after.last_input_seq,
                    updated_at: self.now(),
                    ..before.clone()
                };
                self.store()
                    .advance_conversation_flow(&after, &back)
                    .await?;
                Ok(back.running())
            }
            Carried::Refused => {
                self.finish_flow(&after).await?;
                Ok(false)
            }
        }
    }

    /// True while a flow speaks in the conversation (routing waits for its hand-off).
    pub(crate) async fn flow_holds(&self, desk: &DeskConversationRow) -> ServiceResult<bool> {
        if desk.conversation.bot.handed_off {
            return Ok(false);
        }
        let state = self
            .store()
            .find_conversation_flow(desk.conversation.id.as_str())
            .await?;
        Ok(state.is_some_and(|state| state.running()))
    }

    /// The conversation's flow; a new conversation is pinned to the active flow first.
    async fn conversation_flow(
        &self,
        desk: &DeskConversationRow,
        created: bool,
    ) -> ServiceResult<Option<ConversationFlowRow>> {
        let id = desk.conversation.id.as_str();
        if let Some(row) = self.store().find_conversation_flow(id).await? {
            return Ok(Some(row));
        }
        if !created {
            return Ok(None);
        }
        let Some(active) = self.store().find_active_flow().await? else {
            return Ok(None);
        };
        let Some(version) = active.active_version else {
            return Ok(None);
        };
        let row = ConversationFlowRow {
            conversation_id: id.to_owned(),
            flow_id: active.id,
            version,
            state: FlowState::Starting,
            waiting_at: None,
            last_input_seq: 0,
            updated_at: self.now(),
        };
        self.store().insert_conversation_flow(&row).await?;
        Ok(self.store().find_conversation_flow(id).await?)
    }

    /// The newest public fan message after the last one the flow answered, with its seq.
    async fn newest_fan_message(
        &self,
        state: &ConversationFlowRow,
    ) -> ServiceResult<Option<(i64, String)>> {
        let after = u64::try_from(state.last_input_seq).unwrap_or(0);
        let mut newest = None;
        let mut from = after;
        loop {
            let page = self
                .store()
                .list_messages(
                    &ConversationId::from(state.conversation_id.as_str()),
                    Audience::Team,
                    from,
                    INPUT_WINDOW,
                )
                .await?;
            let Some(last) = page.last() else { break };
            from = last.seq;
            let full = page.len() as u32 == INPUT_WINDOW;
            if let Some(message) = page.into_iter().rev().find(|message| {
                message.author_kind == AuthorKind::Fan && message.visibility == Visibility::Public
            }) {
                newest = Some((message.seq as i64, message.body));
            }
            if !full {
                break;
            }
        }
        Ok(newest)
    }

    /// What the flow branches on: the fan's tags and attributes, and whether the team is
    /// within business hours (someone on shift, or no schedule kept at all).
    async fn flow_facts(
        &self,
        desk: &DeskConversationRow,
        snapshot: &mut Option<Snapshot>,
    ) -> ServiceResult<Facts> {
        let profile = self
            .store()
            .find_fan_profile(&desk.conversation.fan_id)
            .await?;
        let floor = Snapshot::ensure(self, snapshot).await?;
        let business_hours = !floor.roster.has_staffed_shifts() || floor.anyone_on_shift();
        Ok(match profile {
            Some(profile) => Facts {
                tags: profile.tags,
                attributes: profile.attributes,
                timezone: profile.fan.timezone,
                business_hours,
            },
            None => Facts {
                business_hours,
                ..Facts::default()
            },
        })
    }

    /// Carries out a step's actions in order, until the conversation refuses one.
    async fn carry_out(
        &self,
        desk: &DeskConversationRow,
        flow_name: &str,
        answered: &str,
        outcome: Outcome,
    ) -> ServiceResult<Carried> {
        let conversation = &desk.conversation;
        let bot = self.flow_bot(flow_name).await?;
        let hands_off = outcome
            .actions
            .iter()
            .any(|action| matches!(action, FlowAction::HandOff { .. }));
        for action in outcome.actions {
            match action {
                FlowAction::Remember { attribute, value } => {
                    self.remember(desk, &attribute, value).await?;
                }
                FlowAction::Send {
                    body,
                    quick_replies,
                } => {
                    let extras = PostExtras {
                        bot_limits: self.bot_limits().await?,
                        quick_replies,
                        hands_off,
                        ..PostExtras::default()
                    };
                    let key = format!("flow-{answered}");
                    let op = self.flow_post(desk, &bot, key, body, Visibility::Public, extras);
                    match self.inner.writer.submit(op).await {
                        Ok(_) => {}
                        Err(ServiceError::BotRuleViolation(reason))
                            if reason == BotRuleBroken::InARow.message() =>
                        {
                            return Ok(Carried::InARow);
                        }
                        Err(
                            ServiceError::Forbidden(_)
                            | ServiceError::Conflict(_)
                            | ServiceError::BotRuleViolation(_),
                        ) => {
                            tracing::info!(conversation = %conversation.id, "the conversation no longer takes the flow's messages");
                            return Ok(Carried::Refused);
                        }
                        Err(error) => return Err(error),
                    }
                }
                FlowAction::HandOff { note } => {
                    let key = format!("flow-{answered}-note");
                    let op = self.flow_post(
                        desk,
                        &bot,
                        key,
                        note,
                        Visibility::Internal,
                        PostExtras::default(),
                    );
                    self.inner.writer.submit(op).await?;
                }
            }
        }
        Ok(Carried::Done)
    }

    fn flow_post(
        &self,
        desk: &DeskConversationRow,
        bot: &Principal,
        key: String,
        body: String,
        visibility: Visibility,
        extras: PostExtras,
    ) -> WriteOp {
        WriteOp::Post {
            message_id: MessageId(crate::new_id("msg")),
            conversation_id: desk.conversation.id.clone(),
            author: bot.clone(),
            client_msg_id: Some(key),
            body,
            visibility,
            at: self.now(),
            extras,
        }
    }

    /// Stores a collected attribute in the fan's profile (`timezone` is its time zone).
    async fn remember(
        &self,
        desk: &DeskConversationRow,
        attribute: &str,
        value: String,
    ) -> ServiceResult<()> {
        let fan = &desk.conversation.fan_id;
        let mut update = FanProfileUpdate::default();
        if attribute == "timezone" {
            update.timezone = Some(value);
        } else {
            let mut attributes = self
                .store()
                .find_fan_profile(fan)
                .await?
                .map(|profile| profile.attributes)
                .unwrap_or_default();
            attributes.insert(attribute.to_owned(), value);
            update.attributes = Some(attributes);
        }
        self.store().update_fan_profile(fan, &update).await?;
        Ok(())
    }

    async fn finish_flow(&self, before: &ConversationFlowRow) -> ServiceResult<()> {
        let after = ConversationFlowRow {
            state: FlowState::Done,
            waiting_at: None,
            updated_at: self.now(),
            ..before.clone()
        };
        self.store()
            .advance_conversation_flow(before, &after)
            .await?;
        Ok(())
    }

    /// The flows' built-in bot, created on first use, posting under the flow's name.
    async fn flow_bot(&self, flow_name: &str) -> ServiceResult<Principal> {
        let id = MemberId::from(FLOW_BOT_ID);
        self.ensure_builtin_bot(&id, "flow-bot@fandesk.invalid", "Flow bot")
            .await?;
        Ok(Principal::Member {
            id,
            role: Role::Bot,
            name: flow_name.trim().to_owned(),
        })
    }

    /// Creates a built-in bot member unless it exists. Its password hash is no hash at
    /// all, so nobody can log in as it.
    pub(crate) async fn ensure_builtin_bot(
        &self,
        id: &MemberId,
        email: &str,
        name: &str,
    ) -> ServiceResult<()> {
        if self.store().find_member(id).await?.is_some() {
            return Ok(());
        }
        let row = MemberRow {
            id: id.clone(),
            email: email.into(),
            name: name.into(),
            role: Role::Bot,
            password_hash: "!".into(),
            created_at: self.now(),
            deactivated_at: None,
        };
        match self.store().insert_member(&row).await {
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
