//! The group-commit write path: many sends and state changes applied in one transaction.
//! Sequence numbers are assigned inside the transaction from the conversation row (locked
//! with `FOR UPDATE` on PostgreSQL, so several nodes can write one conversation), and
//! permission rules are evaluated against the state as of each preceding op, so two
//! agents racing to claim one conversation cannot both win. This file is the pure
//! decision (`plan`); `commit.rs` loads and writes.

use super::rows::{ConversationRow, MessageRow};
use super::snooze::{check_wake, wake_on_fan_message};
use crate::supervision::AuditRow;
use fandesk_domain::bot_rule::Turn;
use fandesk_domain::conversation::Transition;
use fandesk_domain::flow::QuickReply;
use fandesk_domain::signals::TurnRule;
use fandesk_domain::snooze::fan_status;
use fandesk_domain::{
    AuthorKind, BotLimits, BotTurns, ConversationId, FanId, MemberId, MessageId, Principal, Role,
    RuleViolation, Speaker, Status, TimelineEvent, Visibility, decide_post,
};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

/// Where a post comes from, when that changes how it is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PostOrigin {
    /// Sent by its author now (the API, a WebSocket, the desk's own bots).
    #[default]
    Direct,
    /// A scheduled broadcast (docs/product.md › Scheduled messages): labelled automated
    /// whoever its author is, never claims the conversation nor answers the fan's wait,
    /// and — an announcement, not a reply — is not subject to the bot rules.
    Scheduled,
}

/// Team-only facts attached to a post, decided by the service before the commit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostExtras {
    /// A whisper's addressee (internal messages only).
    pub whisper_to: Option<MemberId>,
    /// Sentiment of a fan message.
    pub sentiment: Option<f64>,
    /// A `warn` restricted-word rule the team message matched.
    pub flag: Option<String>,
    /// Direct, or a scheduled broadcast.
    pub origin: PostOrigin,
    /// The charter's bot limits in force when the post was sent (docs/product.md › Bots);
    /// the bot rules themselves are decided here, inside the commit.
    pub bot_limits: BotLimits,
    /// The buttons under a flow's automated message (docs/api.md › Flows).
    pub quick_replies: Vec<QuickReply>,
    /// A flow's hand-off: this automated message, once the bot rules accept it, hands the
    /// conversation to a human as using up the last exchange would.
    pub hands_off: bool,
}

/// One write in a batch.
#[derive(Clone, Debug)]
pub enum WriteOp {
    /// A message. `body` is already validated and trimmed.
    Post {
        message_id: MessageId,
        conversation_id: ConversationId,
        author: Principal,
        client_msg_id: Option<String>,
        body: String,
        visibility: Visibility,
        at: Timestamp,
        extras: PostExtras,
    },
    /// A change of status, assignment or escalation, recorded as a team-only timeline
    /// entry (and in the audit log when supervisory).
    Transition {
        message_id: MessageId,
        conversation_id: ConversationId,
        actor: Principal,
        transition: Transition,
        at: Timestamp,
    },
}

impl WriteOp {
    pub(crate) fn conversation_id(&self) -> &ConversationId {
        match self {
            WriteOp::Post {
                conversation_id, ..
            }
            | WriteOp::Transition {
                conversation_id, ..
            } => conversation_id,
        }
    }

    /// (author, client_msg_id, conversation): a key is scoped to its conversation, so a
    /// client reusing a key in another conversation is never answered with a message of
    /// the first (as rooms scope keys per room).
    pub(crate) fn idempotency_key(&self) -> Option<(&str, &str, &str)> {
        match self {
            WriteOp::Post {
                author,
                client_msg_id: Some(id),
                conversation_id,
                ..
            } => Some((author.author_id(), id, conversation_id.as_str())),
            _ => None,
        }
    }

    pub(crate) fn is_reopen(&self) -> bool {
        matches!(
            self,
            WriteOp::Transition {
                transition: Transition::Reopen,
                ..
            }
        )
    }
}

