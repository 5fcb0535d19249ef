//! Signed tokens: each environment's signing keys (Ed25519 for `EdDSA`,
//! P-256 for `ES256`) and the JWTs they sign.

mod jws;
pub mod sealed;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::clock::{Millis, now_ms};
use crate::error::DomainError;
use crate::ids::{EnvId, ServiceUserId};
use crate::infra::secret::{random_bytes, random_token};
use crate::service_users::Role;
use jws::{SignKey, VerifyKey};
use sealed::{SeedSealer, StoredSeed};

/// The algorithm of a signing key, spelt as JWS `alg` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyAlg {
    /// Ed25519 (RFC 8037): service tokens and access tokens.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// ECDSA over P-256 with SHA-256 (RFC 7518 §3.4): for OIDC libraries
    /// that cannot verify EdDSA.
    #[serde(rename = "ES256")]
    Es256,
}

impl KeyAlg {
    /// Every algorithm an environment holds a key of; a rotation replaces one of each.
    pub const ALL: [KeyAlg; 2] = [KeyAlg::EdDsa, KeyAlg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::EdDsa => "EdDSA",
            KeyAlg::Es256 => "ES256",
        }
    }

    /// The algorithm of this exact `alg` name (case-sensitive, RFC 7515).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// A signing key as stored. `seed` is the private key (the Ed25519 seed or
/// the P-256 scalar, 32 bytes either way), sealed under the master key
/// (see [`sealed`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub env_id: EnvId,
    pub alg: KeyAlg,
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
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key of `alg` for an environment, its seed sealed at
    /// once: the plaintext seed exists only in memory.
    pub fn generate(env_id: &EnvId, alg: KeyAlg, now: Millis, sealer: &SeedSealer) -> Self {
        let kid = random_token("k_", 16);
        let seed = loop {
            let bytes = random_bytes::<32>();
            // A P-256 scalar must be below the group order (all but ~2^-32 of
            // random values are); any 32 bytes are an Ed25519 seed.
            if alg == KeyAlg::EdDsa || p256::ecdsa::SigningKey::from_slice(&bytes).is_ok() {
                break bytes;
            }
        };
        Self {
            seed: sealer.seal(&kid, env_id, &seed),
            kid,
            env_id: env_id.clone(),
            alg,
            created_at: now,
            retired_at: None,
        }
    }

    /// One fresh key of every algorithm, as an environment's creation and
    /// every rotation make.
    pub fn generate_set(env_id: &EnvId, now: Millis, sealer: &SeedSealer) -> Vec<Self> {
        KeyAlg::ALL
            .into_iter()
            .map(|alg| Self::generate(env_id, alg, now, sealer))
            .collect()
    }

    fn open(&self, sealer: &SeedSealer) -> Result<SignKey, DomainError> {
        let seed = sealer.open(self)?;
        Ok(match self.alg {
            KeyAlg::EdDsa => SignKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)),
            KeyAlg::Es256 => SignKey::P256(
                p256::ecdsa::SigningKey::from_slice(&seed).map_err(|_| DomainError::Internal("P-256 seed out of range".into()))?,
            ),
        })
    }
}

/// One public key of a JWK Set (RFC 7517; `OKP` of RFC 8037 for Ed25519,
/// `EC` of RFC 7518 §6.2 for P-256). The field order is part of the served
/// document, pinned by a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `sig`.
    #[serde(rename = "use")]
    pub public_key_use: String,
    /// `EdDSA` or `ES256`.
    pub alg: String,
    pub kid: String,
    /// `OKP` (Ed25519) or `EC` (P-256).
    pub kty: String,
    /// `Ed25519` or `P-256`.
    pub crv: String,
    /// The public key (Ed25519) or its x coordinate (P-256), base64url.
    pub x: String,
    /// The y coordinate (P-256 only), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    fn of(kid: &str, key: &VerifyKey) -> Self {
        let (kty, crv, x, y) = match key {
            VerifyKey::Ed25519(k) => ("OKP", "Ed25519", jws::b64(k.as_bytes()), None),
            VerifyKey::P256(k) => {
                let point = k.to_sec1_point(false);
                let coordinate = |c: Option<&[u8]>| jws::b64(c.unwrap_or_default());
                (
                    "EC",
                    "P-256",
                    coordinate(point.x().map(|x| x.as_slice())),
                    Some(coordinate(point.y().map(|y| y.as_slice()))),
                )
            }
        };
        let alg = match key {
            VerifyKey::Ed25519(_) => KeyAlg::EdDsa,
            VerifyKey::P256(_) => KeyAlg::Es256,
        };
        Self {
            public_key_use: "sig".into(),
            alg: alg.as_str().into(),
            kid: kid.to_owned(),
            kty: kty.into(),
            crv: crv.into(),
            x,
            y,
        }
    }
}

