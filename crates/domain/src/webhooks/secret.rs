//! Endpoint signing secrets. A secret is `whsec_` and the standard base64
//! of 32 random bytes, the form Standard Webhooks libraries take. The
//! server must sign with it, so it cannot be kept as a hash: it is sealed
//! ([`seal`]) under the master key's `"webhook-secrets"` key with the
//! endpoint id as associated data, so a sealed secret copied onto another
//! endpoint's row does not open, and a database dump alone opens none.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::clock::Millis;
use crate::error::DomainError;
use crate::ids::EndpointId;
use crate::infra::master_key::MasterKey;
use crate::infra::seal::{seal, unseal};
use crate::infra::secret::random_bytes;

/// What every secret starts with (Standard Webhooks' `whsec_`).
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes of a new secret (the standard asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret keeps signing beside its successor.
pub const ROTATION_OVERLAP_MS: Millis = 24 * 3600 * 1000;

/// A signing secret in the clear. `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    text: String,
    key: Vec<u8>,
}

impl WebhookSecret {
    /// A fresh secret of [`SECRET_BYTES`] random bytes.
    pub fn generate() -> Self {
        let key = random_bytes::<SECRET_BYTES>().to_vec();
        Self {
            text: format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)),
            key,
        }
    }

    /// A secret as integrators hold it: `whsec_` and standard base64. The
    /// prefix may be left out, as the reference libraries allow. `None`
    /// when the rest is not base64 or decodes to nothing.
    pub fn parse(raw: &str) -> Option<Self> {
        let encoded = raw.strip_prefix(SECRET_PREFIX).unwrap_or(raw);
        let key = STANDARD.decode(encoded).ok().filter(|k| !k.is_empty())?;
        Some(Self {
            text: format!("{SECRET_PREFIX}{encoded}"),
            key,
        })
    }

    /// A secret an operator configured (`--alert-webhook-secret`): a
    /// `whsec_` secret as [`parse`](Self::parse) reads it, or any other
    /// text, whose own bytes are the key (secrets chosen before Standard
    /// Webhooks keep working; the reference libraries, which base64-decode
    /// what follows `whsec_`, verify only the `whsec_` form).
    pub fn configured(raw: &str) -> Self {
        match raw.starts_with(SECRET_PREFIX).then(|| Self::parse(raw)).flatten() {
            Some(secret) => secret,
            None => Self {
                text: raw.to_owned(),
                key: raw.as_bytes().to_vec(),
            },
        }
    }

    /// The secret as shown once to its owner: call only to show it.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The HMAC key: the decoded bytes after the prefix.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secret as the database holds it: nonce, ciphertext and tag.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl SealedSecret {
    /// The column's bytes, as read; for the store.
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to write; for the store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret")
    }
}

/// An endpoint's secrets: the current one, and after a rotation the
/// previous one until it expires (both sign meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSecrets {
    pub current: SealedSecret,
    pub previous: Option<PreviousSecret>,
}

/// A rotated-out secret and when it stops signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub sealed: SealedSecret,
    pub expires_at: Millis,
}

/// Seals and opens endpoint secrets under the master key's
/// `"webhook-secrets"` key.
pub struct SecretSealer {
    key: [u8; 32],
}

impl fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSealer([redacted])")
    }
}

