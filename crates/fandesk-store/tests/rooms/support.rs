//! The per-test database (two backends) and builders for rooms, fans and room ops.

use fandesk_domain::room::{RoomAction, RoomId, RoomRefusal, RoomState};
use fandesk_domain::{FanId, MemberId, MessageId, Principal, Role};
use fandesk_store::{
    FanRow, MemberRow, RoomEventFilter, RoomEventRow, RoomOp, RoomOpResult, RoomOutcome, RoomRow,
    Store,
};
use jiff::Timestamp;
use std::ops::Deref;
use tempfile::TempDir;

pub enum Location {
    /// Kept so the directory (and the database in it) lives as long as the test.
    Sqlite {
        _dir: TempDir,
    },
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
            location: Location::Sqlite { _dir: dir },
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        let url = std::env::var("FANDESK_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())?;
        let schema = format!("rooms_{}", uuid::Uuid::now_v7().simple());
        let store = Store::connect_postgres(&url, Some(&schema))
            .await
            .expect("connect postgres");
        Some(TestDb {
            store,
            location: Location::Postgres { url, schema },
        })
    }

    /// Another writer on the same database: on PostgreSQL an independent store (another
    /// node); on SQLite the same store, because one process owns an SQLite database and its
    /// one writer connection (a second process would fail its deferred transactions with
    /// `SQLITE_BUSY`; that is not a supported deployment).
    pub async fn another_node(&self) -> Store {
        match &self.location {
            Location::Sqlite { .. } => self.store.clone(),
            Location::Postgres { url, schema } => Store::connect_postgres(url, Some(schema))
                .await
                .expect("connect postgres again"),
        }
    }
}

impl Deref for TestDb {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Drop for TestDb {
    /// Drops the PostgreSQL schema even when the test panicked, on a thread of its own
    /// because `Drop` cannot await.
    fn drop(&mut self) {
        let Location::Postgres { url, schema } = &self.location else {
            return;
        };
        let (url, sql) = (
            url.clone(),
            format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        );
        let cleanup = std::thread::spawn(
            move || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let pool = sqlx::PgPool::connect(&url).await?;
                    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
                    pool.close().await;
                    Ok::<_, sqlx::Error>(())
                })?;
                Ok(())
            },
        );
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("could not drop test schema: {error}");
        }
    }
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A fixed instant `seconds` after a base time.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + seconds).expect("valid time")
}

pub async fn add_member(store: &Store, role: Role) -> Principal {
    let id = new_id();
    let row = MemberRow {
        id: MemberId(id.clone()),
        email: format!("{id}@example.test"),
        name: format!("{} {}", role.as_str(), &id[id.len() - 4..]),
        role,
        password_hash: "$argon2id$not-a-real-hash".to_owned(),
        created_at: at(0),
        deactivated_at: None,
    };
    store.insert_member(&row).await.expect("insert member");
    Principal::Member {
        id: row.id,
        role,
        name: row.name,
    }
}

pub async fn add_fan(store: &Store) -> Principal {
    let id = new_id();
    let row = FanRow {
        id: FanId(id.clone()),
        display_name: format!("fan {}", &id[id.len() - 4..]),
        external_id: None,
        timezone: None,
        created_at: at(0),
        last_seen_at: at(0),
    };
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

/// Inserts a room created by `owner`.
pub async fn add_room(
    store: &Store,
    owner: &Principal,
    state: RoomState,
    opens_at: Option<i64>,
    slow: u32,
) -> RoomId {
    let Principal::Member { id, .. } = owner else {
        panic!("rooms are created by members")
    };
    let room = RoomRow {
        id: RoomId(new_id()),
        title: "Premiere".to_owned(),
        state,
        opens_at: opens_at.map(at),
        slow_mode_secs: slow,
        last_seq: 0,
        created_by: id.clone(),
        created_at: at(0),
        updated_at: at(0),
    };
    store.insert_room(&room).await.expect("insert room");
    room.id
}

pub fn post_with(room: &RoomId, author: &Principal, client_msg_id: &str, seconds: i64) -> RoomOp {
    RoomOp::Post {
        message_id: MessageId(new_id()),
        room_id: room.clone(),
        author: author.clone(),
        client_msg_id: client_msg_id.to_owned(),
        body: format!("hello from {}", author.name()),
        at: at(seconds),
    }
}

pub fn post(room: &RoomId, author: &Principal, seconds: i64) -> RoomOp {
    post_with(room, author, &new_id(), seconds)
}

pub fn delete(room: &RoomId, actor: &Principal, message: &MessageId, seconds: i64) -> RoomOp {
    RoomOp::Delete {
        event_id: MessageId(new_id()),
        room_id: room.clone(),
        actor: actor.clone(),
        message_id: message.clone(),
        at: at(seconds),
    }
}

pub fn timeout(
    room: &RoomId,
    actor: &Principal,
    fan: &Principal,
    until: i64,
    seconds: i64,
) -> RoomOp {
    RoomOp::Timeout {
        room_id: room.clone(),
        actor: actor.clone(),
        fan_id: fan_id(fan),
        until: at(until),
        at: at(seconds),
    }
}

pub fn change(room: &RoomId, actor: &Principal, action: RoomAction, seconds: i64) -> RoomOp {
    RoomOp::Change {
        room_id: room.clone(),
        actor: actor.clone(),
        action,
        at: at(seconds),
    }
}

pub async fn apply(store: &Store, ops: &[RoomOp]) -> Vec<RoomOpResult> {
    let results = store.apply_room_batch(ops).await.expect("apply room batch");
    assert_eq!(results.len(), ops.len(), "one result per op");
    results
}

pub fn posted(result: &RoomOpResult) -> &RoomEventRow {
    match result {
        Ok(RoomOutcome::Posted { event }) => event,
        other => panic!("expected Posted, got {other:?}"),
    }
}

pub fn refusal(result: &RoomOpResult) -> &RoomRefusal {
    match result {
        Err(refusal) => refusal,
        Ok(outcome) => panic!("expected a refusal, got {outcome:?}"),
    }
}

pub async fn events(store: &Store, room: &RoomId, filter: RoomEventFilter) -> Vec<RoomEventRow> {
    store
        .list_room_events(room, filter, 0, 100_000)
        .await
        .expect("list room events")
}

pub fn seqs(events: &[RoomEventRow]) -> Vec<u64> {
    events.iter().map(|event| event.seq).collect()
}
