//! Service tokens: Ed25519 signing keys per environment and the JWTs they sign.

mod jws;
pub mod sealed;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::clock::{Millis, now_ms};
use crate::error::DomainError;
use crate::ids::{EnvId, ServiceUserId};
use crate::infra::secret::{random_bytes, random_token};
use crate::service_users::Role;
use sealed::{SeedSealer, StoredSeed};

/// A signing key as stored. `seed` is the Ed25519 private key, sealed under
/// the master key (see [`sealed`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub env_id: EnvId,
    pub seed: StoredSeed,
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
    /// A fresh random key for an environment, its seed sealed at once: the
    /// plaintext seed exists only in memory.
    pub fn generate(env_id: &EnvId, now: Millis, sealer: &SeedSealer) -> Self {
        let kid = random_token("k_", 16);
        Self {
            seed: sealer.seal(&kid, env_id, &random_bytes::<32>()),
            kid,
            env_id: env_id.clone(),
            created_at: now,
            retired_at: None,
        }
    }

    fn ed25519(&self, sealer: &SeedSealer) -> Result<ed25519_dalek::SigningKey, DomainError> {
        Ok(ed25519_dalek::SigningKey::from_bytes(&sealer.open(self)?))
    }
}

/// One public key of a JWK Set (RFC 7517, RFC 8037 `OKP`). The field order
/// is part of the served document, pinned by a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `sig`.
    #[serde(rename = "use")]
    pub public_key_use: String,
    /// Always `EdDSA`.
    pub alg: String,
    pub kid: String,
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
}

impl Jwk {
    fn ed25519(kid: &str, key: &ed25519_dalek::VerifyingKey) -> Self {
        Self {
            public_key_use: "sig".into(),
            alg: jws::ALG.into(),
            kid: kid.to_owned(),
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: jws::b64(key.as_bytes()),
        }
    }
}

/// The public keys of one environment, as `/.well-known/jwks.json` serves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The claims of a service token (CONVENTIONS §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    /// Roles of the service user.
    pub r: Vec<Role>,
    pub exp: i64,
    pub iat: i64,
    /// The service user's id.
    pub sub: ServiceUserId,
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

/// Seconds of clock skew allowed past `exp`.
const LEEWAY_SECS: i64 = 5;

/// The protected header of every token we sign, in this field order.
#[derive(Serialize)]
struct Header<'a> {
    typ: &'a str,
    alg: &'a str,
    kid: &'a str,
}

/// The keys of one environment: the one that signs, and all that still verify.
pub struct KeyRing {
    signer: Option<(String, ed25519_dalek::SigningKey)>,
    verifiers: HashMap<String, ed25519_dalek::VerifyingKey>,
    jwks: JwkSet,
    issuer: String,
    /// The longest lifetime (`exp - iat`) a token may claim: the configured
    /// token ttl. A token minted with a stolen seed and a year's lifetime is
    /// refused.
    max_lifetime_secs: i64,
}