/// What one op did.
// Outcomes live only from the commit to the ack; boxing the larger variant would cost an
// allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum WriteOutcome {
    /// Appended; `conversation` is the state right after this op, and `changed` says
    /// whether the op changed its status, assignee or escalation (so subscribers get an
    /// update). `status_changed`: the op changed the status, the only part of the
    /// conversation a fan sees, so only then do fans get an update (docs/product.md ›
    /// Principles: fans are sent only what changes what they see).
    /// `turned_negative`: this fan message turned the conversation's rolling sentiment
    /// negative (raise `negative_sentiment`). `handoff`: the team-only entry appended
    /// right after this automated message when it used up the opening's bot exchanges and
    /// handed the conversation to a human.
    Created {
        message: MessageRow,
        conversation: ConversationRow,
        changed: bool,
        status_changed: bool,
        turned_negative: bool,
        handoff: Option<MessageRow>,
    },
    /// The author already sent this `client_msg_id`: the original message, unchanged.
    Duplicate { message: MessageRow },
}

pub type OpResult = Result<WriteOutcome, RuleViolation>;

/// The decisions of a batch, for `commit` to write.
pub(crate) struct Plan {
    pub results: Vec<OpResult>,
    pub new_rows: Vec<MessageRow>,
    pub touched: Vec<ConversationRow>,
    pub audits: Vec<AuditRow>,
    /// Metric rows the committed ops created or changed (maintained in the same
    /// transaction as the events they fold), compacted to one upsert per row.
    pub metrics: fandesk_analytics::Changes,
}

/// What the transaction loaded before deciding.
pub(crate) struct Loaded {
    pub conversations: HashMap<ConversationId, ConversationRow>,
    /// Earlier messages carrying the batch's client_msg_ids.
    pub existing: Vec<MessageRow>,
    /// For fans of reopened conversations: their unresolved conversations, kept current
    /// while the batch is decided (a resolve then a reopen in one batch is fine).
    pub fans_with_active: HashMap<FanId, HashSet<ConversationId>>,
    /// Metric state (`metrics::commit::load_state`): latest openings, team messages still waiting
    /// for the fan, and the SLA target.
    pub metric_openings: HashMap<ConversationId, fandesk_analytics::Opening>,
    pub metric_unanswered: HashMap<ConversationId, Vec<fandesk_analytics::TeamMessage>>,
    pub metric_policy: fandesk_analytics::Policy,
}

/// Stored times have microsecond precision; deciding with the same precision makes the
/// first acknowledgement identical to every later read of the message.
pub(crate) fn to_stored_precision(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

pub(crate) fn plan(ops: &[WriteOp], loaded: Loaded) -> Plan {
    let Loaded {
        mut conversations,
        existing,
        mut fans_with_active,
        metric_openings,
        metric_unanswered,
        metric_policy,
    } = loaded;
    let mut metric_state =
        crate::metrics::step::MetricState::new(metric_openings, metric_unanswered, metric_policy);
    let mut sent: HashMap<(String, String, String), MessageRow> = existing
        .into_iter()
        .filter_map(|row| {
            let key = (
                row.author_id.clone(),
                row.client_msg_id.clone()?,
                row.conversation_id.0.clone(),
            );
            Some((key, row))
        })
        .collect();
    let mut touched_ids: Vec<ConversationId> = Vec::new();
    let mut new_rows = Vec::new();
    let mut audits = Vec::new();
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        if let Some((author, client_id, conversation)) = op.idempotency_key()
            && let Some(original) = sent.get(&(
                author.to_owned(),
                client_id.to_owned(),
                conversation.to_owned(),
            ))
        {
            results.push(Ok(WriteOutcome::Duplicate {
                message: original.clone(),
            }));
            continue;
        }
        let Some(conversation) = conversations.get_mut(op.conversation_id()) else {
            results.push(Err(RuleViolation::Hidden));
            continue;
        };
        let has_other_active = fans_with_active
            .get(&conversation.fan_id)
            .is_some_and(|active| active.iter().any(|id| *id != conversation.id));
        if op.is_reopen() && has_other_active {
            results.push(Err(RuleViolation::InvalidTransition(
                "the fan has opened another conversation since; continue in that one",
            )));
            continue;
        }
        metric_state.seed(conversation);
        let result = apply_op(op, conversation, &mut audits);
        if let Ok(WriteOutcome::Created {
            message,
            conversation: after,
            handoff,
            ..
        }) = &result
        {
            if let Some(key) = op.idempotency_key() {
                sent.insert(
                    (key.0.to_owned(), key.1.to_owned(), key.2.to_owned()),
                    message.clone(),
                );
            }
            let active = fans_with_active.entry(after.fan_id.clone()).or_default();
            if after.status.is_active() {
                active.insert(after.id.clone());
            } else {
                active.remove(&after.id);
            }
            metric_state.record(op, message, after);
            new_rows.push(message.clone());
            if let Some(entry) = handoff {
                metric_state.record_handoff(entry, after);
                new_rows.push(entry.clone());
            }
            if !touched_ids.contains(&after.id) {
                touched_ids.push(after.id.clone());
            }
        }
        results.push(result);
    }
    let touched = touched_ids
        .iter()
        .filter_map(|id| conversations.remove(id))
        .collect();
    Plan {
        results,
        new_rows,
        touched,
        audits,
        metrics: metric_state.finish(),
    }
}

