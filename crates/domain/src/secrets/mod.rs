//! Secrets at rest: the database records which master key sealed it (a
//! check value), and start-up refuses any other key, so a wrong key fails
//! at once with a clear message instead of on every login. Unlocking also
//! seals the signing seeds an earlier version stored in plaintext.

pub mod store;

use std::sync::Arc;

use crate::clock::Millis;
use crate::infra::master_key::MasterKey;
use crate::infra::secret::ct_eq;
use crate::store::StoreError;
use crate::tenancy::signing::sealed::SeedSealer;
use crate::tenancy::signing::{KeyAlg, SigningKey};
use store::SecretsStore;

/// Why the database cannot be unlocked.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error(
        "this database was sealed with another master key: start with the master key file it was created with \
         (--master-key-file, or master.key in the data dir); signing keys and stored responses cannot be read with this one"
    )]
    WrongMasterKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A master key proven to be the one the database is sealed with: what the
/// core is built from (see [`crate::app::Core::builder`]).
#[derive(Debug)]
pub struct Unlocked {
    master: Arc<MasterKey>,
    /// Plaintext signing seeds sealed by this start-up.
    pub sealed_seeds: usize,
}

impl Unlocked {
    pub fn master_key(&self) -> &Arc<MasterKey> {
        &self.master
    }
}

/// Checks `master` against the database (recording it on the first start)
/// and seals any plaintext signing seeds, all before anything reads them.
///
/// # Errors
/// `WrongMasterKey` when the database was sealed with another key; storage
/// failures.
pub async fn unlock(store: &dyn SecretsStore, master: Arc<MasterKey>, now: Millis) -> Result<Unlocked, UnlockError> {
    let mine = master.check_value();
    let stored = store.init_master_key_check(&mine, now).await?;
    if !ct_eq(stored.as_bytes(), mine.as_bytes()) {
        return Err(UnlockError::WrongMasterKey);
    }
    let sealer = SeedSealer::new(&master);
    let sealed_seeds = store.reseal_signing_keys(&|key| sealer.upgrade(key)).await?;
    if sealed_seeds > 0 {
        tracing::info!(sealed_seeds, "sealed the plaintext signing seeds of an earlier version");
    }
    // Environments created before ES256 keys existed get their first one
    // here, so OIDC clients that need ES256 work without a rotation.
    let make = |env: &crate::ids::EnvId| SigningKey::generate(env, KeyAlg::Es256, now, &sealer);
    let added = store.add_missing_signing_keys(KeyAlg::Es256, &make).await?;
    if added > 0 {
        tracing::info!(
            added,
            "added the ES256 signing key of environments created before ES256 keys existed"
        );
    }
    Ok(Unlocked { master, sealed_seeds })
}
