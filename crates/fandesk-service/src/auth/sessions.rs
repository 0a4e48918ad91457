//! Bearer sessions (docs/api.md › Authentication): fan sessions (anonymous, or identified
//! by an HMAC-signed `external_id`), issuing and resolving tokens, logout with revocation
//! announced on every node, and the purge of expired sessions.

use crate::app::error::{ServiceError, ServiceResult};
use crate::auth::view::FanView;
use crate::auth::{NewFanSession, Session, check_text};
use crate::live::publish::{Frames, publish_ephemeral};
use crate::{App, new_id};
use fandesk_domain::{FanId, Principal};
use fandesk_store::{FanRow, SessionRow, StoreError, Subject};
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The bus topic on which revoked token hashes are announced, so open WebSockets of a
/// logged-out session close on every node. Not a client topic (clients cannot name it).
pub(crate) const REVOCATIONS_TOPIC: &str = "_sessions.revoked";

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("fdk_{}", hex::encode(bytes))
}

fn ttl(duration: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::from_hours(12))
}

impl App {
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

    pub(crate) async fn issue_token(
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

    /// Resolves a bearer token (a session's or an integration API token) to its session.
    /// Unknown, revoked and expired tokens are all `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Session> {
        if token.is_empty() || token.len() > 200 {
            return Err(ServiceError::Unauthorized);
        }
        self.authenticate_hash(&hash_token(token)).await
    }

    /// [`App::authenticate`] by the token's hash (re-checks of an open connection).
    pub async fn authenticate_hash(&self, token_hash: &str) -> ServiceResult<Session> {
        let token_hash = token_hash.to_owned();
        let Some(session) = self.store().find_session(&token_hash).await? else {
            // Not a session: perhaps an integration API token.
            return self.authenticate_api_token(&token_hash).await;
        };
        if session.expires_at <= self.now() {
            return Err(ServiceError::Unauthorized);
        }
        let principal = match &session.subject {
            Subject::Member(id) => {
                let member = self
                    .store()
                    .find_member(id)
                    .await?
                    .filter(|member| member.is_active())
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
        self.announce_revoked(session.token_hash.clone());
        Ok(())
    }

    /// Tells the connections on every node that the token hashed `token_hash` is revoked.
    pub(crate) fn announce_revoked(&self, token_hash: String) {
        // Not a wire event: the payload is the revoked hash, for the connections on every
        // node to compare with their own.
        let payload = bytes::Bytes::from(token_hash);
        publish_ephemeral(
            self.bus().as_ref(),
            REVOCATIONS_TOPIC.to_owned(),
            Frames::team_only(payload),
        );
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
}