/// The public keys of one environment, as `/.well-known/jwks.json` serves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The claims of a service token (CONVENTIONS §2), and of an OAuth access
/// token (RFC 9068), which adds `client_id` and `scope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    /// Roles of the service user (of an access token: the granted scopes).
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
    /// The OAuth client the access token was issued to; absent from
    /// password-login tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The granted scopes, space-separated; absent from password-login tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The audience every service token carries.
pub const AUDIENCE: &str = "onramp-api";

/// The JWS `typ` of password-login service tokens.
pub const TYP_JWT: &str = "JWT";
/// The JWS `typ` of OAuth access tokens (RFC 9068 §2.1).
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";

/// Seconds of clock skew allowed past `exp`.
const LEEWAY_SECS: i64 = 5;

/// The protected header of every token we sign, in this field order.
#[derive(Serialize)]
struct Header<'a> {
    typ: &'a str,
    alg: &'a str,
    kid: &'a str,
}

/// The keys of one environment: the one that signs per algorithm, and all
/// that still verify.
pub struct KeyRing {
    signers: HashMap<KeyAlg, (String, SignKey)>,
    verifiers: HashMap<String, VerifyKey>,
    jwks: JwkSet,
    issuer: String,
    /// The longest lifetime (`exp - iat`) a token may claim: the configured
    /// token ttl. A token minted with a stolen seed and a year's lifetime is
    /// refused.
    max_lifetime_secs: i64,
}

