//! What user integration needs from storage: vendor apps, grants and codes.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AccountId, AppId, AppKeyId, EnvId};
use crate::integration::{AuthCode, Grant, VendorApp};
use crate::store::StoreError;

/// Every method names the environment: ids (an account's, chosen by the
/// client; an app's, public) may exist in both environments.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn create_vendor_app(&self, app: &VendorApp, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn vendor_app(&self, env_id: &EnvId, id: &AppId) -> Result<Option<VendorApp>, StoreError>;
    /// The apps an account registered, oldest first.
    async fn vendor_apps(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<VendorApp>, StoreError>;
    /// Every app of the environment, oldest first.
    async fn env_vendor_apps(&self, env_id: &EnvId) -> Result<Vec<VendorApp>, StoreError>;
    /// Suspends (`Some(time)`) or reinstates (`None`) an app, with `audit`.
    async fn set_vendor_app_suspended(&self, env_id: &EnvId, id: &AppId, at: Option<Millis>, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn vendor_app_by_key_hash(&self, env_id: &EnvId, key_hash: &str) -> Result<Option<VendorApp>, StoreError>;
    /// Replaces an app's key; the previous one stops working at once.
    async fn set_vendor_key(
        &self,
        env_id: &EnvId,
        app_id: &AppId,
        key_id: &AppKeyId,
        key_hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Writes an app's name, origins and `updated_at`. `NotFound` unless
    /// the app exists and `app.account_id` registered it.
    async fn update_vendor_app(&self, app: &VendorApp, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Deletes an app of `account_id`, and with it every grant to it.
    /// `NotFound` if there was none.
    async fn delete_vendor_app(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent)
    -> Result<(), StoreError>;
    /// Records consent unless it already stands (the first grant time is kept).
    async fn create_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId) -> Result<Option<Grant>, StoreError>;
    async fn grants(&self, env_id: &EnvId, account_id: &AccountId) -> Result<Vec<Grant>, StoreError>;
    /// Ends an app's access. `NotFound` if there was no grant.
    async fn delete_grant(&self, env_id: &EnvId, account_id: &AccountId, app_id: &AppId, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn create_auth_code(&self, code: &AuthCode) -> Result<(), StoreError>;
    /// Marks a live code used and returns it; `None` if unknown, used or expired.
    async fn redeem_auth_code(&self, env_id: &EnvId, code_hash: &str, now: Millis) -> Result<Option<AuthCode>, StoreError>;
    /// Marks a live code of `/oauth/authorize` used, recording the access
    /// token about to be issued for it (`jti`, expiry in ms), and returns
    /// it; `None` if unknown, used or expired.
    async fn redeem_oidc_code(
        &self,
        env_id: &EnvId,
        code_hash: &str,
        now: Millis,
        jti: &str,
        access_exp: Millis,
    ) -> Result<Option<AuthCode>, StoreError>;
    /// The access token issued for a used code (`jti`, expiry in ms), if any.
    async fn code_access_token(&self, env_id: &EnvId, code_hash: &str) -> Result<Option<(String, Millis)>, StoreError>;
}
