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
