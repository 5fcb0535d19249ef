//! Authenticated encryption of secrets at rest: ChaCha20-Poly1305 with a
//! random 96-bit nonce, stored as `nonce || ciphertext+tag`. The one place
//! that encrypts anything the server stores (signing seeds, remembered
//! idempotent responses).
//!
//! Random nonces are safe here: each key seals far fewer than 2^32
//! messages (a signing seed per key rotation; responses under per-request
//! keys).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

use crate::infra::secret::random_bytes;

const NONCE_LEN: usize = 12;

/// Encrypts `plain` under `key`, binding `aad` (data that is not secret but
/// must match when opening, e.g. the id of the row the secret belongs to).
pub fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(key.into());
    let nonce_bytes = random_bytes::<NONCE_LEN>();
    let nonce = Nonce::from(nonce_bytes);
    let mut out = nonce_bytes.to_vec();
    out.extend(
        cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .expect("in-memory encryption cannot fail"),
    );
    out
}

/// Opens what [`seal`] made; `None` when the key or `aad` differ, or the
/// bytes were changed or cut.
pub fn unseal(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
    let nonce = Nonce::try_from(nonce).ok()?;
    ChaCha20Poly1305::new(key.into()).decrypt(&nonce, Payload { msg: body, aad }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_mismatch_refused() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"kid-1", b"secret response");
        assert_eq!(sealed.len(), 12 + 15 + 16);
        assert_eq!(unseal(&key, b"kid-1", &sealed).unwrap(), b"secret response");
        assert!(unseal(&[8u8; 32], b"kid-1", &sealed).is_none(), "another key");
        assert!(unseal(&key, b"kid-2", &sealed).is_none(), "other associated data");
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(unseal(&key, b"kid-1", &flipped).is_none(), "a changed byte");
        assert!(unseal(&key, b"kid-1", &sealed[..sealed.len() - 1]).is_none(), "cut short");
        assert!(unseal(&key, b"kid-1", &sealed[..5]).is_none(), "shorter than a nonce");
        assert_ne!(seal(&key, b"kid-1", b"secret response"), sealed, "a fresh nonce each time");
    }
}
