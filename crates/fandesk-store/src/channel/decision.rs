//! The decision log: one row per tagged channel message (written by the channels' group
//! commit with its message), listed across channels with filters, and an action's status
//! set open or done.

use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::MessageId;
use fandesk_domain::channel::{ChannelId, DecisionId, DecisionKind, DecisionStatus};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRow {
    pub id: DecisionId,
    pub kind: DecisionKind,
    pub text: String,
    /// An action's owner (the member named, else its author); `None` for a decision.
    pub owner_id: Option<String>,
    pub status: DecisionStatus,
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Read with the row: the owner's name and the channel's.
    pub owner_name: Option<String>,
    pub channel_name: String,
}

/// The columns of a decision with its owner's and channel's names: select them `FROM`
/// [`DECISION_TABLES`].
pub(crate) const DECISION_COLUMNS: &str = "d.id, d.kind, d.text, d.owner_id, d.status, \
     d.channel_id, d.message_id, d.created_at, d.updated_at, o.name AS owner_name, \
     ch.name AS channel_name";

pub(crate) const DECISION_TABLES: &str = "decisions d JOIN channels ch ON ch.id = d.channel_id \
     LEFT JOIN members o ON o.id = d.owner_id";

impl<'r, R: Columns> FromRow<'r, R> for DecisionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(DecisionRow {
            id: DecisionId(row.text("id")?),
            kind: row.parsed("kind", "decision kind", DecisionKind::parse)?,
            text: row.text("text")?,
            owner_id: row.optional_text("owner_id")?,
            status: row.parsed("status", "decision status", DecisionStatus::parse)?,
            channel_id: ChannelId(row.text("channel_id")?),
            message_id: MessageId(row.text("message_id")?),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            owner_name: row.optional_text("owner_name")?,
            channel_name: row.text("channel_name")?,
        })
    }
}

/// Which decisions a read returns; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct DecisionFilter {
    pub kind: Option<DecisionKind>,
    pub status: Option<DecisionStatus>,
    pub channel_id: Option<ChannelId>,
    pub owner_id: Option<String>,
    /// Logged at or after.
    pub from: Option<Timestamp>,
    /// Logged before.
    pub to: Option<Timestamp>,
}

impl Store {
    /// Decisions matching `filter`, newest first, at most `limit`.
    pub async fn list_decisions(
        &self,
        filter: &DecisionFilter,
        limit: u32,
    ) -> StoreResult<Vec<DecisionRow>> {
        let mut conditions = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        // Texts take $1.., times follow them; each condition names its own placeholder.
        let text_filters = [
            ("d.kind", filter.kind.map(|kind| kind.as_str().to_owned())),
            (
                "d.status",
                filter.status.map(|status| status.as_str().to_owned()),
            ),
            (
                "d.channel_id",
                filter.channel_id.as_ref().map(|id| id.0.clone()),
            ),
            ("d.owner_id", filter.owner_id.clone()),
        ];
        for (column, value) in text_filters {
            if let Some(value) = value {
                texts.push(value);
                conditions.push(format!("{column} = ${}", texts.len()));
            }
        }
        for (operator, value) in [(">=", filter.from), ("<", filter.to)] {
            if let Some(at) = value {
                times.push(to_micros(at));
                conditions.push(format!(
                    "d.created_at {operator} ${}",
                    texts.len() + times.len()
                ));
            }
        }
        let limit_at = texts.len() + times.len() + 1;
        let condition = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM {DECISION_TABLES}{condition} \
             ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit_at}"
        );
        let mut statement = Statement::new(AssertSqlSafe(sql));
        for text in &texts {
            statement = statement.bind(text.as_str());
        }
        for time in times {
            statement = statement.bind(time);
        }
        self.reader()
            .fetch_all(statement.bind(i64::from(limit)))
            .await
    }

    pub async fn find_decision(&self, id: &DecisionId) -> StoreResult<Option<DecisionRow>> {
        let sql = format!("SELECT {DECISION_COLUMNS} FROM {DECISION_TABLES} WHERE d.id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Sets a decision's status; `None` when it does not exist.
    pub async fn update_decision_status(
        &self,
        id: &DecisionId,
        status: DecisionStatus,
        at: Timestamp,
    ) -> StoreResult<Option<DecisionRow>> {
        let statement = Statement::new(
            "UPDATE decisions SET status = $2, updated_at = $3 WHERE id = $1 AND status <> $2",
        )
        .bind(id.as_str())
        .bind(status.as_str())
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        let sql = format!("SELECT {DECISION_COLUMNS} FROM {DECISION_TABLES} WHERE d.id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.writer().fetch_optional(statement).await
    }
}
