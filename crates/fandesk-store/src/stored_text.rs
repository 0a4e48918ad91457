//! Text bound for a group commit: an op carrying U+0000 (which PostgreSQL cannot store)
//! is refused on its own before the batch runs, so it can never fail the transaction of
//! the ops beside it, on either backend (ARCHITECTURE.md › Invariants). The service and
//! the HTTP layer refuse such text first; this is the last guard.

use crate::StoreResult;
use crate::conversation::plan::WriteOp;
use crate::room::plan::RoomOp;
use fandesk_domain::conversation::Transition;
use fandesk_domain::text::refuse_nul_in;
use fandesk_domain::{Principal, RuleViolation};
use std::future::Future;

/// The op's text fields, named as the API names them.
pub(crate) trait StoredText {
    fn check_text(&self) -> Result<(), RuleViolation>;
}

fn principal(principal: &Principal) -> [(&'static str, &str); 2] {
    [
        ("author", principal.author_id()),
        ("name", principal.name()),
    ]
}

impl StoredText for WriteOp {
    fn check_text(&self) -> Result<(), RuleViolation> {
        match self {
            WriteOp::Post {
                message_id,
                conversation_id,
                author,
                client_msg_id,
                body,
                extras,
                ..
            } => refuse_nul_in(
                [
                    ("id", message_id.as_str()),
                    ("conversation_id", conversation_id.as_str()),
                    ("client_msg_id", client_msg_id.as_deref().unwrap_or("")),
                    ("body", body.as_str()),
                    (
                        "to",
                        extras.whisper_to.as_ref().map_or("", |to| to.as_str()),
                    ),
                    ("flag", extras.flag.as_deref().unwrap_or("")),
                ]
                .into_iter()
                .chain(principal(author)),
            ),
            WriteOp::Transition {
                message_id,
                conversation_id,
                actor,
                transition,
                ..
            } => {
                let (member, name, reason) = match transition {
                    Transition::Assign { member, name, .. } => (member.as_str(), name.as_str(), ""),
                    Transition::Escalate { lead, name, reason } => {
                        (lead.as_str(), name.as_str(), reason.as_str())
                    }
                    _ => ("", "", ""),
                };
                refuse_nul_in(
                    [
                        ("id", message_id.as_str()),
                        ("conversation_id", conversation_id.as_str()),
                        ("member_id", member),
                        ("name", name),
                        ("reason", reason),
                    ]
                    .into_iter()
                    .chain(principal(actor)),
                )
            }
        }
    }
}

impl StoredText for RoomOp {
    fn check_text(&self) -> Result<(), RuleViolation> {
        match self {
            RoomOp::Post {
                message_id,
                room_id,
                author,
                client_msg_id,
                body,
                ..
            } => refuse_nul_in(
                [
                    ("id", message_id.as_str()),
                    ("room_id", room_id.as_str()),
                    ("client_msg_id", client_msg_id.as_str()),
                    ("body", body.as_str()),
                ]
                .into_iter()
                .chain(principal(author)),
            ),
            RoomOp::Delete {
                event_id,
                room_id,
                actor,
                message_id,
                ..
            } => refuse_nul_in(
                [
                    ("id", event_id.as_str()),
                    ("room_id", room_id.as_str()),
                    ("message_id", message_id.as_str()),
                ]
                .into_iter()
                .chain(principal(actor)),
            ),
            RoomOp::Timeout {
                room_id,
                actor,
                fan_id,
                ..
            } => refuse_nul_in(
                [("room_id", room_id.as_str()), ("fan_id", fan_id.as_str())]
                    .into_iter()
                    .chain(principal(actor)),
            ),
            RoomOp::Change { room_id, actor, .. } | RoomOp::SlowMode { room_id, actor, .. } => {
                refuse_nul_in(
                    [("room_id", room_id.as_str())]
                        .into_iter()
                        .chain(principal(actor)),
                )
            }
        }
    }
}

/// Runs `apply` on the ops whose text can be stored and answers the others with their
/// refusal, keeping one result per op in the order of `ops`.
pub(crate) async fn apply_screened<'a, Op, Outcome, Refusal, F, Fut>(
    ops: &'a [Op],
    apply: F,
) -> StoreResult<Vec<Result<Outcome, Refusal>>>
where
    Op: StoredText + Clone,
    Refusal: From<RuleViolation>,
    F: FnOnce(std::borrow::Cow<'a, [Op]>) -> Fut,
    Fut: Future<Output = StoreResult<Vec<Result<Outcome, Refusal>>>>,
{
    let checks: Vec<Result<(), RuleViolation>> = ops.iter().map(StoredText::check_text).collect();
    if checks.iter().all(Result::is_ok) {
        return apply(std::borrow::Cow::Borrowed(ops)).await;
    }
    let clean: Vec<Op> = ops
        .iter()
        .zip(&checks)
        .filter(|(_, check)| check.is_ok())
        .map(|(op, _)| op.clone())
        .collect();
    let mut applied = if clean.is_empty() {
        Vec::new()
    } else {
        apply(std::borrow::Cow::Owned(clean)).await?
    }
    .into_iter();
    let mut results = Vec::with_capacity(ops.len());
    for check in checks {
        match check {
            Ok(()) => match applied.next() {
                Some(result) => results.push(result),
                None => {
                    return Err(crate::StoreError::Corrupt(
                        "a batch answered fewer results than ops".into(),
                    ));
                }
            },
            Err(violation) => results.push(Err(violation.into())),
        }
    }
    Ok(results)
}
