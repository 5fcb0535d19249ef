//! Idempotency keys: remembered first responses of creating requests.

use crate::clock::Millis;
use crate::ids::EnvId;

pub mod service;
pub mod store;

/// A remembered Idempotency-Key; `status` 0 means the first request still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub env_id: EnvId,
    pub key_hash: String,
    /// Hash of the route and body of the first request.
    pub fingerprint: String,
    pub status: i64,
    /// The encrypted response body.
    pub body: Vec<u8>,
    pub created_at: Millis,
}
