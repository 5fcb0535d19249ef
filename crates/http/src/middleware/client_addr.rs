//! The client address of each request: the peer's, or, when the peer is a
//! trusted proxy (`--trusted-proxy`), the address the proxy forwarded; and
//! likewise the scheme (HTTPS only when a trusted proxy says so). Forwarded
//! headers from anyone else are ignored, so clients cannot choose the
//! address they are limited by, nor make the pages take them for HTTPS.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use onramp_domain::infra::client::{ClientAddr, Scheme};

/// The networks whose forwarded-for headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`. Walking the forwarded hops from the right
    /// (the one the nearest proxy appended), the client is the first address
    /// that is not a trusted proxy; hops to its left are the client's own say
    /// and are never believed. `X-Forwarded-For` is read, or, without it,
    /// `Forwarded`'s `for=` values.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops = forwarded_for(headers);
        let mut client = peer;
        while let Some(hop) = hops.pop() {
            let Some(ip) = hop else {
                // Not an address: nothing to its left can be placed either.
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// The scheme the client used, as the nearest proxy saw it: the last
    /// value of `X-Forwarded-Proto`, or, without it, the `proto=` of the
    /// last `Forwarded` element. Only a trusted peer is asked.
    pub fn scheme(&self, peer: IpAddr, headers: &HeaderMap) -> Scheme {
        if !self.trusts(peer) {
            return Scheme::Http;
        }
        let last = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
        };
        let proto = last("x-forwarded-proto").or_else(|| {
            last("forwarded").and_then(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("proto"))
                    .map(|(_, value)| value.trim().trim_matches('"').to_owned())
            })
        });
        match proto {
            Some(p) if p.eq_ignore_ascii_case("https") => Scheme::Https,
            _ => Scheme::Http,
        }
    }
}

/// Parses `10.0.0.0/8` or a single address (`10.0.0.5`, as a /32 or /128).
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{raw}` is not a network like 10.0.0.0/8 or an address like 10.0.0.5"))
}

/// The hops of `X-Forwarded-For` (every such header, in order), or else of
/// `Forwarded`; `None` for a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| {
                v.to_str()
                    .unwrap_or("?")
                    .split(',')
                    .map(str::trim)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().map(|hop| parse_hop(hop)).collect();
    }
    values("forwarded")
        .iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| parse_hop(value.trim().trim_matches('"')))
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1` or `[2001:db8::1]:8080`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| hop.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>())
        .ok()
}

/// The request's client address, for handlers (the unspecified address if
/// [`resolve_client`] did not run, which only happens in-process).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ClientAddr>().map_or(UNKNOWN, |c| c.0)))
    }
}

const UNKNOWN: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// Puts the request's [`ClientAddr`] and [`Scheme`] in its extensions.
pub async fn resolve_client(State(proxies): State<Arc<TrustedProxies>>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(UNKNOWN, |c| c.0.ip());
    let client = proxies.client(peer, req.headers());
    let scheme = proxies.scheme(peer, req.headers());
    req.extensions_mut().insert(ClientAddr(client));
    req.extensions_mut().insert(scheme);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| parse_proxy(n).unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let p = proxies(&["10.0.0.0/8", "192.0.2.7"]);
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(p.client(ip("203.0.113.9"), &spoofed), ip("203.0.113.9"), "not a trusted peer");
        assert_eq!(p.client(ip("10.1.2.3"), &spoofed), ip("198.51.100.1"));
        assert_eq!(
            p.client(ip("192.0.2.7"), &HeaderMap::new()),
            ip("192.0.2.7"),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8"]);
        // The client claimed 1.1.1.1; the outer proxy 10.0.0.2 saw 198.51.100.1.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.1"), ("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("198.51.100.1"));
        let garbage = headers(&[("x-forwarded-for", "nonsense, 10.0.0.3")]);
        assert_eq!(p.client(ip("10.0.0.1"), &garbage), ip("10.0.0.3"));
        let ported = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        assert_eq!(p.client(ip("10.0.0.1"), &ported), ip("2001:db8::1"));
    }

    #[test]
    fn forwarded_is_read_without_x_forwarded_for() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("forwarded", r#"for=1.1.1.1, for="[2001:db8::5]:80";proto=https"#)]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("2001:db8::5"));
        let both = headers(&[("forwarded", "for=1.1.1.1"), ("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(p.client(ip("10.0.0.1"), &both), ip("198.51.100.1"));
        let v4mapped = proxies(&["127.0.0.1/32"]);
        assert_eq!(v4mapped.client(ip("::ffff:127.0.0.1"), &both), ip("198.51.100.1"));
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.internal").is_err());
    }

    #[test]
    fn https_counts_only_from_trusted_proxies() {
        let p = proxies(&["10.0.0.0/8"]);
        let https = headers(&[("x-forwarded-proto", "https")]);
        assert_eq!(p.scheme(ip("10.0.0.1"), &https), Scheme::Https);
        assert_eq!(p.scheme(ip("203.0.113.9"), &https), Scheme::Http, "not a trusted peer");
        assert_eq!(p.scheme(ip("10.0.0.1"), &HeaderMap::new()), Scheme::Http);
        // The nearest proxy's word counts, not what the client prepended.
        let chained = headers(&[("x-forwarded-proto", "https, http")]);
        assert_eq!(p.scheme(ip("10.0.0.1"), &chained), Scheme::Http);
        let forwarded = headers(&[("forwarded", "for=1.1.1.1;proto=http, for=2.2.2.2;proto=HTTPS")]);
        assert_eq!(p.scheme(ip("10.0.0.1"), &forwarded), Scheme::Https);
    }
}