fn author_kind(author: &Principal) -> AuthorKind {
    match author.role() {
        None => AuthorKind::Fan,
        Some(Role::Bot) => AuthorKind::Bot,
        Some(_) => AuthorKind::Member,
    }
}

/// Applies one op to the in-memory conversation, returning the row to insert.
fn apply_op(
    op: &WriteOp,
    conversation: &mut ConversationRow,
    audits: &mut Vec<AuditRow>,
) -> OpResult {
    match op {
        WriteOp::Post {
            message_id,
            author,
            client_msg_id,
            body,
            visibility,
            at,
            extras,
            ..
        } => {
            let at = to_stored_precision(*at);
            let decision = decide_post(author, &conversation.state(), *visibility)?;
            if extras.whisper_to.is_some() && *visibility != Visibility::Internal {
                return Err(RuleViolation::invalid(
                    "to",
                    "only internal messages are addressed",
                ));
            }
            let scheduled = extras.origin == PostOrigin::Scheduled;
            let automated = decision.automated || scheduled;
            let kind = author_kind(author);
            // Scheduled broadcasts are announcements, outside the bot rules; everything
            // else public advances them, and an automated message may be refused here.
            let mut turn = match Speaker::of(kind, *visibility, automated).filter(|_| !scheduled) {
                Some(speaker) => observe_bot_rules(conversation, speaker, extras.bot_limits)?,
                None => Turn::default(),
            };
            if extras.hands_off && automated && *visibility == Visibility::Public && !scheduled {
                conversation.bot.handed_off = true;
                turn.hands_off = true;
            }
            let claims = decision.claims && !scheduled;
            // A fan writing ends a snooze (docs/product.md › Conversations).
            let woke = kind == AuthorKind::Fan && wake_on_fan_message(conversation, at);
            let changed = claims || turn.hands_off || woke;
            if claims && let Principal::Member { id, .. } = author {
                conversation.assignee_id = Some(id.clone());
            }
            let mut reply_ms = None;
            let mut turned_negative = false;
            match kind {
                AuthorKind::Fan => {
                    conversation.awaiting_since.get_or_insert(at);
                    if let Some(score) = extras.sentiment {
                        turned_negative = conversation.sentiment.observe(score, &TurnRule::DEFAULT);
                    }
                }
                AuthorKind::Member if *visibility == Visibility::Public && !automated => {
                    if let Some(since) = conversation.awaiting_since.take() {
                        reply_ms = Some(at.duration_since(since).as_millis() as i64);
                    }
                }
                _ => {}
            }
            if *visibility == Visibility::Internal
                && let Some(role) = author.role()
                && (extras.whisper_to.is_some() || matches!(role, Role::Owner | Role::Supervisor))
            {
                audits.push(audit(
                    author,
                    "whisper",
                    conversation,
                    at,
                    audit_details(serde_json::json!({
                        "message_id": message_id.0,
                        "to": extras.whisper_to.as_ref().map(|id| id.0.as_str()),
                    })),
                ));
            }
            let mut message = append(
                conversation,
                message_id,
                author,
                kind,
                client_msg_id.clone(),
                body.clone(),
                *visibility,
                automated,
                at,
            );
            message.whisper_to = extras.whisper_to.clone();
            message.reply_ms = reply_ms;
            message.sentiment = extras.sentiment.filter(|_| kind == AuthorKind::Fan);
            message.flag = extras.flag.clone();
            if automated && *visibility == Visibility::Public {
                message.quick_replies = extras.quick_replies.clone();
            }
            let handoff = turn
                .hands_off
                .then(|| handoff_entry(conversation, message_id, author, at));
            Ok(WriteOutcome::Created {
                message,
                conversation: conversation.clone(),
                changed,
                status_changed: false,
                turned_negative,
                handoff,
            })
        }
        WriteOp::Transition {
            message_id,
            actor,
            transition,
            at,
            ..
        } => {
            let at = to_stored_precision(*at);
            let mut state = conversation.state();
            let status_before = state.status;
            check_wake(transition, conversation, at)?;
            let outcome = transition.apply_to(actor, &mut state)?;
            // Fans are told of a change only when the status they are shown changes: a
            // snooze and its end are not theirs to see.
            let status_changed = fan_status(state.status) != fan_status(status_before);
            conversation.set_state(state);
            conversation.snoozed_until = match transition {
                Transition::Snooze { until } => Some(*until),
                _ if conversation.status == Status::Snoozed => conversation.snoozed_until,
                _ => None,
            };
            // A reopen is a new opening: the bot rules start over (docs/product.md › Bots).
            if *transition == Transition::Reopen {
                conversation.bot = BotTurns::default();
            }
            if let Some(action) = outcome.audit {
                audits.push(audit(
                    actor,
                    action,
                    conversation,
                    at,
                    audit_details(serde_json::json!({ "text": outcome.text })),
                ));
            }
            let message = append(
                conversation,
                message_id,
                actor,
                AuthorKind::System,
                None,
                outcome.text,
                Visibility::Internal,
                false,
                at,
            );
            Ok(WriteOutcome::Created {
                message,
                conversation: conversation.clone(),
                changed: true,
                status_changed,
                turned_negative: false,
                handoff: None,
            })
        }
    }
}

