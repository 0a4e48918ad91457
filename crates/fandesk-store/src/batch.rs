//! The group-commit write path: many sends and state changes applied in one transaction.
//! Sequence numbers are assigned here, inside the transaction, from the conversation row
//! (locked with `FOR UPDATE` on PostgreSQL, so several nodes can write one conversation),
//! and permission rules are evaluated against the state as of each preceding op, so two
//! agents racing to claim one conversation cannot both win.

use sqlx::AssertSqlSafe;
use crate::rows::{CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::{to_micros, ConversationRow, MessageRow, Store, StoreResult};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{
    decide_post, AuthorKind, ConversationId, MessageId, Principal, Role, RuleViolation, Visibility,
};
use jiff::Timestamp;
use std::collections::HashMap;

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
    },
    /// A status change, recorded as a team-only timeline entry.
    Transition {
        message_id: MessageId,
        conversation_id: ConversationId,
        actor: Principal,
        transition: Transition,
        at: Timestamp,
    },
}

impl WriteOp {
    fn conversation_id(&self) -> &ConversationId {
        match self {
            WriteOp::Post { conversation_id, .. } | WriteOp::Transition { conversation_id, .. } => {
                conversation_id
            }
        }
    }

    fn idempotency_key(&self) -> Option<(&str, &str)> {
        match self {
            WriteOp::Post { author, client_msg_id: Some(id), .. } => Some((author.author_id(), id)),
            _ => None,
        }
    }
}

/// What one op did.
#[derive(Clone, Debug)]
pub enum WriteOutcome {
    /// Appended; `conversation` is the state right after this op, and `changed` says
    /// whether the op changed its status or assignee (so subscribers get an update).
    Created { message: MessageRow, conversation: ConversationRow, changed: bool },
    /// The author already sent this `client_msg_id`: the original message, unchanged.
    Duplicate { message: MessageRow },
}

pub type OpResult = Result<WriteOutcome, RuleViolation>;

/// The pure part of a batch: decides every op against the loaded state.
struct Plan {
    results: Vec<OpResult>,
    new_rows: Vec<MessageRow>,
    touched: Vec<ConversationRow>,
}

fn plan(
    ops: &[WriteOp],
    mut conversations: HashMap<ConversationId, ConversationRow>,
    existing: Vec<MessageRow>,
) -> Plan {
    let mut sent: HashMap<(String, String), MessageRow> = existing
        .into_iter()
        .filter_map(|row| {
            let key = (row.author_id.clone(), row.client_msg_id.clone()?);
            Some((key, row))
        })
        .collect();
    let mut touched_ids: Vec<ConversationId> = Vec::new();
    let mut new_rows = Vec::new();
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        if let Some((author, client_id)) = op.idempotency_key()
            && let Some(original) = sent.get(&(author.to_owned(), client_id.to_owned()))
        {
            results.push(Ok(WriteOutcome::Duplicate { message: original.clone() }));
            continue;
        }
        let Some(conversation) = conversations.get_mut(op.conversation_id()) else {
            results.push(Err(RuleViolation::Hidden));
            continue;
        };
        let result = apply_op(op, conversation);
        if let Ok(WriteOutcome::Created { message, .. }) = &result {
            if let Some(key) = op.idempotency_key() {
                sent.insert((key.0.to_owned(), key.1.to_owned()), message.clone());
            }
            new_rows.push(message.clone());
            if !touched_ids.contains(&conversation.id) {
                touched_ids.push(conversation.id.clone());
            }
        }
        results.push(result);
    }
    let touched = touched_ids.iter().filter_map(|id| conversations.remove(id)).collect();
    Plan { results, new_rows, touched }
}

/// Applies one op to the in-memory conversation, returning the row to insert.
fn apply_op(op: &WriteOp, conversation: &mut ConversationRow) -> OpResult {
    match op {
        WriteOp::Post { message_id, author, client_msg_id, body, visibility, at, .. } => {
            let decision = decide_post(author, &conversation.state(), *visibility)?;
            let changed = decision.claims;
            if decision.claims
                && let Principal::Member { id, .. } = author
            {
                conversation.assignee_id = Some(id.clone());
            }
            let author_kind = match author.role() {
                None => AuthorKind::Fan,
                Some(Role::Bot) => AuthorKind::Bot,
                Some(_) => AuthorKind::Member,
            };
            let message = append(
                conversation,
                message_id,
                author,
                author_kind,
                client_msg_id.clone(),
                body.clone(),
                *visibility,
                decision.automated,
                *at,
            );
            Ok(WriteOutcome::Created { message, conversation: conversation.clone(), changed })
        }
        WriteOp::Transition { message_id, actor, transition, at, .. } => {
            if actor.is_fan() {
                return Err(RuleViolation::Forbidden("only team members change a conversation's status"));
            }
            conversation.status = transition.apply(conversation.status)?;
            let text = transition.timeline_text(actor.name());
            let message = append(
                conversation,
                message_id,
                actor,
                AuthorKind::System,
                None,
                text,
                Visibility::Internal,
                false,
                *at,
            );
            Ok(WriteOutcome::Created { message, conversation: conversation.clone(), changed: true })
        }
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
    }
}

