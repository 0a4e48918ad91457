//! Durability: data survives closing and reopening the store, and SQLite runs in WAL mode.

use crate::support::{
    TestDb, add_member, apply, created, internal, member_row, open_conversation, public, timeline,
};
use fandesk_domain::{Audience, Role};
use fandesk_store::Store;
use sqlx::Connection as _;

store_test!(
    data_survives_reopen,
    data_survives_reopen_sqlite,
    data_survives_reopen_postgres
);
async fn data_survives_reopen(db: &mut TestDb) {
    let member = member_row(Role::Owner);
    db.insert_member(&member).await.unwrap();
    let (conversation, fan) = open_conversation(db).await;
    let agent = add_member(db, Role::Agent).await;
    let written: Vec<_> = apply(
        db,
        &[
            public(&conversation, &fan, "before restart"),
            internal(&conversation, &agent, "note"),
        ],
    )
    .await
    .iter()
    .map(|result| created(result).0.clone())
    .collect();
    let conversation_before = db.find_conversation(&conversation).await.unwrap().unwrap();

    db.reopen().await;

    assert_eq!(db.find_member(&member.id).await.unwrap(), Some(member));
    assert_eq!(
        db.find_conversation(&conversation).await.unwrap(),
        Some(conversation_before)
    );
    assert_eq!(timeline(db, &conversation, Audience::Team).await, written);
    // The sequence carries on where it stopped, and the idempotency record survived.
    let results = apply(db, &[public(&conversation, &fan, "after restart")]).await;
    assert_eq!(created(&results[0]).0.seq, 3);
    let resend = crate::support::post(
        &conversation,
        &fan,
        written[0].client_msg_id.as_deref(),
        "resent after restart",
        written[0].visibility,
    );
    let results = apply(db, &[resend]).await;
    assert_eq!(crate::support::duplicate(&results[0]), &written[0]);
}

#[tokio::test]
async fn sqlite_database_is_in_wal_mode() {
    // `open_sqlite` refuses to run without WAL and synchronous=FULL; WAL is a property of
    // the file, so a plain connection that asks for nothing must find it too.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    let store = Store::open_sqlite(&data_dir)
        .await
        .expect("creates missing directories");
    let (conversation, fan) = open_conversation(&store).await;
    apply(&store, &[public(&conversation, &fan, "hello")]).await;

    let file = data_dir.join("fandesk.db");
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut plain = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut plain)
        .await
        .unwrap();
    assert_eq!(journal.to_ascii_lowercase(), "wal");
    plain.close().await.unwrap();
    store.close().await;
}

/// The database, its WAL and its shared-memory file are readable by the server's user
/// only, both when the store creates them and when it opens files made with a wider mode.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let files = ["fandesk.db", "fandesk.db-wal", "fandesk.db-shm"];
    for round in 0..2 {
        let store = Store::open_sqlite(&dir).await.unwrap();
        let member = member_row(Role::Owner);
        store.insert_member(&member).await.unwrap();
        assert_eq!(mode(&dir), 0o700, "round {round}: the data directory");
        for file in files {
            assert_eq!(mode(&dir.join(file)), 0o600, "round {round}: {file}");
        }
        store.close().await;
        // An install from before: files readable by everyone are narrowed on open.
        for file in files {
            let path = dir.join(file);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }
}
