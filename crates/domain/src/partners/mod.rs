//! Partners and their API keys.

pub mod allowance;
pub mod applications;
pub mod listing;
pub mod provisioning;
pub mod service;
pub mod store;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::error::{FieldCode, FieldError};
use crate::ids::{EnvId, KeyId, PartnerId};
use crate::infra::secret::random_token;
use crate::tenancy::{EnvKind, PlatformId};

/// A partner's standing with the operator; only `active` partners' keys work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerStatus {
    Pending,
    Active,
    Suspended,
}

impl PartnerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerStatus::Pending => "pending",
            PartnerStatus::Active => "active",
            PartnerStatus::Suspended => "suspended",
        }
    }
}

impl FromStr for PartnerStatus {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(PartnerStatus::Pending),
            "active" => Ok(PartnerStatus::Active),
            "suspended" => Ok(PartnerStatus::Suspended),
            _ => Err(FieldError::new(
                "status",
                FieldCode::InvalidStatus,
                format!("unknown partner status `{s}`"),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: PartnerId,
    pub env_id: EnvId,
    /// The instance and environment of `env_id` (read with the partner).
    pub platform_id: PlatformId,
    pub environment: EnvKind,
    pub name: String,
    pub status: PartnerStatus,
    /// The scopes the operator lets this partner's keys have (sorted, at
    /// least one): keys are issued within them, and a key's scope outside
    /// them is refused on every request.
    pub allowed_scopes: Vec<Scope>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Partner {
    /// Whether the operator allows this partner `scope`.
    pub fn allows(&self, scope: Scope) -> bool {
        self.allowed_scopes.contains(&scope)
    }

    /// How lifecycle events name the partner.
    pub fn event_data(&self) -> serde_json::Value {
        serde_json::json!({ "partner_id": self.id, "name": self.name })
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "accounts:write")]
    AccountsWrite,
    #[serde(rename = "accounts:read")]
    AccountsRead,
    #[serde(rename = "usage:read")]
    UsageRead,
    /// The partner's webhook endpoints, its event feed and its alert settings.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::AccountsWrite, Scope::AccountsRead, Scope::UsageRead, Scope::WebhooksManage];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountsWrite => "accounts:write",
            Scope::AccountsRead => "accounts:read",
            Scope::UsageRead => "usage:read",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = Scope::ALL.iter().map(|x| x.as_str()).collect();
            FieldError::new(
                "scope",
                FieldCode::UnknownScope,
                format!("unknown scope `{s}`; known: {}", known.join(", ")),
            )
        })
    }
}

/// An API key as stored: the key itself only as its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key_id: KeyId,
    pub partner_id: PartnerId,
    pub env_id: EnvId,
    pub key_hash: String,
    pub scopes: Vec<Scope>,
    pub created_at: Millis,
    /// The lifetime the key was issued with; a rotation passes it on.
    pub expires_at: Option<Millis>,
    /// End of the grace period once the key was rotated.
    pub retires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    /// The key this one's rotation minted.
    pub rotated_to: Option<KeyId>,
}

impl ApiKey {
    /// Usable at `now`: neither revoked nor expired.
    pub fn is_live(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now) && self.retires_at.is_none_or(|r| r > now)
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Random characters after the prefix, and checksum characters after those.
const KEY_RANDOM_LEN: usize = 40;
const KEY_CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What an API key opens: its prefix says, so that a key is only ever looked
/// up among keys of its own kind (and the two kinds never share a lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A partner's key for the provisioning API (`/v1/partners/…`).
    Partner,
    /// A vendor app's key for user integration (`/v1/integration/…`).
    VendorApp,
    /// A SCIM client's bearer token (`/scim/v2/…`).
    Scim,
    /// A service user's OAuth client secret (`/oauth/…`).
    ClientSecret,
}