impl KeyRing {
    /// Builds the ring from stored keys: per algorithm, the newest unretired
    /// key signs; keys retired less than `token_ttl_ms` ago still verify. A
    /// key whose seed does not open with `sealer` (a plaintext seed slipped
    /// into the database, or a seed sealed under a lost master key) neither
    /// signs nor verifies, and is logged: the environment's other keys keep
    /// working, and a rotation replaces it.
    pub fn build(keys: &[SigningKey], sealer: &SeedSealer, issuer: &str, now: Millis, token_ttl_ms: i64) -> Self {
        let live: Vec<(&SigningKey, SignKey)> = keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|r| r + token_ttl_ms > now))
            .filter_map(|k| match k.open(sealer) {
                Ok(opened) => Some((k, opened)),
                Err(e) => {
                    tracing::error!(kid = %k.kid, error = %e, "signing key skipped: it neither signs nor verifies");
                    None
                }
            })
            .collect();
        let mut signers = HashMap::new();
        for alg in KeyAlg::ALL {
            let newest = live
                .iter()
                .filter(|(k, opened)| k.retired_at.is_none() && opened.alg() == alg)
                .max_by_key(|(k, _)| k.created_at);
            if let Some((k, opened)) = newest {
                signers.insert(alg, (k.kid.clone(), opened.clone()));
            }
        }
        let mut verifiers = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        for (key, opened) in live {
            let public = opened.verifying_key();
            jwks.keys.push(Jwk::of(&key.kid, &public));
            verifiers.insert(key.kid.clone(), public);
        }
        Self {
            signers,
            verifiers,
            jwks,
            issuer: issuer.to_owned(),
            max_lifetime_secs: token_ttl_ms / 1000,
        }
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs a service token (`typ: JWT`) with the active EdDSA key.
    ///
    /// # Errors
    /// `Internal` when the environment has no active key.
    pub fn sign(&self, claims: &ServiceClaims) -> Result<String, DomainError> {
        self.sign_as(KeyAlg::EdDsa, TYP_JWT, claims)
    }

    /// Signs `claims` under header `typ` with the active key of `alg`.
    ///
    /// # Errors
    /// `Internal` when the environment has no active key of `alg`.
    pub fn sign_as<T: Serialize>(&self, alg: KeyAlg, typ: &str, claims: &T) -> Result<String, DomainError> {
        let (kid, key) = self
            .signers
            .get(&alg)
            .ok_or_else(|| DomainError::Internal(format!("environment has no {} signing key", alg.as_str()).into()))?;
        let header = Header {
            typ,
            alg: alg.as_str(),
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

    /// The payload of `token` if one of this ring's keys signed it; the
    /// caller checks the claims (for tokens that are not service tokens).
    ///
    /// # Errors
    /// `Unauthenticated`.
    pub fn verified_payload(&self, token: &str) -> Result<Vec<u8>, DomainError> {
        let token = jws::parse(token).ok_or(DomainError::Unauthenticated)?;
        let key = token
            .kid()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(DomainError::Unauthenticated)?;
        token.verify(key).ok_or(DomainError::Unauthenticated)
    }

    /// The issuer this ring's tokens name.
    pub fn issuer(&self) -> &str {
        &self.issuer
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
            client_id: None,
            scope: None,
        }
    }

    #[test]
    fn sign_verify_rotate() {
        let now = crate::clock::now_ms();
        let old = SigningKey {
            retired_at: Some(now),
            ..SigningKey::generate(&"e".into(), KeyAlg::EdDsa, now - 10, &sealer())
        };
        let new = SigningKey::generate(&"e".into(), KeyAlg::EdDsa, now, &sealer());
        let ring = KeyRing::build(&[old.clone(), new.clone()], &sealer(), "iss", now, 60_000);
        assert_eq!(ring.jwks().keys.len(), 2);
        let exp = now / 1000 + 60;
        let token = ring.sign(&claims("iss", exp)).unwrap();
        assert!(token.starts_with("ey"));
        assert_eq!(ring.verify(&token).unwrap().sub, "u");
        // Wrong issuer, and another environment's ring, both refuse it.
        assert!(ring.verify(&ring.sign(&claims("other", exp)).unwrap()).is_err());
        let other = KeyRing::build(
            &[SigningKey::generate(&"f".into(), KeyAlg::EdDsa, now, &sealer())],
            &sealer(),
            "iss",
            now,
            60_000,
        );
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
            alg: KeyAlg::EdDsa,
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
            client_id: None,
            scope: None,
        }
    }

    #[test]
    fn both_algorithms_sign_and_verify_and_are_published() {
        let now = crate::clock::now_ms();
        let keys = SigningKey::generate_set(&"e".into(), now, &sealer());
        let ring = KeyRing::build(&keys, &sealer(), ISS, now, 60_000);
        let ec = ring.jwks().keys.iter().find(|k| k.alg == "ES256").expect("an ES256 key");
        assert_eq!(
            (ec.kty.as_str(), ec.crv.as_str(), ec.public_key_use.as_str()),
            ("EC", "P-256", "sig")
        );
        let ed = ring.jwks().keys.iter().find(|k| k.alg == "EdDSA").expect("an EdDSA key");
        assert_eq!((ed.kty.as_str(), ed.crv.as_str(), ed.y.as_deref()), ("OKP", "Ed25519", None));
        let claims = ServiceClaims {
            iat: now / 1000,
            exp: now / 1000 + 60,
            ..fixed_claims()
        };
        for alg in KeyAlg::ALL {
            let token = ring.sign_as(alg, TYP_ACCESS_TOKEN, &claims).unwrap();
            let header: serde_json::Value = serde_json::from_slice(&jws_part(&token, 0)).unwrap();
            assert_eq!(header["alg"], alg.as_str());
            assert_eq!(header["typ"], "at+jwt");
            assert_eq!(ring.verify(&token).unwrap(), claims);
        }
        // The published coordinates are the key that signs ES256: checked
        // with p256 directly from the JWK, as a client would.
        let token = ring.sign_as(KeyAlg::Es256, TYP_JWT, &claims).unwrap();
        let mut sec1 = vec![4u8];
        sec1.extend(jws::tests_b64_decode(&ec.x));
        sec1.extend(jws::tests_b64_decode(ec.y.as_deref().unwrap()));
        let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&jws::tests_b64_decode(signature)).unwrap();
        assert!(p256::ecdsa::signature::Verifier::verify(&public, input.as_bytes(), &signature).is_ok());
        // A token that names the EdDSA key but claims ES256 (or the other
        // way round) is refused, whatever its signature.
        let header = |alg: &str, kid: &str| jws::b64(serde_json::json!({ "alg": alg, "kid": kid }).to_string().as_bytes());
        let (_, rest) = token.split_once('.').unwrap();
        assert!(ring.verify(&format!("{}.{rest}", header("ES256", &ed.kid))).is_err());
        assert!(ring.verify(&format!("{}.{rest}", header("EdDSA", &ec.kid))).is_err());
    }

    fn jws_part(token: &str, n: usize) -> Vec<u8> {
        jws::tests_b64_decode(token.split('.').nth(n).unwrap())
    }

    #[test]
    fn signing_output_and_jwks_are_pinned() {
        let ring = fixed_ring();
        assert_eq!(serde_json::to_string(ring.jwks()).unwrap(), PINNED_JWKS);
        assert_eq!(ring.sign(&fixed_claims()).unwrap(), PINNED_TOKEN);
        assert_eq!(ring.verify(PINNED_TOKEN).unwrap(), fixed_claims());
    }

    fn ed25519_of(key: &SigningKey) -> ed25519_dalek::SigningKey {
        match key.open(&sealer()).unwrap() {
            SignKey::Ed25519(k) => k,
            SignKey::P256(_) => unreachable!(),
        }
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
        let key = ed25519_of(&fixed_key());
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
        let key = ed25519_of(&fixed_key());
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
