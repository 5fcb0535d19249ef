//! Compact JWS (RFC 7515) with `EdDSA` over Ed25519 (RFC 8037), and nothing
//! else: a general JOSE library would bring algorithms (RSA, HMAC) this
//! server must never accept, so the one it needs is written out here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The only `alg` this server signs with or accepts.
pub(super) const ALG: &str = "EdDSA";

/// Base64url without padding, as every JWS part is encoded.
pub(super) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `payload` under the protected `header` (both raw JSON) and returns
/// the compact serialization `header.payload.signature`.
pub(super) fn sign(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let mut token = b64(header);
    token.push('.');
    token.push_str(&b64(payload));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&b64(&signature.to_bytes()));
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
    kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: Signature,
}

/// Splits and decodes a compact JWS. `None` unless it has exactly three
/// strict base64url parts, a JSON header with `alg: EdDSA` and no `crit`
/// (we understand no extension, so RFC 7515 §4.1.11 says refuse), and a
/// 64-byte signature. Refusing every other `alg` here is what stops
/// `alg: none` and HMAC-with-the-public-key forgeries.
pub(super) fn parse(token: &str) -> Option<Unverified<'_>> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.alg != ALG || header.crit.is_some() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    Some(Unverified {
        kid: header.kid,
        signing_input,
        payload,
        signature: Signature::from_slice(&signature).ok()?,
    })
}

impl Unverified<'_> {
    /// The `kid` header, which picks the key to verify with.
    pub(super) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The decoded payload if the signature verifies under `key`. Strict
    /// verification also refuses malleable signatures and weak keys.
    pub(super) fn verify(&self, key: &VerifyingKey) -> Option<Vec<u8>> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature).ok()?;
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

    fn rfc_key() -> SigningKey {
        SigningKey::from_bytes(&unb64(RFC8037_D).try_into().unwrap())
    }

    #[test]
    fn rfc8037_a4_signing_output_is_pinned() {
        let key = rfc_key();
        assert_eq!(b64(key.verifying_key().as_bytes()), RFC8037_X);
        assert_eq!(sign(&key, br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing"), RFC8037_JWS);
    }

    #[test]
    fn rfc8037_a5_verification() {
        let jws = parse(RFC8037_JWS).expect("well formed");
        assert_eq!(jws.kid(), None);
        let key = VerifyingKey::from_bytes(&unb64(RFC8037_X).try_into().unwrap()).unwrap();
        assert_eq!(jws.verify(&key).as_deref(), Some(&b"Example of Ed25519 signing"[..]));
        assert!(jws.verify(&SigningKey::from_bytes(&[7; 32]).verifying_key()).is_none());
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
        ] {
            assert!(parse(&bad).is_none(), "{bad}");
        }
        // A changed payload keeps its form but no longer verifies.
        let tampered = format!("{h}.{}.{s}", b64(b"Example of Ed25519 signinG"));
        let jws = parse(&tampered).expect("well formed");
        let key = key.verifying_key();
        assert!(jws.verify(&key).is_none());
    }
}
