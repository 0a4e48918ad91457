//! Changing a team member in one transaction: the active owners read (and locked, on
//! PostgreSQL) so the domain's "the team keeps an active owner" rule is decided against
//! what commits, the row and its audit entry written, and — when the member is deactivated or their password
//! reset — their sessions deleted, whose token hashes are returned so the service can
//! close their connections.

use super::{MEMBER_COLUMNS, MemberRow};
use crate::dialect::Dialect;
use crate::statement::{Columns, Statement, execute, fetch_all, fetch_optional};
use crate::{AuditRow, Store, StoreError, StoreResult, to_micros};
use fandesk_domain::MemberId;
use fandesk_domain::team::{Standing, check_member_change};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};

/// A member as changed, and whether their sessions end.
#[derive(Clone, Debug)]
pub struct MemberChange {
    /// The member after the change (its `id` names the row; `email` and `created_at` are
    /// not written).
    pub member: MemberRow,
    /// Delete the member's sessions (a deactivation or a password reset).
    pub revoke_sessions: bool,
    /// The audit entry written with the change (`member_update`), if any.
    pub audit: Option<AuditRow>,
}

struct Id(String);

impl<'r, R: Columns> FromRow<'r, R> for Id {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Id(row.text("id")?))
    }
}

struct TokenHash(String);

impl<'r, R: Columns> FromRow<'r, R> for TokenHash {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(TokenHash(row.text("token_hash")?))
    }
}

impl Store {
    /// Writes `change` if the domain allows it against the stored member and the team's
    /// active owners; returns the token hashes of the sessions it deleted. A missing member
    /// is `NotFound`, the last owner's demotion `Rule(InvalidTransition)`.
    pub async fn update_member(&self, change: &MemberChange) -> StoreResult<Vec<String>> {
        match self {
            Store::Sqlite(db) => update::<Sqlite>(&db.write, change).await,
            Store::Postgres(db) => update::<Postgres>(&db.pool, change).await,
        }
    }
}

async fn update<D: Dialect>(
    pool: &sqlx::Pool<D>,
    change: &MemberChange,
) -> StoreResult<Vec<String>> {
    let member = &change.member;
    let mut tx = pool.begin().await?;
    // The active owners, locked: a concurrent change of any of them waits for this one,
    // then re-reads them.
    let sql = format!(
        "SELECT id FROM members WHERE role = 'owner' AND deactivated_at IS NULL ORDER BY id{}",
        D::LOCK_ROWS
    );
    let owners: Vec<Id> = fetch_all::<D, Id>(&mut tx, Statement::new(AssertSqlSafe(sql))).await?;
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1");
    let statement = Statement::new(AssertSqlSafe(sql)).bind(member.id.as_str());
    let before: MemberRow = fetch_optional::<D, MemberRow>(&mut tx, statement)
        .await?
        .ok_or(StoreError::NotFound("member"))?;
    let standing = |row: &MemberRow| Standing {
        role: row.role,
        active: row.is_active(),
    };
    let others = owners
        .iter()
        .filter(|owner| owner.0 != member.id.as_str())
        .count();
    check_member_change(standing(&before), standing(member), others)?;
    let statement = Statement::new(
        "UPDATE members SET name = $2, role = $3, password_hash = $4, deactivated_at = $5 \
         WHERE id = $1",
    )
    .bind(member.id.as_str())
    .bind(&member.name)
    .bind(member.role.as_str())
    .bind(&member.password_hash)
    .bind(member.deactivated_at.map(to_micros));
    execute::<D>(&mut tx, statement).await?;
    if let Some(audit) = &change.audit {
        execute::<D>(&mut tx, crate::supervision::audit_statement(audit)).await?;
    }
    let mut revoked = Vec::new();
    if change.revoke_sessions {
        revoked = revoke::<D>(&mut tx, &member.id).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

async fn revoke<D: Dialect>(
    connection: &mut D::Connection,
    member: &MemberId,
) -> StoreResult<Vec<String>> {
    let statement = Statement::new("SELECT token_hash FROM sessions WHERE member_id = $1")
        .bind(member.as_str());
    let hashes: Vec<TokenHash> = fetch_all::<D, TokenHash>(connection, statement).await?;
    let statement =
        Statement::new("DELETE FROM sessions WHERE member_id = $1").bind(member.as_str());
    execute::<D>(connection, statement).await?;
    Ok(hashes.into_iter().map(|hash| hash.0).collect())
}
