//! Platform instances, their two environments, and feature flags.

mod keys;
pub mod listing;
pub mod service;
pub mod signing;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{FieldCode, FieldError};
use crate::ids::EnvId;

/// A platform instance's identifier: lowercase letters, digits and `-`,
/// 2 to 40 characters, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PlatformId(String);

impl PlatformId {
    /// # Errors
    /// A `FieldError` naming the rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok_chars = raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if (2..=40).contains(&raw.len()) && ok_chars && starts {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "platform_id",
                FieldCode::InvalidPlatformId,
                "platform_id must be 2 to 40 lowercase letters, digits or '-', starting with a letter",
            ))
        }
    }

    /// A platform id to look up: what is not a valid one names no instance.
    ///
    /// # Errors
    /// `NotFound("instance")`.
    pub fn lookup(raw: &str) -> Result<Self, crate::DomainError> {
        Self::parse(raw).map_err(|_| crate::DomainError::NotFound("instance"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// No instance: what audit events of deployment-wide changes (operators
    /// of the console) carry. Empty, so it matches no instance's filter.
    pub fn deployment() -> Self {
        Self(String::new())
    }
}

impl PartialEq<&str> for PlatformId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two environments every instance has. Staging is the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    Staging,
    Production,
}

impl EnvKind {
    pub const ALL: [EnvKind; 2] = [EnvKind::Staging, EnvKind::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Staging => "staging",
            EnvKind::Production => "production",
        }
    }
}

impl FromStr for EnvKind {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "staging" => Ok(EnvKind::Staging),
            "production" => Ok(EnvKind::Production),
            _ => Err(FieldError::new(
                "environment",
                FieldCode::InvalidEnvironment,
                "environment must be `staging` or `production`",
            )),
        }
    }
}

impl fmt::Display for EnvKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Features an operator switches on per instance. All are off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    ClientAccounts,
    Partners,
    UserIntegration,
    SelfSignup,
    /// SCIM 2.0 provisioning at `/scim/v2/`.
    Scim,
}

impl Feature {
    pub const ALL: [Feature; 5] = [
        Feature::ClientAccounts,
        Feature::Partners,
        Feature::UserIntegration,
        Feature::SelfSignup,
        Feature::Scim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Feature::ClientAccounts => "client-accounts",
            Feature::Partners => "partners",
            Feature::UserIntegration => "user-integration",
            Feature::SelfSignup => "self-signup",
            Feature::Scim => "scim",
        }
    }
}

impl FromStr for Feature {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feature::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = Feature::ALL.iter().map(|f| f.as_str()).collect();
            FieldError::new(
                "feature",
                FieldCode::UnknownFeature,
                format!("unknown feature `{s}`; known: {}", known.join(", ")),
            )
        })
    }
}

/// A region code such as `za` or `eu`: 2 to 16 lowercase letters, digits or `-`.
pub fn parse_region(raw: &str) -> Result<String, FieldError> {
    let ok = (2..=16).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            "region",
            FieldCode::InvalidRegion,
            "region must be 2 to 16 lowercase letters, digits or '-'",
        ))
    }
}

/// An absolute `http://` or `https://` URL parsed by the `url` crate (WHATWG),
/// refusing what that parser would quietly repair: anything but printable
/// ASCII (it drops tabs and newlines), backslashes (it reads them as `/`),
/// a third slash after the scheme (it skips it), and credentials, which make
/// `https://app.acme.com@evil.com` a link to evil.com.
fn parse_http_url(raw: &str) -> Option<url::Url> {
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"))?;
    let plain = raw.len() <= 2048 && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') && !rest.starts_with('/');
    if !plain {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    (url.has_host() && url.username().is_empty() && url.password().is_none()).then_some(url)
}

/// The platform's own web app: an absolute http(s) URL without credentials,
/// query or fragment. Returned in the parser's normal form (lowercase host,
/// no default port), without a trailing slash.
pub fn parse_app_url(raw: &str) -> Result<String, FieldError> {
    match parse_http_url(raw).filter(|u| u.query().is_none() && u.fragment().is_none()) {
        Some(url) => Ok(url.as_str().trim_end_matches('/').to_owned()),
        None => Err(FieldError::new(
            "app_url",
            FieldCode::InvalidUrl,
            "app_url must be an absolute http:// or https:// URL without query or fragment",
        )),
    }
}

/// A hostname an operator maps to an environment (lowercased, no port).
pub fn parse_hostname(raw: &str) -> Result<String, FieldError> {
    let host = raw.to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(host)
    } else {
        Err(FieldError::new(
            "hostname",
            FieldCode::InvalidHostname,
            format!("`{raw}` is not a valid hostname"),
        ))
    }
}

