//! SCIM bearer tokens: an operator issues them per environment and gives
//! one to an identity provider. Shown once, stored as a SHA-256 hash,
//! checksummed like API keys (`onr_scim_test_…` / `onr_scim_live_…`), so
//! a mistyped or foreign token is refused before any lookup.

use std::sync::Arc;

use serde_json::json;

use crate::audit::{Actor, AuditEvent};
use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode, FieldError};
use crate::ids::{EnvId, ScimTokenId};
use crate::infra::secret::{Secret, ct_eq, token_hash};
use crate::partners::{KeyKind, generate_key_of, key_is_well_formed_as};
use crate::store::Store;
use crate::tenancy::{EnvKind, Environment, PlatformId};

/// The longest label a token may have.
const NAME_MAX: usize = 100;

/// A SCIM token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: ScimTokenId,
    pub env_id: EnvId,
    pub platform_id: PlatformId,
    pub environment: EnvKind,
    /// The operator's label, e.g. the identity provider it was given to.
    pub name: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A token just issued, with its secret (shown once).
#[derive(Debug)]
pub struct IssuedScimToken {
    pub token: ScimToken,
    pub secret: Secret,
}

/// Issues, lists, revokes and checks SCIM tokens.
#[derive(Clone)]
pub struct ScimTokens {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl ScimTokens {
    pub(crate) fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// A new token for the environment, labelled `name` (default `SCIM`).
    ///
    /// # Errors
    /// `Validation` for an empty or over-long name; storage failures.
    pub async fn issue(&self, env: &Environment, name: Option<&str>, actor: &Actor) -> Result<IssuedScimToken, DomainError> {
        let name = parse_name(name.unwrap_or("SCIM"))?;
        let secret = Secret::new(generate_key_of(KeyKind::Scim, env.kind));
        let token = ScimToken {
            id: ScimTokenId::generate(),
            env_id: env.id.clone(),
            platform_id: env.platform_id.clone(),
            environment: env.kind,
            name,
            created_at: self.clock.now_ms(),
            revoked_at: None,
        };
        let audit = audit(actor, "scim_token.issued", &token);
        self.store.create_scim_token(&token, &token_hash(secret.expose()), &audit).await?;
        Ok(IssuedScimToken { token, secret })
    }

    /// The environment's tokens, oldest first.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn list(&self, env: &Environment) -> Result<Vec<ScimToken>, DomainError> {
        Ok(self.store.scim_tokens(&env.id).await?)
    }

    /// Revokes a token: refused from the next request on.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict` when already revoked.
    pub async fn revoke(&self, id: &ScimTokenId, actor: &Actor) -> Result<ScimToken, DomainError> {
        let mut token = self.store.scim_token(id).await?.ok_or(DomainError::NotFound("SCIM token"))?;
        let now = self.clock.now_ms();
        let audit = audit(actor, "scim_token.revoked", &token);
        if token.revoked_at.is_some() || !self.store.revoke_scim_token(id, now, &audit).await? {
            return Err(DomainError::Conflict("the SCIM token is already revoked".into()));
        }
        token.revoked_at = Some(now);
        Ok(token)
    }

    /// The live token of `env` that `presented` is, if any: well formed for
    /// the environment, known, of this environment, not revoked.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn authenticate(&self, env: &Environment, presented: &str) -> Result<Option<ScimToken>, DomainError> {
        if !key_is_well_formed_as(presented, KeyKind::Scim, env.kind) {
            return Ok(None);
        }
        let Some(token) = self.store.scim_token_by_hash(&token_hash(presented)).await? else {
            return Ok(None);
        };
        let same_env = ct_eq(token.env_id.as_str().as_bytes(), env.id.as_str().as_bytes());
        Ok((same_env && token.revoked_at.is_none()).then_some(token))
    }
}

fn parse_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(DomainError::Validation(vec![FieldError::new(
            "name",
            FieldCode::InvalidLength,
            format!("name must be 1 to {NAME_MAX} printable characters"),
        )]));
    }
    Ok(name.to_owned())
}

fn audit(actor: &Actor, action: &str, token: &ScimToken) -> AuditEvent {
    AuditEvent::new(
        actor,
        &token.platform_id,
        Some(token.environment.as_str()),
        action,
        token.id.as_str(),
    )
    .with_detail(json!({ "name": token.name }))
}
