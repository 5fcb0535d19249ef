//! What operator commands share: settings, the store and the core.

use std::sync::Arc;
use std::time::Duration;

use onramp_domain::DomainError;
use onramp_domain::app::{Core, CoreConfig};
use onramp_domain::infra::hashing::HashCost;
use onramp_domain::infra::secret::Secret;
use onramp_store::{SqlStore, StoreOptions};
use secrecy::ExposeSecret;

use super::GlobalArgs;
use crate::master_key::{MasterKeySource, unlock_store};

/// A failed command: its message and exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: &'static str,
    pub message: String,
}

impl CliError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<DomainError> for CliError {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::Validation(_) => "validation_failed",
            DomainError::NotFound(_) => "not_found",
            DomainError::Conflict(_) | DomainError::EmailTaken => "conflict",
            DomainError::Unavailable(_) => "unavailable",
            _ => "error",
        };
        Self::new(code, e.to_string())
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

/// Where the database is: `database_url` from any layer, else SQLite in the
/// data dir (created private if missing, narrowed if open to others).
///
/// # Errors
/// A `config` error when the data dir cannot be created.
pub fn database_url(global: &GlobalArgs) -> CliResult<String> {
    if let Some(url) = &global.database_url {
        return Ok(url.expose_secret().to_owned());
    }
    let dir = &global.data_dir;
    crate::master_key::ensure_private_dir(dir).map_err(|e| CliError::new("config", e))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| CliError::new("config", format!("data dir {}: {e}", dir.display())))?;
    Ok(format!("sqlite://{}?mode=rwc", dir.join("onramp.db").display()))
}

/// The argon2id cost the settings give.
pub fn hash_cost(global: &GlobalArgs) -> HashCost {
    HashCost {
        memory_kib: global.hash_memory_kib,
        iterations: global.hash_iterations,
        parallelism: global.hash_parallelism,
    }
}

/// Opens the database (applying migrations) with a small pool.
pub async fn open_store(url: &str, max_connections: u32, acquire_timeout: Duration) -> CliResult<SqlStore> {
    let options = StoreOptions {
        url: url.to_owned(),
        max_connections,
        acquire_timeout,
        statement_timeout: None,
    };
    SqlStore::open(&options)
        .await
        .map_err(|e| CliError::new("unavailable", e.to_string()))
}

/// The context of an operator command.
pub struct Ctx {
    pub core: Core,
    pub store: SqlStore,
    pub json: bool,
}

impl Ctx {
    pub async fn open(global: &GlobalArgs) -> CliResult<Self> {
        let url = database_url(global)?;
        let store = open_store(&url, 2, Duration::from_secs(10)).await?;
        let config = CoreConfig {
            hash_cost: hash_cost(global),
            ..CoreConfig::default()
        };
        let source = MasterKeySource::new(global.master_key_file.as_deref(), &global.data_dir);
        let unlocked = unlock_store(&source, &store, config.clock.now_ms())
            .await
            .map_err(|e| CliError::new("master_key", e))?;
        let core = Core::builder(Arc::new(store.clone()), config, &unlocked).build()?;
        Ok(Self {
            core,
            store,
            json: global.json,
        })
    }
}

/// Reads a password from standard input (first line), for `--password-stdin`.
pub fn read_password_stdin() -> CliResult<Secret> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::new("io", format!("cannot read stdin: {e}")))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    if pw.is_empty() {
        return Err(CliError::new("validation_failed", "no password on standard input"));
    }
    Ok(Secret::new(pw))
}
