//! Compact JWS (RFC 7515) with `EdDSA` over Ed25519 (RFC 8037) and `ES256`
//! over P-256 (RFC 7518 §3.4), and nothing else: a general JOSE library
//! would bring algorithms (RSA, HMAC) this server must never accept, so the
//! two it needs are written out here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::KeyAlg;

/// Base64url without padding, as every JWS part is encoded.
pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url (for the tests of the signing module).
#[cfg(test)]
pub(super) fn tests_b64_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// A private key that signs: its algorithm is its type.
#[derive(Clone)]
pub(super) enum SignKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

/// A public key that verifies, of one algorithm.
#[derive(Clone)]
pub(super) enum VerifyKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl SignKey {
    pub(super) fn alg(&self) -> KeyAlg {
        match self {
            SignKey::Ed25519(_) => KeyAlg::EdDsa,
            SignKey::P256(_) => KeyAlg::Es256,
        }
    }

    pub(super) fn verifying_key(&self) -> VerifyKey {
        match self {
            SignKey::Ed25519(k) => VerifyKey::Ed25519(k.verifying_key()),
            SignKey::P256(k) => VerifyKey::P256(*k.verifying_key()),
        }
    }

    /// The signature of `input`: 64 bytes for both (ES256 as `r || s`,
    /// RFC 7518 §3.4, not DER).
    fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            SignKey::Ed25519(k) => k.sign(input).to_bytes().to_vec(),
            SignKey::P256(k) => {
                let signature: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, input);
                signature.to_bytes().to_vec()
            }
        }
    }
}

impl VerifyKey {
    fn alg(&self) -> KeyAlg {
        match self {
            VerifyKey::Ed25519(_) => KeyAlg::EdDsa,
            VerifyKey::P256(_) => KeyAlg::Es256,
        }
    }
}

/// Signs `payload` under the protected `header` (both raw JSON) and returns
/// the compact serialization `header.payload.signature`.
pub(super) fn sign(key: &SignKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = b64(header);
    token.push('.');
    token.push_str(&b64(payload));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64(&signature));
    token
}

/// The protected header fields a verifier looks at; others are ignored.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Present only so that its presence can be refused (see `parse`).
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// A compact JWS whose form and header are acceptable, signature not yet checked.
pub(super) struct Unverified<'a> {
    alg: KeyAlg,
    kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: [u8; 64],
}

/// Splits and decodes a compact JWS. `None` unless it has exactly three
/// strict base64url parts, a JSON header with `alg` `EdDSA` or `ES256` and
/// no `crit` (we understand no extension, so RFC 7515 §4.1.11 says refuse),
/// and a 64-byte signature. Refusing every other `alg` here is what stops
/// `alg: none` and HMAC-with-the-public-key forgeries; the key's own
/// algorithm must then match (see [`Unverified::verify`]).
pub(super) fn parse(token: &str) -> Option<Unverified<'_>> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let alg = KeyAlg::parse(&header.alg)?;
    if header.crit.is_some() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    Some(Unverified {
        alg,
        kid: header.kid,
        signing_input,
        payload,
        signature: signature.try_into().ok()?,
    })
}

