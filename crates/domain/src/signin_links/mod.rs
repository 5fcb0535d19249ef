//! Sign-in links: one-time tokens that open a session for an account.

use crate::clock::Millis;
use crate::ids::{AccountId, EnvId};

pub mod store;

/// A one-time sign-in link; only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    pub token_hash: String,
    pub env_id: EnvId,
    pub account_id: AccountId,
    pub redirect: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// The outcome of redeeming a sign-in link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The link was live and is now used; a session is open for the account.
    Ok {
        account_id: AccountId,
        redirect: String,
    },
    Unknown,
    AlreadyUsed,
    Expired,
    /// The link is live but its account is deactivated; the link stays
    /// unused (it works again if the account is reactivated before it expires).
    AccountDisabled,
}

/// Where an account's newest stored sign-in link stands (links are purged
/// some minutes after they expire, used or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub account_id: AccountId,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}
