//! Which URLs webhooks may be sent to. A webhook makes the server call a URL
//! its caller chose, so without a policy anyone with a partner key could
//! make it reach the deployment's own network (server-side request
//! forgery): an admin port on loopback, a database on a private network, a
//! cloud metadata service that hands out credentials.
//!
//! The policy: an absolute `https://` URL (`http://` in staging), without
//! credentials or fragment, whose host, resolved now, has no address in a
//! range that is not the public internet ([`forbidden_range`]). The
//! deployment may lift the address rule (`--webhook-allow-private-targets`)
//! for tests and demos whose receivers run on loopback.
//!
//! DNS answers change, so [`TargetPolicy::check`] is run at creation and
//! again before every delivery, and returns the addresses it vetted for the
//! connection to use (a second lookup could answer differently).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{DomainError, FieldCode, FieldError};
use crate::tenancy::EnvKind;

mod ranges;

pub use ranges::forbidden_range;

/// Longest accepted URL, in characters.
pub const MAX_URL_LEN: usize = 2048;
/// How long the system resolver may take before the host counts as unresolvable.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves host names. The server uses the system's resolver; tests give
/// answers of their own without touching DNS.
#[async_trait]
pub trait Resolver: Send + Sync + fmt::Debug {
    /// The addresses `host` resolves to now.
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo`: `/etc/hosts`, then DNS).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await {
            Ok(found) => Ok(found?.map(|a| a.ip()).collect()),
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the lookup timed out")),
        }
    }
}

/// A webhook URL that follows the syntax rules, normalised (lowercase
/// host, IP literals in canonical form, a path of at least `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(url::Url);

impl TargetUrl {
    /// Checks a webhook URL's syntax for an endpoint of environment `kind`.
    ///
    /// # Errors
    /// `invalid_url` or `invalid_length` on `url`.
    pub fn parse(raw: &str, kind: EnvKind) -> Result<Self, FieldError> {
        let invalid = |why: &str| FieldError::new("url", FieldCode::InvalidUrl, format!("url {why}"));
        if raw.chars().count() > MAX_URL_LEN {
            return Err(FieldError::new(
                "url",
                FieldCode::InvalidLength,
                format!("url must be at most {MAX_URL_LEN} characters"),
            ));
        }
        if raw.trim() != raw {
            return Err(invalid("must not start or end with spaces"));
        }
        let url = url::Url::parse(raw).map_err(|_| invalid("must be an absolute http:// or https:// URL"))?;
        match (url.scheme(), kind) {
            ("https", _) | ("http", EnvKind::Staging) => {}
            ("http", EnvKind::Production) => return Err(invalid("must be https:// in production (http:// is allowed in staging)")),
            _ => return Err(invalid("must be an absolute http:// or https:// URL")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry credentials (user:password@)"));
        }
        if url.fragment().is_some() {
            return Err(invalid("must not have a fragment (#…)"));
        }
        if url.host().is_none() {
            return Err(invalid("must name a host"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Scheme, host and port only: how audit records name a target (a
    /// path or query may carry a receiver's token).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

/// Why a URL's host may not be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The host is, or resolves to, an address outside the public internet.
    Forbidden {
        host: String,
        address: IpAddr,
        range: &'static str,
    },
    /// The host does not resolve (or not in time).
    Unresolvable { host: String },
}

impl From<Refusal> for DomainError {
    fn from(r: Refusal) -> Self {
        DomainError::TargetNotAllowed(match r {
            Refusal::Forbidden { host, address, range } => {
                // A host given by name is not answered with its address: a
                // partner must not learn what the deployment's DNS says
                // about internal names (the log has it).
                let resolved = if host == address.to_string() || host == format!("[{address}]") {
                    String::new()
                } else {
                    tracing::info!(%host, %address, "webhook target refused");
                    " resolves to an address that".to_owned()
                };
                FieldError::new(
                    "url",
                    FieldCode::TargetNotAllowed,
                    format!("{host}{resolved} is {range}: webhooks go to public internet addresses only"),
                )
            }
            Refusal::Unresolvable { host } => {
                FieldError::new("url", FieldCode::UnresolvableHost, format!("{host} does not resolve to an address"))
            }
        })
    }
}

/// The deployment's rule for webhook targets.
#[derive(Debug, Clone)]
pub struct TargetPolicy {
    /// Lets webhooks reach loopback, private and other non-public addresses
    /// (`--webhook-allow-private-targets`).
    pub allow_private: bool,
    pub resolver: Arc<dyn Resolver>,
}

impl Default for TargetPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            resolver: Arc::new(SystemResolver),
        }
    }
}

impl TargetPolicy {
    /// The addresses `url` may be sent to now: its host resolved, every
    /// address vetted. One forbidden address refuses the URL, since a
    /// connection could pick any of them.
    ///
    /// # Errors
    /// [`Refusal`].
    pub async fn vet(&self, url: &TargetUrl) -> Result<Vec<SocketAddr>, Refusal> {
        let port = url.port();
        let host = url.0.host_str().unwrap_or_default().to_owned();
        let addresses = match url.0.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            _ => self
                .resolver
                .resolve(host.trim_end_matches('.'), port)
                .await
                .ok()
                .filter(|found| !found.is_empty())
                .ok_or_else(|| Refusal::Unresolvable { host: host.clone() })?,
        };
        if !self.allow_private
            && let Some((address, range)) = addresses.iter().find_map(|a| forbidden_range(*a).map(|r| (*a, r)))
        {
            return Err(Refusal::Forbidden { host, address, range });
        }
        Ok(addresses.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    /// Parses and vets a stored or submitted URL: what creation runs, and
    /// what delivery runs again before each attempt.
    ///
    /// # Errors
    /// `Validation` for a malformed URL, `TargetNotAllowed` for a refused host.
    pub async fn check(&self, raw: &str, kind: EnvKind) -> Result<(TargetUrl, Vec<SocketAddr>), DomainError> {
        let url = TargetUrl::parse(raw, kind).map_err(|e| DomainError::Validation(vec![e]))?;
        let addresses = self.vet(&url).await?;
        Ok((url, addresses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers from a table, as tests do instead of DNS.
    #[derive(Debug)]
    struct Table(Vec<(&'static str, Vec<IpAddr>)>);

    #[async_trait]
    impl Resolver for Table {
        async fn resolve(&self, host: &str, _port: u16) -> std::io::Result<Vec<IpAddr>> {
            self.0
                .iter()
                .find(|(h, _)| *h == host)
                .map(|(_, a)| a.clone())
                .ok_or_else(|| std::io::Error::other("NXDOMAIN"))
        }
    }

    fn policy(allow_private: bool) -> TargetPolicy {
        let table = Table(vec![
            ("hooks.example.com", vec!["93.184.215.14".parse().unwrap()]),
            (
                "internal.example.com",
                vec!["93.184.215.14".parse().unwrap(), "10.1.2.3".parse().unwrap()],
            ),
            ("localhost", vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
        ]);
        TargetPolicy {
            allow_private,
            resolver: Arc::new(table),
        }
    }

    fn code(e: &DomainError) -> FieldCode {
        match e {
            DomainError::Validation(errors) => errors[0].code,
            DomainError::TargetNotAllowed(f) => f.code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax() {
        let ok = |raw: &str, kind| TargetUrl::parse(raw, kind).map(|u| u.as_str().to_owned());
        assert_eq!(
            ok("https://Hooks.Example.com", EnvKind::Production).unwrap(),
            "https://hooks.example.com/"
        );
        assert!(ok("https://hooks.example.com/in?token=x", EnvKind::Production).is_ok());
        assert!(ok("http://hooks.example.com/", EnvKind::Staging).is_ok());
        for (raw, kind) in [
            ("http://hooks.example.com/", EnvKind::Production),
            ("ftp://hooks.example.com/", EnvKind::Staging),
            ("hooks.example.com/in", EnvKind::Staging),
            ("https://user:pw@hooks.example.com/", EnvKind::Staging),
            ("https://user@hooks.example.com/", EnvKind::Staging),
            ("https://hooks.example.com/#frag", EnvKind::Staging),
            ("mailto:a@example.com", EnvKind::Staging),
            ("", EnvKind::Staging),
        ] {
            assert_eq!(ok(raw, kind).unwrap_err().code, FieldCode::InvalidUrl, "{raw}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(ok(&long, EnvKind::Staging).unwrap_err().code, FieldCode::InvalidLength);
        let url = TargetUrl::parse("https://hooks.example.com:8443/p/secret?t=1", EnvKind::Staging).unwrap();
        assert_eq!(url.origin(), "https://hooks.example.com:8443");
    }

    #[tokio::test]
    async fn hosts_and_addresses() {
        let strict = policy(false);
        let addrs = strict.check("https://hooks.example.com/in", EnvKind::Production).await.unwrap().1;
        assert_eq!(addrs, ["93.184.215.14:443".parse::<SocketAddr>().unwrap()]);
        let addrs = strict.check("http://93.184.215.14:8080/", EnvKind::Staging).await.unwrap().1;
        assert_eq!(addrs, ["93.184.215.14:8080".parse::<SocketAddr>().unwrap()]);
        for raw in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://10.0.0.8/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00:ec2::254]/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://localhost/",
            "https://internal.example.com/",
        ] {
            let e = strict.check(raw, EnvKind::Staging).await.unwrap_err();
            assert_eq!(code(&e), FieldCode::TargetNotAllowed, "{raw}: {e}");
        }
        let e = strict.check("https://internal.example.com/", EnvKind::Staging).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "internal.example.com resolves to an address that is a private address: webhooks go to public internet addresses only"
        );
        let e = strict.check("https://169.254.169.254/", EnvKind::Staging).await.unwrap_err();
        assert!(e.to_string().starts_with("169.254.169.254 is a cloud metadata address"), "{e}");
        let e = strict.check("https://nowhere.example.com/", EnvKind::Staging).await.unwrap_err();
        assert_eq!(code(&e), FieldCode::UnresolvableHost);
        let e = strict.check("http://hooks.example.com/", EnvKind::Production).await.unwrap_err();
        assert_eq!(code(&e), FieldCode::InvalidUrl);

        let lax = policy(true);
        let addrs = lax.check("http://localhost:9000/", EnvKind::Staging).await.unwrap().1;
        assert_eq!(addrs.len(), 2);
        assert!(lax.check("https://169.254.169.254/", EnvKind::Production).await.is_ok());
        let e = lax.check("https://nowhere.example.com/", EnvKind::Staging).await.unwrap_err();
        assert_eq!(code(&e), FieldCode::UnresolvableHost, "the flag lifts the address rule only");
    }

    #[tokio::test]
    async fn the_system_resolver_knows_localhost() {
        let found = SystemResolver.resolve("localhost", 80).await.expect("localhost resolves");
        assert!(found.iter().all(|a| a.is_loopback()), "{found:?}");
        let e = TargetPolicy::default()
            .check("http://localhost:8080/", EnvKind::Staging)
            .await
            .unwrap_err();
        assert_eq!(code(&e), FieldCode::TargetNotAllowed);
    }
}
