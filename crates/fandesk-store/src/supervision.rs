//! The audit log, alerts, keyword and restricted-word rules, and the message review
//! listing (`docs/product.md` › Supervision, Signals).

use crate::conversation::rows::{MESSAGE_COLUMNS, MessageRow};
use crate::statement::{Columns, Statement};
use crate::{Store, StoreError, StoreResult, from_micros, to_micros};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

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
}

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
        let statement = Statement::new(
            "INSERT INTO audit_log (id, actor_id, actor_name, action, conversation_id, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(audit.id.as_str())
        .bind(audit.actor_id.as_str())
        .bind(audit.actor_name.as_str())
        .bind(audit.action.as_str())
        .bind(audit.conversation_id.as_ref().map(ConversationId::as_str))
        .bind(audit.details.as_str())
        .bind(to_micros(audit.created_at));
        self.writer().execute(statement).await?;
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
            "INSERT INTO alerts (id, kind, conversation_id, rule, excerpt, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(alert.id.as_str())
        .bind(alert.kind.as_str())
        .bind(alert.conversation_id.as_ref().map(ConversationId::as_str))
        .bind(alert.rule.as_deref())
        .bind(alert.excerpt.as_deref())
        .bind(alert.details.as_str())
        .bind(to_micros(alert.created_at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Alerts created at or after `since`, oldest first.
    pub async fn list_alerts(&self, since: Timestamp, limit: u32) -> StoreResult<Vec<AlertRow>> {
        let statement = Statement::new(
            "SELECT id, kind, conversation_id, rule, excerpt, details, created_at FROM alerts \
             WHERE created_at >= $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(to_micros(since))
        .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
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
        let mut sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE author_kind IN ('member', 'bot') AND created_at < $1 \
             AND created_at >= $2 AND created_at < $3"
        );
        if filter.author_id.is_some() {
            sql.push_str(" AND author_id = $5");
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $4");
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
