//! JSON-lines export and import (docs/export.md): a workspace with every kind of
//! conversation and message survives export → import into a fresh database → export with
//! every row of every exported table equal, column by column, and the same bytes; a second
//! import changes nothing; a bad line is refused with its number and its batch rolled back;
//! the format lists every column of the tables it exports.

use crate::metrics::{change, post};
use crate::support::{
    TestDb, add_fan, add_member, apply, at, fan_id, member_id, new_id, open_conversation,
};
use fandesk_domain::conversation::Transition;
use fandesk_domain::{ConversationId, Principal, Role, Visibility};
use fandesk_store::{FanProfileUpdate, ImportSummary, PostExtras, Store, StoreError, WriteOp};
use std::collections::BTreeMap;

/// Builds the workspace the round trips carry: open, resolved, reopened and escalated
/// conversations; public messages, whispers, notes, bot messages; a fan profile.
async fn build_workspace(store: &Store) {
    let agent = add_member(store, Role::Agent).await;
    let lead = add_member(store, Role::EscalationLead).await;
    let bot = add_member(store, Role::Bot).await;
    let supervisor = add_member(store, Role::Supervisor).await;

    // An open conversation with a bot reply, a whisper, a note and a fan with a profile.
    let (open, fan) = open_conversation(store).await;
    store
        .update_fan_profile(
            &fan_id(&fan),
            &FanProfileUpdate {
                tags: Some(vec!["vip".into(), "whale".into()]),
                lifetime_spend_cents: Some(123_456),
                notes: Some("prefers \"short\" answers\nand emoji ✨".into()),
                attributes: Some(BTreeMap::from([("tier".into(), "gold".into())])),
                timezone: Some("Europe/Paris".into()),
            },
        )
        .await
        .expect("profile");
    let whisper = with_extras(
        post(&open, &supervisor, 30, Visibility::Internal),
        PostExtras {
            whisper_to: Some(member_id(&lead)),
            flag: Some("refund".into()),
            ..PostExtras::default()
        },
    );
    let sentiment = with_extras(
        post(&open, &fan, 40, Visibility::Public),
        PostExtras {
            sentiment: Some(-0.412_693_793_401_070_04),
            ..PostExtras::default()
        },
    );
    for op in [
        post(&open, &fan, 10, Visibility::Public),
        post(&open, &bot, 11, Visibility::Public),
        whisper,
        post(&open, &agent, 35, Visibility::Internal),
        sentiment,
        post(&open, &agent, 100, Visibility::Public),
    ] {
        apply(store, &[op]).await;
    }
    // A conversion the bot recorded, credited to the agent's reply (an event's id kept).
    let conversion = fandesk_store::ConversionRow {
        id: new_id(),
        fan_id: fan_id(&fan),
        event_id: Some(fandesk_domain::event::EventId("evt_elsewhere".into())),
        kind: "purchase".into(),
        value_cents: 1_999,
        client_id: Some("order-1".into()),
        recorded_by: member_id(&bot),
        created_at: at(200),
        agent_id: Some(member_id(&agent)),
        reply_at: Some(at(100)),
    };
    store
        .insert_conversion(&conversion)
        .await
        .expect("conversion");

    // Resolved, reopened, escalated, resolved again (metrics rows of every kind).
    let (history, fan) = open_conversation(store).await;
    let escalate = Transition::Escalate {
        lead: member_id(&lead),
        name: "Lead".into(),
        reason: "refund".into(),
    };
    for op in [
        post(&history, &fan, 10, Visibility::Public),
        post(&history, &agent, 100, Visibility::Public),
        post(&history, &fan, 3_600, Visibility::Public),
        change(&history, &agent, 3_700, Transition::Resolve),
        change(&history, &agent, 7_200, Transition::Reopen),
        post(&history, &fan, 7_300, Visibility::Public),
        change(&history, &agent, 7_310, escalate.clone()),
        post(&history, &lead, 7_330, Visibility::Public),
        change(&history, &lead, 7_400, Transition::Resolve),
    ] {
        apply(store, &[op]).await;
    }

    // Escalated and still open; one resolved and left so.
    let (escalated, fan) = open_conversation(store).await;
    for op in [
        post(&escalated, &fan, 20, Visibility::Public),
        post(&escalated, &agent, 50, Visibility::Public),
        change(&escalated, &agent, 60, escalate),
    ] {
        apply(store, &[op]).await;
    }
    let (resolved, fan) = open_conversation(store).await;
    for op in [
        post(&resolved, &fan, 5, Visibility::Public),
        change(&resolved, &agent, 9, Transition::Resolve),
    ] {
        apply(store, &[op]).await;
    }
    // A fan without a conversation.
    add_fan(store).await;
    // A team channel with a thread, an action and the archive warning.
    crate::channels::build_channels(store, &supervisor, &agent).await;
    let _: [&ConversationId; 4] = [&open, &history, &escalated, &resolved];
    let _: &Principal = &bot;
}

