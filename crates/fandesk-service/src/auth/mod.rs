//! Members, fans and bearer tokens (PROTOCOL.md › Authentication). Passwords are argon2id
//! hashes; tokens are 256 random bits handed out once and stored as their SHA-256.

pub(crate) mod view;

use crate::app::error::{ServiceError, ServiceResult};
use crate::jobs::{FirstRun, JobsConfig, Registry};
use crate::live::publish::{Frames, publish_ephemeral};
use crate::{App, new_id};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use fandesk_domain::{Capability, FanId, MemberId, Principal, Role};
use fandesk_store::{FanRow, MemberRow, SessionRow, StoreError, Subject};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};
use view::{FanView, MemberView};

/// The bus topic on which revoked token hashes are announced, so open WebSockets of a
/// logged-out session close on every node. Not a client topic (clients cannot name it).
pub(crate) const REVOCATIONS_TOPIC: &str = "_sessions.revoked";

/// An authenticated bearer.
#[derive(Clone, Debug)]
pub struct Session {
    pub principal: Principal,
    /// SHA-256 of the token: identifies the session without holding the secret.
    pub token_hash: String,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct LoginResult {
    pub token: String,
    pub member: MemberView,
}

#[derive(Clone, Debug)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

#[derive(Clone, Debug, Default)]
pub struct NewFanSession {
    pub display_name: String,
    pub external_id: Option<String>,
    pub timezone: Option<String>,
    pub signature: Option<String>,
}

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("fdk_{}", hex::encode(bytes))
}

