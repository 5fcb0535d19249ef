//! What webhook endpoints need from storage. Every method that reads or
//! changes an endpoint names its environment and, for a caller that manages
//! only its own endpoints, its owner: another owner's endpoint is not found.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{EndpointId, EnvId};
use crate::store::StoreError;
use crate::tenancy::{EnvKind, PlatformId};
use crate::webhooks::secret::SealedSecret;
use crate::webhooks::{Endpoint, Owner};

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Adds an endpoint, its event cursor set in the same transaction to its
    /// environment's last event sequence (0 before any event), which it
    /// returns.
    async fn create_endpoint(&self, endpoint: &Endpoint, audit: &AuditEvent) -> Result<i64, StoreError>;
    async fn endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId) -> Result<Option<Endpoint>, StoreError>;
    /// An endpoint of the environment whoever owns it, by id: the operator
    /// sees every owner's (one indexed row, not a scan of the list).
    async fn endpoint_any_owner(&self, env_id: &EnvId, id: &EndpointId) -> Result<Option<Endpoint>, StoreError>;
    /// Up to `limit` endpoints after `after`, by id (creation order); of
    /// one owner, or every owner's for `None` (the operator).
    async fn endpoints(
        &self,
        env_id: &EnvId,
        owner: Option<&Owner>,
        after: Option<&EndpointId>,
        limit: u32,
    ) -> Result<Vec<Endpoint>, StoreError>;
    /// Writes the URL, description, event types, enabled state (with its
    /// reason and failure streak) and `updated_at`. `NotFound` unless the
    /// endpoint exists with this owner.
    ///
    /// The enabled state (`disabled_at`, its reason, the failure streak) is
    /// written only with `state_changed`: delivery may have disabled the
    /// endpoint since the caller read it, and a change of its description
    /// must not undo that.
    async fn update_endpoint(&self, endpoint: &Endpoint, state_changed: bool, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Makes `secret` the current secret and the current one the previous,
    /// signing until `previous_expires_at` (replacing any earlier previous),
    /// and writes `updated_at`. `NotFound` unless the endpoint exists with
    /// this owner.
    async fn rotate_endpoint_secret(
        &self,
        endpoint: &Endpoint,
        secret: &SealedSecret,
        previous_expires_at: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// `NotFound` unless the endpoint exists with this owner.
    async fn delete_endpoint(&self, env_id: &EnvId, owner: &Owner, id: &EndpointId, audit: &AuditEvent) -> Result<(), StoreError>;
    /// The instance, environment and owner of an endpoint, for the
    /// operator, who names an endpoint by its id alone.
    async fn endpoint_home(&self, id: &EndpointId) -> Result<Option<(PlatformId, EnvKind, Owner)>, StoreError>;
}
