//! Layers every request passes through, outermost first: request id and
//! access log, the client address, tenant resolution, CORS, then
//! authentication and rate limiting.

pub mod client_addr;
pub mod guard;
pub mod idempotency;
pub mod request_id;
pub mod tenant;