async fn hash_password(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| ServiceError::Internal(error.to_string()))
    })
    .await
    .map_err(|error| ServiceError::Internal(error.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn check_text(field: &str, value: &str, max_chars: usize) -> ServiceResult<String> {
    let trimmed = value.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(ServiceError::invalid(
            field,
            format!("must be 1 to {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
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

fn ttl(duration: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::from_hours(12))
}

impl App {
    /// Creates the owner on an empty database (PROTOCOL.md › Running). Returns whether it
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
        let length = input.password.chars().count();
        if !(8..=256).contains(&length) {
            return Err(ServiceError::invalid(
                "password",
                "must be 8 to 256 characters",
            ));
        }
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
            // Spend the same time as a real check so response time does not reveal which
            // emails exist.
            let _slot = self.password_slot().await?;
            let _ = hash_password(password.to_owned()).await;
            return Err(ServiceError::Unauthorized);
        };
        let verified = {
            let _slot = self.password_slot().await?;
            verify_password(password.to_owned(), member.password_hash.clone()).await
        };
        if !verified {
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

    /// `POST /fan-sessions`: an anonymous or identity-verified fan. With a secret
    /// configured, an `external_id` must carry a valid signature and then identifies the
    /// same fan across sessions; without one, `external_id` cannot be trusted and every
    /// session is a new anonymous fan.
    pub async fn create_fan_session(
        &self,
        input: NewFanSession,
    ) -> ServiceResult<(String, FanView)> {
        let display_name = check_text("display_name", &input.display_name, 100)?;
        let timezone = match input.timezone.as_deref() {
            None => None,
            Some(name) => {
                jiff::tz::TimeZone::get(name).map_err(|_| {
                    ServiceError::invalid(
                        "timezone",
                        "must be an IANA time zone such as Europe/Paris",
                    )
                })?;
                Some(name.to_owned())
            }
        };
        let external_id = match (&input.external_id, &self.inner.config.fan_identity_secret) {
            (Some(id), Some(secret)) => {
                let id = check_text("external_id", id, 200)?;
                let signature = input.signature.as_deref().ok_or_else(|| {
                    ServiceError::invalid("signature", "is required with external_id")
                })?;
                verify_signature(secret, &id, signature)?;
                Some(id)
            }
            (None, _) if input.signature.is_some() => {
                return Err(ServiceError::invalid(
                    "signature",
                    "is only valid with external_id",
                ));
            }
            _ => None,
        };
        let now = self.now();
        let existing = match &external_id {
            Some(id) => self.store().find_fan_by_external_id(id).await?,
            None => None,
        };
        let fan = match existing {
            Some(mut fan) => {
                self.store()
                    .touch_fan(&fan.id, &display_name, timezone.as_deref(), now)
                    .await?;
                fan.display_name = display_name;
                fan
            }
            None => {
                let fan = FanRow {
                    id: FanId(new_id("fan")),
                    display_name,
                    external_id,
                    timezone,
                    created_at: now,
                    last_seen_at: now,
                };
                self.store()
                    .insert_fan(&fan)
                    .await
                    .map_err(|error| match error {
                        StoreError::Conflict(_) => ServiceError::Conflict(
                            "a session for this fan is being created; retry".into(),
                        ),
                        other => other.into(),
                    })?;
                fan
            }
        };
        let token = self
            .issue_token(
                Subject::Fan(fan.id.clone()),
                self.inner.config.fan_token_ttl,
            )
            .await?;
        Ok((token, FanView::from(&fan)))
    }

    async fn issue_token(
        &self,
        subject: Subject,
        lifetime: std::time::Duration,
    ) -> ServiceResult<String> {
        let token = new_token();
        let now = self.now();
        let session = SessionRow {
            token_hash: hash_token(&token),
            subject,
            expires_at: now
                .saturating_add(ttl(lifetime))
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
        };
        self.store().insert_session(&session, now).await?;
        Ok(token)
    }

    /// Resolves a bearer token to its session. Unknown, revoked and expired tokens are all
    /// `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Session> {
        if token.is_empty() || token.len() > 200 {
            return Err(ServiceError::Unauthorized);
        }
        self.authenticate_hash(&hash_token(token)).await
    }

    /// [`App::authenticate`] by the token's hash (re-checks of an open connection).
    pub async fn authenticate_hash(&self, token_hash: &str) -> ServiceResult<Session> {
        let token_hash = token_hash.to_owned();
        let session = self
            .store()
            .find_session(&token_hash)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if session.expires_at <= self.now() {
            return Err(ServiceError::Unauthorized);
        }
        let principal = match &session.subject {
            Subject::Member(id) => {
                let member = self
                    .store()
                    .find_member(id)
                    .await?
                    .ok_or(ServiceError::Unauthorized)?;
                Principal::Member {
                    id: member.id,
                    role: member.role,
                    name: member.name,
                }
            }
            Subject::Fan(id) => {
                let fan = self
                    .store()
                    .find_fan(id)
                    .await?
                    .ok_or(ServiceError::Unauthorized)?;
                Principal::Fan {
                    id: fan.id,
                    name: fan.display_name,
                }
            }
        };
        Ok(Session {
            principal,
            token_hash,
            expires_at: session.expires_at,
        })
    }

    /// Revokes the session's token; its open WebSockets close too (on every node).
    pub async fn logout(&self, session: &Session) -> ServiceResult<()> {
        self.store().delete_session(&session.token_hash).await?;
        // Not a wire event: the payload is the revoked hash, for the connections on every
        // node to compare with their own.
        let payload = bytes::Bytes::from(session.token_hash.clone());
        publish_ephemeral(
            self.bus().as_ref(),
            REVOCATIONS_TOPIC.to_owned(),
            Frames::team_only(payload),
        );
        Ok(())
    }

    /// Waits for one of the few concurrent password-hashing slots.
    async fn password_slot(&self) -> ServiceResult<tokio::sync::SemaphorePermit<'_>> {
        self.inner
            .password_slots
            .acquire()
            .await
            .map_err(|_| ServiceError::Unavailable)
    }

    /// Deletes expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> ServiceResult<u64> {
        Ok(self.store().delete_expired_sessions(self.now()).await?)
    }

    /// Announcements of revoked token hashes (each event's `team` bytes are the hash).
    pub fn watch_revocations(&self) -> fandesk_bus::Receiver {
        self.bus().subscribe(REVOCATIONS_TOPIC)
    }
}

/// Expired sessions are refused anyway; deleting them keeps the sessions table small.
pub(crate) fn register_jobs(jobs: &mut Registry, config: &JobsConfig) {
    jobs.every(
        "session purge",
        config.session_purge_every,
        FirstRun::AtStart,
        |app| {
            Box::pin(async move {
                match app.purge_expired_sessions().await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "purged expired sessions"),
                    Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
                }
            })
        },
    );
}

fn verify_signature(secret: &[u8], external_id: &str, signature: &str) -> ServiceResult<()> {
    let bad = || ServiceError::Unauthorized;
    let expected = hex::decode(signature.trim()).map_err(|_| bad())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| bad())?;
    mac.update(external_id.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&expected).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_check() {
        let secret = b"s3cret";
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(b"fan-42");
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(verify_signature(secret, "fan-42", &good).is_ok());
        assert!(verify_signature(secret, "fan-43", &good).is_err());
        assert!(verify_signature(b"other", "fan-42", &good).is_err());
        assert!(verify_signature(secret, "fan-42", "zz").is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(check_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(check_email("nobody").is_err());
        assert!(check_email("@x").is_err());
        assert!(check_email("a b@x").is_err());
    }
}
