//! What sign-in links need from storage.

use async_trait::async_trait;

use crate::accounts::Session;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::{AccountId, EnvId};
use crate::signin_links::{LinkState, LoginToken, Redeemed};
use crate::store::StoreError;

#[async_trait]
pub trait SigninLinkStore: Send + Sync {
    async fn create_login_token(&self, token: &LoginToken) -> Result<(), StoreError>;
    /// Marks a sign-in link used (once, even under concurrency) and opens
    /// `session` for its account in the same transaction; `session.account_id`
    /// is filled in from the link, and `audit` is written completed with the
    /// link's account ([`AuditEvent::about_account`]).
    async fn redeem_login_token(
        &self,
        env_id: &EnvId,
        token_hash: &str,
        now: Millis,
        session: &Session,
        audit: &AuditEvent,
    ) -> Result<Redeemed, StoreError>;
    /// The newest stored sign-in link of each of `account_ids` that has
    /// one, in `env_id`.
    async fn latest_login_links(&self, env_id: &EnvId, account_ids: &[AccountId]) -> Result<Vec<LinkState>, StoreError>;
}
