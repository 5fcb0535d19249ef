//! CSRF tokens bound to who is asking: HMAC-SHA256 under the server's CSRF
//! key of the session token's hash for a signed-in person, or of a random
//! pre-session cookie for forms shown before sign-in. A cookie value alone
//! proves nothing: a sibling subdomain that plants a cookie and a field of
//! its choosing cannot compute the token, and a token taken from one
//! session does not pass in another.

use hmac::{Hmac, KeyInit, Mac};
use onramp_domain::infra::secret::{ct_eq, random_token};
use sha2::Sha256;

/// What a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The SHA-256 of the signed-in person's session token.
    Session(String),
    /// The value of the pre-session cookie.
    PreSession(String),
}

/// A fresh pre-session cookie value.
pub fn new_pre_session() -> String {
    random_token("", 32)
}

/// Whether a pre-session cookie has the shape we issue (anything else is
/// ignored and replaced).
pub fn is_pre_session(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The token forms repeat for `binding`, hex-encoded.
pub fn token(key: &[u8; 32], binding: &Binding) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    // The kind goes in first, so a cookie value can never stand for a session hash.
    let (kind, value): (&[u8], &str) = match binding {
        Binding::Session(hash) => (b"onramp csrf v1 session\0", hash),
        Binding::PreSession(cookie) => (b"onramp csrf v1 pre-session\0", cookie),
    };
    mac.update(kind);
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `submitted` is the token of `binding`, compared in constant time.
pub fn verify(key: &[u8; 32], binding: &Binding, submitted: &str) -> bool {
    ct_eq(token(key, binding).as_bytes(), submitted.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];

    #[test]
    fn tokens_are_bound_to_key_kind_and_value() {
        let session = Binding::Session("ab".repeat(32));
        let t = token(&KEY, &session);
        assert_eq!(t.len(), 64);
        assert!(verify(&KEY, &session, &t));
        assert!(!verify(&[8; 32], &session, &t), "another key");
        assert!(!verify(&KEY, &Binding::Session("cd".repeat(32)), &t), "another session");
        assert!(
            !verify(&KEY, &Binding::PreSession("ab".repeat(32)), &t),
            "the same value as a cookie"
        );
        assert!(!verify(&KEY, &session, ""));
        let value = new_pre_session();
        assert!(is_pre_session(&value));
        let cookie = Binding::PreSession(value.clone());
        assert!(!verify(&KEY, &cookie, &value), "the cookie value itself is not its token");
        assert!(verify(&KEY, &cookie, &token(&KEY, &cookie)));
    }

    /// HMAC-SHA256 as computed independently with Python:
    /// `hmac.new(bytes([9]*32), b"onramp csrf v1 pre-session\0" + b"x", "sha256").hexdigest()`.
    #[test]
    fn token_is_hmac_sha256() {
        assert_eq!(
            token(&KEY, &Binding::PreSession("x".into())),
            "4f1686166bf995acd2a7e4dc110e2e004d1f293e78995b586f58def0e13f1f2c"
        );
    }
}
