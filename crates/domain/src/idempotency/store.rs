//! What idempotency keys need from storage.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::idempotency::IdempotencyRecord;
use crate::ids::EnvId;
use crate::store::StoreError;

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Inserts `record` unless its key exists (and is younger than
    /// `expired_before`); returns the existing record if there is one.
    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
        expired_before: Millis,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    async fn complete_idempotency_key(&self, env_id: &EnvId, key_hash: &str, status: i64, body: &[u8]) -> Result<(), StoreError>;
    async fn release_idempotency_key(&self, env_id: &EnvId, key_hash: &str) -> Result<(), StoreError>;
}
