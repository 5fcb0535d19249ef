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
    /// Opens a session; `audit` (a completed sign-in) in the same
    /// transaction. A session awaiting the second factor has none yet.
    async fn create_portal_session(&self, session: &PortalSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
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

/// A portal user's optional second factor: the sealed TOTP secret, the last
/// step accepted, single-use recovery codes, and the session's stage.
#[async_trait]
pub trait PortalFactorStore: Send + Sync {
    /// Writes the stage, the pending secret and the last-seen time, with
    /// `audit` (a completed sign-in) in the same transaction.
    async fn update_portal_session(&self, session: &PortalSession, audit: Option<&AuditEvent>) -> Result<(), StoreError>;
    /// Stores the enrolled TOTP secret (sealed), the step its confirming
    /// code used and the hashes of fresh recovery codes (replacing any),
    /// and ends the person's sessions but `keep` (the one that enrolled):
    /// elsewhere they sign in again, with a code. `NotFound` when the
    /// person is gone or already has an authenticator.
    async fn enrol_portal_totp(
        &self,
        id: &PortalUserId,
        sealed_secret: &[u8],
        step: i64,
        recovery_hashes: &[String],
        keep: &str,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Forgets the TOTP secret and the recovery codes. `NotFound` when the
    /// person has no authenticator.
    async fn disable_portal_totp(&self, id: &PortalUserId, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Accepts TOTP `step` for the person if no later or equal step was
    /// accepted before; `false` for a code already used.
    async fn accept_portal_totp_step(&self, id: &PortalUserId, step: i64) -> Result<bool, StoreError>;
    /// Removes a recovery code; `false` when the person has no such code
    /// (never had, or used it).
    async fn use_portal_recovery_code(&self, id: &PortalUserId, code_hash: &str) -> Result<bool, StoreError>;
    /// How many recovery codes the person has left.
    async fn portal_recovery_codes_left(&self, id: &PortalUserId) -> Result<u32, StoreError>;
}
