//! What OAuth needs from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{ClientSecretId, EnvId, ServiceUserId};
use crate::oauth::ClientSecret;
use crate::service_users::ServiceUser;
use crate::store::StoreError;

/// A client secret found by its hash, with its service user.
#[derive(Debug, Clone)]
pub struct ClientLookup {
    pub secret: ClientSecret,
    pub user: ServiceUser,
    /// Whether the token asked about alongside is revoked (`false` when
    /// none was asked about).
    pub token_revoked: bool,
}

#[async_trait]
pub trait OAuthStore: Send + Sync {
    /// Stores a new secret by the SHA-256 of its value.
    async fn create_client_secret(&self, secret: &ClientSecret, secret_hash: &str, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A service user's secrets, oldest first.
    async fn client_secrets(&self, env_id: &EnvId, user: &ServiceUserId) -> Result<Vec<ClientSecret>, StoreError>;
    async fn client_secret(&self, id: &ClientSecretId) -> Result<Option<ClientSecret>, StoreError>;
    /// Marks a live secret revoked; `false` when it already was.
    async fn revoke_client_secret(&self, id: &ClientSecretId, at: Millis, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// The secret with this hash and its service user: the token endpoint's
    /// one query. With `also_revoked` (an environment and a `jti`), the same
    /// query says whether that token is revoked, so introspection costs one
    /// query too.
    async fn client_by_secret_hash(
        &self,
        secret_hash: &str,
        also_revoked: Option<(&EnvId, &str)>,
    ) -> Result<Option<ClientLookup>, StoreError>;
    /// Records an access token revoked until `expires_at` (a second
    /// revocation changes nothing), and drops the environment's records of
    /// tokens expired by `now`.
    async fn revoke_token(&self, env_id: &EnvId, jti: &str, expires_at: Millis, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
    /// The `jti`s of the environment's revoked tokens not expired by `now`.
    async fn revoked_jtis(&self, env_id: &EnvId, now: Millis) -> Result<Vec<String>, StoreError>;
}
