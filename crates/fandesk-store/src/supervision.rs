//! The audit log, alerts, keyword and restricted-word rules, and the message review
//! listing (`docs/product.md` › Supervision, Signals).

use crate::conversation::rows::{MESSAGE_COLUMNS, MessageRow};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute};
use crate::{Store, StoreError, StoreResult, from_micros, to_micros};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};

/// One audit-log entry (`docs/product.md` › Supervision: every
/// supervisory action is logged).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub conversation_id: Option<ConversationId>,
    /// JSON object with action-specific facts.
    pub details: String,
    pub created_at: Timestamp,
}

/// Which audit entries to list: older than `before`, at most `limit`, and each filter
/// given matched exactly.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub before: Option<Timestamp>,
    pub limit: u32,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub conversation_id: Option<String>,
}

/// One alert (`docs/api.md` › Alerts).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
    pub rule: Option<String>,
    pub excerpt: Option<String>,
    /// JSON object with kind-specific facts.
    pub details: String,
    pub created_at: Timestamp,
    /// `open`, `acknowledged` or `dismissed` (`fandesk_domain::AlertState`).
    pub state: String,
    /// Who last acknowledged or dismissed it, when, and their name (read only).
    pub handled_by: Option<String>,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<Timestamp>,
}

/// The columns an [`AlertRow`] is read from (`alerts a`, the handler's name joined).
const ALERT_SELECT: &str = "SELECT a.id, a.kind, a.conversation_id, a.rule, a.excerpt, a.details, \
     a.created_at, a.state, a.handled_by, m.name AS handled_by_name, a.handled_at \
     FROM alerts a LEFT JOIN members m ON m.id = a.handled_by";

/// An editable keyword rule: any of its words (with inflections) raises an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordRuleRow {
    pub id: String,
    pub name: String,
    pub patterns: Vec<String>,
    pub created_at: Timestamp,
}

/// A restricted word or phrase on outgoing team messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestrictedRuleRow {
    pub id: String,
    pub pattern: String,
    /// `block` or `warn`.
    pub action: String,
    pub created_at: Timestamp,
}

/// Filter of the message review (team messages with their reply times).
#[derive(Clone, Debug, Default)]
pub struct ReviewFilter {
    pub author_id: Option<MemberId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Page: messages created strictly before this time (newest first).
    pub before: Option<Timestamp>,
    pub limit: u32,
}

