//! What unlocking the database needs from storage. Not part of
//! [`Store`](crate::store::Store): only start-up uses it, before the core
//! exists.

use async_trait::async_trait;

use crate::clock::Millis;
use crate::ids::EnvId;
use crate::store::StoreError;
use crate::tenancy::signing::sealed::StoredSeed;
use crate::tenancy::signing::{KeyAlg, SigningKey};

/// Turns a stored key into the seed to store instead, or `None` to leave it.
pub type Reseal<'a> = &'a (dyn Fn(&SigningKey) -> Option<StoredSeed> + Send + Sync);

/// Makes a new signing key for an environment.
pub type MakeKey<'a> = &'a (dyn Fn(&EnvId) -> SigningKey + Send + Sync);

#[async_trait]
pub trait SecretsStore: Send + Sync {
    /// The check value of the master key the database is sealed with, if any.
    async fn master_key_check(&self) -> Result<Option<String>, StoreError>;
    /// Records `value` unless a check value is there already (another node
    /// may have written one first), and returns the one that is stored.
    async fn init_master_key_check(&self, value: &str, now: Millis) -> Result<String, StoreError>;
    /// In one transaction, replaces the seed of every signing key for which
    /// `reseal` gives one (each only if its row still holds what was read);
    /// returns how many were replaced.
    async fn reseal_signing_keys(&self, reseal: Reseal<'_>) -> Result<usize, StoreError>;
    /// In one transaction, gives every environment without an unretired key
    /// of `alg` the key `make` makes; returns how many were added.
    async fn add_missing_signing_keys(&self, alg: KeyAlg, make: MakeKey<'_>) -> Result<usize, StoreError>;
}
