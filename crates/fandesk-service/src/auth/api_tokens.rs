//! Integration API tokens (docs/api.md › API tokens): the owner creates one (its secret
//! answered once, only its SHA-256 kept), lists them without secrets, and revokes one
//! (its open WebSockets close on every node). A token is a bearer like a session: it acts
//! with its role's capabilities on behalf of the owner who created it, under its own name,
//! while that member is active and until it expires or is revoked. Creation and
//! revocation are audit-logged (never the secret). The secret is never logged.

use crate::app::error::{ServiceError, ServiceResult};
use crate::auth::Session;
use crate::auth::sessions::hash_token;
use crate::{App, new_id};
use fandesk_domain::integration::api_token::{
    MAX_LIVE_TOKENS, SHOWN_CHARS, TOKEN_PREFIX, check_expiry, is_live, token_name, token_role,
};
use fandesk_domain::team::{API_TOKEN_CREATE, API_TOKEN_REVOKE};
use fandesk_domain::{Capability, MemberId, Principal};
use fandesk_store::{ApiTokenRow, AuditRow};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;

/// A token's last use is recorded at most this often (each use would otherwise be a write).
const TOUCH_EVERY: SignedDuration = SignedDuration::from_mins(1);

/// `POST /api/v1/api-tokens`: `name` and `role` are required (checked after the caller's
/// role); `expires_at` is optional.
#[derive(Clone, Debug, Default)]
pub struct NewApiToken {
    pub name: Option<String>,
    pub role: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// A token as the list shows it: never the secret nor its hash.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// The secret's first characters (`fdt_` and 8 more), to tell tokens apart.
    pub prefix: String,
    /// The role the token acts as: `supervisor`, `escalation_lead`, `agent` or `bot`.
    pub role: String,
    /// The owner who created it (the token acts on their behalf).
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it stops working (`null`: never).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Its last use, recorded to the minute (`null`: never used).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    /// When the owner revoked it (`null`: not revoked).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// `active`, `expired` or `revoked`, as of the answer.
    pub status: String,
}

impl ApiTokenView {
    fn new(row: &ApiTokenRow, now: Timestamp) -> ApiTokenView {
        let status = if row.revoked_at.is_some() {
            "revoked"
        } else if is_live(row.expires_at, None, now) {
            "active"
        } else {
            "expired"
        };
        ApiTokenView {
            id: row.id.clone(),
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            role: row.role.as_str().to_owned(),
            created_by: row.created_by.0.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            status: status.to_owned(),
        }
    }
}

/// A token just created: the secret, shown this once.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The bearer secret (`Authorization: Bearer …`). Not shown again: store it now.
    pub token: String,
    #[serde(flatten)]
    pub view: ApiTokenView,
}

/// The details of an `api_token_create` / `api_token_revoke` audit entry (no secret).
#[derive(Serialize)]
struct TokenAudit<'a> {
    token_id: &'a str,
    token_name: &'a str,
    role: &'a str,
    prefix: &'a str,
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

impl App {
    /// `POST /api/v1/api-tokens` (owner).
    pub async fn create_api_token(
        &self,
        actor: &Principal,
        input: NewApiToken,
    ) -> ServiceResult<CreatedApiToken> {
        actor.require(Capability::ManageApiTokens)?;
        let missing = |field: &str| ServiceError::invalid(field, "is required");
        let name = token_name(input.name.as_deref().ok_or_else(|| missing("name"))?)?;
        let role = token_role(input.role.as_deref().ok_or_else(|| missing("role"))?)?;
        let expires_at = input.expires_at;
        let now = self.now();
        check_expiry(expires_at, now)?;
        let Principal::Member { id, .. } = actor else {
            return Err(ServiceError::Forbidden(
                "only the owner manages API tokens".into(),
            ));
        };
        let token = new_secret();
        let row = ApiTokenRow {
            id: new_id("tok"),
            name,
            token_hash: hash_token(&token),
            prefix: token[..TOKEN_PREFIX.len() + SHOWN_CHARS].to_owned(),
            role,
            created_by: MemberId::clone(id),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let audit = self.token_audit(actor, API_TOKEN_CREATE, &row);
        self.store()
            .insert_api_token(&row, &audit, MAX_LIVE_TOKENS)
            .await?;
        tracing::info!(token = %row.id, prefix = %row.prefix, role = row.role.as_str(), "API token created");
        Ok(CreatedApiToken {
            token,
            view: ApiTokenView::new(&row, now),
        })
    }

    /// `GET /api/v1/api-tokens` (owner): newest first, revoked and expired ones too.
    pub async fn list_api_tokens(&self, actor: &Principal) -> ServiceResult<Vec<ApiTokenView>> {
        actor.require(Capability::ManageApiTokens)?;
        let now = self.now();
        let rows = self.store().list_api_tokens().await?;
        Ok(rows.iter().map(|row| ApiTokenView::new(row, now)).collect())
    }

    /// `DELETE /api/v1/api-tokens/{id}` (owner): the next request with it is a 401 and
    /// its WebSockets close. Revoking a revoked token changes nothing.
    pub async fn revoke_api_token(&self, actor: &Principal, id: &str) -> ServiceResult<()> {
        actor.require(Capability::ManageApiTokens)?;
        let row = self
            .store()
            .api_token(id)
            .await?
            .ok_or(ServiceError::NotFound("API token"))?;
        let audit = self.token_audit(actor, API_TOKEN_REVOKE, &row);
        if self.store().revoke_api_token(&row.id, &audit).await? {
            self.announce_revoked(row.token_hash.clone());
            tracing::info!(token = %row.id, prefix = %row.prefix, "API token revoked");
        }
        Ok(())
    }

    fn token_audit(&self, actor: &Principal, action: &str, row: &ApiTokenRow) -> AuditRow {
        AuditRow {
            id: new_id("aud"),
            actor_id: actor.author_id().to_owned(),
            actor_name: actor.name().to_owned(),
            action: action.to_owned(),
            conversation_id: None,
            details: serde_json::to_string(&TokenAudit {
                token_id: &row.id,
                token_name: &row.name,
                role: row.role.as_str(),
                prefix: &row.prefix,
            })
            .unwrap_or_else(|_| "{}".to_owned()),
            created_at: self.now(),
        }
    }

    /// The session of an integration token hashed `token_hash`, or `Unauthorized` when
    /// none is live or its creator was deactivated. Its principal is the creator's id
    /// with the token's role and name.
    pub(crate) async fn authenticate_api_token(&self, token_hash: &str) -> ServiceResult<Session> {
        let row = self
            .store()
            .find_api_token(token_hash)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let now = self.now();
        if !is_live(row.expires_at, row.revoked_at, now) {
            return Err(ServiceError::Unauthorized);
        }
        let creator = self
            .store()
            .find_member(&row.created_by)
            .await?
            .filter(|member| member.is_active())
            .ok_or(ServiceError::Unauthorized)?;
        let unless_after = now.checked_sub(TOUCH_EVERY).unwrap_or(Timestamp::MIN);
        if row.last_used_at.is_none_or(|at| at <= unless_after) {
            self.store()
                .touch_api_token(&row.id, now, unless_after)
                .await?;
        }
        Ok(Session {
            principal: Principal::Member {
                id: creator.id,
                role: row.role,
                name: row.name,
            },
            token_hash: row.token_hash,
            expires_at: row.expires_at.unwrap_or(Timestamp::MAX),
        })
    }
}