impl SecretSealer {
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: master.derive("webhook-secrets"),
        }
    }

    /// The stored form of `secret` for endpoint `id`.
    pub fn seal(&self, id: &EndpointId, secret: &WebhookSecret) -> SealedSecret {
        SealedSecret(seal(&self.key, id.as_str().as_bytes(), secret.expose().as_bytes()))
    }

    /// The secret of endpoint `id`.
    ///
    /// # Errors
    /// `Internal` when it does not open under this master key for this
    /// endpoint (another key, or a row copied from another endpoint).
    pub fn open(&self, id: &EndpointId, sealed: &SealedSecret) -> Result<WebhookSecret, DomainError> {
        unseal(&self.key, id.as_str().as_bytes(), sealed.as_bytes())
            .and_then(|plain| String::from_utf8(plain).ok())
            .and_then(|text| WebhookSecret::parse(&text))
            .ok_or_else(|| DomainError::Internal(format!("the secret of endpoint {id} does not open under this master key").into()))
    }

    /// The secrets that sign a delivery to endpoint `id` at `now`: the
    /// current one, and the previous one until its overlap ends. A previous
    /// secret that no longer opens (sealed under a lost master key, the
    /// current one rotated since) is left out rather than stopping delivery.
    ///
    /// # Errors
    /// `Internal` when the current secret does not open.
    pub fn signing_secrets(&self, id: &EndpointId, secrets: &EndpointSecrets, now: Millis) -> Result<Vec<WebhookSecret>, DomainError> {
        let mut out = vec![self.open(id, &secrets.current)?];
        if let Some(previous) = secrets.previous.as_ref().filter(|p| p.expires_at > now) {
            match self.open(id, &previous.sealed) {
                Ok(secret) => out.push(secret),
                Err(e) => {
                    tracing::warn!(endpoint = %id, error = %e, "the previous webhook secret does not open; signing with the current one only")
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_configured_secret_is_whsec_or_its_own_bytes() {
        let standard = WebhookSecret::configured("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(standard.key().len(), 24, "the base64 after whsec_, decoded");
        let text = WebhookSecret::configured("webhook-secret-0123456789");
        assert_eq!(text.key(), b"webhook-secret-0123456789");
        // Without the prefix, even valid base64 is taken as text.
        assert_eq!(WebhookSecret::configured("abcd").key(), b"abcd");
    }

    use super::*;

    #[test]
    fn a_new_secret_is_whsec_and_32_random_bytes() {
        let s = WebhookSecret::generate();
        assert!(s.expose().starts_with("whsec_"), "{}", s.expose());
        assert_eq!(s.key().len(), 32);
        assert_eq!(STANDARD.decode(&s.expose()[6..]).unwrap(), s.key());
        assert_ne!(WebhookSecret::generate(), s);
        assert_eq!(format!("{s:?}"), "[redacted]");
        let again = WebhookSecret::parse(s.expose()).unwrap();
        assert_eq!(again, s);
        assert_eq!(WebhookSecret::parse(&s.expose()[6..]).unwrap(), s, "the prefix is optional");
        assert!(WebhookSecret::parse("whsec_not base64!").is_none());
        assert!(WebhookSecret::parse("whsec_").is_none());
    }

    #[test]
    fn sealed_secrets_open_only_for_their_endpoint_and_master_key() {
        let (master, _) = MasterKey::generate();
        let sealer = SecretSealer::new(&master);
        let (a, b) = (EndpointId::generate(), EndpointId::generate());
        let secret = WebhookSecret::generate();
        let sealed = sealer.seal(&a, &secret);
        let bytes = sealed.as_bytes();
        assert!(!bytes.windows(6).any(|w| w == b"whsec_"), "no plaintext inside");
        assert!(!bytes.windows(32).any(|w| w == secret.key()), "nor the key's bytes");
        assert_eq!(sealer.open(&a, &sealed).unwrap(), secret);
        assert!(sealer.open(&b, &sealed).is_err(), "another endpoint's row");
        assert!(SecretSealer::new(&MasterKey::generate().0).open(&a, &sealed).is_err());
        assert_eq!(format!("{sealed:?}"), "SealedSecret");
    }

    #[test]
    fn the_previous_secret_signs_until_its_overlap_ends() {
        let sealer = SecretSealer::new(&MasterKey::generate().0);
        let id = EndpointId::generate();
        let (old, new) = (WebhookSecret::generate(), WebhookSecret::generate());
        let secrets = EndpointSecrets {
            current: sealer.seal(&id, &new),
            previous: Some(PreviousSecret {
                sealed: sealer.seal(&id, &old),
                expires_at: 1_000,
            }),
        };
        assert_eq!(sealer.signing_secrets(&id, &secrets, 999).unwrap(), [new.clone(), old]);
        assert_eq!(sealer.signing_secrets(&id, &secrets, 1_000).unwrap(), std::slice::from_ref(&new));
        // Under a lost master key: a previous secret that does not open is
        // skipped; a current one that does not open is an error.
        let lost = SecretSealer::new(&MasterKey::generate().0);
        let mixed = EndpointSecrets {
            current: sealer.seal(&id, &new),
            previous: Some(PreviousSecret {
                sealed: lost.seal(&id, &WebhookSecret::generate()),
                expires_at: 1_000,
            }),
        };
        assert_eq!(sealer.signing_secrets(&id, &mixed, 0).unwrap(), [new]);
        assert!(lost.signing_secrets(&id, &mixed, 0).is_err());
    }
}