impl<'r, R: Columns> FromRow<'r, R> for AuditRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(AuditRow {
            id: row.text("id")?,
            actor_id: row.text("actor_id")?,
            actor_name: row.text("actor_name")?,
            action: row.text("action")?,
            conversation_id: row.optional_text("conversation_id")?.map(ConversationId),
            details: row.text("details")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for AlertRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(AlertRow {
            id: row.text("id")?,
            kind: row.text("kind")?,
            conversation_id: row.optional_text("conversation_id")?.map(ConversationId),
            rule: row.optional_text("rule")?,
            excerpt: row.optional_text("excerpt")?,
            details: row.text("details")?,
            created_at: row.time("created_at")?,
            state: row.text("state")?,
            handled_by: row.optional_text("handled_by")?,
            handled_by_name: row.optional_text("handled_by_name")?,
            handled_at: row.optional_time("handled_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for KeywordRuleRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(KeywordRuleRow {
            id: row.text("id")?,
            name: row.text("name")?,
            patterns: row
                .text("patterns")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            created_at: row.time("created_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for RestrictedRuleRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(RestrictedRuleRow {
            id: row.text("id")?,
            pattern: row.text("pattern")?,
            action: row.text("action")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Store {
    pub async fn insert_audit(&self, audit: &AuditRow) -> StoreResult<()> {
        self.writer().execute(audit_statement(audit)).await?;
        Ok(())
    }

    /// Newest first, the entries `filter` keeps; `before` pages backwards.
    pub async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
        let before = filter.before.map(to_micros).unwrap_or(i64::MAX);
        let statement = Statement::new(
            "SELECT id, actor_id, actor_name, action, conversation_id, details, created_at \
             FROM audit_log WHERE created_at < $1 AND ($3 IS NULL OR action = $3) \
             AND ($4 IS NULL OR actor_id = $4) AND ($5 IS NULL OR conversation_id = $5) \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(filter.limit))
        .bind(filter.action.as_deref())
        .bind(filter.actor_id.as_deref())
        .bind(filter.conversation_id.as_deref());
        self.reader().fetch_all(statement).await
    }

    pub async fn insert_alert(&self, alert: &AlertRow) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO alerts (id, kind, conversation_id, rule, excerpt, details, created_at, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(alert.id.as_str())
        .bind(alert.kind.as_str())
        .bind(alert.conversation_id.as_ref().map(ConversationId::as_str))
        .bind(alert.rule.as_deref())
        .bind(alert.excerpt.as_deref())
        .bind(alert.details.as_str())
        .bind(to_micros(alert.created_at))
        .bind(alert.state.as_str());
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Alerts created at or after `since` (in `state` when given), newest first.
    pub async fn list_alerts(
        &self,
        since: Timestamp,
        state: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "{ALERT_SELECT} WHERE a.created_at >= $1 AND ($3 IS NULL OR a.state = $3) \
             ORDER BY a.created_at DESC, a.id DESC LIMIT $2"
        )))
        .bind(to_micros(since))
        .bind(i64::from(limit))
        .bind(state);
        self.reader().fetch_all(statement).await
    }

    /// One alert, read from the writer (it may have just changed).
    pub async fn alert(&self, id: &str) -> StoreResult<Option<AlertRow>> {
        let statement =
            Statement::new(AssertSqlSafe(format!("{ALERT_SELECT} WHERE a.id = $1"))).bind(id);
        self.writer().fetch_optional(statement).await
    }

    /// Moves an alert from state `from` to `to` and writes its audit entry (whose actor
    /// and time are the handler's), in one transaction; `false`, with nothing written,
    /// when the alert was no longer in `from` (someone else acted first).
    pub async fn set_alert_state(
        &self,
        id: &str,
        from: &str,
        to: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE alerts SET state = $3, handled_by = $4, handled_at = $5 \
             WHERE id = $1 AND state = $2",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(audit.actor_id.as_str())
        .bind(to_micros(audit.created_at));
        match self {
            Store::Sqlite(db) => write_if_changed::<Sqlite>(&db.write, statement, audit).await,
            Store::Postgres(db) => write_if_changed::<Postgres>(&db.pool, statement, audit).await,
        }
    }

    /// The newest alert of `kind` for a conversation and rule (de-duplication window).
    pub async fn last_alert_at(
        &self,
        kind: &str,
        conversation: Option<&ConversationId>,
        rule: Option<&str>,
    ) -> StoreResult<Option<Timestamp>> {
        let statement = Statement::new(
            "SELECT MAX(created_at) FROM alerts WHERE kind = $1 \
             AND COALESCE(conversation_id, '') = COALESCE($2, '') AND COALESCE(rule, '') = COALESCE($3, '')",
        )
        .bind(kind)
        .bind(conversation.map(ConversationId::as_str))
        .bind(rule);
        let (micros,): (Option<i64>,) = self.reader().fetch_one(statement).await?;
        micros.map(from_micros).transpose()
    }

    pub async fn list_keyword_rules(&self) -> StoreResult<Vec<KeywordRuleRow>> {
        self.reader()
            .fetch_all(Statement::new(
                "SELECT id, name, patterns, created_at FROM keyword_rules ORDER BY name",
            ))
            .await
    }

    pub async fn insert_keyword_rule(&self, rule: &KeywordRuleRow) -> StoreResult<()> {
        let patterns = rule.patterns.join(" ");
        let statement = Statement::new(
            "INSERT INTO keyword_rules (id, name, patterns, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(rule.id.as_str())
        .bind(rule.name.as_str())
        .bind(patterns.as_str())
        .bind(to_micros(rule.created_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn delete_keyword_rule(&self, id: &str) -> StoreResult<()> {
        let statement = Statement::new("DELETE FROM keyword_rules WHERE id = $1").bind(id);
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("keyword rule"));
        }
        Ok(())
    }

    pub async fn list_restricted_rules(&self) -> StoreResult<Vec<RestrictedRuleRow>> {
        self.reader()
            .fetch_all(Statement::new(
                "SELECT id, pattern, action, created_at FROM restricted_rules ORDER BY pattern",
            ))
            .await
    }

    pub async fn insert_restricted_rule(&self, rule: &RestrictedRuleRow) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO restricted_rules (id, pattern, action, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(rule.id.as_str())
        .bind(rule.pattern.as_str())
        .bind(rule.action.as_str())
        .bind(to_micros(rule.created_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    pub async fn delete_restricted_rule(&self, id: &str) -> StoreResult<()> {
        let statement = Statement::new("DELETE FROM restricted_rules WHERE id = $1").bind(id);
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("restricted rule"));
        }
        Ok(())
    }

    /// Team members' messages (human and bot), newest first, with reply times.
    pub async fn list_review_messages(
        &self,
        filter: &ReviewFilter,
    ) -> StoreResult<Vec<MessageRow>> {
        let sql = review_sql(filter.author_id.is_some());
        let before = filter.before.map(to_micros).unwrap_or(i64::MAX);
        let from = filter.from.map(to_micros).unwrap_or(i64::MIN);
        let to = filter.to.map(to_micros).unwrap_or(i64::MAX);
        let mut statement = Statement::new(AssertSqlSafe(sql))
            .bind(before)
            .bind(from)
            .bind(to)
            .bind(i64::from(filter.limit));
        if let Some(author) = &filter.author_id {
            statement = statement.bind(author.as_str());
        }
        self.reader().fetch_all(statement).await
    }

    /// Fan messages since `since`, oldest first: (arrival, body). Feeds the clipped-reply
    /// detector after a restart.
    pub async fn list_fan_message_bodies_since(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(Timestamp, String)>> {
        let statement = Statement::new(
            "SELECT created_at, body FROM messages WHERE author_kind = 'fan' AND created_at >= $1 \
             ORDER BY created_at LIMIT 500000",
        )
        .bind(to_micros(since));
        let rows: Vec<(i64, String)> = self.reader().fetch_all(statement).await?;
        rows.into_iter()
            .map(|(at, body)| Ok((from_micros(at)?, body)))
            .collect()
    }
}

/// Inserts `audit` (`audit_log`).
pub(crate) fn audit_statement(audit: &AuditRow) -> Statement<'_> {
    Statement::new(
        "INSERT INTO audit_log (id, actor_id, actor_name, action, conversation_id, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(audit.id.as_str())
    .bind(audit.actor_id.as_str())
    .bind(audit.actor_name.as_str())
    .bind(audit.action.as_str())
    .bind(audit.conversation_id.as_ref().map(ConversationId::as_str))
    .bind(audit.details.as_str())
    .bind(to_micros(audit.created_at))
}

/// Runs a conditional `update` (an alert's state, a token's revocation) and, when it
/// changed exactly one row, `audit`, in one transaction; whether it changed the row.
pub(crate) async fn write_if_changed<D: Dialect>(
    pool: &sqlx::Pool<D>,
    update: Statement<'_>,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let changed = execute::<D>(&mut tx, update).await? == 1;
    if changed {
        execute::<D>(&mut tx, audit_statement(audit)).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The review's query: team members' and bots' messages, newest first, optionally of one
/// author. Its `author_kind IN ('member', 'bot')` is the condition of the partial index
/// `messages_by_author` (migration 0080), word for word, so the author filter can use it.
fn review_sql(by_author: bool) -> String {
    let mut sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE author_kind IN ('member', 'bot') AND created_at < $1 \
         AND created_at >= $2 AND created_at < $3"
    );
    if by_author {
        sql.push_str(" AND author_id = $5");
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $4");
    sql
}

#[cfg(test)]
mod tests {
    use super::review_sql;
    use crate::Store;
    use sqlx::AssertSqlSafe;

    /// The review of one author reads the partial index, not every team message: a change
    /// to the query's condition that no longer matches the index's would fail here.
    #[tokio::test]
    async fn the_review_of_one_author_uses_the_partial_author_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("store");
        let Store::Sqlite(db) = &store else {
            unreachable!("opened SQLite")
        };
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {}",
            review_sql(true)
        )))
        .bind(i64::MAX)
        .bind(i64::MIN)
        .bind(i64::MAX)
        .bind(50_i64)
        .bind("mem_1")
        .fetch_all(&db.read)
        .await
        .expect("plan");
        let steps: Vec<&str> = plan.iter().map(|step| step.3.as_str()).collect();
        assert!(
            steps
                .iter()
                .any(|step| step.contains("USING INDEX messages_by_author")),
            "{steps:?}"
        );
        store.close().await;
    }
}