/// An audit row's details as JSON text, encoded by serde so every character of a reason
/// (control characters, combining marks, zero-width spaces) is escaped as JSON requires
/// and reads back exactly; Rust's `{:?}` escapes are not JSON.
fn audit_details(details: serde_json::Value) -> String {
    details.to_string()
}

/// Advances the conversation's bot rules by one public message; an automated message they
/// refuse leaves the conversation untouched.
fn observe_bot_rules(
    conversation: &mut ConversationRow,
    speaker: Speaker,
    limits: BotLimits,
) -> Result<Turn, RuleViolation> {
    let mut turns = conversation.bot;
    let turn = turns
        .observe(speaker, limits)
        .map_err(RuleViolation::BotRule)?;
    conversation.bot = turns;
    Ok(turn)
}

/// The team-only timeline entry of a hand-off, signed by the bot whose reply used up the
/// exchanges; its id derives from that reply's, so it is the same on every retry.
fn handoff_entry(
    conversation: &mut ConversationRow,
    reply_id: &MessageId,
    bot: &Principal,
    at: Timestamp,
) -> MessageRow {
    let exchanges = conversation.bot.exchanges;
    let text = format!(
        "Handed to a human after {exchanges} automated exchange{} with {}",
        if exchanges == 1 { "" } else { "s" },
        bot.name()
    );
    let mut entry = append(
        conversation,
        &MessageId(format!("{}_handoff", reply_id.0)),
        bot,
        AuthorKind::System,
        None,
        text,
        Visibility::Internal,
        false,
        at,
    );
    entry.event = Some(TimelineEvent::BotHandoff);
    entry
}

fn audit(
    actor: &Principal,
    action: &str,
    conversation: &ConversationRow,
    at: Timestamp,
    details: String,
) -> AuditRow {
    AuditRow {
        id: format!("aud_{}_{}", conversation.id, conversation.last_seq + 1),
        actor_id: actor.author_id().to_owned(),
        actor_name: actor.name().to_owned(),
        action: action.to_owned(),
        conversation_id: Some(conversation.id.clone()),
        details,
        created_at: at,
    }
}

#[allow(clippy::too_many_arguments)]
fn append(
    conversation: &mut ConversationRow,
    message_id: &MessageId,
    author: &Principal,
    author_kind: AuthorKind,
    client_msg_id: Option<String>,
    body: String,
    visibility: Visibility,
    automated: bool,
    at: Timestamp,
) -> MessageRow {
    conversation.last_seq += 1;
    let public_seq = (visibility == Visibility::Public).then(|| {
        conversation.last_public_seq += 1;
        conversation.last_public_seq
    });
    conversation.updated_at = at;
    MessageRow {
        id: message_id.clone(),
        conversation_id: conversation.id.clone(),
        seq: conversation.last_seq,
        public_seq,
        author_id: author.author_id().to_owned(),
        author_kind,
        author_name: author.name().to_owned(),
        client_msg_id,
        body,
        visibility,
        automated,
        created_at: at,
        whisper_to: None,
        reply_ms: None,
        sentiment: None,
        flag: None,
        event: None,
        quick_replies: Vec::new(),
    }
}
