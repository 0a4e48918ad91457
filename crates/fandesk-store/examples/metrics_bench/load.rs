//! The benchmark's direct loader and the naive query: multi-row INSERTs on SQLite, UNNEST
//! batches on PostgreSQL, one transaction per batch of conversations.

use crate::Generated;
use fandesk_analytics::{Period, Records};
use jiff::Timestamp;
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, PgPool, QueryBuilder, Sqlite, SqlitePool};
use std::path::Path;
use std::str::FromStr;

pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Rows per multi-row INSERT on SQLite (at most 13 parameters a row, under 32,766).
const SQLITE_ROWS: usize = 2_000;

impl Db {
    pub async fn open(postgres: Option<&str>, schema: &str, dir: &Path) -> Db {
        match postgres {
            Some(url) => {
                let options = sqlx::postgres::PgConnectOptions::from_str(url)
                    .expect("url")
                    .options([("search_path", schema)]);
                Db::Postgres(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(2)
                        .connect_with(options)
                        .await
                        .expect("pg"),
                )
            }
            None => {
                // Loading needs no durability: the benchmark database is thrown away.
                let options = SqliteConnectOptions::new()
                    .filename(dir.join("fandesk.db"))
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Off)
                    .foreign_keys(false);
                Db::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_with(options)
                        .await
                        .expect("sqlite"),
                )
            }
        }
    }

    pub async fn analyze(&self) {
        match self {
            Db::Sqlite(pool) => sqlx::query("ANALYZE").execute(pool).await.map(drop),
            Db::Postgres(pool) => sqlx::query("ANALYZE").execute(pool).await.map(drop),
        }
        .expect("analyze");
    }

    pub async fn finish(&self, schema: &str) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => {
                let sql = format!("DROP SCHEMA {schema} CASCADE");
                sqlx::query(AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .expect("drop schema");
                pool.close().await;
            }
        }
    }

    /// The naive way: FRT of each conversation's first opening straight from `messages`
    /// with window functions (first fan message, then the first public human reply after
    /// it), for conversations whose first fan message falls in the week.
    fn naive_sql(select: &str) -> String {
        format!(
            "WITH candidates AS ( \
               SELECT DISTINCT conversation_id FROM messages \
               WHERE author_kind = 'fan' AND created_at >= $1 AND created_at < $2), \
             timeline AS ( \
               SELECT m.conversation_id, m.author_id, m.author_kind, m.visibility, m.automated, m.created_at, \
                      MIN(CASE WHEN m.author_kind = 'fan' THEN m.created_at END) \
                        OVER (PARTITION BY m.conversation_id) AS first_fan_at \
               FROM messages m JOIN candidates c ON c.conversation_id = m.conversation_id), \
             replies AS ( \
               SELECT conversation_id, author_id, first_fan_at, created_at - first_fan_at AS frt_us, \
                      ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY created_at) AS position \
               FROM timeline \
               WHERE author_kind = 'member' AND visibility = 'public' AND NOT automated \
                 AND created_at > first_fan_at) \
             {select}"
        )
    }

    pub async fn naive_by_agent(&self, period: Period) -> usize {
        let sql = Db::naive_sql(
            "SELECT author_id, COUNT(*) AS n, CAST(AVG(frt_us) AS DOUBLE PRECISION) AS mean FROM replies \
             WHERE position = 1 AND first_fan_at >= $1 AND first_fan_at < $2 GROUP BY author_id",
        );
        let (from, to) = (period.from.as_microsecond(), period.to.as_microsecond());
        match self {
            Db::Sqlite(pool) => sqlx::query(AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await
                .map(|rows| rows.len()),
            Db::Postgres(pool) => sqlx::query(AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await
                .map(|rows| rows.len()),
        }
        .expect("naive query")
    }

    /// Per-conversation FRTs from the naive query, attributed to shifts in Rust.
    pub async fn naive_by_shift(
        &self,
        period: Period,
        shift_of: &dyn Fn(Timestamp) -> Option<String>,
    ) -> usize {
        let sql = Db::naive_sql(
            "SELECT first_fan_at, frt_us FROM replies WHERE position = 1 AND first_fan_at >= $1 AND first_fan_at < $2",
        );
        let (from, to) = (period.from.as_microsecond(), period.to.as_microsecond());
        let rows: Vec<(i64, i64)> = match self {
            Db::Sqlite(pool) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await
            }
            Db::Postgres(pool) => {
                sqlx::query_as(AssertSqlSafe(sql))
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await
            }
        }
        .expect("naive query");
        let mut groups: std::collections::HashMap<Option<String>, (u64, i64)> =
            std::collections::HashMap::new();
        for (first_fan_at, frt) in rows {
            let key = shift_of(Timestamp::from_microsecond(first_fan_at).expect("time"));
            let group = groups.entry(key).or_default();
            group.0 += 1;
            group.1 += frt;
        }
        groups.len()
    }
}

