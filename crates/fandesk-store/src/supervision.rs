//! The audit log, alerts, keyword and restricted-word rules, and the message review
//! listing (PRODUCT.md › C4, C5).

use crate::rows::MESSAGE_COLUMNS;
use crate::{
    AlertRow, AuditRow, MessageRow, Store, StoreError, StoreResult, from_micros, to_micros,
};
use fandesk_domain::{ConversationId, MemberId};
use jiff::Timestamp;
use sqlx::AssertSqlSafe;

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

macro_rules! decode_alert {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        AlertRow {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            conversation_id: row
                .try_get::<Option<String>, _>("conversation_id")?
                .map(ConversationId),
            rule: row.try_get("rule")?,
            excerpt: row.try_get("excerpt")?,
            details: row.try_get("details")?,
            created_at: from_micros(row.try_get("created_at")?)?,
        }
    }};
}

impl Store {
    pub async fn insert_audit(&self, audit: &AuditRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
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
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Newest first; `before` pages backwards.
    pub async fn list_audit(
        &self,
        before: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRow>> {
        let before = before.map(to_micros).unwrap_or(i64::MAX);
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, actor_id, actor_name, action, conversation_id, details, created_at \
                 FROM audit_log WHERE created_at < $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                entries.push(AuditRow {
                    id: row.try_get("id")?,
                    actor_id: row.try_get("actor_id")?,
                    actor_name: row.try_get("actor_name")?,
                    action: row.try_get("action")?,
                    conversation_id: row
                        .try_get::<Option<String>, _>("conversation_id")?
                        .map(ConversationId),
                    details: row.try_get("details")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                });
            }
            Ok(entries)
        })
    }

    pub async fn insert_alert(&self, alert: &AlertRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO alerts (id, kind, conversation_id, rule, excerpt, details, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(alert.id.as_str())
            .bind(alert.kind.as_str())
            .bind(alert.conversation_id.as_ref().map(ConversationId::as_str))
            .bind(alert.rule.as_deref())
            .bind(alert.excerpt.as_deref())
            .bind(alert.details.as_str())
            .bind(to_micros(alert.created_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Alerts created at or after `since`, oldest first.
    pub async fn list_alerts(&self, since: Timestamp, limit: u32) -> StoreResult<Vec<AlertRow>> {
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, kind, conversation_id, rule, excerpt, details, created_at FROM alerts \
                 WHERE created_at >= $1 ORDER BY created_at, id LIMIT $2",
            )
            .bind(to_micros(since))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            let mut alerts = Vec::with_capacity(rows.len());
            for row in &rows {
                alerts.push(decode_alert!(row));
            }
            Ok(alerts)
        })
    }

    /// The newest alert of `kind` for a conversation and rule (de-duplication window).
    pub async fn last_alert_at(
        &self,
        kind: &str,
        conversation: Option<&ConversationId>,
        rule: Option<&str>,
    ) -> StoreResult<Option<Timestamp>> {
        let micros: Option<i64> = on_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(created_at) FROM alerts WHERE kind = $1 \
                 AND COALESCE(conversation_id, '') = COALESCE($2, '') AND COALESCE(rule, '') = COALESCE($3, '')",
            )
            .bind(kind)
            .bind(conversation.map(ConversationId::as_str))
            .bind(rule)
            .fetch_one(pool)
            .await?
        });
        micros.map(from_micros).transpose()
    }

    pub async fn list_keyword_rules(&self) -> StoreResult<Vec<KeywordRuleRow>> {
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, name, patterns, created_at FROM keyword_rules ORDER BY name",
            )
            .fetch_all(pool)
            .await?;
            let mut rules = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                let patterns: String = row.try_get("patterns")?;
                rules.push(KeywordRuleRow {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    patterns: patterns.split_whitespace().map(str::to_owned).collect(),
                    created_at: from_micros(row.try_get("created_at")?)?,
                });
            }
            Ok(rules)
        })
    }

    pub async fn insert_keyword_rule(&self, rule: &KeywordRuleRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query("INSERT INTO keyword_rules (id, name, patterns, created_at) VALUES ($1, $2, $3, $4)")
                .bind(rule.id.as_str())
                .bind(rule.name.as_str())
                .bind(rule.patterns.join(" "))
                .bind(to_micros(rule.created_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_keyword_rule(&self, id: &str) -> StoreResult<()> {
        let deleted = on_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM keyword_rules WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            return Err(StoreError::NotFound("keyword rule"));
        }
        Ok(())
    }

    pub async fn list_restricted_rules(&self) -> StoreResult<Vec<RestrictedRuleRow>> {
        on_pool!(self, read, |pool| {
            let rows = sqlx::query(
                "SELECT id, pattern, action, created_at FROM restricted_rules ORDER BY pattern",
            )
            .fetch_all(pool)
            .await?;
            let mut rules = Vec::with_capacity(rows.len());
            for row in &rows {
                use sqlx::Row as _;
                rules.push(RestrictedRuleRow {
                    id: row.try_get("id")?,
                    pattern: row.try_get("pattern")?,
                    action: row.try_get("action")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                });
            }
            Ok(rules)
        })
    }

    pub async fn insert_restricted_rule(&self, rule: &RestrictedRuleRow) -> StoreResult<()> {
        on_pool!(self, write, |pool| {
            sqlx::query("INSERT INTO restricted_rules (id, pattern, action, created_at) VALUES ($1, $2, $3, $4)")
                .bind(rule.id.as_str())
                .bind(rule.pattern.as_str())
                .bind(rule.action.as_str())
                .bind(to_micros(rule.created_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_restricted_rule(&self, id: &str) -> StoreResult<()> {
        let deleted = on_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM restricted_rules WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
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
        on_pool!(self, read, |pool| {
            let mut query = sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(before)
                .bind(from)
                .bind(to)
                .bind(i64::from(filter.limit));
            if let Some(author) = &filter.author_id {
                query = query.bind(author.as_str());
            }
            let rows = query.fetch_all(pool).await?;
            let mut messages = Vec::with_capacity(rows.len());
            for row in &rows {
                messages.push(decode_message!(row));
            }
            Ok(messages)
        })
    }

    /// Fan messages since `since`, oldest first: (arrival, body). Feeds the clipped-reply
    /// detector after a restart.
    pub async fn list_fan_message_bodies_since(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<(Timestamp, String)>> {
        on_pool!(self, read, |pool| {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT created_at, body FROM messages WHERE author_kind = 'fan' AND created_at >= $1 \
                 ORDER BY created_at LIMIT 500000",
            )
            .bind(to_micros(since))
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|(at, body)| Ok((from_micros(at)?, body)))
                .collect()
        })
    }
}