impl KeyKind {
    /// `onr_test_` / `onr_live_` for partner keys, `onr_app_test_` /
    /// `onr_app_live_` for vendor app keys, `onr_scim_test_` /
    /// `onr_scim_live_` for SCIM tokens, `onr_cs_` for OAuth client secrets
    /// (whose `client_id` already names the environment).
    pub fn prefix(self, env: EnvKind) -> &'static str {
        match (self, env) {
            (KeyKind::Partner, EnvKind::Staging) => "onr_test_",
            (KeyKind::Partner, EnvKind::Production) => "onr_live_",
            (KeyKind::VendorApp, EnvKind::Staging) => "onr_app_test_",
            (KeyKind::VendorApp, EnvKind::Production) => "onr_app_live_",
            (KeyKind::Scim, EnvKind::Staging) => "onr_scim_test_",
            (KeyKind::Scim, EnvKind::Production) => "onr_scim_live_",
            (KeyKind::ClientSecret, _) => "onr_cs_",
        }
    }
}

/// `onr_test_` for staging partner keys, `onr_live_` for production ones.
pub fn key_prefix(kind: EnvKind) -> &'static str {
    KeyKind::Partner.prefix(kind)
}

/// Six base62 characters of SHA-256 over prefix and random part: lets a typo
/// or a leaked key be recognised offline, and a bad key be refused without a
/// database lookup.
fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (0..KEY_CHECKSUM_LEN)
        .map(|_| {
            let c = BASE62[(n % 62) as usize] as char;
            n /= 62;
            c
        })
        .collect()
}

/// A new partner key for an environment: prefix, 40 random base62
/// characters, checksum.
pub fn generate_key(env: EnvKind) -> String {
    generate_key_of(KeyKind::Partner, env)
}

/// A new key of `kind` for an environment: prefix, 40 random base62
/// characters, checksum.
pub fn generate_key_of(kind: KeyKind, env: EnvKind) -> String {
    let body = random_token(kind.prefix(env), KEY_RANDOM_LEN);
    let sum = checksum(&body);
    body + &sum
}

/// Whether `key` has the shape and checksum of a partner key of environment `env`.
pub fn key_is_well_formed(key: &str, env: EnvKind) -> bool {
    key_is_well_formed_as(key, KeyKind::Partner, env)
}

/// Whether `key` has the shape and checksum of a key of `kind` in environment `env`.
pub fn key_is_well_formed_as(key: &str, kind: KeyKind, env: EnvKind) -> bool {
    let prefix = kind.prefix(env);
    let expected_len = prefix.len() + KEY_RANDOM_LEN + KEY_CHECKSUM_LEN;
    if key.len() != expected_len || !key.starts_with(prefix) || !key[prefix.len()..].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, sum) = key.split_at(expected_len - KEY_CHECKSUM_LEN);
    checksum(body) == sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_prefix_and_checksum() {
        let key = generate_key(EnvKind::Staging);
        assert!(key.starts_with("onr_test_") && key.len() == 9 + 40 + 6);
        assert!(key_is_well_formed(&key, EnvKind::Staging));
        assert!(!key_is_well_formed(&key, EnvKind::Production));
        // One changed character breaks the checksum.
        let mut typo = key.clone().into_bytes();
        typo[12] = if typo[12] == b'a' { b'b' } else { b'a' };
        assert!(!key_is_well_formed(&String::from_utf8(typo).unwrap(), EnvKind::Staging));
        assert!(generate_key(EnvKind::Production).starts_with("onr_live_"));
    }

    #[test]
    fn vendor_app_keys_never_pass_for_partner_keys() {
        let app = generate_key_of(KeyKind::VendorApp, EnvKind::Staging);
        assert!(app.starts_with("onr_app_test_") && app.len() == 13 + 40 + 6, "{app}");
        assert!(key_is_well_formed_as(&app, KeyKind::VendorApp, EnvKind::Staging));
        assert!(!key_is_well_formed_as(&app, KeyKind::VendorApp, EnvKind::Production));
        assert!(generate_key_of(KeyKind::VendorApp, EnvKind::Production).starts_with("onr_app_live_"));
        let partner = generate_key(EnvKind::Staging);
        for env in EnvKind::ALL {
            assert!(!key_is_well_formed(&app, env));
            assert!(!key_is_well_formed_as(&partner, KeyKind::VendorApp, env));
        }
    }

    #[test]
    fn scopes_parse() {
        assert_eq!("accounts:write".parse::<Scope>().unwrap(), Scope::AccountsWrite);
        assert!("accounts:admin".parse::<Scope>().is_err());
    }
}
