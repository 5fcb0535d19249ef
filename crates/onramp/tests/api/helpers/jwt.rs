//! JWT tools: decoding without verification and signing arbitrary claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|e| panic!("{s:?} is not base64url: {e}"))
}

/// The header and payload of a JWT, decoded without verification.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token has three parts: {token}");
    let header = serde_json::from_slice(&unb64(parts[0])).expect("header JSON");
    let payload = serde_json::from_slice(&unb64(parts[1])).expect("payload JSON");
    (header, payload)
}

/// A compact JWS of `header` and `claims`; `sign` gets the signing input
/// (`header.payload`) and returns the raw signature.
pub fn compact_jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// Signs arbitrary claims with an Ed25519 seed, with `kid` in the header.
pub fn sign_eddsa(seed: &[u8], kid: Option<&str>, claims: &Value) -> String {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(seed.try_into().expect("a 32-byte Ed25519 seed"));
    let mut header = json!({ "typ": "JWT", "alg": "EdDSA" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    compact_jws(&header, claims, |input| key.sign(input).to_bytes().to_vec())
}