/// A browser origin allowed to call an environment (`https://host[:port]`):
/// nothing after the host and port, not even `/`. Returned as browsers send
/// it in `Origin` (lowercase, no default port).
pub fn parse_origin(raw: &str) -> Result<String, FieldError> {
    let authority = raw.split_once("://").map_or("", |(_, a)| a);
    let bare = !authority.contains(['/', '?', '#']) && !authority.ends_with(':');
    let origin = parse_http_url(raw).filter(|u| bare && u.host_str().is_some_and(|h| parse_hostname(h).is_ok()));
    match origin {
        Some(url) => Ok(url.origin().ascii_serialization()),
        None => Err(FieldError::new(
            "origin",
            FieldCode::InvalidOrigin,
            format!("`{raw}` is not an origin like https://app.example.com[:port]"),
        )),
    }
}

/// A platform instance and its settings, shared by both environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub platform_id: PlatformId,
    pub name: String,
    pub region: String,
    pub app_url: String,
    pub features: BTreeSet<Feature>,
    /// Requests per minute per credential, by route template (`"POST /v1/client/login"`)
    /// or `"default"`.
    pub rate_limits: BTreeMap<String, u32>,
    /// Sign-in link template; `None` means [`DEFAULT_LINK_TEMPLATE`].
    pub link_template: Option<String>,
    /// Lifetime of one-time sign-in links in seconds; `None` means 15 minutes.
    pub login_link_ttl_secs: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The sign-in link template of an instance that has not set its own.
pub const DEFAULT_LINK_TEMPLATE: &str = "{app_url}/tokenauth.html?token={token}&redirect={redirect}";
/// Default lifetime of one-time sign-in links.
pub const DEFAULT_LOGIN_LINK_TTL_SECS: i64 = 15 * 60;

impl Instance {
    pub fn link_template(&self) -> &str {
        self.link_template.as_deref().unwrap_or(DEFAULT_LINK_TEMPLATE)
    }

    pub fn login_link_ttl_secs(&self) -> i64 {
        self.login_link_ttl_secs.unwrap_or(DEFAULT_LOGIN_LINK_TTL_SECS)
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }
}

/// One environment of an instance, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub id: EnvId,
    pub platform_id: PlatformId,
    pub kind: EnvKind,
    pub hostnames: Vec<String>,
    pub cors_origins: Vec<String>,
}

/// A request's tenant: the instance settings plus the environment it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub instance: Instance,
    pub env: Environment,
}

impl Tenant {
    /// # Errors
    /// `FeatureDisabled` when the instance has not switched `feature` on.
    pub fn require(&self, feature: Feature) -> Result<(), crate::DomainError> {
        if self.instance.has(feature) {
            Ok(())
        } else {
            Err(crate::DomainError::FeatureDisabled(feature.as_str()))
        }
    }

    /// The canonical API host of this environment under `base_domain`.
    pub fn canonical_host(&self, base_domain: &str) -> String {
        canonical_host(&self.instance.platform_id, self.env.kind, base_domain)
    }
}

/// `api.staging.<id>.<base>` or `api.<id>.<base>`.
pub fn canonical_host(platform_id: &PlatformId, kind: EnvKind, base_domain: &str) -> String {
    match kind {
        EnvKind::Staging => format!("api.staging.{platform_id}.{base_domain}"),
        EnvKind::Production => format!("api.{platform_id}.{base_domain}"),
    }
}

