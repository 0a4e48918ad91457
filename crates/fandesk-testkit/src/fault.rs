//! Store-level fault injection: a trigger that makes the database itself refuse the rows
//! of one table whose `body` is a given text, on SQLite and PostgreSQL alike, so a test
//! can put an op the database fails into a group-commit batch of good ones.

use crate::database::TestDatabase;
use anyhow::Context;
use sqlx::Connection;

impl TestDatabase {
    /// From now on, inserting a row into `table` (`messages`, `room_events`) whose `body`
    /// equals `body` fails its statement (and so its transaction). `body` must be plain
    /// ASCII letters, digits and dashes (it is written into the trigger).
    pub async fn refuse_body(&self, table: &str, body: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            body.bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
                && table
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
            "refuse_body takes plain names"
        );
        let name = format!("fault_{table}");
        match self {
            TestDatabase::Sqlite(dir) => {
                let path = dir.path().join(fandesk_store::SQLITE_FILE);
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(std::time::Duration::from_secs(10));
                let mut connection = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .context("open the SQLite file")?;
                let sql = format!(
                    "CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN NEW.body = '{body}' \
                     BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut connection)
                    .await
                    .context("create the SQLite trigger")?;
                connection.close().await?;
            }
            TestDatabase::Postgres { url, schema } => {
                let mut connection = sqlx::PgConnection::connect(url)
                    .await
                    .context("connect to PostgreSQL")?;
                let function = format!(
                    "CREATE FUNCTION {schema}.{name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF NEW.body = '{body}' THEN RAISE EXCEPTION 'injected fault'; END IF; \
                     RETURN NEW; END $$"
                );
                let trigger = format!(
                    "CREATE TRIGGER {name} BEFORE INSERT ON {schema}.{table} FOR EACH ROW \
                     EXECUTE FUNCTION {schema}.{name}()"
                );
                for sql in [function, trigger] {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut connection)
                        .await
                        .context("create the PostgreSQL trigger")?;
                }
                connection.close().await?;
            }
        }
        Ok(())
    }
}