impl Unverified<'_> {
    /// The `kid` header, which picks the key to verify with.
    pub(super) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The decoded payload if the header's `alg` is the key's and the
    /// signature verifies under `key`. Ed25519 verification is strict
    /// (refuses malleable signatures and weak keys).
    pub(super) fn verify(&self, key: &VerifyKey) -> Option<Vec<u8>> {
        if key.alg() != self.alg {
            return None;
        }
        let input = self.signing_input.as_bytes();
        match key {
            VerifyKey::Ed25519(k) => k
                .verify_strict(input, &ed25519_dalek::Signature::from_bytes(&self.signature))
                .ok()?,
            VerifyKey::P256(k) => k.verify(input, &p256::ecdsa::Signature::from_slice(&self.signature).ok()?).ok()?,
        }
        URL_SAFE_NO_PAD.decode(self.payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unb64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    // RFC 8037 appendix A.1 (the key) and A.4 (the JWS it signs).
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn rfc_key() -> SignKey {
        SignKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&unb64(RFC8037_D).try_into().unwrap()))
    }

    fn ed(key: &SignKey) -> ed25519_dalek::VerifyingKey {
        match key.verifying_key() {
            VerifyKey::Ed25519(k) => k,
            VerifyKey::P256(_) => unreachable!(),
        }
    }

    #[test]
    fn rfc8037_a4_signing_output_is_pinned() {
        let key = rfc_key();
        assert_eq!(b64(ed(&key).as_bytes()), RFC8037_X);
        assert_eq!(sign(&key, br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing"), RFC8037_JWS);
    }

    #[test]
    fn rfc8037_a5_verification() {
        let jws = parse(RFC8037_JWS).expect("well formed");
        assert_eq!(jws.kid(), None);
        let key = VerifyKey::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&unb64(RFC8037_X).try_into().unwrap()).unwrap());
        assert_eq!(jws.verify(&key).as_deref(), Some(&b"Example of Ed25519 signing"[..]));
        let other = SignKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
        assert!(jws.verify(&other.verifying_key()).is_none());
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let key = rfc_key();
        let (h, rest) = RFC8037_JWS.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let with_header = |header: &str| sign(&key, header.as_bytes(), b"{}");
        for bad in [
            String::new(),
            "..".into(),
            "not-a-jwt".into(),
            format!("{h}.{p}"),
            format!("{h}.{p}.{s}.{s}"),
            format!("{h}.{p}.{s}."),
            format!("{h}=.{p}.{s}"),
            format!("{h}.{p}.{s}=="),
            format!("{h}.{p}.{}", s.replace('-', "+")),
            format!("{h}.{p}.{}", &s[..s.len() - 2]),
            format!("{h}.{p}.{}", b64(&[0; 63])),
            format!("{h} .{p}.{s}"),
            format!("{}.{p}.{s}", b64(b"not json")),
            with_header(r#"{"alg":"none"}"#),
            with_header(r#"{"alg":"HS256","kid":"k"}"#),
            with_header(r#"{"alg":"eddsa"}"#),
            with_header(r#"{"alg":"Ed25519"}"#),
            with_header(r#"{"alg":["EdDSA"]}"#),
            with_header(r#"{"kid":"k"}"#),
            with_header(r#"{"alg":"EdDSA","kid":7}"#),
            with_header(r#"{"alg":"EdDSA","alg":"EdDSA"}"#),
            with_header(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#),
            with_header(r#"{"alg":"es256"}"#),
            with_header(r#"{"alg":"ES384"}"#),
            with_header(r#"{"alg":"RS256"}"#),
        ] {
            assert!(parse(&bad).is_none(), "{bad}");
        }
        // A changed payload keeps its form but no longer verifies.
        let tampered = format!("{h}.{}.{s}", b64(b"Example of Ed25519 signinG"));
        let jws = parse(&tampered).expect("well formed");
        assert!(jws.verify(&key.verifying_key()).is_none());
    }

    // RFC 7515 appendix A.3: an ES256 JWS and the P-256 key that signed it
    // (ECDSA signatures are randomised, so the example is verified, and our
    // own signing is checked by verifying what it makes).
    const RFC7515_A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const RFC7515_A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const RFC7515_A3_D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    const RFC7515_A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

    fn rfc7515_public() -> VerifyKey {
        let mut sec1 = vec![4u8];
        sec1.extend(unb64(RFC7515_A3_X));
        sec1.extend(unb64(RFC7515_A3_Y));
        VerifyKey::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap())
    }

    #[test]
    fn rfc7515_a3_es256_verification() {
        let jws = parse(RFC7515_A3_JWS).expect("well formed");
        let payload = jws.verify(&rfc7515_public()).expect("the RFC's signature verifies");
        assert!(payload.starts_with(br#"{"iss":"joe","#));
        // The same bytes under the Ed25519 key, or claimed as EdDSA, do not.
        assert!(jws.verify(&rfc_key().verifying_key()).is_none());
        let (_, rest) = RFC7515_A3_JWS.split_once('.').unwrap();
        let as_eddsa = format!("{}.{rest}", b64(br#"{"alg":"EdDSA"}"#));
        assert!(parse(&as_eddsa).unwrap().verify(&rfc7515_public()).is_none());
    }

    #[test]
    fn es256_signs_what_the_rfc_key_verifies() {
        let d = unb64(RFC7515_A3_D);
        let key = SignKey::P256(p256::ecdsa::SigningKey::from_slice(&d).unwrap());
        let token = sign(&key, br#"{"alg":"ES256"}"#, b"payload");
        let signature = unb64(token.rsplit_once('.').unwrap().1);
        assert_eq!(signature.len(), 64, "r || s, not DER");
        assert_eq!(parse(&token).unwrap().verify(&rfc7515_public()).as_deref(), Some(&b"payload"[..]));
        let tampered = token.replacen(&b64(b"payload"), &b64(b"payloaD"), 1);
        assert!(parse(&tampered).unwrap().verify(&rfc7515_public()).is_none());
    }
}
