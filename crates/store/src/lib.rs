//! Onramp's storage: the SQL implementation of the domain's
//! [`Store`](onramp_domain::store::Store) port.
//!
//! Queries go through sqlx's `Any` driver with portable SQL (`$n`
//! placeholders, TEXT/BIGINT/BLOB columns, timestamps as Unix milliseconds),
//! so one implementation serves SQLite now and PostgreSQL next; only the
//! migrations differ per backend. See `docs/architecture.md`.

mod errors;
mod integration;
mod migrations;
mod partners;
mod rows;
mod sql;
mod usage;

use std::time::Duration;

use onramp_domain::store::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use errors::map_err;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db`.
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

/// The database behind the `Store` port.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

/// The database products this store speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
}

impl Backend {
    /// The backend a database URL names.
    ///
    /// # Errors
    /// `Other` for a scheme this build does not support.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(StoreError::Other(format!(
                "unsupported database URL `{}`: this build stores data in SQLite (sqlite://path)",
                redact_url(url)
            )))
        }
    }
}

impl SqlStore {
    /// Connects, configures SQLite for durability (WAL, `synchronous=FULL`,
    /// foreign keys) and applies pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be opened, `Other` when a
    /// migration fails.
    pub async fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(&options.url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect(&options.url)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations for this backend.
    ///
    /// # Errors
    /// `Other` when a migration fails.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        migrations::apply(&self.pool, self.backend).await
    }

    /// Closes every connection, checkpointing SQLite's WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// A database URL with any password replaced, safe to print.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