pub async fn members(db: &Db, agents: usize) {
    let mut rows: Vec<(String, &str)> = (0..agents)
        .map(|n| (format!("agent{n:02}"), "agent"))
        .collect();
    rows.extend([
        ("supervisor".to_owned(), "supervisor"),
        ("lead".to_owned(), "escalation_lead"),
        ("bot".to_owned(), "bot"),
    ]);
    for (id, role) in rows {
        let sql = "INSERT INTO members (id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, 'x', 0)";
        let email = format!("{id}@bench.test");
        match db {
            Db::Sqlite(pool) => sqlx::query(sql)
                .bind(&id)
                .bind(&email)
                .bind(&id)
                .bind(role)
                .execute(pool)
                .await
                .map(drop),
            Db::Postgres(pool) => sqlx::query(sql)
                .bind(&id)
                .bind(&email)
                .bind(&id)
                .bind(role)
                .execute(pool)
                .await
                .map(drop),
        }
        .expect("member");
    }
}

pub async fn batch(db: &Db, conversations: &[Generated], records: &Records) {
    match db {
        Db::Sqlite(pool) => sqlite_batch(pool, conversations, records)
            .await
            .expect("sqlite batch"),
        Db::Postgres(pool) => postgres_batch(pool, conversations, records)
            .await
            .expect("postgres batch"),
    }
}

/// Adds a batch's counts to the hours earlier batches already counted.
const REPLY_HOURS_CONFLICT: &str = " ON CONFLICT (hour, author_id) DO UPDATE SET \
     sent = metric_reply_hours.sent + excluded.sent, \
     answered = metric_reply_hours.answered + excluded.answered";

type ReplyHours = Vec<((i64, String), (i64, i64))>;

