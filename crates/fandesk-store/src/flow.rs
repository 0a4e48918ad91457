//! Scripted bot flows (migration 0031): flows with their versions, the one active flow
//! (a unique slot column allows at most one, so two activations racing on two nodes
//! cannot both win), and each conversation's place in the flow it runs. A conversation's
//! flow advances by compare-and-set on the last fan message it answered, so a message is
//! never answered twice.

use crate::statement::{Columns, Statement};
use crate::{Store, StoreResult, to_micros};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};

/// A flow and where its versions stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRow {
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub latest_version: i64,
    /// The version new conversations start, when this is the active flow.
    pub active_version: Option<i64>,
}

/// One uploaded version of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowVersionRow {
    pub flow_id: String,
    pub version: i64,
    /// `yaml` or `json`.
    pub format: String,
    pub source: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// Where a conversation stands in its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowState {
    /// Pinned, not greeted yet.
    Starting,
    /// Waiting for the fan at a step.
    Waiting,
    /// Ended or handed off.
    Done,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::Starting => "starting",
            FlowState::Waiting => "waiting",
            FlowState::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<FlowState> {
        match text {
            "starting" => Some(FlowState::Starting),
            "waiting" => Some(FlowState::Waiting),
            "done" => Some(FlowState::Done),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationFlowRow {
    pub conversation_id: String,
    pub flow_id: String,
    pub version: i64,
    pub state: FlowState,
    pub waiting_at: Option<String>,
    pub last_input_seq: i64,
    pub updated_at: Timestamp,
}

impl ConversationFlowRow {
    /// The flow still speaks in this conversation.
    pub fn running(&self) -> bool {
        self.state != FlowState::Done
    }
}

const FLOW_COLUMNS: &str =
    "id, name, created_by, created_at, updated_at, latest_version, active_version";
const VERSION_COLUMNS: &str = "flow_id, version, format, source, created_by, created_at";
const STATE_COLUMNS: &str =
    "conversation_id, flow_id, version, state, waiting_at, last_input_seq, updated_at";

impl<'r, R: Columns> FromRow<'r, R> for FlowRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FlowRow {
            id: row.text("id")?,
            name: row.text("name")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            latest_version: row.int("latest_version")?,
            active_version: row.optional_int("active_version")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for FlowVersionRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FlowVersionRow {
            flow_id: row.text("flow_id")?,
            version: row.int("version")?,
            format: row.text("format")?,
            source: row.text("source")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for ConversationFlowRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ConversationFlowRow {
            conversation_id: row.text("conversation_id")?,
            flow_id: row.text("flow_id")?,
            version: row.int("version")?,
            state: row.parsed("state", "flow state", FlowState::parse)?,
            waiting_at: row.optional_text("waiting_at")?,
            last_input_seq: row.int("last_input_seq")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

fn version_insert(row: &FlowVersionRow) -> Statement<'_> {
    Statement::new(AssertSqlSafe(format!(
        "INSERT INTO flow_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
    )))
    .bind(row.flow_id.as_str())
    .bind(row.version)
    .bind(row.format.as_str())
    .bind(row.source.as_str())
    .bind(row.created_by.as_str())
    .bind(to_micros(row.created_at))
}

impl Store {
    /// A new flow with its first version (`version.version` is 1).
    pub async fn insert_flow(&self, name: &str, version: &FlowVersionRow) -> StoreResult<()> {
        let flow = Statement::new(AssertSqlSafe(format!(
            "INSERT INTO flows ({FLOW_COLUMNS}) VALUES ($1, $2, $3, $4, $4, 1, NULL)"
        )))
        .bind(version.flow_id.as_str())
        .bind(name)
        .bind(version.created_by.as_str())
        .bind(to_micros(version.created_at));
        self.writer()
            .transaction(vec![flow, version_insert(version)])
            .await?;
        Ok(())
    }

    /// Adds `version` (numbered `base + 1`) if the newest version is still `base`; `false`
    /// when someone added one in between (the primary key refuses the same number too).
    pub async fn insert_flow_version(
        &self,
        name: &str,
        base: i64,
        version: &FlowVersionRow,
    ) -> StoreResult<bool> {
        debug_assert_eq!(version.version, base + 1);
        let advance = Statement::new(
            "UPDATE flows SET latest_version = $2, name = $3, updated_at = $4 \
             WHERE id = $1 AND latest_version = $5",
        )
        .bind(version.flow_id.as_str())
        .bind(version.version)
        .bind(name)
        .bind(to_micros(version.created_at))
        .bind(base);
        match self
            .writer()
            .transaction(vec![advance, version_insert(version)])
            .await
        {
            Ok(changed) => Ok(changed.first() == Some(&1)),
            Err(crate::StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    pub async fn find_flow(&self, id: &str) -> StoreResult<Option<FlowRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"
        )))
        .bind(id);
        self.reader().fetch_optional(statement).await
    }

    /// Every flow, the active one first, then by name.
    pub async fn list_flows(&self) -> StoreResult<Vec<FlowRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT {FLOW_COLUMNS} FROM flows \
             ORDER BY CASE WHEN active_slot IS NULL THEN 1 ELSE 0 END, name, id"
        )));
        self.reader().fetch_all(statement).await
    }

    /// The active flow, if any.
    pub async fn find_active_flow(&self) -> StoreResult<Option<FlowRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT {FLOW_COLUMNS} FROM flows WHERE active_slot = 1"
        )));
        self.writer().fetch_optional(statement).await
    }

    pub async fn find_flow_version(
        &self,
        flow_id: &str,
        version: i64,
    ) -> StoreResult<Option<FlowVersionRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM flow_versions WHERE flow_id = $1 AND version = $2"
        )))
        .bind(flow_id)
        .bind(version);
        self.reader().fetch_optional(statement).await
    }

    /// A flow's versions, newest first, with an empty `source` (the history lists who and
    /// when).
    pub async fn list_flow_versions(&self, flow_id: &str) -> StoreResult<Vec<FlowVersionRow>> {
        let statement = Statement::new(
            "SELECT flow_id, version, format, '' AS source, created_by, created_at \
             FROM flow_versions WHERE flow_id = $1 ORDER BY version DESC",
        )
        .bind(flow_id);
        self.reader().fetch_all(statement).await
    }

    /// Makes `flow_id` at `version` the one active flow (the previous one stops starting
    /// new conversations), in one transaction.
    pub async fn activate_flow(
        &self,
        flow_id: &str,
        version: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let clear = Statement::new(
            "UPDATE flows SET active_slot = NULL, active_version = NULL, updated_at = $1 \
             WHERE active_slot = 1",
        )
        .bind(to_micros(at));
        let set = Statement::new(
            "UPDATE flows SET active_slot = 1, active_version = $2, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(flow_id)
        .bind(version)
        .bind(to_micros(at));
        self.writer().transaction(vec![clear, set]).await?;
        Ok(())
    }

    /// New conversations start no flow while `flow_id` was the active one; running
    /// conversations finish theirs. `false` when it was not active.
    pub async fn deactivate_flow(&self, flow_id: &str, at: Timestamp) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE flows SET active_slot = NULL, active_version = NULL, updated_at = $2 \
             WHERE id = $1 AND active_slot = 1",
        )
        .bind(flow_id)
        .bind(to_micros(at));
        Ok(self.writer().execute(statement).await? == 1)
    }

    /// Pins a conversation to a flow version, once: `false` when it already had one.
    pub async fn insert_conversation_flow(&self, row: &ConversationFlowRow) -> StoreResult<bool> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "INSERT INTO conversation_flows ({STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (conversation_id) DO NOTHING"
        )))
        .bind(row.conversation_id.as_str())
        .bind(row.flow_id.as_str())
        .bind(row.version)
        .bind(row.state.as_str())
        .bind(row.waiting_at.as_deref())
        .bind(row.last_input_seq)
        .bind(to_micros(row.updated_at));
        Ok(self.writer().execute(statement).await? == 1)
    }

    pub async fn find_conversation_flow(
        &self,
        conversation_id: &str,
    ) -> StoreResult<Option<ConversationFlowRow>> {
        let statement = Statement::new(AssertSqlSafe(format!(
            "SELECT {STATE_COLUMNS} FROM conversation_flows WHERE conversation_id = $1"
        )))
        .bind(conversation_id);
        self.writer().fetch_optional(statement).await
    }

    /// Moves a conversation's flow from `before` to `after` if nobody moved it since
    /// (same state, step and last answered input); `false` when someone did.
    pub async fn advance_conversation_flow(
        &self,
        before: &ConversationFlowRow,
        after: &ConversationFlowRow,
    ) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE conversation_flows \
             SET state = $2, waiting_at = $3, last_input_seq = $4, updated_at = $5 \
             WHERE conversation_id = $1 AND state = $6 AND last_input_seq = $7 \
             AND COALESCE(waiting_at, '') = $8",
        )
        .bind(before.conversation_id.as_str())
        .bind(after.state.as_str())
        .bind(after.waiting_at.as_deref())
        .bind(after.last_input_seq)
        .bind(to_micros(after.updated_at))
        .bind(before.state.as_str())
        .bind(before.last_input_seq)
        .bind(before.waiting_at.as_deref().unwrap_or(""));
        Ok(self.writer().execute(statement).await? == 1)
    }
}