/// Rows per multi-row INSERT: 12 parameters a row stays far below both backends' limits.
const INSERT_CHUNK: usize = 400;

/// The transaction body, instantiated once per backend. `$lock` is the row-lock suffix.
macro_rules! run_batch {
    ($tx:expr, $db:ty, $lock:expr, $ops:expr) => {{
        let tx = $tx;
        let ops: &[WriteOp] = $ops;
        // 1. Load (and on PostgreSQL lock, in id order) every conversation the batch touches.
        let mut ids: Vec<&str> = ops.iter().map(|op| op.conversation_id().as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN ({}) ORDER BY id{}",
            placeholders(ids.len()),
            $lock
        );
        let mut query = sqlx::query::<$db>(AssertSqlSafe(sql.as_str()));
        for id in &ids {
            query = query.bind(*id);
        }
        let mut conversations = HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            let conversation = decode_conversation!(&row);
            conversations.insert(conversation.id.clone(), conversation);
        }
        // 2. Earlier sends of the same client_msg_ids (idempotency).
        let mut client_ids: Vec<&str> =
            ops.iter().filter_map(|op| op.idempotency_key().map(|key| key.1)).collect();
        client_ids.sort_unstable();
        client_ids.dedup();
        let mut existing = Vec::new();
        if !client_ids.is_empty() {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_msg_id IN ({})",
                placeholders(client_ids.len())
            );
            let mut query = sqlx::query::<$db>(AssertSqlSafe(sql.as_str()));
            for id in &client_ids {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *tx).await? {
                existing.push(decode_message!(&row));
            }
        }
        // 3. Decide, then write what was decided.
        let plan = plan(ops, conversations, existing);
        for chunk in plan.new_rows.chunks(INSERT_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO messages ({MESSAGE_COLUMNS}) "));
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id.0.clone())
                    .push_bind(row.conversation_id.0.clone())
                    .push_bind(row.seq as i64)
                    .push_bind(row.public_seq.map(|seq| seq as i64))
                    .push_bind(row.author_id.clone())
                    .push_bind(row.author_kind.as_str())
                    .push_bind(row.author_name.clone())
                    .push_bind(row.client_msg_id.clone())
                    .push_bind(row.body.clone())
                    .push_bind(row.visibility.as_str())
                    .push_bind(row.automated)
                    .push_bind(to_micros(row.created_at));
            });
            insert.build().execute(&mut *tx).await?;
        }
        for conversation in &plan.touched {
            sqlx::query::<$db>(
                "UPDATE conversations SET status = $2, assignee_id = $3, last_seq = $4, \
                 last_public_seq = $5, updated_at = $6, last_message_at = $6 WHERE id = $1",
            )
            .bind(conversation.id.as_str())
            .bind(conversation.status.as_str())
            .bind(conversation.assignee_id.as_ref().map(|id| id.as_str()))
            .bind(conversation.last_seq as i64)
            .bind(conversation.last_public_seq as i64)
            .bind(to_micros(conversation.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        plan.results
    }};
}

fn placeholders(count: usize) -> String {
    (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Applies `ops` in one transaction and returns one result per op, in order. A
    /// refused op (rule violation) does not affect the others; a database failure fails
    /// the whole batch and nothing of it is committed.
    pub async fn apply_batch(&self, ops: &[WriteOp]) -> StoreResult<Vec<OpResult>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(db) => {
                let mut tx = db.write.begin().await?;
                let results = run_batch!(&mut *tx, sqlx::Sqlite, "", ops);
                tx.commit().await?;
                Ok(results)
            }
            Store::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                let results = run_batch!(&mut *tx, sqlx::Postgres, " FOR UPDATE", ops);
                tx.commit().await?;
                Ok(results)
            }
        }
    }
}
