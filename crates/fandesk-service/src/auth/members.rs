//! Team members (docs/api.md › Authentication): the owner bootstrapped on an empty
//! database, members created by the owner, login with an argon2id password. Hashing runs
//! on two dedicated threads (`hashing.rs`), two at a time (each hash holds 19 MiB).

use crate::app::error::{ServiceError, ServiceResult};
use crate::auth::hashing::{HASH_TIMES, hash_phc, on_hashing_thread, verify_phc};
use crate::auth::view::MemberView;
use crate::auth::{LoginResult, NewMember, check_text};
use crate::{App, new_id};
use fandesk_domain::{Capability, MemberId, Principal, Role};
use fandesk_store::{MemberRow, StoreError, Subject};
use jiff::Timestamp;
use rand::RngCore;

pub(crate) async fn hash_password(password: String) -> ServiceResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    on_hashing_thread(move || hash_phc(password.as_bytes(), salt))
        .await
        .flatten()
        .ok_or_else(|| ServiceError::Internal("password hashing failed".into()))
}

async fn verify_password(password: String, hash: String) -> bool {
    on_hashing_thread(move || verify_phc(password.as_bytes(), &hash))
        .await
        .unwrap_or(false)
}

/// A password's only rule: 8 to 256 characters.
pub(crate) fn check_password(password: &str) -> ServiceResult<()> {
    let length = password.chars().count();
    if !(8..=256).contains(&length) {
        return Err(ServiceError::invalid(
            "password",
            "must be 8 to 256 characters",
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> ServiceResult<String> {
    let email = check_text("email", email, 254)?.to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !email.contains(' ')
    });
    if !valid {
        return Err(ServiceError::invalid("email", "must be an email address"));
    }
    Ok(email)
}

impl App {
    /// Creates the owner on an empty database (docs/api.md › Running). Returns whether it
    /// did.
    pub async fn bootstrap_owner(&self, email: &str, password: &str) -> ServiceResult<bool> {
        if self.store().count_members().await? > 0 {
            return Ok(false);
        }
        let input = NewMember {
            email: email.to_owned(),
            name: "Owner".to_owned(),
            role: Role::Owner.as_str().to_owned(),
            password: password.to_owned(),
        };
        self.insert_member(input).await?;
        Ok(true)
    }

    /// `POST /members`: owner only.
    pub async fn create_member(
        &self,
        actor: &Principal,
        input: NewMember,
    ) -> ServiceResult<MemberView> {
        actor.require(Capability::ManageMembers)?;
        self.insert_member(input).await
    }

    async fn insert_member(&self, input: NewMember) -> ServiceResult<MemberView> {
        let email = check_email(&input.email)?;
        let name = check_text("name", &input.name, 100)?;
        let role = Role::parse(&input.role).ok_or_else(|| {
            ServiceError::invalid(
                "role",
                "must be one of owner, supervisor, escalation_lead, agent, bot",
            )
        })?;
        check_password(&input.password)?;
        let row = MemberRow {
            id: MemberId(new_id("mem")),
            email,
            name,
            role,
            password_hash: {
                let _slot = self.password_slot().await?;
                hash_password(input.password).await?
            },
            created_at: self.now(),
            deactivated_at: None,
        };
        match self.store().insert_member(&row).await {
            Ok(()) => Ok(MemberView::from(&row)),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(
                "a member with this email exists".into(),
            )),
            Err(error) => Err(error.into()),
        }
    }

    /// Team members of the workspace (any team member may list them).
    pub async fn list_members(&self, actor: &Principal) -> ServiceResult<Vec<MemberView>> {
        actor.require(Capability::ViewTeam)?;
        Ok(self
            .store()
            .list_members()
            .await?
            .iter()
            .map(MemberView::from)
            .collect())
    }

    /// `POST /auth/login`. Wrong email and wrong password look the same to the caller.
    pub async fn login(&self, email: &str, password: &str) -> ServiceResult<LoginResult> {
        let email = email.trim().to_lowercase();
        let member = self.store().find_member_by_email(&email).await?;
        let Some(member) = member else {
            // Spend the time of a real check, holding a hashing slot as one would, so the
            // answer does not reveal which emails exist; but wait rather than hash
            // (`HashTimes`): a guesser spraying made-up addresses costs no hashing.
            let _slot = self.password_slot().await?;
            match HASH_TIMES.stand_in() {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    let started = std::time::Instant::now();
                    let _ = hash_password(password.to_owned()).await;
                    HASH_TIMES.observe(started.elapsed());
                }
            }
            return Err(ServiceError::Unauthorized);
        };
        let verified = {
            let _slot = self.password_slot().await?;
            let started = std::time::Instant::now();
            let verified = verify_password(password.to_owned(), member.password_hash.clone()).await;
            HASH_TIMES.observe(started.elapsed());
            verified
        };
        // A deactivated member is refused like a wrong password: the answer does not tell
        // a guesser that the password was right.
        if !verified || !member.is_active() {
            return Err(ServiceError::Unauthorized);
        }
        let token = self
            .issue_token(
                Subject::Member(member.id.clone()),
                self.inner.config.member_token_ttl,
            )
            .await?;
        Ok(LoginResult {
            token,
            member: MemberView::from(&member),
        })
    }

    /// The consecutive failed logins of the account named `email` (as `login` reads it)
    /// and the time of the last one: the login backoff's state, shared by every node.
    pub async fn login_failures(&self, email: &str) -> ServiceResult<Option<(u32, Timestamp)>> {
        let account = email.trim().to_lowercase();
        let stored = self.store().login_failures(&account).await?;
        Ok(stored.map(|row| (row.failures, row.last_failed_at)))
    }

    /// Counts a failed login of the account named `email`, now.
    pub async fn record_login_failure(&self, email: &str) -> ServiceResult<()> {
        let account = email.trim().to_lowercase();
        Ok(self
            .store()
            .record_login_failure(&account, self.now())
            .await?)
    }

    /// Forgets the failed logins of the account named `email` (it logged in).
    pub async fn clear_login_failures(&self, email: &str) -> ServiceResult<()> {
        let account = email.trim().to_lowercase();
        Ok(self.store().clear_login_failures(&account).await?)
    }

    /// Deletes failed-login counts older than a day (far past the longest backoff).
    pub async fn purge_login_failures(&self) -> ServiceResult<u64> {
        let before = self.now() - jiff::SignedDuration::from_hours(24);
        Ok(self.store().purge_login_failures(before).await?)
    }

    /// Waits for one of the few concurrent password-hashing slots.
    pub(crate) async fn password_slot(&self) -> ServiceResult<tokio::sync::SemaphorePermit<'_>> {
        self.inner
            .password_slots
            .acquire()
            .await
            .map_err(|_| ServiceError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(check_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(check_email("nobody").is_err());
        assert!(check_email("@x").is_err());
        assert!(check_email("a b@x").is_err());
    }
}
