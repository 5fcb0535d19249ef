//! What client accounts and their sessions need from storage.

use async_trait::async_trait;

use crate::accounts::{Account, AccountQuery, AccountUpdate, Session};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AccountId, EnvId};
use crate::signin_links::LoginToken;
use crate::store::StoreError;

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account together with its first session and/or sign-in link.
    async fn create_account(
        &self,
        account: &Account,
        session: Option<&Session>,
        link: Option<&LoginToken>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Creates accounts with their sign-in links and audit events in one
    /// transaction; an account whose email is taken is skipped (`false`).
    async fn create_accounts_batch(&self, entries: &[(Account, LoginToken, AuditEvent)]) -> Result<Vec<bool>, StoreError>;
    async fn account(&self, env_id: &EnvId, id: &AccountId) -> Result<Option<Account>, StoreError>;
    async fn account_by_email(&self, env_id: &EnvId, email_normalized: &str) -> Result<Option<Account>, StoreError>;
    /// Accounts of an environment ordered by id, filtered by `query`.
    async fn accounts(&self, env_id: &EnvId, query: &AccountQuery) -> Result<Vec<Account>, StoreError>;
    /// Writes only the columns `update` sets, so concurrent edits of other
    /// fields survive; a new password hash or a deactivation also ends all
    /// the account's sessions. Returns the account as stored afterwards.
    async fn update_account(
        &self,
        env_id: &EnvId,
        id: &AccountId,
        update: &AccountUpdate,
        audit: &AuditEvent,
    ) -> Result<Account, StoreError>;
    /// Deletes an account and its sessions. `NotFound` if it did not exist.
    async fn delete_account(&self, env_id: &EnvId, id: &AccountId, audit: &AuditEvent) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// Opens `session` only if the account is active and its password hash
    /// is still `verified_hash`, replacing it with `rehash` if given; `false`
    /// when the password changed or the account was deactivated meanwhile
    /// (the change wins over a racing login).
    async fn open_session_checked(&self, session: &Session, verified_hash: &str, rehash: Option<&str>) -> Result<bool, StoreError>;
    async fn session(&self, env_id: &EnvId, token_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Ends a session; `false` if there was none.
    async fn delete_session(&self, env_id: &EnvId, token_hash: &str) -> Result<bool, StoreError>;
    /// The account's sessions not expired at `now`: how many, and the newest's start.
    async fn live_sessions(&self, env_id: &EnvId, account_id: &AccountId, now: Millis) -> Result<(u64, Option<Millis>), StoreError>;
    /// Ends every session of the account, with `audit`; returns how many.
    async fn end_account_sessions(&self, env_id: &EnvId, account_id: &AccountId, audit: &AuditEvent) -> Result<u64, StoreError>;
    /// Leaves a sealed note for the session's next page, replacing one not
    /// yet taken; it ends with the session.
    async fn put_flash(&self, env_id: &EnvId, token_hash: &str, sealed: &[u8], expires_at: Millis) -> Result<(), StoreError>;
    /// Deletes the session's note and returns it unless it expired by `now`.
    async fn take_flash(&self, env_id: &EnvId, token_hash: &str, now: Millis) -> Result<Option<Vec<u8>>, StoreError>;
}
