//! User integration: vendor apps, the grants people give them, and
//! authorization codes.

pub mod admin;
pub mod service;
pub mod store;

use serde::Serialize;

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::ids::{AccountId, AppId, AppKeyId, EnvId};
use crate::tenancy::{EnvKind, parse_origin};

/// What an app is allowed to see of a person.
pub const PROFILE_SCOPES: [&str; 3] = ["email", "first_name", "last_name"];

/// An app a signed-in account registered to offer one-click sign-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorApp {
    pub id: AppId,
    pub env_id: EnvId,
    pub account_id: AccountId,
    pub name: String,
    pub origins: Vec<String>,
    pub key_id: Option<AppKeyId>,
    #[serde(skip)]
    pub key_hash: Option<String>,
    pub key_created_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Set while an operator has the app suspended: its key and popup are refused.
    pub suspended_at: Option<Millis>,
}

/// A person's consent for an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub env_id: EnvId,
    pub account_id: AccountId,
    pub app_id: AppId,
    pub scopes: Vec<String>,
    pub granted_at: Millis,
}

/// A single-use authorization code as stored (its hash only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: String,
    pub env_id: EnvId,
    pub app_id: AppId,
    pub account_id: AccountId,
    pub code_challenge: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// An origin an app may receive codes at: exact `https://host[:port]`, or
/// `http://localhost[:port]` / `http://127.0.0.1[:port]` in staging only.
///
/// # Errors
/// `invalid_origin`.
pub fn parse_app_origin(raw: &str, kind: EnvKind) -> Result<String, FieldError> {
    let origin = parse_origin(raw.trim())?;
    let local = ["http://localhost", "http://127.0.0.1"]
        .iter()
        .any(|p| origin == *p || origin.strip_prefix(p).is_some_and(|rest| rest.starts_with(':')));
    match (origin.starts_with("https://"), local, kind) {
        (true, _, _) | (false, true, EnvKind::Staging) => Ok(origin),
        (false, true, EnvKind::Production) => Err(FieldError::new(
            "origins",
            FieldCode::InvalidOrigin,
            "http://localhost origins are allowed in staging only",
        )),
        _ => Err(FieldError::new(
            "origins",
            FieldCode::InvalidOrigin,
            format!("`{raw}` must be an https:// origin"),
        )),
    }
}

/// Whether `verifier` matches an S256 `challenge` (RFC 7636).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let valid_verifier =
        (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid_verifier && crate::infra::secret::ct_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(parse_app_origin("https://shop.example.com", EnvKind::Production).is_ok());
        assert!(parse_app_origin("http://localhost:3000", EnvKind::Staging).is_ok());
        assert!(parse_app_origin("http://localhost:3000", EnvKind::Production).is_err());
        assert!(parse_app_origin("http://shop.example.com", EnvKind::Staging).is_err());
        assert!(parse_app_origin("https://shop.example.com/path", EnvKind::Staging).is_err());
        assert!(parse_app_origin("http://localhost.evil.com", EnvKind::Staging).is_err());
    }

    #[test]
    fn pkce_rfc7636_example() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
