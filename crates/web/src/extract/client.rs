//! Where a page request comes from.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use onramp_domain::infra::client::ClientAddr;
use onramp_domain::infra::throttle::LoginSource;

/// The client address the HTTP layer resolved (behind a trusted proxy, the
/// one it forwarded), as the login throttle sees it: someone logging in for
/// themselves.
#[derive(Debug, Clone, Copy)]
pub struct Visitor(pub IpAddr);

impl Visitor {
    pub fn login_source(self) -> LoginSource {
        LoginSource::Direct(self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ClientAddr>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0);
        Ok(Self(ip))
    }
}
