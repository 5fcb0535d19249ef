//! What tenancy needs from storage: instances, their environments and
//! hostnames, and the environments' signing keys.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::ids::EnvId;
use crate::store::StoreError;
use crate::tenancy::signing::SigningKey;
use crate::tenancy::{EnvKind, Environment, Instance, PlatformId};

#[async_trait]
pub trait TenancyStore: Send + Sync {
    /// Cheap round trip used by `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_instance(
        &self,
        instance: &Instance,
        envs: &[Environment],
        keys: &[SigningKey],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    async fn update_instance(&self, instance: &Instance, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn instance(&self, id: &PlatformId) -> Result<Option<Instance>, StoreError>;
    async fn instances(&self) -> Result<Vec<Instance>, StoreError>;
    /// Up to `limit` instances after platform id `after`, by platform id,
    /// whose platform id or name contains `search` (case-insensitive;
    /// empty: every instance).
    async fn instances_page(&self, search: &str, after: &str, limit: u32) -> Result<Vec<Instance>, StoreError>;
    async fn environment(&self, id: &PlatformId, kind: EnvKind) -> Result<Option<Environment>, StoreError>;
    async fn environment_by_hostname(&self, host: &str) -> Result<Option<(PlatformId, EnvKind)>, StoreError>;
    /// Replaces an environment's extra hostnames and CORS origins.
    async fn update_environment(&self, env: &Environment, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn signing_keys(&self, env_id: &EnvId) -> Result<Vec<SigningKey>, StoreError>;
    /// Retires the environment's active keys at `new.created_at` and adds `new`.
    /// Retires every live key of the environment at `now` and adds `new`.
    async fn rotate_signing_keys(&self, env_id: &EnvId, new: &[SigningKey], now: i64, audit: &AuditEvent) -> Result<(), StoreError>;
}
