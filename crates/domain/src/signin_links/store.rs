//! What sign-in links need from storage.

use async_trait::async_trait;

use crate::accounts::Session;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::ids::EnvId;
use crate::signin_links::{LoginToken, Redeemed};
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
}
