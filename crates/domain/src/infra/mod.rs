//! Infrastructure the domain's services use: argon2 hashing on a bounded
//! worker pool shared fairly between tenants, the cost ceiling and
//! verification of imported legacy hashes, secrets and tokens, the master
//! key and the sealing of secrets at rest, failed-login throttling, the
//! client address it keys on, and TOTP second factors with their recovery
//! codes (operators' and portal users').

pub mod client;
pub mod hash_ceiling;
pub mod hash_queue;
pub mod hashing;
pub mod legacy_hash;
pub mod master_key;
pub mod seal;
pub mod secret;
pub mod throttle;
pub mod totp;