/// Splits a canonical API host into the instance and environment it names.
pub fn parse_canonical_host(host: &str, base_domain: &str) -> Option<(PlatformId, EnvKind)> {
    let prefix = host.strip_suffix(base_domain)?.strip_suffix('.')?;
    let rest = prefix.strip_prefix("api.")?;
    let (kind, id) = match rest.strip_prefix("staging.") {
        Some(id) => (EnvKind::Staging, id),
        None => (EnvKind::Production, rest),
    };
    PlatformId::parse(id).ok().map(|p| (p, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_ids() {
        assert!(PlatformId::parse("acme").is_ok());
        assert!(PlatformId::parse("a1-b").is_ok());
        for bad in ["a", "1abc", "Acme", "ac_me", "-ac", &"a".repeat(41)] {
            assert!(PlatformId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_hosts_round_trip() {
        let id = PlatformId::parse("acme").unwrap();
        for kind in EnvKind::ALL {
            let host = canonical_host(&id, kind, "localhost");
            assert_eq!(parse_canonical_host(&host, "localhost"), Some((id.clone(), kind)));
        }
        assert_eq!(parse_canonical_host("api.staging.acme.example.com", "localhost"), None);
        // "staging" itself is a valid platform id on production.
        assert_eq!(
            parse_canonical_host("api.staging.localhost", "localhost"),
            Some((PlatformId::parse("staging").unwrap(), EnvKind::Production))
        );
    }

    #[test]
    fn urls_and_origins() {
        assert_eq!(parse_app_url("https://app.acme.com/").unwrap(), "https://app.acme.com");
        assert!(parse_app_url("javascript:alert(1)").is_err());
        assert!(parse_origin("http://localhost:3000").is_ok());
        assert!(parse_origin("https://a.com/path").is_err());
    }

    #[test]
    fn app_urls_keep_paths_and_refuse_the_rest() {
        for (raw, parsed) in [
            ("https://app.acme.com", "https://app.acme.com"),
            ("http://localhost:3000/app/", "http://localhost:3000/app"),
            ("https://App.Acme.COM:443/Base", "https://app.acme.com/Base"),
            ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),
        ] {
            assert_eq!(parse_app_url(raw).unwrap(), parsed, "{raw}");
        }
        for bad in [
            "https://user@evil.com",
            "https://user:pw@evil.com",
            "https://:pw@evil.com",
            "https://app.acme.com@evil.com",
            "https://app.acme.com:443@evil.com/",
            "https://app.acme.com/?",
            "https://app.acme.com/?next=/x",
            "https://app.acme.com/#",
            "https://app.acme.com/#top",
            "https:///evil.com",
            "https:evil.com",
            "https://evil.com\\@app.acme.com",
            "https://app.acme.com/a b",
            "https://app.acme.com/\tx",
            "https://app.acme.com/é",
            "https://",
            "https://app.acme.com:99999",
            "ftp://app.acme.com",
            "HTTPS://app.acme.com",
            "//app.acme.com",
            "app.acme.com",
        ] {
            let err = parse_app_url(bad).expect_err(bad);
            assert_eq!((err.field.as_str(), err.code), ("app_url", FieldCode::InvalidUrl), "{bad}");
        }
        assert!(parse_app_url(&format!("https://a.com/{}", "x".repeat(2040))).is_err());
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for (raw, parsed) in [
            ("https://app.example.com", "https://app.example.com"),
            ("https://App.Example.com:8443", "https://app.example.com:8443"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ] {
            assert_eq!(parse_origin(raw).unwrap(), parsed, "{raw}");
        }
        for bad in [
            "https://user@app.example.com",
            "https://user:pw@app.example.com",
            "https://app.example.com@evil.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?x=1",
            "https://app.example.com?",
            "https://app.example.com#f",
            "https://app.example.com:",
            "https://app.example.com:+80",
            "https://app.example.com:99999",
            "https://[::1]:3000",
            "https:///app.example.com",
            "https://app_example.com",
            "javascript:alert(1)",
            "app.example.com",
        ] {
            let err = parse_origin(bad).expect_err(bad);
            assert_eq!((err.field.as_str(), err.code), ("origin", FieldCode::InvalidOrigin), "{bad}");
        }
    }
}
