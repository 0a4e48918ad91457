//! The agent desk's state outside the timeline (`docs/product.md` › Routing,
//! priority and shifts): fan
//! profiles, each conversation's stored priority with its inputs and its current opening,
//! the queue, agents' loads, and the log of automatic assignments. Assignments themselves
//! are timeline entries and go through [`Store::apply_batch`]. The desk's library of
//! canned responses and its shifts have files of their own.

pub(crate) mod canned;
pub(crate) mod inbox;
pub(crate) mod shifts;

use crate::accounts::FAN_COLUMNS;
use crate::conversation::rows::CONVERSATION_COLUMNS;
use crate::statement::{Columns, Statement};
use crate::{ConversationRow, FanRow, Store, StoreError, StoreResult, to_micros};
use fandesk_domain::desk::priority::WAITING_SECONDS_PER_POINT;
use fandesk_domain::{ConversationId, FanId, MemberId, Role};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow};
use std::collections::BTreeMap;

/// A fan with the profile the team keeps (`docs/api.md` › Agent desk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FanProfileRow {
    /// Display name, external id, time zone, first seen (`created_at`) and last seen.
    pub fan: FanRow,
    /// Lowercase, sorted, unique (`vip`, custom tags).
    pub tags: Vec<String>,
    /// Set by the creator's platform, in its currency's minor unit.
    pub lifetime_spend_cents: i64,
    pub notes: String,
    /// Custom attributes, the `fan.attributes.KEY` of canned responses.
    pub attributes: BTreeMap<String, String>,
}

/// A partial profile update; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FanProfileUpdate {
    pub tags: Option<Vec<String>>,
    pub lifetime_spend_cents: Option<i64>,
    pub notes: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub timezone: Option<String>,
}

/// A conversation with its desk state.
#[derive(Clone, Debug, PartialEq)]
pub struct DeskConversationRow {
    pub conversation: ConversationRow,
    pub fan_name: String,
    /// JSON array of the priority inputs other than waiting.
    pub priority_inputs: String,
    /// Start of the current opening; `None` for conversations older than the desk.
    pub opened_at: Option<Timestamp>,
    pub off_hours_replied_at: Option<Timestamp>,
}

impl DeskConversationRow {
    /// The opening's start: its recorded start, or the creation for older rows.
    pub fn opening(&self) -> Timestamp {
        self.opened_at.unwrap_or(self.conversation.created_at)
    }
}

/// A team member's current load, as automatic assignment and escalation see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberLoadRow {
    pub id: MemberId,
    pub name: String,
    pub role: Role,
    pub max_concurrent: i64,
    /// Unresolved conversations assigned to them.
    pub active: i64,
    /// Unresolved escalated conversations they own.
    pub escalations: i64,
    /// Automatic assignments since the `since` of the query.
    pub assigned_recently: i64,
}

/// A fan message's text and sentiment (team-only), for the priority score.
#[derive(Clone, Debug, PartialEq)]
pub struct FanMessageRow {
    pub body: String,
    pub sentiment: Option<f64>,
    pub created_at: Timestamp,
}

const PROFILE_COLUMNS: &str = "tags, lifetime_spend_cents, notes, attributes";

fn desk_columns() -> String {
    format!(
        "{CONVERSATION_COLUMNS}, priority_inputs, opened_at, off_hours_replied_at, \
         (SELECT display_name FROM fans WHERE fans.id = conversations.fan_id) AS fan_name"
    )
}

fn corrupt_json(what: &str, error: serde_json::Error) -> sqlx::Error {
    StoreError::Corrupt(format!("{what}: {error}")).into_decode()
}

