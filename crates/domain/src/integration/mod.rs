//! User integration: vendor apps, the grants people give them, and
//! authorization codes.

pub mod admin;
pub mod oidc;
pub mod service;
pub mod store;

use serde::Serialize;
use serde_json::json;

use crate::clock::Millis;
use crate::error::{DomainError, FieldCode, FieldError, Validator};
use crate::ids::{AccountId, AppId, AppKeyId, EnvId};
use crate::tenancy::Tenant;
use crate::tenancy::signing::KeyAlg;
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
    /// Where `/oauth/authorize` may send codes, matched exactly.
    pub redirect_uris: Vec<String>,
    /// How this app's ID tokens are signed (`id_token_signed_response_alg`).
    pub id_token_alg: KeyAlg,
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
    /// Set for codes of `/oauth/authorize`; the popup's codes have none.
    pub oidc: Option<oidc::CodeBinding>,
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

/// What a developer sets on an app: its name, the origins of the popup,
/// and, as an OAuth client, its redirect URIs and ID token algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFields {
    pub name: String,
    pub origins: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub id_token_alg: KeyAlg,
}

impl AppFields {
    /// An app for the popup only: no redirect URIs, ES256 ID tokens.
    pub fn popup(name: &str, origins: &[String]) -> Self {
        Self {
            name: name.to_owned(),
            origins: origins.to_vec(),
            redirect_uris: Vec::new(),
            id_token_alg: KeyAlg::Es256,
        }
    }
}

/// A redirect URI an app may register: an absolute `https://` URL without a
/// fragment (RFC 6749 §3.1.2), or `http://localhost…` / `http://127.0.0.1…`
/// in staging only. Kept as written: `/oauth/authorize` matches it exactly.
///
/// # Errors
/// `invalid_redirect`.
pub fn parse_redirect_uri(raw: &str, kind: EnvKind) -> Result<String, FieldError> {
    let raw = raw.trim();
    let bad = |why: String| Err(FieldError::new("redirect_uris", FieldCode::InvalidRedirect, why));
    let Ok(url) = url::Url::parse(raw) else {
        return bad(format!("`{raw}` is not an absolute URL"));
    };
    if url.fragment().is_some() || raw.contains('#') || raw.len() > 2000 || url.host_str().is_none() {
        return bad(format!("`{raw}` must be an absolute URL with a host and no #fragment"));
    }
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
    match (url.scheme(), local, kind) {
        ("https", _, _) | ("http", true, EnvKind::Staging) => Ok(raw.to_owned()),
        ("http", true, EnvKind::Production) => bad("http://localhost redirect URIs are allowed in staging only".into()),
        _ => bad(format!("`{raw}` must be an https:// URL")),
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

/// The fields of an app, checked and trimmed (redirect URIs deduplicated).
pub(crate) fn valid_app_fields(tenant: &Tenant, fields: &AppFields) -> Result<AppFields, DomainError> {
    let mut v = Validator::default();
    let name = v.check(crate::accounts::parse_name_part("name", &fields.name));
    let origins: Vec<String> = fields
        .origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .filter_map(|o| v.check(parse_app_origin(o, tenant.env.kind)))
        .collect();
    if origins.is_empty() {
        v.push(FieldError::new("origins", FieldCode::Required, "give at least one allowed origin"));
    }
    let mut redirect_uris: Vec<String> = Vec::new();
    for uri in fields.redirect_uris.iter().filter(|u| !u.trim().is_empty()) {
        if let Some(uri) = v.check(parse_redirect_uri(uri, tenant.env.kind))
            && !redirect_uris.contains(&uri)
        {
            redirect_uris.push(uri);
        }
    }
    v.finish()?;
    Ok(AppFields {
        name: name.unwrap_or_default(),
        origins,
        redirect_uris,
        id_token_alg: fields.id_token_alg,
    })
}

/// An app's settings as its audit events record them.
pub(crate) fn app_detail(app: &VendorApp) -> serde_json::Value {
    json!({
        "name": app.name,
        "origins": app.origins,
        "redirect_uris": app.redirect_uris,
        "id_token_alg": app.id_token_alg.as_str(),
    })
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
    fn redirect_uris() {
        let ok = |raw, kind| parse_redirect_uri(raw, kind).is_ok();
        assert!(ok("https://shop.example.com/callback", EnvKind::Production));
        assert!(ok("http://localhost:3000/cb", EnvKind::Staging));
        assert!(ok("http://127.0.0.1/cb?x=1", EnvKind::Staging));
        assert!(!ok("http://localhost:3000/cb", EnvKind::Production));
        assert!(!ok("http://shop.example.com/cb", EnvKind::Staging));
        assert!(!ok("http://localhost.evil.com/cb", EnvKind::Staging));
        assert!(!ok("https://shop.example.com/cb#frag", EnvKind::Staging));
        assert!(!ok("/callback", EnvKind::Staging));
        assert!(!ok("javascript:alert(1)", EnvKind::Staging));
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
