//! Authenticated encryption of small records at rest (ChaCha20-Poly1305,
//! a random nonce in front of the ciphertext).

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

use crate::infra::secret::random_bytes;

const NONCE: usize = 12;

/// `plain` sealed under `key`: nonce ‖ ciphertext ‖ tag.
pub fn seal(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new_from_slice(key).expect("32-byte key");
    let nonce_bytes = random_bytes::<NONCE>();
    let nonce = Nonce::try_from(&nonce_bytes[..]).expect("12-byte nonce");
    let mut out = nonce_bytes.to_vec();
    out.extend(cipher.encrypt(&nonce, plain).expect("in-memory encryption"));
    out
}

/// The plaintext, or `None` for another key or altered bytes.
pub fn unseal(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE {
        return None;
    }
    let cipher = ChaCha20Poly1305::new_from_slice(key).ok()?;
    let nonce = Nonce::try_from(&sealed[..NONCE]).ok()?;
    cipher.decrypt(&nonce, &sealed[NONCE..]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"onr_app_test_x");
        assert_ne!(seal(&key, b"onr_app_test_x"), sealed, "a fresh nonce each time");
        assert_eq!(unseal(&key, &sealed).unwrap(), b"onr_app_test_x");
        assert!(unseal(&[8u8; 32], &sealed).is_none());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(unseal(&key, &altered).is_none());
        assert!(unseal(&key, b"short").is_none());
    }
}
