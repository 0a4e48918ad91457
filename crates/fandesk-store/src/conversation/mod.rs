//! Conversations: creation and reads. State changes and messages go through
//! [`Store::apply_batch`] (`plan.rs` decides, `commit.rs` writes) so that they take their
//! place in the timeline's sequence.

pub(crate) mod commit;
mod message;
pub(crate) mod plan;
pub(crate) mod rows;
mod snooze;

use crate::statement::Statement;
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::{ConversationId, FanId, MemberId, Status};
use rows::{CONVERSATION_COLUMNS, ConversationRow};
use sqlx::AssertSqlSafe;

/// Team-side listing filter (filterable by status and assignee).
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub status: Option<Status>,
    pub assignee_id: Option<MemberId>,
    /// Only conversations nobody is assigned to.
    pub unassigned: bool,
    pub fan_id: Option<FanId>,
    /// Case-insensitive part of the fan's display name (the team searches by fan).
    pub fan_name: Option<String>,
    /// A fan profile tag, e.g. `vip` (lowercase, as tags are stored).
    pub tag: Option<String>,
    /// Case-insensitive part of a message's text (public or internal; system entries
    /// left out), searched in the most recently active conversations only.
    pub text: Option<String>,
    /// Only conversations whose stored priority is at least this.
    pub min_priority: Option<i64>,
    /// Page size, clamped by the caller.
    pub limit: u32,
}

impl Store {
    /// Inserts a new conversation. A fan already having an unresolved conversation is
    /// `Conflict` (unique partial index), which the caller turns into "return that one".
    /// The conversation's first metric opening commits with it (`docs/metrics.md`).
    pub async fn insert_conversation(&self, conversation: &ConversationRow) -> StoreResult<()> {
        let metrics = crate::metrics::step::creation_changes(conversation);
        let mut statements = vec![
            Statement::new(
                "INSERT INTO conversations (id, fan_id, status, assignee_id, escalated, priority, \
                 last_seq, last_public_seq, created_at, updated_at, escalated_to, observer_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(conversation.id.as_str())
            .bind(conversation.fan_id.as_str())
            .bind(conversation.status.as_str())
            .bind(conversation.assignee_id.as_ref().map(MemberId::as_str))
            .bind(conversation.escalated)
            .bind(conversation.priority)
            .bind(conversation.last_seq as i64)
            .bind(conversation.last_public_seq as i64)
            .bind(to_micros(conversation.created_at))
            .bind(to_micros(conversation.updated_at))
            .bind(conversation.escalated_to.as_ref().map(MemberId::as_str))
            .bind(conversation.observer_id.as_ref().map(MemberId::as_str)),
        ];
        statements.extend(
            metrics
                .openings
                .iter()
                .map(crate::metrics::commit::insert_opening),
        );
        self.writer().transaction(statements).await?;
        Ok(())
    }

    pub async fn find_conversation(
        &self,
        id: &ConversationId,
    ) -> StoreResult<Option<ConversationRow>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// The fan's conversation that is not resolved, if any (at most one exists).
    pub async fn find_active_conversation(
        &self,
        fan_id: &FanId,
    ) -> StoreResult<Option<ConversationRow>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE fan_id = $1 AND status <> 'resolved'"
        );
        // Read through the writer pool on SQLite: this follows a failed insert and must see
        // the row that made it fail.
        let statement = Statement::new(AssertSqlSafe(sql)).bind(fan_id.as_str());
        self.writer().fetch_optional(statement).await
    }

    /// Most recently updated first.
    pub async fn list_conversations(
        &self,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationRow>> {
        let mut sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(status) = filter.status {
            binds.push(status.as_str().to_owned());
            sql.push_str(&format!(" AND status = ${}", binds.len()));
        }
        if let Some(assignee) = &filter.assignee_id {
            binds.push(assignee.0.clone());
            sql.push_str(&format!(" AND assignee_id = ${}", binds.len()));
        }
        if filter.unassigned {
            sql.push_str(" AND assignee_id IS NULL");
        }
        if let Some(fan_id) = &filter.fan_id {
            binds.push(fan_id.0.clone());
            sql.push_str(&format!(" AND fan_id = ${}", binds.len()));
        }
        crate::desk::push_search_filters(filter, &mut sql, &mut binds);
        sql.push_str(&format!(
            " ORDER BY updated_at DESC, id DESC LIMIT {}",
            filter.limit
        ));
        let statement =
            Statement::new(AssertSqlSafe(sql)).bind_all(binds.iter().map(String::as_str));
        self.reader().fetch_all(statement).await
    }
}
