//! The server's master key: 32 random bytes kept outside the database, from
//! which every key that protects a secret at rest is derived.
//!
//! The key is never used directly: [`MasterKey::derive`] gives one
//! independent key per purpose (`"signing-seeds"`, `"idempotency"`, …), so a
//! key leaked for one purpose says nothing about the others, and the master
//! key itself never leaves this type (no accessor, `Debug` is redacted).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::infra::secret::random_bytes;

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;

/// The master key. Built from its file text ([`MasterKey::parse`]) or freshly
/// generated ([`MasterKey::generate`]); used only through [`MasterKey::derive`].
pub struct MasterKey([u8; KEY_LEN]);

/// Why a master key file's text is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key is not base64 (standard alphabet)")]
    NotBase64,
    #[error("the master key is {0} bytes; it must be exactly 32 (44 base64 characters)")]
    WrongLength(usize),
}

impl MasterKey {
    /// A fresh random key and the text of its file (base64, one line).
    pub fn generate() -> (Self, String) {
        let key = Self(random_bytes::<KEY_LEN>());
        let text = format!("{}\n", STANDARD.encode(key.0));
        (key, text)
    }

    /// Reads a key file's text: the 32 bytes in standard base64, with or
    /// without padding; surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`MasterKeyError`] for text that is not base64 of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| MasterKeyError::NotBase64)?;
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| MasterKeyError::WrongLength(b.len()))?;
        Ok(Self(bytes))
    }

    /// The key for one purpose: HMAC-SHA256(master key, purpose). Purposes
    /// are fixed strings of the code (`"signing-seeds"`, `"idempotency"`,
    /// `"check"`, …); different purposes give independent keys.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"onramp master key v1\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// What the database keeps to recognise this key: a MAC of a fixed label
    /// under the `"check"` key, which reveals nothing about the others.
    pub fn check_value(&self) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.derive("check")).expect("HMAC takes any key length");
        mac.update(b"this database is sealed with this master key");
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_stable_and_separates_purposes_and_keys() {
        let a = MasterKey([1; 32]);
        let b = MasterKey([2; 32]);
        assert_eq!(a.derive("idempotency"), a.derive("idempotency"));
        assert_ne!(a.derive("idempotency"), a.derive("signing-seeds"));
        assert_ne!(a.derive("idempotency"), b.derive("idempotency"));
        assert_ne!(a.check_value(), b.check_value());
        assert_eq!(a.check_value().len(), 64);
        // Pinned: a change would make every sealed seed unreadable. Computed
        // independently: Python `hmac.new(bytes([1]*32),
        // b"onramp master key v1\x00idempotency", "sha256").hexdigest()`.
        assert_eq!(
            hex::encode(a.derive("idempotency")),
            "677b3928c5817fe381372e15691fd205e9e55ac834c31527d8f03d01d6756026"
        );
    }

    #[test]
    fn parse_accepts_its_own_file_and_refuses_the_wrong_length() {
        let (key, text) = MasterKey::generate();
        assert_eq!(text.trim().len(), 44);
        let again = MasterKey::parse(&text).unwrap();
        assert_eq!(key.derive("x"), again.derive("x"));
        assert_eq!(
            MasterKey::parse(text.trim().trim_end_matches('=')).unwrap().derive("x"),
            key.derive("x")
        );
        assert_eq!(
            MasterKey::parse(&STANDARD.encode([0u8; 16])).unwrap_err(),
            MasterKeyError::WrongLength(16)
        );
        assert_eq!(
            MasterKey::parse(&hex::encode([0u8; 32])).unwrap_err(),
            MasterKeyError::WrongLength(48)
        );
        assert_eq!(MasterKey::parse("not base64!").unwrap_err(), MasterKeyError::NotBase64);
        assert_eq!(MasterKey::parse("").unwrap_err(), MasterKeyError::WrongLength(0));
        assert_eq!(format!("{key:?}"), "[redacted]");
    }
}
