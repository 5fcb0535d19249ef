//! Infrastructure the domain's services use: argon2 hashing on a bounded
//! worker pool, verification of imported legacy hashes, secrets and tokens,
//! failed-login throttling, and the client address they key on.

pub mod client;
pub mod hashing;
pub mod legacy_hash;
pub mod secret;
pub mod throttle;
