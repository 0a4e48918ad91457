//! The per-test database and small builders for rows and write ops.

use fandesk_domain::conversation::Transition;
use fandesk_domain::{
    Audience, ConversationId, FanId, MemberId, MessageId, Principal, Role, RuleViolation,
    Visibility,
};
use fandesk_store::{ConversationRow, FanRow, MemberRow, MessageRow, Store, WriteOp, WriteOutcome};
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::ops::Deref;
use tempfile::TempDir;

/// What `Store::apply_batch` returns for one op (`OpResult` is not exported by the crate).
pub type OpResult = Result<WriteOutcome, RuleViolation>;

const POSTGRES_URL_VAR: &str = "FANDESK_TEST_POSTGRES_URL";

/// Where a test's database lives, kept so the test can reopen it and so it is removed.
enum Location {
    /// Dropping the directory removes the database file.
    Sqlite(TempDir),
    Postgres {
        url: String,
        schema: String,
    },
}

/// One test's own database: a fresh SQLite data directory or a fresh PostgreSQL schema.
pub struct TestDb {
    pub store: Store,
    location: Location,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("open sqlite");
        TestDb {
            store,
            location: Location::Sqlite(dir),
        }
    }

    /// `None` when no PostgreSQL URL is configured.
    pub async fn postgres() -> Option<TestDb> {
        let url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())?;
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let store = Store::connect_postgres(&url, Some(&schema))
            .await
            .expect("connect postgres");
        Some(TestDb {
            store,
            location: Location::Postgres { url, schema },
        })
    }

    /// Closes the store and opens the same database again (durability across restarts).
    pub async fn reopen(&mut self) {
        self.store.close().await;
        self.store = match &self.location {
            Location::Sqlite(dir) => Store::open_sqlite(dir.path()).await.expect("reopen sqlite"),
            Location::Postgres { url, schema } => Store::connect_postgres(url, Some(schema))
                .await
                .expect("reconnect postgres"),
        };
    }

    /// The columns of `table`, from the database's own catalog.
    pub async fn column_names(&self, table: &str) -> Vec<String> {
        match &self.location {
            Location::Sqlite(dir) => {
                let pool = sqlite_reader(dir).await;
                let sql = format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid");
                let names = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .expect("table info");
                pool.close().await;
                names
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let names = sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                )
                .bind(schema)
                .bind(table)
                .fetch_all(&pool)
                .await
                .expect("columns");
                pool.close().await;
                names
            }
        }
    }

    /// Every row of `table`, every column cast to text, ordered by the first column: a
    /// comparison that knows nothing of the store's own readers.
    pub async fn rows_as_text(&self, table: &str) -> Vec<BTreeMap<String, Option<String>>> {
        use sqlx::Row;
        let columns = self.column_names(table).await;
        let select = |cast: &dyn Fn(&str) -> String| {
            format!(
                "SELECT {} FROM {table} ORDER BY {} ",
                columns
                    .iter()
                    .map(|column| cast(column))
                    .collect::<Vec<_>>()
                    .join(", "),
                (1..=columns.len())
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let read = |row_values: Vec<Option<String>>| {
            columns
                .iter()
                .cloned()
                .zip(row_values)
                .collect::<BTreeMap<_, _>>()
        };
        match &self.location {
            Location::Sqlite(dir) => {
                let pool = sqlite_reader(dir).await;
                let sql = select(&|column| format!("CAST({column} AS TEXT)"));
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
                pool.close().await;
                rows.iter()
                    .map(|row| read((0..columns.len()).map(|i| row.get(i)).collect()))
                    .collect()
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let sql = select(&|column| format!("{column}::text")).replace(
                    &format!(" FROM {table} "),
                    &format!(" FROM {schema}.{table} "),
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
                pool.close().await;
                rows.iter()
                    .map(|row| read((0..columns.len()).map(|i| row.get(i)).collect()))
                    .collect()
            }
        }
    }

    /// Closes the pools; `Drop` then removes the database.
    pub async fn finish(self) {
        self.store.close().await;
    }
}

impl Deref for TestDb {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Drop for TestDb {
    /// Drops the PostgreSQL schema even when the test panicked. It runs on a thread of its
    /// own because `Drop` cannot await and may run inside the test's runtime.
    fn drop(&mut self) {
        let Location::Postgres { url, schema } = &self.location else {
            return;
        };
        let (url, schema) = (url.clone(), schema.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await?;
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop test schema: {error}");
        }
    }
}

/// A read-only connection to a test's SQLite file, beside the store's own.
async fn sqlite_reader(dir: &TempDir) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join(fandesk_store::SQLITE_FILE))
        .read_only(true);
    sqlx::SqlitePool::connect_with(options)
        .await
        .expect("open sqlite")
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fixed instant `seconds` after a base time, at whole-second (so whole-microsecond)
/// precision, so rows compare equal after a round trip.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).expect("valid time")
}

pub fn member_row(role: Role) -> MemberRow {
    let id = new_id();
    MemberRow {
        email: format!("{id}@example.test"),
        name: format!("{} {}", role.as_str(), &id[id.len() - 4..]),
        id: MemberId(id),
        role,
        password_hash: "$argon2id$not-a-real-hash".to_owned(),
        created_at: at(0),
        deactivated_at: None,
    }
}

pub fn fan_row() -> FanRow {
    let id = new_id();
    FanRow {
        display_name: format!("fan {}", &id[id.len() - 4..]),
        id: FanId(id),
        external_id: None,
        timezone: None,
        created_at: at(0),
        last_seen_at: at(0),
    }
}

pub fn conversation_row(fan_id: &FanId) -> ConversationRow {
    ConversationRow::new_open(ConversationId(new_id()), fan_id.clone(), at(0))
}

/// Inserts a member and returns them as the principal that acts.
pub async fn add_member(store: &Store, role: Role) -> Principal {
    let row = member_row(role);
    store.insert_member(&row).await.expect("insert member");
    Principal::Member {
        id: row.id,
        role,
        name: row.name,
    }
}

pub async fn add_fan(store: &Store) -> Principal {
    let row = fan_row();
    store.insert_fan(&row).await.expect("insert fan");
    Principal::Fan {
        id: row.id,
        name: row.display_name,
    }
}

pub fn fan_id(fan: &Principal) -> FanId {
    match fan {
        Principal::Fan { id, .. } => id.clone(),
        Principal::Member { .. } => panic!("{fan:?} is not a fan"),
    }
}

pub fn member_id(member: &Principal) -> MemberId {
    match member {
        Principal::Member { id, .. } => id.clone(),
        Principal::Fan { .. } => panic!("{member:?} is not a member"),
    }
}

/// A new fan with a new open, unassigned conversation.
pub async fn open_conversation(store: &Store) -> (ConversationId, Principal) {
    let fan = add_fan(store).await;
    let conversation = conversation_row(&fan_id(&fan));
    store
        .insert_conversation(&conversation)
        .await
        .expect("insert conversation");
    (conversation.id, fan)
}

pub fn post(
    conversation: &ConversationId,
    author: &Principal,
    client_msg_id: Option<&str>,
    body: &str,
    visibility: Visibility,
) -> WriteOp {
    WriteOp::Post {
        message_id: MessageId(new_id()),
        conversation_id: conversation.clone(),
        author: author.clone(),
        client_msg_id: client_msg_id.map(str::to_owned),
        body: body.to_owned(),
        visibility,
        at: at(60),
        extras: Default::default(),
    }
}

/// A public post with a fresh `client_msg_id`.
pub fn public(conversation: &ConversationId, author: &Principal, body: &str) -> WriteOp {
    post(
        conversation,
        author,
        Some(&new_id()),
        body,
        Visibility::Public,
    )
}

/// An internal post with a fresh `client_msg_id`.
pub fn internal(conversation: &ConversationId, author: &Principal, body: &str) -> WriteOp {
    post(
        conversation,
        author,
        Some(&new_id()),
        body,
        Visibility::Internal,
    )
}

pub fn transition(
    conversation: &ConversationId,
    actor: &Principal,
    transition: Transition,
) -> WriteOp {
    WriteOp::Transition {
        message_id: MessageId(new_id()),
        conversation_id: conversation.clone(),
        actor: actor.clone(),
        transition,
        at: at(120),
    }
}

/// Applies a batch that must not fail as a whole.
pub async fn apply(store: &Store, ops: &[WriteOp]) -> Vec<OpResult> {
    let results = store.apply_batch(ops).await.expect("apply batch");
    assert_eq!(results.len(), ops.len(), "one result per op");
    results
}

/// The message an op created, and the conversation right after it.
pub fn created(result: &OpResult) -> (&MessageRow, &ConversationRow) {
    match result {
        Ok(WriteOutcome::Created {
            message,
            conversation,
            ..
        }) => (message, conversation),
        other => panic!("expected Created, got {other:?}"),
    }
}

/// Whether a created op changed the conversation's status or assignee.
pub fn changed(result: &OpResult) -> bool {
    match result {
        Ok(WriteOutcome::Created { changed, .. }) => *changed,
        other => panic!("expected Created, got {other:?}"),
    }
}

/// The original message an op was recognised as a resend of.
pub fn duplicate(result: &OpResult) -> &MessageRow {
    match result {
        Ok(WriteOutcome::Duplicate { message }) => message,
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

pub fn refused(result: &OpResult) -> &RuleViolation {
    match result {
        Err(violation) => violation,
        Ok(outcome) => panic!("expected a rule violation, got {outcome:?}"),
    }
}

/// The whole timeline as `audience` sees it.
pub async fn timeline(
    store: &Store,
    conversation: &ConversationId,
    audience: Audience,
) -> Vec<MessageRow> {
    store
        .list_messages(conversation, audience, 0, 100_000)
        .await
        .expect("list messages")
}

/// Asserts that `messages` (a full team timeline) carries `seq` 1..=n and, over its public
/// entries, `public_seq` 1..=m, and that only public entries have a `public_seq`.
pub fn assert_dense(messages: &[MessageRow]) {
    let seqs: Vec<u64> = messages.iter().map(|message| message.seq).collect();
    let expected: Vec<u64> = (1..=messages.len() as u64).collect();
    assert_eq!(seqs, expected, "seq must be dense from 1");
    let public: Vec<u64> = messages
        .iter()
        .filter_map(|message| message.public_seq)
        .collect();
    let expected: Vec<u64> = (1..=public.len() as u64).collect();
    assert_eq!(public, expected, "public_seq must be dense from 1");
    for message in messages {
        assert_eq!(
            message.public_seq.is_some(),
            message.visibility == Visibility::Public,
            "only public entries have a public_seq: {message:?}"
        );
    }
}
