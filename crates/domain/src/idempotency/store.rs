//! What idempotency keys need from storage.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::idempotency::IdempotencyRecord;
use crate::ids::EnvId;
use crate::store::StoreError;

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Inserts `record` unless its key exists and is younger than
    /// `expired_before` (or, still in progress, than `abandoned_before`);
    /// `true` when it was inserted (the caller holds the claim).
    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
        expired_before: Millis,
        abandoned_before: Millis,
    ) -> Result<bool, StoreError>;
    /// The record of a key.
    async fn idempotency_key(&self, env_id: &EnvId, key_hash: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Stores the response of the claim made at `claimed_at`, if the key
    /// still holds that claim.
    async fn complete_idempotency_key(
        &self,
        env_id: &EnvId,
        key_hash: &str,
        claimed_at: Millis,
        status: i64,
        body: &[u8],
    ) -> Result<(), StoreError>;
    /// Forgets the claim made at `claimed_at`, if it is still in progress.
    async fn release_idempotency_key(&self, env_id: &EnvId, key_hash: &str, claimed_at: Millis) -> Result<(), StoreError>;
}
