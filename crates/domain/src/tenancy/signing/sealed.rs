//! Signing seeds at rest. A seed is stored as `sealed:v1:` followed by
//! [`seal`]'s output (nonce and ChaCha20-Poly1305 ciphertext) under the
//! master key's `"signing-seeds"` key, with the key id and environment as
//! associated data: a sealed seed copied onto another key's row does not
//! open. Versions before sealing stored the raw 32-byte seed; start-up seals
//! those ([`SeedSealer::upgrade`]), and nothing else ever opens one, so a
//! plaintext key slipped into the database signs nothing.

use std::fmt;

use super::SigningKey;
use crate::error::DomainError;
use crate::ids::EnvId;
use crate::infra::master_key::MasterKey;
use crate::infra::seal::{seal, unseal};

/// What every sealed seed starts with; the version names the format.
pub const SEALED_PREFIX: &[u8] = b"sealed:v1:";

/// A signing key's seed as the database holds it: sealed, or the plaintext
/// an earlier version wrote (until start-up seals it).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSeed(Vec<u8>);

impl StoredSeed {
    /// The column's bytes, as read; for the store.
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to write; for the store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the seed is sealed (else it is an earlier version's plaintext).
    pub fn is_sealed(&self) -> bool {
        self.0.starts_with(SEALED_PREFIX)
    }
}

impl fmt::Debug for StoredSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_sealed() {
            "StoredSeed(sealed)"
        } else {
            "StoredSeed(plaintext)"
        })
    }
}

/// Seals and opens signing seeds under the master key's `"signing-seeds"` key.
pub struct SeedSealer {
    key: [u8; 32],
}

impl fmt::Debug for SeedSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeedSealer([redacted])")
    }
}

/// The associated data: the key id and environment, length-prefixed so that
/// no two pairs give the same bytes.
fn associated_data(kid: &str, env_id: &EnvId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + kid.len() + env_id.as_str().len());
    for part in [kid.as_bytes(), env_id.as_str().as_bytes()] {
        aad.extend((part.len() as u64).to_be_bytes());
        aad.extend(part);
    }
    aad
}

impl SeedSealer {
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: master.derive("signing-seeds"),
        }
    }

    /// The stored form of `seed` for key `kid` of `env_id`.
    pub fn seal(&self, kid: &str, env_id: &EnvId, seed: &[u8; 32]) -> StoredSeed {
        let mut out = SEALED_PREFIX.to_vec();
        out.extend(seal(&self.key, &associated_data(kid, env_id), seed));
        StoredSeed(out)
    }

    /// The seed of a stored key.
    ///
    /// # Errors
    /// `Internal` when the seed is not sealed, or does not open under this
    /// master key for this key id and environment.
    pub fn open(&self, key: &SigningKey) -> Result<[u8; 32], DomainError> {
        let refused = |why: &str| DomainError::Internal(format!("signing key {}: {why}", key.kid).into());
        let body = key
            .seed
            .as_bytes()
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| refused("its seed is not sealed"))?;
        let plain = unseal(&self.key, &associated_data(&key.kid, &key.env_id), body)
            .ok_or_else(|| refused("its seed does not open under this master key"))?;
        plain.try_into().map_err(|_| refused("its seed is not 32 bytes"))
    }

    /// The sealed version of a key an earlier version stored in plaintext;
    /// `None` for a key already sealed, or one whose plaintext is not a seed.
    pub fn upgrade(&self, key: &SigningKey) -> Option<StoredSeed> {
        if key.seed.is_sealed() {
            return None;
        }
        let seed: &[u8; 32] = key.seed.as_bytes().try_into().ok()?;
        Some(self.seal(&key.kid, &key.env_id, seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, env: &str, seed: StoredSeed) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            env_id: env.into(),
            alg: crate::tenancy::signing::KeyAlg::EdDsa,
            seed,
            created_at: 1,
            retired_at: None,
        }
    }

    #[test]
    fn sealed_seeds_open_only_for_their_key_environment_and_master_key() {
        let sealer = SeedSealer::new(&MasterKey::parse(&"A".repeat(43)).unwrap());
        let seed = [9u8; 32];
        let stored = sealer.seal("k_1", &"e1".into(), &seed);
        assert!(stored.as_bytes().starts_with(b"sealed:v1:"));
        assert!(!stored.as_bytes().windows(32).any(|w| w == seed), "no plaintext inside");
        assert_eq!(sealer.open(&key("k_1", "e1", stored.clone())).unwrap(), seed);
        assert!(sealer.open(&key("k_2", "e1", stored.clone())).is_err(), "another kid");
        assert!(sealer.open(&key("k_1", "e2", stored.clone())).is_err(), "another environment");
        let (other, _) = MasterKey::generate();
        assert!(
            SeedSealer::new(&other).open(&key("k_1", "e1", stored)).is_err(),
            "another master key"
        );
        assert!(
            sealer.open(&key("k_1", "e1", StoredSeed::from_stored(seed.to_vec()))).is_err(),
            "plaintext"
        );
    }

    #[test]
    fn upgrade_seals_plaintext_once() {
        let sealer = SeedSealer::new(&MasterKey::generate().0);
        let plain = key("k_1", "e1", StoredSeed::from_stored(vec![3; 32]));
        assert_eq!(format!("{:?}", plain.seed), "StoredSeed(plaintext)");
        let sealed = sealer.upgrade(&plain).unwrap();
        assert_eq!(format!("{sealed:?}"), "StoredSeed(sealed)");
        let upgraded = key("k_1", "e1", sealed);
        assert_eq!(sealer.open(&upgraded).unwrap(), [3; 32]);
        assert!(sealer.upgrade(&upgraded).is_none(), "already sealed");
        assert!(sealer.upgrade(&key("k_1", "e1", StoredSeed::from_stored(vec![3; 31]))).is_none());
    }
}
