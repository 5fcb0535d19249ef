//! A member's work on their partner's API keys: the same operations as the
//! operator's and the partner API's, each first making sure the key is the
//! member's partner's (another partner's key is not found) and that the
//! partner is approved.

use std::time::Duration;

use crate::error::{DomainError, FieldCode};
use crate::ids::KeyId;
use crate::partners::service::{IssuedKey, PartnerPrincipal};
use crate::partners::{ApiKey, Scope};
use crate::portal::Member;
use crate::portal::service::{Portal, require_approved};

/// The longest lifetime a member may give a key.
pub const MAX_KEY_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

impl Portal {
    /// The partner's keys, live or not.
    ///
    /// # Errors
    /// `PartnerNotApproved`; storage failures.
    pub async fn keys(&self, member: &Member) -> Result<Vec<ApiKey>, DomainError> {
        require_approved(member)?;
        Ok(self.store.api_keys(&member.partner.id).await?)
    }

    /// One of the partner's keys; another partner's is not found.
    async fn own_key(&self, member: &Member, key_id: &KeyId) -> Result<ApiKey, DomainError> {
        require_approved(member)?;
        self.store
            .api_key(key_id)
            .await?
            .filter(|k| k.partner_id == member.partner.id)
            .ok_or(DomainError::NotFound("api key"))
    }

    /// Issues a key with the chosen scopes (at least one) and lifetime
    /// (none: until revoked); the secret is shown once.
    ///
    /// # Errors
    /// `Validation` for no scope or a lifetime out of range,
    /// `PartnerNotApproved`.
    pub async fn create_key(&self, member: &Member, scopes: &[Scope], expires_in: Option<Duration>) -> Result<IssuedKey, DomainError> {
        require_approved(member)?;
        if scopes.is_empty() {
            return Err(DomainError::invalid("scopes", FieldCode::Required, "choose at least one scope"));
        }
        if expires_in.is_some_and(|d| d.is_zero() || d > MAX_KEY_LIFETIME) {
            return Err(DomainError::invalid(
                "expires_in",
                FieldCode::OutOfRange,
                "a key lasts between 1 day and 366 days, or until revoked",
            ));
        }
        let names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        self.partners
            .issue_api_key(&member.actor(), &member.partner.id, &names, expires_in)
            .await
    }

    /// Rotates a live key: a new key with the same scopes and lifetime;
    /// the old one keeps working for `grace` (0 to 7 days).
    ///
    /// # Errors
    /// `NotFound("api key")`, `KeyAlreadyRotated`, `Conflict` for a revoked
    /// or expired key, `Validation` for the grace period.
    pub async fn rotate_key(&self, member: &Member, key_id: &KeyId, grace: Duration) -> Result<IssuedKey, DomainError> {
        let key = self.own_key(member, key_id).await?;
        if key.retires_at.is_some() || key.rotated_to.is_some() {
            return Err(DomainError::KeyAlreadyRotated);
        }
        if !key.is_live(self.clock.now_ms()) {
            return Err(DomainError::Conflict("this key is revoked or expired: create a new one".into()));
        }
        let principal = PartnerPrincipal {
            key,
            partner: member.partner.clone(),
        };
        let (issued, _) = self.partners.rotate_api_key(&member.actor(), &principal, grace).await?;
        Ok(issued)
    }

    /// Revokes a key at once (and what its rotation minted, if it was
    /// retiring).
    ///
    /// # Errors
    /// `NotFound("api key")`, `PartnerNotApproved`.
    pub async fn revoke_key(&self, member: &Member, key_id: &KeyId) -> Result<ApiKey, DomainError> {
        let key = self.own_key(member, key_id).await?;
        self.partners.revoke_api_key(&member.actor(), &key.key_id).await
    }
}
