//! The storage port: everything the domain needs from a database. The SQL
//! implementation lives in the `onramp-store` crate; every mutating method
//! writes its audit event in the same transaction as the change.

use async_trait::async_trait;

use crate::account::Account;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::integration::{AuthCode, Grant, VendorApp};
use crate::partner::{ApiKey, Partner, PartnerStatus};
use crate::signing::SigningKey;
use crate::tenancy::{EnvKind, Environment, Instance, PlatformId};
use crate::usage::{Alert, KeyActivity, UsageRow};

pub use crate::error::StoreError;

/// A service user of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub id: String,
    pub env_id: String,
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub disabled_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Changes to an account; `None` keeps a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub updated_at: Millis,
}

/// A client session; only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub env_id: String,
    pub account_id: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A remembered Idempotency-Key; `status` 0 means the first request still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub env_id: String,
    pub key_hash: String,
    /// Hash of the route and body of the first request.
    pub fingerprint: String,
    pub status: i64,
    /// The encrypted response body.
    pub body: Vec<u8>,
    pub created_at: Millis,
}

/// Which accounts to list.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub email_normalized: Option<String>,
    /// Only accounts this partner created.
    pub partner_id: Option<String>,
    /// Only ids greater than this (the page cursor).
    pub after: Option<String>,
    pub limit: u32,
}

/// A one-time sign-in link; only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    pub token_hash: String,
    pub env_id: String,
    pub account_id: String,
    pub redirect: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The outcome of redeeming a sign-in link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The link was live and is now used; a session is open for the account.
    Ok {
        account_id: String,
        redirect: String,
    },
    Unknown,
    AlreadyUsed,
    Expired,
}

/// Filters for listing audit events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub platform_id: Option<String>,
    pub environment: Option<String>,
    pub limit: u32,
}

