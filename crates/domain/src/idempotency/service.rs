//! Idempotency keys (CONVENTIONS §3): the same key with the same request
//! replays the first response; with a different request it is refused.
//!
//! Responses can hold secrets (a signup's session token), so a stored
//! response is encrypted (ChaCha20-Poly1305) under a key derived from the
//! caller's Idempotency-Key, and the record is found by a hash of that key:
//! someone who reads the database cannot read the responses without the keys.

use std::sync::Arc;
use std::time::Duration;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use sha2::{Digest, Sha256};

use crate::clock::{Clock, Millis};
use crate::error::{DomainError, FieldCode};
use crate::idempotency::IdempotencyRecord;
use crate::ids::EnvId;
use crate::infra::secret::random_bytes;
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
    /// First use: run the request, then [`Core::idempotency_complete`].
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

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Idempotency keys: claims, replays and completions.
pub struct Idempotency {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Idempotency {
    pub(crate) fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Claims `key` for this credential, or finds the response it already has.
    ///
    /// # Errors
    /// `Validation` for a malformed key, `IdempotencyKeyReused` when the key
    /// was used with another request, `Conflict` while the first request runs.
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
        let cipher_key = digest(&[b"cipher", credential.as_bytes(), key.as_bytes()]);
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
                let body =
                    decrypt(&cipher_key, &found.body).ok_or_else(|| DomainError::Internal("stored response does not decrypt".into()))?;
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
        let sealed = encrypt(&claim.cipher_key, body);
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

fn encrypt(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).expect("32-byte key");
    let nonce_bytes = random_bytes::<12>();
    let nonce = Nonce::try_from(&nonce_bytes[..]).expect("12-byte nonce");
    let mut out = nonce_bytes.to_vec();
    out.extend(cipher.encrypt(&nonce, plain).expect("in-memory encryption"));
    out
}

fn decrypt(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let cipher = ChaCha20Poly1305::new_from_slice(key).ok()?;
    let nonce = Nonce::try_from(&sealed[..12]).ok()?;
    cipher.decrypt(&nonce, &sealed[12..]).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn seal_round_trip() {
        let key = [7u8; 32];
        let sealed = super::encrypt(&key, b"secret response");
        assert_eq!(super::decrypt(&key, &sealed).unwrap(), b"secret response");
        assert!(super::decrypt(&[8u8; 32], &sealed).is_none());
    }
}
