//! Where the server's master key comes from, and the check that it is the
//! one the database was sealed with (see `onramp_domain::secrets`).
//!
//! The key file holds the 32 bytes in base64 on one line (`openssl rand
//! -base64 32`). With SQLite the default is `master.key` in the data dir,
//! generated on the first start; with PostgreSQL, where several nodes share
//! one database, every node must be given the same file, so there is no
//! default: a node that generated its own would seal what the others cannot
//! read.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use onramp_domain::clock::Millis;
use onramp_domain::infra::master_key::MasterKey;
use onramp_domain::infra::secret::random_token;
use onramp_domain::secrets::{Unlocked, unlock};
use onramp_domain::store::SecretsStore;
use onramp_store::files::{self, create_private, private_dir, readable_by_others};
use onramp_store::{Backend, SqlStore};

/// The name of the generated key file in the data dir.
pub const FILE_NAME: &str = "master.key";

/// Where to find the master key.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `--master-key-file`: the file must exist.
    File(PathBuf),
    /// `master.key` in this data dir, generated on the first start; SQLite only.
    DataDir(PathBuf),
    /// A key already loaded (embedding).
    Key(Arc<MasterKey>),
}

impl MasterKeySource {
    /// The given file, else the data dir's.
    pub fn new(file: Option<&Path>, data_dir: &Path) -> Self {
        match file {
            Some(file) => Self::File(file.to_owned()),
            None => Self::DataDir(data_dir.to_owned()),
        }
    }
}

/// Resolves the key and unlocks the database with it: on the first start
/// the database records the key; on later ones any other key is refused.
///
/// # Errors
/// A message saying what is wrong and how to fix it.
pub async fn unlock_store(source: &MasterKeySource, store: &SqlStore, now: Millis) -> Result<Unlocked, String> {
    let key = resolve(source, store).await?;
    unlock(store, key, now).await.map_err(|e| e.to_string())
}

async fn resolve(source: &MasterKeySource, store: &SqlStore) -> Result<Arc<MasterKey>, String> {
    let dir = match source {
        MasterKeySource::Key(key) => return Ok(Arc::clone(key)),
        MasterKeySource::File(path) => return load(path).map(Arc::new),
        MasterKeySource::DataDir(dir) => dir,
    };
    if store.backend() == Backend::Postgres {
        return Err(
            "PostgreSQL needs a master key file, the same on every node: pass --master-key-file <file> \
             (or ONRAMP_MASTER_KEY_FILE, or master_key_file in the config file); make one with \
             `(umask 077; openssl rand -base64 32 > master.key)`"
                .into(),
        );
    }
    ensure_private_dir(dir)?;
    let path = dir.join(FILE_NAME);
    if path.exists() {
        // Ours, unlike a given file: narrowed like the database files.
        if files::tighten(&path, files::PRIVATE_FILE).unwrap_or(false) {
            tracing::warn!(file = %path.display(), "master key file was readable by others: narrowed to 0600");
        }
        return load(&path).map(Arc::new);
    }
    let sealed = store.master_key_check().await.map_err(|e| e.to_string())?;
    if sealed.is_some() {
        return Err(format!(
            "this database was sealed with a master key, but {} is missing: restore the master key file it was \
             created with (or pass --master-key-file); without it the signing keys cannot be read",
            path.display()
        ));
    }
    create(&path).map(Arc::new)
}

/// Reads a key file, refusing one that others may read.
///
/// # Errors
/// A message naming the file and the problem.
pub fn load(path: &Path) -> Result<MasterKey, String> {
    let cannot = |e: std::io::Error| format!("cannot read the master key file {}: {e}", path.display());
    if readable_by_others(path).map_err(cannot)? {
        return Err(format!(
            "the master key file {} is readable by other users: `chmod 600` it (and consider who may have copied it)",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(cannot)?;
    MasterKey::parse(&text).map_err(|e| format!("the master key file {}: {e}", path.display()))
}

/// Generates a key into `path`: written to a private temporary file, then
/// linked into place, so the file appears whole or not at all and an
/// existing one is never replaced (a process that loses the race reads the
/// winner's).
fn create(path: &Path) -> Result<MasterKey, String> {
    let failed = |e: std::io::Error| format!("cannot write the master key file {}: {e}", path.display());
    let (key, text) = MasterKey::generate();
    let temp = path.with_file_name(format!(".{FILE_NAME}.{}", random_token("", 12)));
    let written = create_private(&temp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return load(path),
        Err(e) => return Err(failed(e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
    }
    tracing::warn!(
        file = %path.display(),
        "generated a new master key: back it up with the database; without it the signing keys cannot be read"
    );
    Ok(key)
}

/// Creates the data dir private, or narrows it (with a warning).
///
/// # Errors
/// A message naming the directory.
pub fn ensure_private_dir(dir: &Path) -> Result<(), String> {
    match private_dir(dir) {
        Ok(false) => Ok(()),
        Ok(true) => {
            tracing::warn!(dir = %dir.display(), mode = format!("{:o}", files::PRIVATE_DIR), "data dir was open to others: narrowed");
            Ok(())
        }
        Err(e) => Err(format!("cannot create the data dir {}: {e}", dir.display())),
    }
}
