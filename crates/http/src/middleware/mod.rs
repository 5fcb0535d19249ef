//! Layers every request passes through, outermost first: request id and
//! access log, tenant resolution, CORS, then authentication and rate limiting.

pub mod guard;
pub mod idempotency;
pub mod request_id;
pub mod tenant;
