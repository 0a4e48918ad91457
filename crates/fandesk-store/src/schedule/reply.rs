//! "Reply later" (`docs/api.md` › Scheduled messages): a team member's public reply kept
//! until its time, with the job that sends it written in the same transaction.

use crate::dialect::Dialect;
use crate::jobs::{NewJob, insert_jobs};
use crate::statement::{Columns, Statement, placeholders};
use crate::{Store, StoreResult, to_micros};
use fandesk_domain::{ConversationId, MemberId, MessageId};
use jiff::Timestamp;
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};

/// A reply to send later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledReplyRow {
    pub id: String,
    pub conversation_id: ConversationId,
    pub author_id: MemberId,
    /// The scheduling request's idempotency key.
    pub client_msg_id: String,
    pub body: String,
    pub template_id: Option<String>,
    pub canned_unedited: bool,
    pub send_at: Timestamp,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub status: String,
    pub message_id: Option<MessageId>,
    /// Why a `failed` reply could not be sent.
    pub failure: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, conversation_id, author_id, client_msg_id, body, template_id, \
     canned_unedited, send_at, status, message_id, failure, created_at, updated_at";

impl<'r, R: Columns> FromRow<'r, R> for ScheduledReplyRow {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(ScheduledReplyRow {
            id: row.text("id")?,
            conversation_id: ConversationId(row.text("conversation_id")?),
            author_id: MemberId(row.text("author_id")?),
            client_msg_id: row.text("client_msg_id")?,
            body: row.text("body")?,
            template_id: row.optional_text("template_id")?,
            canned_unedited: row.boolean("canned_unedited")?,
            send_at: row.time("send_at")?,
            status: row.text("status")?,
            message_id: row.optional_text("message_id")?.map(MessageId),
            failure: row.optional_text("failure")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Writes a reply and the job that sends it. The same `client_msg_id` from the same
    /// author in the same conversation again is `Conflict` (the caller returns the first).
    pub async fn insert_scheduled_reply(
        &self,
        reply: &ScheduledReplyRow,
        job: &NewJob,
    ) -> StoreResult<()> {
        match self {
            Store::Sqlite(db) => insert::<Sqlite>(&db.write, reply, job).await,
            Store::Postgres(db) => insert::<Postgres>(&db.pool, reply, job).await,
        }
    }

    pub async fn find_scheduled_reply(&self, id: &str) -> StoreResult<Option<ScheduledReplyRow>> {
        let sql = format!("SELECT {COLUMNS} FROM scheduled_replies WHERE id = $1");
        self.writer()
            .fetch_optional(Statement::new(AssertSqlSafe(sql)).bind(id))
            .await
    }

    /// The reply an author scheduled with `client_msg_id` in `conversation`.
    pub async fn find_scheduled_reply_by_key(
        &self,
        author: &MemberId,
        client_msg_id: &str,
        conversation: &ConversationId,
    ) -> StoreResult<Option<ScheduledReplyRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_replies WHERE client_msg_id = $1 \
             AND author_id = $2 AND conversation_id = $3"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(client_msg_id)
            .bind(author.as_str())
            .bind(conversation.as_str());
        self.writer().fetch_optional(statement).await
    }

    /// A conversation's replies, by send time (`pending` only when `pending_only`).
    pub async fn list_scheduled_replies(
        &self,
        conversation: &ConversationId,
        pending_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<ScheduledReplyRow>> {
        let filter = if pending_only {
            " AND status = 'pending'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_replies WHERE conversation_id = $1{filter} \
             ORDER BY send_at, id LIMIT $2"
        );
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(conversation.as_str())
            .bind(i64::from(limit));
        self.reader().fetch_all(statement).await
    }

    /// Cancels a pending reply; `false` when it is no longer pending.
    pub async fn cancel_scheduled_reply(&self, id: &str, at: Timestamp) -> StoreResult<bool> {
        let statement = Statement::new(
            "UPDATE scheduled_replies SET status = 'cancelled', updated_at = $2 \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(to_micros(at));
        Ok(self.writer().execute(statement).await? == 1)
    }

    /// Records how a reply ended: `sent` with its message, or `failed` with why. Only a
    /// pending reply changes (a cancellation that came first stands, unless the message
    /// went out: then it is `sent`).
    pub async fn finish_scheduled_reply(
        &self,
        id: &str,
        status: &str,
        message_id: Option<&MessageId>,
        failure: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE scheduled_replies SET status = $2, message_id = $3, failure = $4, \
             updated_at = $5 WHERE id = $1 AND status IN ({})",
            placeholders(6, 2)
        );
        let cancelled_too = if message_id.is_some() {
            "cancelled"
        } else {
            "pending"
        };
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(id)
            .bind(status)
            .bind(message_id.map(MessageId::as_str))
            .bind(failure)
            .bind(to_micros(at))
            .bind("pending")
            .bind(cancelled_too);
        self.writer().execute(statement).await?;
        Ok(())
    }
}

async fn insert<D: Dialect>(
    pool: &sqlx::Pool<D>,
    reply: &ScheduledReplyRow,
    job: &NewJob,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "INSERT INTO scheduled_replies ({COLUMNS}) VALUES ({})",
        placeholders(1, 13)
    );
    let statement = Statement::new(AssertSqlSafe(sql))
        .bind(reply.id.as_str())
        .bind(reply.conversation_id.as_str())
        .bind(reply.author_id.as_str())
        .bind(reply.client_msg_id.as_str())
        .bind(reply.body.as_str())
        .bind(reply.template_id.as_deref())
        .bind(reply.canned_unedited)
        .bind(to_micros(reply.send_at))
        .bind(reply.status.as_str())
        .bind(reply.message_id.as_ref().map(MessageId::as_str))
        .bind(reply.failure.as_deref())
        .bind(to_micros(reply.created_at))
        .bind(to_micros(reply.updated_at));
    crate::statement::execute::<D>(&mut tx, statement).await?;
    insert_jobs::<D>(&mut tx, std::slice::from_ref(job), reply.created_at).await?;
    tx.commit().await?;
    Ok(())
}
