//! What the partner portal's people need from storage.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{EnvId, PartnerId, PortalUserId};
use crate::partners::Partner;
use crate::portal::{Application, Invitation, PortalSession, PortalUser};
use crate::store::StoreError;

#[async_trait]
pub trait PortalStore: Send + Sync {
    /// Creates a (pending) partner, its application and its first portal
    /// user together, with `audits`; `Conflict("email")` when the email is
    /// a portal user's of the environment already, and nothing is created.
    async fn create_application(
        &self,
        partner: &Partner,
        application: &Application,
        user: &PortalUser,
        audits: &[AuditEvent],
    ) -> Result<(), StoreError>;
    async fn partner_application(&self, partner_id: &PartnerId) -> Result<Option<Application>, StoreError>;
    async fn portal_user(&self, id: &PortalUserId) -> Result<Option<PortalUser>, StoreError>;
    async fn portal_user_by_email(&self, env_id: &EnvId, email: &str) -> Result<Option<PortalUser>, StoreError>;
    /// A partner's portal users, oldest first.
    async fn portal_users(&self, partner_id: &PartnerId) -> Result<Vec<PortalUser>, StoreError>;
    /// Removes a portal user and ends their sessions. `NotFound` if there is none.
    async fn delete_portal_user(&self, id: &PortalUserId, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn create_portal_session(&self, session: &PortalSession, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn portal_session(&self, token_hash: &str) -> Result<Option<PortalSession>, StoreError>;
    async fn touch_portal_session(&self, token_hash: &str, last_seen_at: Millis) -> Result<(), StoreError>;
    async fn delete_portal_session(&self, token_hash: &str, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
    async fn create_invitation(&self, invitation: &Invitation, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError>;
    /// Marks the invitation used, if it is unused and unexpired at `now`
    /// (once, even under concurrency), and creates `user` in the same
    /// transaction. `NotFound` when the invitation is unknown, used or
    /// expired; `Conflict("email")` when the email is taken (nothing changes).
    async fn accept_invitation(&self, token_hash: &str, now: Millis, user: &PortalUser, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Removes sessions idle since before `idle_before` and invitations
    /// that expired before `expired_before`; returns how many rows went.
    async fn purge_portal(&self, idle_before: Millis, expired_before: Millis) -> Result<u64, StoreError>;
}
