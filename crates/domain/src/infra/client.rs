//! The client address of a request.

use std::net::IpAddr;

/// The address a request came from, as the HTTP layer resolved it: the
/// peer, or, when the peer is a trusted proxy, the address it forwarded.
/// Rate limits, the login throttle and audit events name clients by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The scheme a request reached the server's edge with, as the HTTP layer
/// resolved it. The server speaks plain HTTP itself, so a request is
/// `Https` only when a trusted proxy (`--trusted-proxy`) says it terminated
/// TLS for it; anyone else's `X-Forwarded-Proto` is ignored, as its
/// forwarded address is. Pages choose their cookies' names and `Secure`
/// attribute by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}
