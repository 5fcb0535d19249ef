//! What SCIM needs from storage.

use async_trait::async_trait;

use crate::accounts::Account;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AccountId, EnvId, ScimTokenId};
use crate::scim::tokens::ScimToken;
use crate::scim::users::UserQuery;
use crate::store::StoreError;

#[async_trait]
pub trait ScimStore: Send + Sync {
    /// Stores a new token by the hash of its secret.
    async fn create_scim_token(&self, token: &ScimToken, token_hash: &str, audit: &AuditEvent) -> Result<(), StoreError>;
    /// The environment's tokens, oldest first, revoked ones included.
    async fn scim_tokens(&self, env_id: &EnvId) -> Result<Vec<ScimToken>, StoreError>;
    /// A token by id, in any environment.
    async fn scim_token(&self, id: &ScimTokenId) -> Result<Option<ScimToken>, StoreError>;
    /// The token whose secret hashes to `token_hash`, revoked or not.
    async fn scim_token_by_hash(&self, token_hash: &str) -> Result<Option<ScimToken>, StoreError>;
    /// A page of the environment's accounts in id order (SCIM's stable
    /// order across requests) after skipping `offset`, and how many match
    /// in all.
    async fn scim_users(
        &self,
        env_id: &EnvId,
        query: &UserQuery,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<(Account, ScimExtra)>, u64), StoreError>;
    /// Creates the account and what SCIM keeps of it, with its audit event,
    /// in one transaction.
    async fn create_scim_user(&self, account: &Account, extra: &ScimExtra, audit: &AuditEvent) -> Result<(), StoreError>;
    /// What SCIM keeps of these accounts (those that have anything kept).
    async fn scim_extras(&self, env_id: &EnvId, ids: &[AccountId]) -> Result<Vec<(AccountId, ScimExtra)>, StoreError>;
    /// Marks the token revoked at `at`; `false` when it was already revoked.
    async fn revoke_scim_token(&self, id: &ScimTokenId, at: Millis, audit: &AuditEvent) -> Result<bool, StoreError>;
}

/// What SCIM keeps of a User beyond its account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimExtra {
    /// The identity provider's id for the person (unique per environment).
    pub external_id: Option<String>,
    /// Attributes stored and returned but not used (`title`, `phoneNumbers`,
    /// the enterprise extension, …), by their SCIM names.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}