fn with_extras(mut op: WriteOp, with: PostExtras) -> WriteOp {
    if let WriteOp::Post { extras, .. } = &mut op {
        *extras = with;
    }
    op
}

/// The whole export as text.
async fn export(store: &Store) -> String {
    let mut cursor = store.export(at(1_000_000)).await.expect("export");
    let mut text = String::new();
    let mut lines = 0;
    while let Some((chunk, count)) = cursor.next_chunk().await.expect("chunk") {
        text.push_str(&chunk);
        lines += count;
    }
    assert_eq!(lines, cursor.total_lines(), "the header counts every line");
    assert_eq!(lines as usize, text.lines().count());
    cursor.finish().await.expect("finish");
    text
}

fn header(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Everything after the header line.
fn body(text: &str) -> &str {
    text.split_once('\n').map_or("", |(_, rest)| rest)
}

async fn import(store: &Store, text: &str) -> Result<ImportSummary, StoreError> {
    let mut importer = store.importer();
    for (index, line) in text.lines().enumerate() {
        importer.push_line(index as u64 + 1, line).await?;
    }
    importer.finish().await
}

/// The tables an import writes, compared row by row (`metric_reply_hours` is rebuilt).
const COMPARED: [&str; 12] = [
    "members",
    "fans",
    "conversations",
    "messages",
    "metric_openings",
    "metric_team_messages",
    "metric_resolutions",
    "metric_reply_hours",
    "channels",
    "channel_messages",
    "decisions",
    "conversions",
];

async fn round_trip(source: &TestDb, target: &TestDb) {
    build_workspace(source).await;
    let first = export(source).await;
    assert!(first.lines().count() > 40, "{first}");
    for kind in [
        "\"type\":\"member\"",
        "\"type\":\"metric_resolution\"",
        "\"visibility\":\"internal\"",
        "\"whisper_to\":\"",
    ] {
        assert!(first.contains(kind), "{kind} missing from the export");
    }

    let summary = import(target, &first).await.expect("import");
    assert_eq!(
        (
            summary.members,
            summary.fans,
            summary.conversations,
            summary.skipped
        ),
        (4, 5, 4, 0),
        "{summary:?}"
    );
    assert_eq!(summary.lines as usize, first.lines().count());
    // One channel, its four messages and one decision.
    assert_eq!(summary.channel_rows, 6, "{summary:?}");
    assert_eq!(summary.conversions, 1, "{summary:?}");

    // The format lists every column of the tables it exports, but members' password hash.
    for (table, columns) in fandesk_store::exported_columns() {
        let mut schema = source.column_names(table).await;
        schema.retain(|column| !(table == "members" && column == "password_hash"));
        let mut listed: Vec<String> = columns.iter().map(|column| column.to_string()).collect();
        schema.sort();
        listed.sort();
        assert_eq!(listed, schema, "{table}: exported columns");
    }

    // Row by row, every column the schema has (read from the catalog, not the format).
    if source.backend() == target.backend() {
        for table in COMPARED {
            let mut expected = source.rows_as_text(table).await;
            let got = target.rows_as_text(table).await;
            if table == "members" {
                for row in &mut expected {
                    row.insert("password_hash".into(), Some("!imported".into()));
                }
            }
            assert!(!expected.is_empty(), "{table} has rows");
            assert_eq!(got, expected, "{table} after the round trip");
        }
    }
    let second = export(target).await;
    assert_eq!(body(&second), body(&first), "the same lines, byte for byte");
    assert_eq!(
        header(&second).replace(target.backend(), source.backend()),
        header(&first)
    );

    // Importing again changes nothing.
    let again = import(target, &first).await.expect("second import");
    assert_eq!(
        (
            again.members,
            again.fans,
            again.conversations,
            again.messages,
            again.metric_rows,
            again.channel_rows
        ),
        (0, 0, 0, 0, 0, 0)
    );
    assert_eq!(again.skipped as usize, first.lines().count() - 1);
    assert_eq!(export(target).await, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_trip_on_sqlite_loses_nothing() {
    let (source, target) = (TestDb::sqlite().await, TestDb::sqlite().await);
    round_trip(&source, &target).await;
    source.finish().await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_trip_on_postgres_loses_nothing() {
    let (Some(source), Some(target)) = (TestDb::postgres().await, TestDb::postgres().await) else {
        eprintln!(
            "a_round_trip_on_postgres_loses_nothing: skipped, FANDESK_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    round_trip(&source, &target).await;
    source.finish().await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_export_imports_into_postgres_and_back() {
    let Some(postgres) = TestDb::postgres().await else {
        eprintln!(
            "a_sqlite_export_imports_into_postgres_and_back: skipped, FANDESK_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let sqlite = TestDb::sqlite().await;
    round_trip(&sqlite, &postgres).await;
    let back = TestDb::sqlite().await;
    let from_postgres = export(&postgres).await;
    import(&back, &from_postgres)
        .await
        .expect("import into sqlite");
    assert_eq!(export(&back).await, export(&sqlite).await);
    for db in [sqlite, postgres, back] {
        db.finish().await;
    }
}

store_test!(
    a_bad_line_is_refused_with_its_number,
    a_bad_line_is_refused_with_its_number_sqlite,
    a_bad_line_is_refused_with_its_number_postgres
);
async fn a_bad_line_is_refused_with_its_number(store: &Store) {
    build_workspace(store).await;
    let text = export(store).await;
    let target = match store {
        Store::Sqlite(_) => TestDb::sqlite().await,
        Store::Postgres(_) => TestDb::postgres().await.expect("postgres"),
    };
    // A malformed fan line: refused by number, and nothing of its batch is written.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let fan_line = lines
        .iter()
        .position(|line| line.contains("\"type\":\"fan\""))
        .expect("a fan");
    lines[fan_line] = lines[fan_line].replace(
        "\"lifetime_spend_cents\":",
        "\"lifetime_spend_cents\":\"x\",\"was\":",
    );
    let error = import(&target, &lines.join("\n"))
        .await
        .expect_err("refused");
    let StoreError::BadLine { line, reason } = &error else {
        panic!("expected a bad line, got {error:?}");
    };
    assert_eq!(*line as usize, fan_line + 1, "{reason}");
    assert!(reason.contains("lifetime_spend_cents"), "{reason}");
    assert_eq!(
        target.count_members().await.expect("count"),
        0,
        "the batch rolled back"
    );

    // A conversation whose fan is nowhere: the database refuses it, by line number too.
    let orphan = text
        .lines()
        .find(|line| line.contains("\"type\":\"conversation\""))
        .expect("a conversation");
    let header = text.lines().next().expect("header");
    let error = import(&target, &format!("{header}\n{orphan}\n"))
        .await
        .expect_err("refused");
    assert!(
        matches!(error, StoreError::BadLine { line: 2, .. }),
        "{error:?}"
    );

    // No header first.
    let error = import(&target, orphan).await.expect_err("refused");
    assert!(
        error
            .to_string()
            .starts_with("line 1: the first line must be the header"),
        "{error}"
    );
    target.finish().await;
}
