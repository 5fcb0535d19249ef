//! Idempotency keys (CONVENTIONS §3): the same key with the same request
//! replays the first response; with a different request it is refused.
//!
//! Responses can hold secrets (a signup's session token), so a stored
//! response is sealed (ChaCha20-Poly1305) under a key derived from the
//! server's master key, the credential and the Idempotency-Key, and the
//! record is found by a hash of the credential and key. Both of those are
//! guessable (`order-4711`), so without the master key's part someone who
//! reads the database could open every response; with it, a dump alone
//! opens none.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode};
use crate::idempotency::IdempotencyRecord;
use crate::ids::EnvId;
use crate::infra::master_key::MasterKey;
use crate::infra::seal::{seal, unseal};
use crate::store::Store;
use crate::tenancy::Tenant;

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How long a claim may stay "in progress". A request whose client went
/// away releases its claim at once; this lease only matters when a node
/// died mid-request, and must outlast the slowest request (a full batch
/// waiting for the hashing queue), or a retry would run the request twice.
pub const IN_PROGRESS_LEASE: Duration = Duration::from_secs(5 * 60);

/// A claimed key, to complete with the response or release on failure.
#[derive(Debug)]
pub struct Claim {
    env_id: EnvId,
    key_hash: String,
    /// When the claim was made: completing or releasing touches the record
    /// only while it is still this claim, not a later one that took over an
    /// abandoned key.
    claimed_at: Millis,
    cipher_key: [u8; 32],
}

/// What to do with a request that carries an Idempotency-Key.
#[derive(Debug)]
pub enum Begin {
    /// First use: run the request, then [`Idempotency::idempotency_complete`].
    Fresh(Claim),
    /// Seen before with the same request: answer this.
    Replay { status: u16, body: Vec<u8> },
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The key a response is sealed under: HMAC, keyed by the master key's
/// `"idempotency"` key, of the credential and the Idempotency-Key
/// (length-prefixed, as [`digest`] does).
fn cipher_key(secret: &[u8; 32], credential: &str, key: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    for part in [b"cipher".as_slice(), credential.as_bytes(), key.as_bytes()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Idempotency keys: claims, replays and completions.
pub struct Idempotency {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The master key's `"idempotency"` key.
    secret: [u8; 32],
}

impl Idempotency {
    pub(crate) fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, master_key: &MasterKey) -> Self {
        Self {
            store,
            clock,
            secret: master_key.derive("idempotency"),
        }
    }

    /// Claims `key` for this credential, or finds the response it already has.
    ///
    /// # Errors
    /// `Validation` for a malformed key, `IdempotencyKeyReused` when the key
    /// was used with another request, `Conflict` while the first request
    /// runs, `IdempotencyResponseUnreadable` when the first response was
    /// stored under another secret.
    pub async fn idempotency_begin(
        &self,
        tenant: &Tenant,
        credential: &str,
        key: &str,
        route: &str,
        body: &[u8],
    ) -> Result<Begin, DomainError> {
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                "Idempotency-Key",
                FieldCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        let key_hash = hex(&digest(&[b"lookup", credential.as_bytes(), key.as_bytes()]));
        let cipher_key = cipher_key(&self.secret, credential, key);
        let fingerprint = hex(&digest(&[route.as_bytes(), body]));
        let now = self.clock.now_ms();
        let record = IdempotencyRecord {
            env_id: tenant.env.id.clone(),
            key_hash,
            fingerprint,
            status: 0,
            body: Vec::new(),
            created_at: now,
        };
        let expired_before = now - KEY_LIFETIME.as_millis() as i64;
        let abandoned_before = now - IN_PROGRESS_LEASE.as_millis() as i64;
        match self.claim_or_find(&record, expired_before, abandoned_before).await? {
            None => Ok(Begin::Fresh(Claim {
                env_id: record.env_id,
                key_hash: record.key_hash,
                claimed_at: now,
                cipher_key,
            })),
            Some(found) if found.fingerprint != record.fingerprint => Err(DomainError::IdempotencyKeyReused),
            Some(found) if found.status == 0 => Err(DomainError::Conflict(
                "a request with this Idempotency-Key is still in progress; retry shortly".into(),
            )),
            Some(found) => {
                // Sealed before the master key was part of the derivation (a
                // response stored by an earlier version, within its 24 hours).
                // The first request did complete, so running it again could
                // do its work twice (a second account or batch): the
                // key is spent, and the caller is told so and checks the
                // outcome before retrying with a new key.
                let body = unseal(&cipher_key, b"", &found.body).ok_or(DomainError::IdempotencyResponseUnreadable)?;
                Ok(Begin::Replay {
                    status: found.status as u16,
                    body,
                })
            }
        }
    }

    /// `None` when this request claimed the key, else the record holding it.
    /// A claim that loses reads the record that won; if that record vanished
    /// in between (its request was released), the key is free and is claimed
    /// again: running the request without holding the key would lose its
    /// response, and the retry after it would run the request a second time.
    /// Each turn needs another request to release the key in that instant,
    /// so a few turns do.
    async fn claim_or_find(
        &self,
        record: &IdempotencyRecord,
        expired_before: Millis,
        abandoned_before: Millis,
    ) -> Result<Option<IdempotencyRecord>, DomainError> {
        for _ in 0..3 {
            if self.store.claim_idempotency_key(record, expired_before, abandoned_before).await? {
                return Ok(None);
            }
            if let Some(found) = self.store.idempotency_key(&record.env_id, &record.key_hash).await? {
                return Ok(Some(found));
            }
        }
        Err(DomainError::Conflict(
            "a request with this Idempotency-Key is still in progress; retry shortly".into(),
        ))
    }

    /// Stores the response of a claimed request for replay.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn idempotency_complete(&self, claim: Claim, status: u16, body: &[u8]) -> Result<(), DomainError> {
        let sealed = seal(&claim.cipher_key, b"", body);
        Ok(self
            .store
            .complete_idempotency_key(&claim.env_id, &claim.key_hash, claim.claimed_at, i64::from(status), &sealed)
            .await?)
    }

    /// Forgets a claim whose request failed in a way worth retrying.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn idempotency_release(&self, claim: Claim) -> Result<(), DomainError> {
        Ok(self
            .store
            .release_idempotency_key(&claim.env_id, &claim.key_hash, claim.claimed_at)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cipher_key_depends_on_the_server_secret_credential_and_key() {
        let (one, two) = (MasterKey::generate().0, MasterKey::generate().0);
        let k = |m: &MasterKey, c: &str, i: &str| cipher_key(&m.derive("idempotency"), c, i);
        let sealed = seal(&k(&one, "svc:1", "order-4711"), b"", b"{\"client_token\":\"onr_sess_x\"}");
        assert!(unseal(&k(&one, "svc:1", "order-4711"), b"", &sealed).is_some());
        assert!(
            unseal(&k(&two, "svc:1", "order-4711"), b"", &sealed).is_none(),
            "another server secret"
        );
        assert!(
            unseal(&k(&one, "svc:2", "order-4711"), b"", &sealed).is_none(),
            "another credential"
        );
        assert!(unseal(&k(&one, "svc:1", "order-4712"), b"", &sealed).is_none(), "another key");
        // The derivation of earlier versions, from the guessable parts only, no longer opens it.
        let unkeyed = digest(&[b"cipher", b"svc:1", b"order-4711"]);
        assert!(unseal(&unkeyed, b"", &sealed).is_none());
        // Length prefixes: moving a character between the parts changes the key.
        assert_ne!(k(&one, "svc:1o", "rder-4711"), k(&one, "svc:1", "order-4711"));
    }
}
