//! The operator's client-secret commands and client authentication.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::app::CoreConfig;
use crate::audit::{Actor, AuditEvent};
use crate::error::{DomainError, FieldCode, FieldError};
use crate::ids::ClientSecretId;
use crate::infra::secret::{Secret, ct_eq, token_hash};
use crate::oauth::revoked::RevokedTokens;
use crate::oauth::{ClientSecret, IssuedClientSecret, OAuthError, client_id_of};
use crate::partners::{KeyKind, generate_key_of, key_is_well_formed_as};
use crate::service_users::ServiceUser;
use crate::service_users::service::ServiceUsers;
use crate::store::{ClientLookup, Store};
use crate::tenancy::service::Tenancy;
use crate::tenancy::{EnvKind, PlatformId, Tenant};

/// The shortest and longest lifetime of a client secret.
const SECRET_LIFETIME: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(10 * 365 * 24 * 3600));

/// OAuth for service users: their client secrets, the token endpoint's
/// grants, introspection and revocation (`tokens.rs`).
pub struct OAuth {
    pub(super) store: Arc<dyn Store>,
    pub(super) config: Arc<CoreConfig>,
    pub(super) tenancy: Arc<Tenancy>,
    pub(super) service_users: Arc<ServiceUsers>,
    pub(super) revoked: Arc<RevokedTokens>,
}

impl OAuth {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        config: Arc<CoreConfig>,
        tenancy: Arc<Tenancy>,
        service_users: Arc<ServiceUsers>,
        revoked: Arc<RevokedTokens>,
    ) -> Self {
        Self {
            store,
            config,
            tenancy,
            service_users,
            revoked,
        }
    }

    async fn user_named(&self, platform_id: &PlatformId, kind: EnvKind, username: &str) -> Result<ServiceUser, DomainError> {
        let env = self.tenancy.environment(platform_id, kind).await?;
        self.store
            .service_user_by_name(&env.id, username)
            .await?
            .ok_or(DomainError::NotFound("service user"))
    }

    /// Adds a client secret to a service user, expiring after `expires_in`
    /// (1 minute to 10 years) or never.
    ///
    /// # Errors
    /// `NotFound` for an unknown instance or user, `Validation` for a
    /// lifetime out of range.
    pub async fn add_secret(
        &self,
        actor: &Actor,
        platform_id: &PlatformId,
        kind: EnvKind,
        username: &str,
        expires_in: Option<Duration>,
    ) -> Result<IssuedClientSecret, DomainError> {
        if expires_in.is_some_and(|d| !(SECRET_LIFETIME.0..=SECRET_LIFETIME.1).contains(&d)) {
            return Err(DomainError::Validation(vec![FieldError::new(
                "expires_in",
                FieldCode::OutOfRange,
                "expires_in must be between 1 minute and 10 years",
            )]));
        }
        let user = self.user_named(platform_id, kind, username).await?;
        let now = self.config.clock.now_ms();
        let client_secret = Secret::new(generate_key_of(KeyKind::ClientSecret, kind));
        let secret = ClientSecret {
            id: ClientSecretId::generate(),
            env_id: user.env_id.clone(),
            platform_id: platform_id.clone(),
            environment: kind,
            service_user_id: user.id.clone(),
            created_at: now,
            expires_at: expires_in.map(|d| now + d.as_millis() as i64),
            revoked_at: None,
        };
        let audit = audit(actor, "oauth_client_secret.added", &secret).with_detail(json!({
            "service_user_id": user.id, "username": user.username, "client_id": secret.client_id(),
            "expires_at": secret.expires_at.map(crate::clock::rfc3339),
        }));
        self.store
            .create_client_secret(&secret, &token_hash(client_secret.expose()), &audit)
            .await?;
        Ok(IssuedClientSecret { secret, client_secret })
    }

    /// A service user and its secrets, oldest first (never the secrets
    /// themselves).
    ///
    /// # Errors
    /// `NotFound` for an unknown instance or user.
    pub async fn secrets(
        &self,
        platform_id: &PlatformId,
        kind: EnvKind,
        username: &str,
    ) -> Result<(ServiceUser, Vec<ClientSecret>), DomainError> {
        let user = self.user_named(platform_id, kind, username).await?;
        let secrets = self.store.client_secrets(&user.env_id, &user.id).await?;
        Ok((user, secrets))
    }

    /// Revokes a secret: refused from the next request on, on every node.
    ///
    /// # Errors
    /// `NotFound` for an unknown id, `Conflict` when already revoked.
    pub async fn revoke_secret(&self, actor: &Actor, id: &ClientSecretId) -> Result<ClientSecret, DomainError> {
        let mut secret = self.store.client_secret(id).await?.ok_or(DomainError::NotFound("client secret"))?;
        let now = self.config.clock.now_ms();
        let audit = audit(actor, "oauth_client_secret.revoked", &secret)
            .with_detail(json!({ "service_user_id": secret.service_user_id, "client_id": secret.client_id() }));
        if secret.revoked_at.is_some() || !self.store.revoke_client_secret(id, now, &audit).await? {
            return Err(DomainError::Conflict("the client secret is already revoked".into()));
        }
        secret.revoked_at = Some(now);
        Ok(secret)
    }

    /// The service user that `client_id` and `secret` authenticate in the
    /// tenant's environment: one lookup by the secret's SHA-256 (the secret
    /// is high-entropy, so no slow hash is needed), then constant-time
    /// comparisons. A malformed secret costs no query.
    ///
    /// # Errors
    /// `invalid_client` for an unknown client or secret, a secret of another
    /// client or environment, a revoked or expired secret, or a disabled
    /// user; `Failed` for storage failures.
    pub async fn authenticate_client(&self, tenant: &Tenant, client_id: &str, secret: &Secret) -> Result<ServiceUser, OAuthError> {
        Ok(self.authenticate_client_asking(tenant, client_id, secret, None).await?.user)
    }

    /// [`Self::authenticate_client`], asking in the same query whether the
    /// token `jti` of the tenant's environment is revoked.
    ///
    /// # Errors
    /// As [`Self::authenticate_client`].
    pub(super) async fn authenticate_client_asking(
        &self,
        tenant: &Tenant,
        client_id: &str,
        secret: &Secret,
        jti: Option<&str>,
    ) -> Result<ClientLookup, OAuthError> {
        if !key_is_well_formed_as(secret.expose(), KeyKind::ClientSecret, tenant.env.kind) {
            return Err(OAuthError::invalid_client());
        }
        let question = jti.map(|jti| (&tenant.env.id, jti));
        let Some(found) = self.store.client_by_secret_hash(&token_hash(secret.expose()), question).await? else {
            return Err(OAuthError::invalid_client());
        };
        let now = self.config.clock.now_ms();
        let same_env = ct_eq(found.secret.env_id.as_str().as_bytes(), tenant.env.id.as_str().as_bytes());
        let same_client = ct_eq(client_id.as_bytes(), client_id_of(&found.user.id).as_bytes());
        let live = found.secret.status(now) == super::SecretStatus::Active && found.user.disabled_at.is_none();
        if same_env && same_client && live {
            Ok(found)
        } else {
            Err(OAuthError::invalid_client())
        }
    }
}

fn audit(actor: &Actor, action: &str, secret: &ClientSecret) -> AuditEvent {
    AuditEvent::new(
        actor,
        &secret.platform_id,
        Some(secret.environment.as_str()),
        action,
        secret.id.as_str(),
    )
}