/// The storage port.
#[async_trait]
pub trait Store: Send + Sync {
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
    async fn environment(&self, id: &PlatformId, kind: EnvKind) -> Result<Option<Environment>, StoreError>;
    async fn environment_by_hostname(&self, host: &str) -> Result<Option<(PlatformId, EnvKind)>, StoreError>;
    /// Replaces an environment's extra hostnames and CORS origins.
    async fn update_environment(&self, env: &Environment, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn signing_keys(&self, env_id: &str) -> Result<Vec<SigningKey>, StoreError>;
    /// Retires the environment's active keys at `new.created_at` and adds `new`.
    async fn rotate_signing_key(&self, new: &SigningKey, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn create_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn service_user_by_name(&self, env_id: &str, username: &str) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_user(&self, env_id: &str, id: &str) -> Result<Option<ServiceUser>, StoreError>;
    async fn service_users(&self, env_id: &str) -> Result<Vec<ServiceUser>, StoreError>;
    async fn update_service_user(&self, user: &ServiceUser, audit: &AuditEvent) -> Result<(), StoreError>;

    /// Creates an account together with its first session and/or sign-in link.
    async fn create_account(
        &self,
        account: &Account,
        session: Option<&Session>,
        link: Option<&LoginToken>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    async fn account(&self, env_id: &str, id: &str) -> Result<Option<Account>, StoreError>;
    async fn account_by_email(&self, env_id: &str, email_normalized: &str) -> Result<Option<Account>, StoreError>;
    /// Accounts of an environment ordered by id, filtered by `query`.
    async fn accounts(&self, env_id: &str, query: &AccountQuery) -> Result<Vec<Account>, StoreError>;
    /// Writes only the columns `update` sets, so concurrent edits of other
    /// fields survive; a new password hash also ends all the account's
    /// sessions. Returns the account as stored afterwards.
    async fn update_account(&self, env_id: &str, id: &str, update: &AccountUpdate, audit: &AuditEvent) -> Result<Account, StoreError>;
    /// Opens `session` only if the account's password hash is still
    /// `verified_hash`, replacing it with `rehash` if given; `false` when the
    /// password changed meanwhile (the change wins over a racing login).
    async fn open_session_checked(&self, session: &Session, verified_hash: &str, rehash: Option<&str>) -> Result<bool, StoreError>;
    /// Deletes an account and its sessions. `NotFound` if it did not exist.
    async fn delete_account(&self, env_id: &str, id: &str, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    async fn session(&self, env_id: &str, token_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Ends a session; `false` if there was none.
    async fn delete_session(&self, env_id: &str, token_hash: &str) -> Result<bool, StoreError>;

    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;

    async fn create_partner(&self, partner: &Partner, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn partner(&self, id: &str) -> Result<Option<Partner>, StoreError>;
    /// Partners, of one environment or all, oldest first.
    async fn partners(&self, env_id: Option<&str>) -> Result<Vec<Partner>, StoreError>;
    async fn set_partner_status(&self, id: &str, status: PartnerStatus, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;

    async fn create_api_key(&self, key: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A key (live or not) with its partner, by the key's SHA-256.
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKey, Partner)>, StoreError>;
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>, StoreError>;
    async fn api_keys(&self, partner_id: &str) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key now. `NotFound` if there is no such key.
    async fn revoke_api_key(&self, key_id: &str, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Adds `new` and makes `old_key_id` expire at `old_expires_at`, together.
    async fn rotate_api_key(&self, old_key_id: &str, old_expires_at: Millis, new: &ApiKey, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn touch_api_key(&self, key_id: &str, now: Millis) -> Result<(), StoreError>;

    async fn create_login_token(&self, token: &LoginToken) -> Result<(), StoreError>;
    /// Creates accounts with their sign-in links and audit events in one
    /// transaction; an account whose email is taken is skipped (`false`).
    async fn create_vendor_app(&self, app: &VendorApp, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn vendor_app(&self, env_id: &str, id: &str) -> Result<Option<VendorApp>, StoreError>;
    /// The apps an account registered, oldest first.
    async fn vendor_apps(&self, env_id: &str, account_id: &str) -> Result<Vec<VendorApp>, StoreError>;
    async fn vendor_app_by_key_hash(&self, key_hash: &str) -> Result<Option<VendorApp>, StoreError>;
    /// Replaces an app's key; the previous one stops working at once.
    async fn set_vendor_key(&self, app_id: &str, key_id: &str, key_hash: &str, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Records consent unless it already stands (the first grant time is kept).
    async fn create_grant(&self, grant: &Grant, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn grant(&self, account_id: &str, app_id: &str) -> Result<Option<Grant>, StoreError>;
    async fn grants(&self, env_id: &str, account_id: &str) -> Result<Vec<Grant>, StoreError>;
    /// Ends an app's access. `NotFound` if there was no grant.
    async fn delete_grant(&self, account_id: &str, app_id: &str, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn create_auth_code(&self, code: &AuthCode) -> Result<(), StoreError>;
    /// Marks a live code used and returns it; `None` if unknown, used or expired.
    async fn redeem_auth_code(&self, code_hash: &str, now: Millis) -> Result<Option<AuthCode>, StoreError>;

    /// Adds counts to the usage table (upsert).
    async fn add_usage(&self, rows: &[UsageRow]) -> Result<(), StoreError>;
    /// A partner's usage rows with `from <= minute < to`.
    async fn usage(&self, partner_id: &str, from: Millis, to: Millis) -> Result<Vec<UsageRow>, StoreError>;
    /// Per key with traffic since `window_start`: requests since then, and in `[trailing_start, window_start)`.
    async fn key_activity(&self, trailing_start: Millis, window_start: Millis) -> Result<Vec<KeyActivity>, StoreError>;
    async fn create_alert(&self, alert: &Alert, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn set_alert_delivery(&self, id: &str, delivery: &str, attempts: i64, delivered_at: Option<Millis>) -> Result<(), StoreError>;
    /// Alerts, newest first.
    async fn alerts(&self, limit: u32) -> Result<Vec<Alert>, StoreError>;

    async fn create_accounts_batch(&self, entries: &[(Account, LoginToken, AuditEvent)]) -> Result<Vec<bool>, StoreError>;
    /// Marks a sign-in link used (once, even under concurrency) and opens
    /// `session` for its account in the same transaction; `session.account_id`
    /// is filled in from the link.
    async fn redeem_login_token(&self, env_id: &str, token_hash: &str, now: Millis, session: &Session) -> Result<Redeemed, StoreError>;

    /// Inserts `record` unless its key exists (and is younger than
    /// `expired_before`); returns the existing record if there is one.
    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
        expired_before: Millis,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    async fn complete_idempotency_key(&self, env_id: &str, key_hash: &str, status: i64, body: &[u8]) -> Result<(), StoreError>;
    async fn release_idempotency_key(&self, env_id: &str, key_hash: &str) -> Result<(), StoreError>;
    /// Deletes expired sessions and idempotency keys older than `idempotency_before`.
    async fn purge_expired(&self, now: Millis, idempotency_before: Millis) -> Result<u64, StoreError>;
}