impl<'r, R: Columns> FromRow<'r, R> for DeskConversationRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(DeskConversationRow {
            conversation: ConversationRow::from_row(row)?,
            fan_name: row.text("fan_name")?,
            priority_inputs: row.text("priority_inputs")?,
            opened_at: row.optional_time("opened_at")?,
            off_hours_replied_at: row.optional_time("off_hours_replied_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for FanProfileRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let tags = row.text("tags")?;
        let attributes = row.text("attributes")?;
        Ok(FanProfileRow {
            fan: FanRow::from_row(row)?,
            tags: serde_json::from_str(&tags).map_err(|error| corrupt_json("fan tags", error))?,
            lifetime_spend_cents: row.int("lifetime_spend_cents")?,
            notes: row.text("notes")?,
            attributes: serde_json::from_str(&attributes)
                .map_err(|error| corrupt_json("fan attributes", error))?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for FanMessageRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(FanMessageRow {
            body: row.text("body")?,
            sentiment: row.optional_real("sentiment")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl<'r, R: Columns> FromRow<'r, R> for MemberLoadRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(MemberLoadRow {
            id: MemberId(row.text("id")?),
            name: row.text("name")?,
            role: row.parsed("role", "role", Role::parse)?,
            max_concurrent: row.int("max_concurrent")?,
            active: row.int("active")?,
            escalations: row.int("escalations")?,
            assigned_recently: row.int("assigned_recently")?,
        })
    }
}

impl Store {
    pub async fn find_fan_profile(&self, id: &FanId) -> StoreResult<Option<FanProfileRow>> {
        let sql = format!("SELECT {FAN_COLUMNS}, {PROFILE_COLUMNS} FROM fans WHERE id = $1");
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Applies the given fields; `NotFound` when the fan does not exist.
    pub async fn update_fan_profile(
        &self,
        id: &FanId,
        update: &FanProfileUpdate,
    ) -> StoreResult<()> {
        let mut sets: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut add = |column: &str, value: String, sets: &mut Vec<String>| {
            texts.push(value);
            sets.push(format!("{column} = ${}", texts.len() + 1));
        };
        if let Some(tags) = &update.tags {
            add(
                "tags",
                serde_json::Value::from(tags.clone()).to_string(),
                &mut sets,
            );
        }
        if let Some(notes) = &update.notes {
            add("notes", notes.clone(), &mut sets);
        }
        if let Some(attributes) = &update.attributes {
            let json = serde_json::to_string(attributes)
                .map_err(|error| StoreError::Corrupt(format!("fan attributes: {error}")))?;
            add("attributes", json, &mut sets);
        }
        if let Some(timezone) = &update.timezone {
            add("timezone", timezone.clone(), &mut sets);
        }
        let spend_index = texts.len() + 2;
        if update.lifetime_spend_cents.is_some() {
            sets.push(format!("lifetime_spend_cents = ${spend_index}"));
        }
        if sets.is_empty() {
            return match self.find_fan(id).await? {
                Some(_) => Ok(()),
                None => Err(StoreError::NotFound("fan")),
            };
        }
        let sql = format!("UPDATE fans SET {} WHERE id = $1", sets.join(", "));
        let mut statement = Statement::new(AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind_all(texts.iter().map(String::as_str));
        if let Some(spend) = update.lifetime_spend_cents {
            statement = statement.bind(spend);
        }
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("fan"));
        }
        Ok(())
    }

    pub async fn find_desk_conversation(
        &self,
        id: &ConversationId,
    ) -> StoreResult<Option<DeskConversationRow>> {
        let sql = format!("SELECT {} FROM conversations WHERE id = $1", desk_columns());
        let statement = Statement::new(AssertSqlSafe(sql)).bind(id.as_str());
        self.reader().fetch_optional(statement).await
    }

    /// Stores the score without its waiting term and its inputs (JSON). The group commit
    /// never writes these columns, so this cannot undo a concurrent timeline change.
    pub async fn set_priority(
        &self,
        id: &ConversationId,
        priority: i64,
        inputs: &str,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "UPDATE conversations SET priority = $2, priority_inputs = $3 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(priority)
        .bind(inputs);
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Records the start of a new opening (creation or reopen).
    pub async fn set_opened_at(&self, id: &ConversationId, at: Timestamp) -> StoreResult<()> {
        let statement = Statement::new("UPDATE conversations SET opened_at = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }

    /// Claims the off-hours reply of the opening that started at `opening`: true for the
    /// one caller that may send it, on every node (a conditional update, not a read).
    pub async fn claim_off_hours_reply(
        &self,
        id: &ConversationId,
        opening: Timestamp,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE conversations SET off_hours_replied_at = $2 WHERE id = $1 \
             AND (off_hours_replied_at IS NULL OR off_hours_replied_at < $3)",
        )
        .bind(id.as_str())
        .bind(to_micros(at))
        .bind(to_micros(opening));
        Ok(self.writer().execute(statement).await? == 1)
    }

    /// The fan's messages in the conversation since `since`, oldest first, at most the
    /// newest `limit`.
    pub async fn list_fan_messages(
        &self,
        id: &ConversationId,
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FanMessageRow>> {
        let statement = Statement::new(
            "SELECT body, sentiment, created_at FROM messages WHERE conversation_id = $1 \
             AND author_kind = 'fan' AND created_at >= $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(id.as_str())
        .bind(to_micros(since))
        .bind(i64::from(limit));
        let mut messages: Vec<FanMessageRow> = self.reader().fetch_all(statement).await?;
        messages.reverse();
        Ok(messages)
    }

    /// The member who last had one of the fan's conversations (assignee, or the observer
    /// after a takeover), other than `except`, most recent first: the sticky candidate.
    pub async fn find_previous_agent(
        &self,
        fan_id: &FanId,
        except: &ConversationId,
    ) -> StoreResult<Option<MemberId>> {
        let statement = Statement::new(
            "SELECT COALESCE(assignee_id, observer_id) FROM conversations WHERE fan_id = $1 \
             AND id <> $2 AND COALESCE(assignee_id, observer_id) IS NOT NULL \
             ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(fan_id.as_str())
        .bind(except.as_str());
        let previous: Option<(String,)> = self.reader().fetch_optional(statement).await?;
        Ok(previous.map(|(id,)| MemberId(id)))
    }

    /// The queue: open conversations nobody is assigned to, and pending ones (waiting on
    /// the fan, as a broadcast opens them) once the fan has written (with
    /// `include_assigned`, also assigned ones whose fan waits for a human reply), highest
    /// current score first.
    ///
    /// The score is `priority + waited / 6 s` (`desk::priority`), so its order at any
    /// instant is the order of `priority * 6 s − waiting_since`: no score is recomputed.
    pub async fn list_queue(
        &self,
        include_assigned: bool,
        limit: u32,
    ) -> StoreResult<Vec<DeskConversationRow>> {
        let scope = if include_assigned {
            "(assignee_id IS NULL OR awaiting_since IS NOT NULL)"
        } else {
            "assignee_id IS NULL"
        };
        let micros_per_point = WAITING_SECONDS_PER_POINT * 1_000_000;
        let sql = format!(
            "SELECT {} FROM conversations WHERE (status = 'open' \
             OR (status = 'pending' AND awaiting_since IS NOT NULL)) AND {scope} \
             ORDER BY priority * {micros_per_point} - COALESCE(awaiting_since, opened_at, created_at) DESC, \
             id LIMIT $1",
            desk_columns()
        );
        let statement = Statement::new(AssertSqlSafe(sql)).bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// Every active human member's load (a deactivated member is assigned nothing);
    /// `assigned_recently` counts automatic assignments since `since`.
    pub async fn list_member_loads(&self, since: Timestamp) -> StoreResult<Vec<MemberLoadRow>> {
        let statement = Statement::new(
            "SELECT m.id, m.name, m.role, m.max_concurrent, \
             (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = m.id \
              AND c.status <> 'resolved') AS active, \
             (SELECT COUNT(*) FROM conversations c WHERE c.escalated_to = m.id \
              AND c.escalated AND c.status <> 'resolved') AS escalations, \
             (SELECT COUNT(*) FROM desk_assignments d WHERE d.member_id = m.id \
              AND d.created_at >= $1) AS assigned_recently \
             FROM members m WHERE m.role <> 'bot' AND m.deactivated_at IS NULL ORDER BY m.id",
        )
        .bind(to_micros(since));
        self.reader().fetch_all(statement).await
    }

    /// Sets a member's ceiling of automatically assigned conversations.
    pub async fn set_max_concurrent(
        &self,
        member: &MemberId,
        max_concurrent: i64,
    ) -> StoreResult<()> {
        let statement = Statement::new("UPDATE members SET max_concurrent = $2 WHERE id = $1")
            .bind(member.as_str())
            .bind(max_concurrent);
        if self.writer().execute(statement).await? == 0 {
            return Err(StoreError::NotFound("member"));
        }
        Ok(())
    }

    /// Logs a committed automatic assignment and why it was made.
    pub async fn insert_desk_assignment(
        &self,
        id: &str,
        conversation: &ConversationId,
        member: &MemberId,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        let statement = Statement::new(
            "INSERT INTO desk_assignments (id, conversation_id, member_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(conversation.as_str())
        .bind(member.as_str())
        .bind(reason)
        .bind(to_micros(at));
        self.writer().execute(statement).await?;
        Ok(())
    }
}

/// `%`, `_` and `\` match literally in a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// A `LIKE … ESCAPE '\'` pattern for text holding `part`, case-insensitively (against a
/// `LOWER(…)` column).
pub(crate) fn contains_pattern(part: &str) -> String {
    format!("%{}%", escape_like(&part.to_lowercase()))
}

/// A `LIKE … ESCAPE '\'` pattern for a `tags` column holding `tag` whole: tags are stored
/// as a JSON array of lowercase strings, so the quoted element is matched.
pub(crate) fn tag_pattern(tag: &str) -> String {
    let quoted = serde_json::Value::from(tag.to_lowercase()).to_string();
    format!("%{}%", escape_like(&quoted))
}

/// The desk's filters of [`Store::list_conversations`] (team search by fan name, tag, text and
/// priority), appended to its SQL with their text binds.
pub(crate) fn push_search_filters(
    filter: &crate::ConversationFilter,
    sql: &mut String,
    binds: &mut Vec<String>,
) {
    if let Some(name) = &filter.fan_name {
        binds.push(contains_pattern(name));
        sql.push_str(&format!(
            " AND fan_id IN (SELECT id FROM fans WHERE LOWER(display_name) LIKE ${} ESCAPE '\\')",
            binds.len()
        ));
    }
    if let Some(tag) = &filter.tag {
        binds.push(tag_pattern(tag));
        sql.push_str(&format!(
            " AND fan_id IN (SELECT id FROM fans WHERE tags LIKE ${} ESCAPE '\\')",
            binds.len()
        ));
    }
    if let Some(text) = &filter.text {
        inbox::push_text_filter(text, sql, binds);
    }
    if let Some(minimum) = filter.min_priority {
        // An integer, not text: formatted into the SQL rather than bound as a string.
        sql.push_str(&format!(" AND priority >= {minimum}"));
    }
}
