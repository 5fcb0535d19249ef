//! What partners and their API keys need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{EnvId, KeyId, PartnerId};
use crate::partners::{ApiKey, Partner, PartnerStatus, Scope};
use crate::store::StoreError;

#[async_trait]
pub trait PartnerStore: Send + Sync {
    async fn create_partner(&self, partner: &Partner, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn partner(&self, id: &PartnerId) -> Result<Option<Partner>, StoreError>;
    /// Partners, of one environment or all, oldest first.
    async fn partners(&self, env_id: Option<&EnvId>) -> Result<Vec<Partner>, StoreError>;
    /// Up to `limit` partners after id `after` (creation order) of `status`
    /// (or any) whose name contains `name` (case-insensitive; empty: any).
    async fn partners_page(&self, status: Option<PartnerStatus>, name: &str, after: &str, limit: u32) -> Result<Vec<Partner>, StoreError>;
    /// How many partners there are of each status (absent: none).
    async fn partner_counts(&self) -> Result<Vec<(PartnerStatus, u64)>, StoreError>;
    async fn set_partner_status(&self, id: &PartnerId, status: PartnerStatus, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Writes the scopes the partner's keys may have. `NotFound` if there
    /// is no such partner.
    async fn set_partner_scopes(&self, id: &PartnerId, scopes: &[Scope], now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A key (live or not) with its partner, by the key's SHA-256.
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Partner)>, StoreError>;
    async fn api_key(&self, key_id: &KeyId) -> Result<Option<ApiKey>, StoreError>;
    async fn api_keys(&self, partner_id: &PartnerId) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key now, and if it was in its grace period after a
    /// rotation, the successors it minted; returns their ids. `NotFound` if
    /// there is no such key.
    async fn revoke_api_key(&self, key_id: &KeyId, now: Millis, audit: &AuditEvent) -> Result<Vec<KeyId>, StoreError>;
    /// Adds `new` and makes `old_key_id` expire at `old_expires_at`, together.
    /// `Conflict("rotation")` if the old key was rotated or revoked already.
    async fn rotate_api_key(&self, old_key_id: &KeyId, old_expires_at: Millis, new: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn touch_api_key(&self, key_id: &KeyId, now: Millis) -> Result<(), StoreError>;
}
