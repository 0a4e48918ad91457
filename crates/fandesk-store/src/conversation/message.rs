//! Reading timelines. Writes go through [`Store::apply_batch`].

use super::rows::{MESSAGE_COLUMNS, MessageRow};
use crate::statement::Statement;
use crate::{Store, StoreResult};
use fandesk_domain::{Audience, ConversationId};
use sqlx::AssertSqlSafe;

impl Store {
    /// Entries of `conversation` after position `after_seq`, in order, as `audience` may
    /// see them: fans page over the public sequence and never receive an internal row
    /// (`docs/product.md` › Principles, 2), enforced both in the SQL and by [`Audience::sees`].
    pub async fn list_messages(
        &self,
        conversation: &ConversationId,
        audience: Audience,
        after_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<MessageRow>> {
        let sql = if audience.uses_public_seq() {
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
                 AND public_seq IS NOT NULL AND public_seq > $2 ORDER BY public_seq LIMIT $3"
            )
        } else {
            format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 \
                 AND seq > $2 ORDER BY seq LIMIT $3"
            )
        };
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        let statement = Statement::new(AssertSqlSafe(sql))
            .bind(conversation.as_str())
            .bind(after)
            .bind(i64::from(limit));
        let rows: Vec<MessageRow> = self.reader().fetch_all(statement).await?;
        Ok(rows
            .into_iter()
            .filter(|message| audience.sees(message.visibility))
            .collect())
    }
}