/// The hourly reply counters of a batch's team messages (what the group commit adds).
fn reply_hours(records: &Records) -> ReplyHours {
    const HOUR: i64 = 3_600_000_000;
    let mut hours: std::collections::BTreeMap<(i64, String), (i64, i64)> =
        std::collections::BTreeMap::new();
    for message in &records.team_messages {
        let sent = micros(message.sent_at);
        let counter = hours
            .entry((sent - sent.rem_euclid(HOUR), message.author.0.clone()))
            .or_default();
        counter.0 += 1;
        counter.1 += i64::from(message.answered_at.is_some());
    }
    hours.into_iter().collect()
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// One multi-row INSERT per `SQLITE_ROWS` rows; `bind` pushes one row's values.
async fn insert_rows<T>(
    tx: &mut sqlx::SqliteConnection,
    head: &str,
    rows: &[T],
    mut bind: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> sqlx::Result<()> {
    for chunk in rows.chunks(SQLITE_ROWS) {
        let mut insert = QueryBuilder::<Sqlite>::new(head);
        insert.push_values(chunk, |mut values, row| bind(&mut values, row));
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn sqlite_batch(
    pool: &SqlitePool,
    conversations: &[Generated],
    records: &Records,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    insert_rows(
        &mut tx,
        "INSERT INTO fans (id, display_name, created_at, last_seen_at) ",
        conversations,
        |values, c| {
            values
                .push_bind(c.id.replacen('c', "f", 1))
                .push_bind("Fan")
                .push_bind(c.created_at)
                .push_bind(c.created_at);
        },
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO conversations (id, fan_id, status, assignee_id, escalated, priority, \
         last_seq, last_public_seq, created_at, updated_at) ",
        conversations,
        |values, c| {
            values
                .push_bind(&c.id)
                .push_bind(c.id.replacen('c', "f", 1))
                .push_bind("resolved")
                .push_bind(&c.assignee)
                .push_bind(c.escalated)
                .push_bind(0_i64)
                .push_bind(c.messages.len() as i64)
                .push_bind(
                    c.messages
                        .iter()
                        .filter_map(|m| m.public_seq)
                        .max()
                        .unwrap_or(0),
                )
                .push_bind(c.created_at)
                .push_bind(c.messages.last().map_or(c.created_at, |m| m.created_at));
        },
    )
    .await?;
    let messages: Vec<&crate::Message> = conversations.iter().flat_map(|c| &c.messages).collect();
    insert_rows(
        &mut tx,
        "INSERT INTO messages (id, conversation_id, seq, public_seq, author_id, author_kind, \
         author_name, body, visibility, automated, created_at, reply_ms) ",
        &messages,
        |values, m| {
            values
                .push_bind(&m.id)
                .push_bind(&m.conversation_id)
                .push_bind(m.seq)
                .push_bind(m.public_seq)
                .push_bind(&m.author_id)
                .push_bind(m.author_kind)
                .push_bind(&m.author_id)
                .push_bind("a message of about this length")
                .push_bind(m.visibility)
                .push_bind(m.automated)
                .push_bind(m.created_at)
                .push_bind(m.reply_ms);
        },
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO metric_openings (id, conversation_id, number, kind, opened_at, \
         first_fan_at, clock_at, first_touch_at, replied_at, replier_id, frt_ms, breached, \
         latest) ",
        &records.openings,
        |values, o| {
            values
                .push_bind(&o.id)
                .push_bind(o.conversation.as_str())
                .push_bind(i64::from(o.number))
                .push_bind(o.kind.as_str())
                .push_bind(micros(o.opened_at))
                .push_bind(o.first_fan_at.map(micros))
                .push_bind(o.clock_at.map(micros))
                .push_bind(o.first_touch_at.map(micros))
                .push_bind(o.replied_at.map(micros))
                .push_bind(o.replier.as_ref().map(|id| id.as_str()))
                .push_bind(o.frt_ms)
                .push_bind(o.breached)
                .push_bind(o.latest);
        },
    )
    .await?;
    insert_rows(
        &mut tx,
        "INSERT INTO metric_team_messages (message_id, conversation_id, author_id, sent_at, \
         answered_at) ",
        &records.team_messages,
        |values, m| {
            values
                .push_bind(&m.id)
                .push_bind(m.conversation.as_str())
                .push_bind(m.author.as_str())
                .push_bind(micros(m.sent_at))
                .push_bind(m.answered_at.map(micros));
        },
    )
    .await?;
    let hours = reply_hours(records);
    for chunk in hours.chunks(SQLITE_ROWS) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO metric_reply_hours (hour, author_id, sent, answered) ",
        );
        insert.push_values(chunk, |mut values, ((hour, author), (sent, answered))| {
            values
                .push_bind(*hour)
                .push_bind(author.clone())
                .push_bind(*sent)
                .push_bind(*answered);
        });
        insert.push(REPLY_HOURS_CONFLICT);
        insert.build().execute(&mut *tx).await?;
    }
    insert_rows(
        &mut tx,
        "INSERT INTO metric_resolutions (id, conversation_id, resolved_at, escalated, \
         assignee_id, public_messages) ",
        &records.resolutions,
        |values, r| {
            values
                .push_bind(&r.id)
                .push_bind(r.conversation.as_str())
                .push_bind(micros(r.resolved_at))
                .push_bind(r.escalated)
                .push_bind(r.assignee.as_ref().map(|id| id.as_str()))
                .push_bind(r.public_messages as i64);
        },
    )
    .await?;
    tx.commit().await
}

async fn postgres_batch(
    pool: &PgPool,
    conversations: &[Generated],
    records: &Records,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let ids: Vec<String> = conversations.iter().map(|c| c.id.clone()).collect();
    let fans: Vec<String> = ids.iter().map(|id| id.replacen('c', "f", 1)).collect();
    let created: Vec<i64> = conversations.iter().map(|c| c.created_at).collect();
    sqlx::query("INSERT INTO fans (id, display_name, created_at, last_seen_at) SELECT id, 'Fan', at, at FROM UNNEST($1::text[], $2::bigint[]) AS t(id, at)")
        .bind(&fans)
        .bind(&created)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO conversations (id, fan_id, status, assignee_id, escalated, priority, last_seq, last_public_seq, created_at, updated_at) \
         SELECT id, fan, 'resolved', assignee, escalated, 0, last_seq, last_public, created, updated \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[]) \
           AS t(id, fan, assignee, escalated, last_seq, last_public, created, updated)",
    )
    .bind(&ids)
    .bind(&fans)
    .bind(conversations.iter().map(|c| c.assignee.clone()).collect::<Vec<_>>())
    .bind(conversations.iter().map(|c| c.escalated).collect::<Vec<_>>())
    .bind(conversations.iter().map(|c| c.messages.len() as i64).collect::<Vec<_>>())
    .bind(conversations.iter().map(|c| c.messages.iter().filter_map(|m| m.public_seq).max().unwrap_or(0)).collect::<Vec<_>>())
    .bind(&created)
    .bind(conversations.iter().map(|c| c.messages.last().map_or(c.created_at, |m| m.created_at)).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let messages: Vec<&crate::Message> = conversations.iter().flat_map(|c| &c.messages).collect();
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, public_seq, author_id, author_kind, author_name, body, visibility, automated, created_at, reply_ms) \
         SELECT id, conversation, seq, public_seq, author, kind, author, 'a message of about this length', visibility, automated, at, reply_ms \
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::bigint[], $10::bigint[]) \
           AS t(id, conversation, seq, public_seq, author, kind, visibility, automated, at, reply_ms)",
    )
    .bind(messages.iter().map(|m| m.id.clone()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.conversation_id.clone()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.seq).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.public_seq).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.author_id.clone()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.author_kind.to_owned()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.visibility.to_owned()).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.automated).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .bind(messages.iter().map(|m| m.reply_ms).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let openings = &records.openings;
    sqlx::query(
        "INSERT INTO metric_openings (id, conversation_id, number, kind, opened_at, first_fan_at, clock_at, first_touch_at, replied_at, replier_id, frt_ms, breached, latest) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[], $12::boolean[], $13::boolean[])",
    )
    .bind(openings.iter().map(|o| o.id.clone()).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.conversation.0.clone()).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| i64::from(o.number)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.kind.as_str().to_owned()).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| micros(o.opened_at)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.first_fan_at.map(micros)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.clock_at.map(micros)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.first_touch_at.map(micros)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.replied_at.map(micros)).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.replier.as_ref().map(|id| id.0.clone())).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.frt_ms).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.breached).collect::<Vec<_>>())
    .bind(openings.iter().map(|o| o.latest).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let team = &records.team_messages;
    sqlx::query(
        "INSERT INTO metric_team_messages (message_id, conversation_id, author_id, sent_at, answered_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])",
    )
    .bind(team.iter().map(|m| m.id.clone()).collect::<Vec<_>>())
    .bind(team.iter().map(|m| m.conversation.0.clone()).collect::<Vec<_>>())
    .bind(team.iter().map(|m| m.author.0.clone()).collect::<Vec<_>>())
    .bind(team.iter().map(|m| micros(m.sent_at)).collect::<Vec<_>>())
    .bind(team.iter().map(|m| m.answered_at.map(micros)).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let hours = reply_hours(records);
    let sql = format!(
        "INSERT INTO metric_reply_hours (hour, author_id, sent, answered) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) {REPLY_HOURS_CONFLICT}"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(hours.iter().map(|((hour, _), _)| *hour).collect::<Vec<_>>())
        .bind(
            hours
                .iter()
                .map(|((_, author), _)| author.clone())
                .collect::<Vec<_>>(),
        )
        .bind(hours.iter().map(|(_, (sent, _))| *sent).collect::<Vec<_>>())
        .bind(
            hours
                .iter()
                .map(|(_, (_, answered))| *answered)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
    let resolutions = &records.resolutions;
    sqlx::query(
        "INSERT INTO metric_resolutions (id, conversation_id, resolved_at, escalated, assignee_id, public_messages) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::text[], $6::bigint[])",
    )
    .bind(resolutions.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
    .bind(resolutions.iter().map(|r| r.conversation.0.clone()).collect::<Vec<_>>())
    .bind(resolutions.iter().map(|r| micros(r.resolved_at)).collect::<Vec<_>>())
    .bind(resolutions.iter().map(|r| r.escalated).collect::<Vec<_>>())
    .bind(resolutions.iter().map(|r| r.assignee.as_ref().map(|id| id.0.clone())).collect::<Vec<_>>())
    .bind(resolutions.iter().map(|r| r.public_messages as i64).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