impl KeyRing {
    /// Builds the ring from stored keys: the newest unretired key signs; keys
    /// retired less than `token_ttl_ms` ago still verify. A key whose seed
    /// does not open with `sealer` (a plaintext seed slipped into the
    /// database, or a seed sealed under a lost master key) neither signs nor
    /// verifies, and is logged: the environment's other keys keep working,
    /// and a rotation replaces it.
    pub fn build(keys: &[SigningKey], sealer: &SeedSealer, issuer: &str, now: Millis, token_ttl_ms: i64) -> Self {
        let live: Vec<(&SigningKey, ed25519_dalek::SigningKey)> = keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|r| r + token_ttl_ms > now))
            .filter_map(|k| match k.ed25519(sealer) {
                Ok(opened) => Some((k, opened)),
                Err(e) => {
                    tracing::error!(kid = %k.kid, error = %e, "signing key skipped: it neither signs nor verifies");
                    None
                }
            })
            .collect();
        let signer = live
            .iter()
            .filter(|(k, _)| k.retired_at.is_none())
            .max_by_key(|(k, _)| k.created_at)
            .map(|(k, opened)| (k.kid.clone(), opened.clone()));
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for (key, opened) in live {
            let public = opened.verifying_key();
            jwks.keys.push(Jwk::ed25519(&key.kid, &public));
            verifiers.insert(key.kid.clone(), public);
        }
        Self {
            signer,
            verifiers,
            jwks,
            issuer: issuer.to_owned(),
            max_lifetime_secs: token_ttl_ms / 1000,
        }
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
        let header = Header {
            typ: "JWT",
            alg: jws::ALG,
            kid,
        };
        let header = serde_json::to_vec(&header).map_err(|e| DomainError::Internal(e.into()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| DomainError::Internal(e.into()))?;
        Ok(jws::sign(key, &header, &payload))
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and lifetime
    /// (no longer than the configured token ttl, not issued in the future).
    ///
    /// # Errors
    /// `Unauthenticated` for any token that does not verify.
    pub fn verify(&self, token: &str) -> Result<ServiceClaims, DomainError> {
        self.verify_at(token, now_ms() / 1000)
    }

    /// [`KeyRing::verify`] at `now_secs` (Unix seconds) instead of the wall clock.
    ///
    /// # Errors
    /// `Unauthenticated` for any token that does not verify then.
    pub fn verify_at(&self, token: &str, now_secs: i64) -> Result<ServiceClaims, DomainError> {
        let token = jws::parse(token).ok_or(DomainError::Unauthenticated)?;
        let key = token
            .kid()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(DomainError::Unauthenticated)?;
        let payload = token.verify(key).ok_or(DomainError::Unauthenticated)?;
        // Every claim is required: a token missing `exp`, `iss`, `aud` or
        // `sub` does not deserialize.
        let claims: ServiceClaims = serde_json::from_slice(&payload).map_err(|_| DomainError::Unauthenticated)?;
        let valid = claims.exp >= now_secs - LEEWAY_SECS
            && claims.iat <= now_secs + LEEWAY_SECS
            && claims.exp - claims.iat <= self.max_lifetime_secs + LEEWAY_SECS
            && claims.iss == self.issuer
            && claims.aud == AUDIENCE;
        if valid { Ok(claims) } else { Err(DomainError::Unauthenticated) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::master_key::MasterKey;

    /// The sealer of a fixed master key.
    fn sealer() -> SeedSealer {
        SeedSealer::new(&MasterKey::parse(&"A".repeat(43)).unwrap())
    }

    fn claims(iss: &str, exp: i64) -> ServiceClaims {
        ServiceClaims {
            r: vec!["service".into()],
            exp,
            iat: exp - 60,
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
            ..SigningKey::generate(&"e".into(), now - 10, &sealer())
        };
        let new = SigningKey::generate(&"e".into(), now, &sealer());
        let ring = KeyRing::build(&[old.clone(), new.clone()], &sealer(), "iss", now, 60_000);
        assert_eq!(ring.jwks().keys.len(), 2);
        let exp = now / 1000 + 60;
        let token = ring.sign(&claims("iss", exp)).unwrap();
        assert!(token.starts_with("ey"));
        assert_eq!(ring.verify(&token).unwrap().sub, "u");
        // Wrong issuer, and another environment's ring, both refuse it.
        assert!(ring.verify(&ring.sign(&claims("other", exp)).unwrap()).is_err());
        let other = KeyRing::build(&[SigningKey::generate(&"f".into(), now, &sealer())], &sealer(), "iss", now, 60_000);
        assert!(other.verify(&token).is_err());
        // Past the ttl, the retired key is gone.
        let later = KeyRing::build(&[old, new], &sealer(), "iss", now + 120_000, 60_000);
        assert_eq!(later.jwks().keys.len(), 1);
    }

    // A fixed key, claims and kid. The expected strings were produced
    // independently, by the jsonwebtoken crate, so a change to the token or
    // JWKS bytes that clients see cannot slip through.
    const ISS: &str = "https://api.staging.acme.localhost";
    const PINNED_JWKS: &str = r#"{"keys":[{"use":"sig","alg":"EdDSA","kid":"k_test","kty":"OKP","crv":"Ed25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}"#;
    const PINNED_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSIsImtpZCI6ImtfdGVzdCJ9.eyJyIjpbInNlcnZpY2UiLCJhZG1pbiJdLCJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MTcwMDAwMDAwMCwic3ViIjoiMDE5MC11c2VyIiwicmVnIjoiZXUiLCJpc3MiOiJodHRwczovL2FwaS5zdGFnaW5nLmFjbWUubG9jYWxob3N0IiwiYXVkIjoib25yYW1wLWFwaSIsImp0aSI6Imp0aS0xIiwiZW52Ijoic3RhZ2luZyIsInBpZCI6ImFjbWUifQ.dogYHU59_GLOCNXpASK2mBO7FpWxRePoMlQOplj5l30pUBoRW4iRD4B_yTn2yC5q6AoPMLpRMHvlDSWjzNa4BQ";
    const PINNED_EXP: i64 = 4_102_444_800;

    fn fixed_key() -> SigningKey {
        SigningKey {
            kid: "k_test".into(),
            env_id: "e".into(),
            seed: sealer().seal("k_test", &"e".into(), &std::array::from_fn(|i| i as u8)),
            created_at: 1,
            retired_at: None,
        }
    }

    /// The pinned token claims a lifetime of 76 years: the ring allows 80.
    fn fixed_ring() -> KeyRing {
        KeyRing::build(&[fixed_key()], &sealer(), ISS, 1, 80 * 365 * 24 * 3600 * 1000)
    }

    fn fixed_claims() -> ServiceClaims {
        ServiceClaims {
            r: vec!["service".into(), "admin".into()],
            exp: PINNED_EXP,
            iat: 1_700_000_000,
            sub: "0190-user".into(),
            reg: "eu".into(),
            iss: ISS.into(),
            aud: AUDIENCE.into(),
            jti: "jti-1".into(),
            env: "staging".into(),
            pid: "acme".into(),
        }
    }

    #[test]
    fn signing_output_and_jwks_are_pinned() {
        let ring = fixed_ring();
        assert_eq!(serde_json::to_string(ring.jwks()).unwrap(), PINNED_JWKS);
        assert_eq!(ring.sign(&fixed_claims()).unwrap(), PINNED_TOKEN);
        assert_eq!(ring.verify(PINNED_TOKEN).unwrap(), fixed_claims());
    }

    /// `header.payload` signed by `mac`, the way a forger would build it.
    fn forge(header: &serde_json::Value, payload: &[u8], mac: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
        let input = format!("{}.{}", jws::b64(header.to_string().as_bytes()), jws::b64(payload));
        let signature = mac(input.as_bytes());
        format!("{input}.{}", jws::b64(&signature))
    }

    fn hs256(secret: &[u8], input: &[u8]) -> Vec<u8> {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn forged_tokens_are_refused() {
        let ring = fixed_ring();
        let key = fixed_key().ed25519(&sealer()).unwrap();
        let payload = serde_json::to_vec(&fixed_claims()).unwrap();
        let eddsa = |header: serde_json::Value, payload: &[u8]| {
            forge(&header, payload, |input| {
                ed25519_dalek::Signer::sign(&key, input).to_bytes().to_vec()
            })
        };
        // The forging helper itself makes tokens we accept.
        let control = eddsa(serde_json::json!({ "alg": "EdDSA", "kid": "k_test" }), &payload);
        assert_eq!(ring.verify(&control).unwrap(), fixed_claims());

        let x = ring.jwks().keys[0].x.clone();
        let (h, rest) = PINNED_TOKEN.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let mut bad = vec![
            ("alg none", format!("{}.{p}.", jws::b64(br#"{"alg":"none","kid":"k_test"}"#))),
            ("alg none, typ JWT", format!("{}.{p}.", jws::b64(br#"{"typ":"JWT","alg":"none"}"#))),
            ("no kid", eddsa(serde_json::json!({ "alg": "EdDSA" }), &payload)),
            (
                "wrong kid",
                eddsa(serde_json::json!({ "alg": "EdDSA", "kid": "k_other" }), &payload),
            ),
            ("tampered payload", {
                let mut claims = fixed_claims();
                claims.r.push("owner".into());
                format!("{h}.{}.{s}", jws::b64(&serde_json::to_vec(&claims).unwrap()))
            }),
            ("signature removed", format!("{h}.{p}.")),
            ("bad base64 header", format!("{h}!.{p}.{s}")),
            ("bad base64 payload", format!("{h}.{p}*.{s}")),
            ("padded signature", format!("{h}.{p}.{s}==")),
            (
                "standard base64 alphabet",
                format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")),
            ),
            ("two parts", format!("{h}.{p}")),
            ("four parts", format!("{h}.{p}.{s}.{s}")),
            (
                "crit header",
                eddsa(
                    serde_json::json!({ "alg": "EdDSA", "kid": "k_test", "crit": ["b64"], "b64": false }),
                    &payload,
                ),
            ),
            (
                "payload not claims",
                eddsa(serde_json::json!({ "alg": "EdDSA", "kid": "k_test" }), b"[]"),
            ),
            ("foreign key", {
                let other = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
                forge(&serde_json::json!({ "alg": "EdDSA", "kid": "k_test" }), &payload, |input| {
                    ed25519_dalek::Signer::sign(&other, input).to_bytes().to_vec()
                })
            }),
        ];
        // HMAC keyed with the public key, raw or as published (algorithm confusion).
        for secret in [key.verifying_key().to_bytes().to_vec(), x.into_bytes()] {
            for header in [
                serde_json::json!({ "alg": "HS256", "kid": "k_test" }),
                serde_json::json!({ "alg": "EdDSA", "kid": "k_test" }),
            ] {
                bad.push(("hmac with the public key", forge(&header, &payload, |input| hs256(&secret, input))));
            }
        }
        for (what, token) in &bad {
            assert!(ring.verify(token).is_err(), "{what} must be refused: {token}");
        }
    }

    #[test]
    fn claims_are_checked() {
        let ring = fixed_ring();
        let sign = |edit: fn(&mut ServiceClaims)| {
            let mut claims = fixed_claims();
            edit(&mut claims);
            ring.sign(&claims).unwrap()
        };
        // `exp` with 5 seconds of leeway, no more.
        assert!(ring.verify_at(PINNED_TOKEN, PINNED_EXP + 5).is_ok());
        assert!(ring.verify_at(PINNED_TOKEN, PINNED_EXP + 6).is_err());
        assert!(ring.verify(&sign(|c| c.exp = 1)).is_err());
        assert!(ring.verify(&sign(|c| c.iss = "https://api.acme.localhost".into())).is_err());
        assert!(ring.verify(&sign(|c| c.aud = "someone-else".into())).is_err());
        // A lifetime longer than the ring's ttl, or issued in the future.
        let short = KeyRing::build(&[fixed_key()], &sealer(), ISS, 1, 15 * 60 * 1000);
        let now = crate::clock::now_ms() / 1000;
        let lasting = |iat: i64, exp: i64| {
            short
                .sign(&ServiceClaims {
                    iat,
                    exp,
                    ..fixed_claims()
                })
                .unwrap()
        };
        assert!(short.verify(&lasting(now, now + 15 * 60)).is_ok());
        assert!(short.verify(&lasting(now, now + 365 * 24 * 3600)).is_err());
        assert!(short.verify(&lasting(now + 3600, now + 3600 + 60)).is_err());
        // A claim missing altogether (here `exp`) is refused, not defaulted.
        let key = fixed_key().ed25519(&sealer()).unwrap();
        let mut claims = serde_json::to_value(fixed_claims()).unwrap();
        claims.as_object_mut().unwrap().remove("exp");
        let header = serde_json::json!({ "alg": "EdDSA", "kid": "k_test" });
        let token = forge(&header, claims.to_string().as_bytes(), |input| {
            ed25519_dalek::Signer::sign(&key, input).to_bytes().to_vec()
        });
        assert!(ring.verify(&token).is_err());
    }

    #[test]
    fn a_plaintext_or_foreign_seed_neither_signs_nor_verifies() {
        let plaintext = SigningKey {
            kid: "k_plain".into(),
            seed: StoredSeed::from_stored((0u8..32).collect()),
            ..fixed_key()
        };
        let foreign = SigningKey {
            kid: "k_foreign".into(),
            seed: SeedSealer::new(&MasterKey::generate().0).seal("k_foreign", &"e".into(), &[0; 32]),
            ..fixed_key()
        };
        for key in [plaintext.clone(), foreign.clone()] {
            let ring = KeyRing::build(&[key], &sealer(), ISS, 1, 80 * 365 * 24 * 3600 * 1000);
            assert!(ring.jwks().keys.is_empty());
            assert!(matches!(ring.sign(&fixed_claims()), Err(DomainError::Internal(_))));
        }
        // Beside a good key, they are left out and the good one works.
        let ring = KeyRing::build(&[fixed_key(), plaintext, foreign], &sealer(), ISS, 1, 80 * 365 * 24 * 3600 * 1000);
        assert_eq!(serde_json::to_string(ring.jwks()).unwrap(), PINNED_JWKS);
        assert_eq!(ring.verify(PINNED_TOKEN).unwrap(), fixed_claims());
    }
}
