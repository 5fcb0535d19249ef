//! The second factor: TOTP (RFC 6238 with SHA-1, 6 digits and 30-second
//! steps, what every authenticator app speaks; a code of the step before
//! or after is accepted for clock drift) and single-use recovery codes.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use totp_rs::{Builder, Totp};

use crate::clock::Millis;
use crate::infra::secret::{random_bytes, random_token};

/// Seconds a code lasts.
pub const STEP_SECONDS: u64 = 30;
/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret: 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;

/// A TOTP secret in the clear (only in memory: stored sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        Self(random_bytes::<SECRET_BYTES>())
    }

    /// `None` unless exactly the bytes [`as_bytes`](Self::as_bytes) gave.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// From the base32 text [`base32`](Self::base32) gives (what an
    /// authenticator app is typed).
    pub fn from_base32(text: &str) -> Option<Self> {
        let secret = totp_rs::Secret::try_from_base32(text.trim()).ok()?;
        Self::from_bytes(secret.as_ref())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account: &str) -> Totp {
        // The label's parts may not hold a colon (the otpauth format).
        Builder::new()
            .with_secret(self.0.to_vec())
            .with_issuer(Some("Onramp"))
            .with_account_name(account.replace(':', "_"))
            .build()
            .expect("a 160-bit secret and a label without colons")
    }

    /// The secret as authenticator apps take it typed in (base32).
    pub fn base32(&self) -> String {
        self.totp("").secret().to_base32()
    }

    /// The `otpauth://totp/…` URL the enrolment QR code carries.
    pub fn otpauth_url(&self, account: &str) -> String {
        self.totp(account).to_url().expect("an otpauth URL")
    }

    /// The code of the step holding `at`.
    pub fn code_at(&self, at: Millis) -> String {
        self.totp("").generate(seconds(at)).to_string()
    }

    /// The time step whose code `code` is, at `now` (the step before, the
    /// current one or the next), compared in constant time.
    pub fn check(&self, code: &str, now: Millis) -> Option<i64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp("").check(code, seconds(now)).and_then(|step| i64::try_from(step).ok())
    }
}

fn seconds(at: Millis) -> u64 {
    u64::try_from(at / 1000).unwrap_or(0)
}

/// Fresh recovery codes, as shown once: `xxxxx-xxxxx`, lowercase letters
/// and digits (about 51 bits each).
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = random_token("", 10).to_lowercase();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// How a recovery code is stored: HMAC-SHA256 under a key derived from the
/// master key, so a copy of the database alone cannot be searched for the
/// codes. Case, spaces and dashes do not matter. Operators and portal
/// users each have their own key (`derive("operator-recovery")`,
/// `derive("portal-recovery")`); the label stays the one operators' stored
/// codes were made with.
pub fn recovery_hash(key: &[u8; 32], code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(b"onramp operator recovery code v1\0");
    mac.update(normal.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" at
    /// 59 s gives 94287082 (8 digits), so 287082 with 6.
    #[test]
    fn codes_match_the_rfc_test_vector() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(secret.code_at(59_000), "287082");
        assert_eq!(secret.code_at(1_111_111_109_000), "081804");
        assert_eq!(secret.check("287082", 59_000), Some(1));
        assert_eq!(secret.check("287082", 89_000), Some(1), "the step before is accepted");
        assert_eq!(secret.check("287082", 119_000), None, "two steps later it is not");
        assert_eq!(secret.check("28708", 59_000), None);
        assert_eq!(secret.check("2870820", 59_000), None);
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32(&secret.base32()), Some(secret));
    }

    #[test]
    fn the_otpauth_url_names_the_issuer_and_account() {
        let url = TotpSecret::generate().otpauth_url("ops@example.com");
        assert!(url.starts_with("otpauth://totp/Onramp:ops%40example.com?"), "{url}");
        assert!(url.contains("issuer=Onramp"), "{url}");
        assert!(url.contains("secret="), "{url}");
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_loosely() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        let key = [3u8; 32];
        let h = recovery_hash(&key, &codes[0]);
        assert_eq!(h, recovery_hash(&key, &codes[0].to_uppercase().replace('-', " ")));
        assert_ne!(h, recovery_hash(&key, &codes[1]));
        assert_ne!(h, recovery_hash(&[4u8; 32], &codes[0]), "another master key");
    }
}
