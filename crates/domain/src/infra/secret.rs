//! Secrets: random token generation, hashing at rest, constant-time
//! comparison, and a wrapper that never prints its content.

use std::fmt;

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret string (password, token). `Debug` and `Display` print `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself: call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `prefix` followed by `len` random base62 characters from the OS generator.
pub fn random_token(prefix: &str, len: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    out.extend(rand::rng().sample_iter(Alphanumeric).take(len).map(char::from));
    out
}

/// `n` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rng().fill(&mut out[..]);
    out
}

/// SHA-256 of a high-entropy token, hex-encoded: how tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A random password for a generated credential: 24 base62 characters.
pub fn generate_password() -> Secret {
    Secret::new(random_token("", 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = random_token("onr_sess_", 32);
        assert!(a.starts_with("onr_sess_") && a.len() == 41);
        assert_ne!(a, random_token("onr_sess_", 32));
        assert_eq!(token_hash("x").len(), 64);
        assert_eq!(format!("{:?}", Secret::new("hunter22".into())), "[redacted]");
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd"));
    }

    /// Stored hashes must never change, or every key and session stops
    /// working. Expected values computed independently with Python's
    /// `hashlib.sha256(token.encode()).hexdigest()` (the first two are also
    /// the FIPS 180-2 examples).
    #[test]
    fn token_hash_is_lowercase_hex_sha256() {
        for (token, hash) in [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "onr_test_4bZkQv9XcL2mT7rW1yN8pE5sH3jK6dFa_1x9Q",
                "24e97fed5cc568bd5299496ac8a1c49dac5c92f8e551a357561f9d8cc125457c",
            ),
        ] {
            assert_eq!(token_hash(token), hash, "{token:?}");
        }
    }
}
