//! Service tokens: Ed25519 signing keys per environment and the JWTs they sign.

use std::collections::HashMap;

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::error::DomainError;
use crate::secret::{random_bytes, random_token};

/// PKCS#8 v1 prefix for a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A signing key as stored. `seed` is the Ed25519 private key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub env_id: String,
    pub seed: Vec<u8>,
    pub created_at: Millis,
    /// Set when a newer key took over signing; the key still verifies (and is
    /// published) until every token it signed has expired.
    pub retired_at: Option<Millis>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("env_id", &self.env_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key for an environment.
    pub fn generate(env_id: &str, now: Millis) -> Self {
        Self {
            kid: random_token("k_", 16),
            env_id: env_id.to_owned(),
            seed: random_bytes::<32>().to_vec(),
            created_at: now,
            retired_at: None,
        }
    }

    fn encoding_key(&self) -> EncodingKey {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        EncodingKey::from_ed_der(&der)
    }

    fn public_jwk(&self) -> Result<Jwk, DomainError> {
        let mut jwk = Jwk::from_encoding_key(&self.encoding_key(), Algorithm::EdDSA)
            .map_err(|e| DomainError::Internal(format!("bad signing key {}: {e}", self.kid).into()))?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Ok(jwk)
    }
}

/// The claims of a service token (CONVENTIONS §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    /// Roles of the service user.
    pub r: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    /// The service user's id.
    pub sub: String,
    /// The instance's region.
    pub reg: String,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    pub env: String,
    pub pid: String,
}

/// The audience every service token carries.
pub const AUDIENCE: &str = "onramp-api";

/// The keys of one environment: the one that signs, and all that still verify.
pub struct KeyRing {
    signer: Option<(String, EncodingKey)>,
    verifiers: HashMap<String, DecodingKey>,
    jwks: JwkSet,
    validation: Validation,
}

impl KeyRing {
    /// Builds the ring from stored keys: the newest unretired key signs; keys
    /// retired less than `token_ttl_ms` ago still verify.
    ///
    /// # Errors
    /// `Internal` if a stored key is malformed.
    pub fn build(keys: &[SigningKey], issuer: &str, now: Millis, token_ttl_ms: i64) -> Result<Self, DomainError> {
        let live: Vec<&SigningKey> = keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|r| r + token_ttl_ms > now))
            .collect();
        let signer = live
            .iter()
            .filter(|k| k.retired_at.is_none())
            .max_by_key(|k| k.created_at)
            .map(|k| (k.kid.clone(), k.encoding_key()));
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for key in live {
            let jwk = key.public_jwk()?;
            let dk = DecodingKey::from_jwk(&jwk).map_err(|e| DomainError::Internal(e.into()))?;
            verifiers.insert(key.kid.clone(), dk);
            jwks.keys.push(jwk);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            signer,
            verifiers,
            jwks,
            validation,
        })
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs claims with the active key.
    ///
    /// # Errors
    /// `Internal` when the environment has no active key.
    pub fn sign(&self, claims: &ServiceClaims) -> Result<String, DomainError> {
        let (kid, key) = self
            .signer
            .as_ref()
            .ok_or_else(|| DomainError::Internal("environment has no signing key".into()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).map_err(|e| DomainError::Internal(e.into()))
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    ///
    /// # Errors
    /// `Unauthenticated` for any token that does not verify.
    pub fn verify(&self, token: &str) -> Result<ServiceClaims, DomainError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| DomainError::Unauthenticated)?;
        if header.alg != Algorithm::EdDSA {
            return Err(DomainError::Unauthenticated);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(DomainError::Unauthenticated)?;
        jsonwebtoken::decode::<ServiceClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| DomainError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iss: &str, exp: i64) -> ServiceClaims {
        ServiceClaims {
            r: vec!["service".into()],
            exp,
            iat: 0,
            sub: "u".into(),
            reg: "eu".into(),
            iss: iss.into(),
            aud: AUDIENCE.into(),
            jti: "j".into(),
            env: "staging".into(),
            pid: "acme".into(),
        }
    }

    #[test]
    fn sign_verify_rotate() {
        let now = crate::clock::now_ms();
        let old = SigningKey {
            retired_at: Some(now),
            ..SigningKey::generate("e", now - 10)
        };
        let new = SigningKey::generate("e", now);
        let ring = KeyRing::build(&[old.clone(), new.clone()], "iss", now, 60_000).unwrap();
        assert_eq!(ring.jwks().keys.len(), 2);
        let exp = now / 1000 + 60;
        let token = ring.sign(&claims("iss", exp)).unwrap();
        assert!(token.starts_with("ey"));
        assert_eq!(ring.verify(&token).unwrap().sub, "u");
        // Wrong issuer, and another environment's ring, both refuse it.
        assert!(ring.verify(&ring.sign(&claims("other", exp)).unwrap()).is_err());
        let other = KeyRing::build(&[SigningKey::generate("f", now)], "iss", now, 60_000).unwrap();
        assert!(other.verify(&token).is_err());
        // Past the ttl, the retired key is gone.
        let later = KeyRing::build(&[old, new], "iss", now + 120_000, 60_000).unwrap();
        assert_eq!(later.jwks().keys.len(), 1);
    }
}
