//! Onramp's storage: the SQL implementation of the domain's
//! [`Store`](onramp_domain::store::Store) port.
//!
//! Queries go through sqlx's `Any` driver with portable SQL (`$n`
//! placeholders, TEXT/BIGINT/BLOB columns, timestamps as Unix milliseconds),
//! so one implementation serves SQLite now and PostgreSQL next; only the
//! migrations differ per backend. See `docs/architecture.md`.

mod accounts;
mod audit;
mod copy;
mod copy_tables;
mod db;
mod errors;
mod events;
pub mod files;
mod groups;
mod idempotency;
mod inline;
mod integration;
mod migrations;
mod oauth;
mod operators;
mod partners;
mod portal;
mod portal_factor;
mod readers;
mod retention;
mod schema;
mod scim;
mod second_factor;
mod secrets;
mod service_users;
mod sessions;
mod signin_links;
mod tenancy;
mod usage;
mod usage_buckets;
mod webhook_delivery;
mod webhooks;

use std::time::Duration;

use onramp_domain::store::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use copy::CopiedTable;
pub use errors::map_err;
pub use schema::{Schema, copied_schema};

/// How many SQLite connections serve hot reads beside the pool: two cores'
/// worth of readers, with room for one to wait on a writer's lock.
const READERS: usize = 4;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// Longest a single statement may run (PostgreSQL `statement_timeout`;
    /// SQLite's busy timeout). `None` keeps the defaults.
    pub statement_timeout: Option<Duration>,
}

/// The database behind the `Store` port.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's connections for hot point reads (see `readers.rs`).
    readers: Option<std::sync::Arc<readers::Readers>>,
    /// SQLite's in-place readers for the hottest lookups (see `inline.rs`).
    inline: Option<std::sync::Arc<inline::Inline>>,
}

/// The database products this store speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    ///
    /// # Errors
    /// `Other` for a scheme this build does not support.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::other(format!(
                "unsupported database URL `{}`: use sqlite://path or postgres://user@host/database",
                redact_url(url)
            )))
        }
    }
}

impl SqlStore {
    /// Connects (SQLite or PostgreSQL), configures SQLite for durability
    /// (WAL, `synchronous=FULL`, foreign keys) and applies pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be opened, `Other` when a
    /// migration fails.
    pub async fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(&options.url)?;
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file(&options.url)?,
            Backend::Postgres => None,
        };
        if let Some(path) = &sqlite_file {
            create_sqlite_file(path, &options.url)?;
        }
        let statement_ms = options.statement_timeout.map(|d| d.as_millis().max(1) as u64);
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            // A SQLite connection is a file handle that cannot go stale, and
            // sqlx's acquire test is a round trip to the connection's worker
            // thread: a third of a point read's cost. PostgreSQL connections
            // can die with the network, so they keep the test.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    // SQLite's durability and integrity are per connection; PostgreSQL's are the server's.
                    let setup = match backend {
                        Backend::Sqlite => format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
                            statement_ms.unwrap_or(5000)
                        ),
                        Backend::Postgres => statement_ms.map(|ms| format!("SET statement_timeout = {ms}")).unwrap_or_default(),
                    };
                    if !setup.is_empty() {
                        conn.execute(sqlx::AssertSqlSafe(setup)).await?;
                    }
                    Ok(())
                })
            })
            .connect(&options.url)
            .await
            .map_err(StoreError::unavailable)?;
        let readers = (backend == Backend::Sqlite).then(|| std::sync::Arc::new(readers::Readers::new(READERS)));
        let inline = sqlite_file.clone().map(|path| std::sync::Arc::new(inline::Inline::new(path)));
        let store = Self {
            pool,
            backend,
            readers,
            inline,
        };
        store.migrate().await?;
        if let Some(path) = &sqlite_file {
            tighten_sqlite_files(path);
        }
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
        if let Some(inline) = &self.inline {
            inline.close();
        }
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        self.pool.close().await;
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// The file of a SQLite URL; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Result<Option<std::path::PathBuf>, StoreError> {
    use std::str::FromStr as _;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(StoreError::other)?;
    let path = options.get_filename();
    let in_memory = path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:");
    Ok((!in_memory).then(|| path.to_owned()))
}

/// Creates a missing database file private before SQLite opens it: SQLite
/// would create it with the umask's mode, and gives its `-wal` and `-shm`
/// the database file's mode.
fn create_sqlite_file(path: &std::path::Path, url: &str) -> Result<(), StoreError> {
    if !url.contains("mode=rwc") || path.exists() {
        return Ok(());
    }
    match files::create_private(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::unavailable(format!("cannot create {}: {e}", path.display()))),
    }
}

/// Narrows the database, its `-wal` and `-shm` to 0600 if an earlier
/// version (or a copy) left them readable by others.
fn tighten_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = std::path::PathBuf::from(name);
        match files::tighten(&file, files::PRIVATE_FILE) {
            Ok(false) => {}
            Ok(true) => tracing::warn!(file = %file.display(), "database file was readable by others: narrowed to 0600"),
            Err(e) => tracing::warn!(file = %file.display(), error = %e, "cannot narrow the database file's mode to 0600"),
        }
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

/// Creates an empty PostgreSQL database named `name` on the server of
/// `server_url` and returns the URL of the new database (used to give each
/// test, or a `copy` target, a database of its own).
///
/// # Errors
/// `Unavailable` when the server cannot be reached, `Other` when the name is
/// invalid or the database cannot be created.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    use sqlx::Connection;
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') || name.is_empty() {
        return Err(StoreError::other(format!("invalid database name `{name}`")));
    }
    let mut conn = sqlx::PgConnection::connect(server_url)
        .await
        .map_err(|e| StoreError::Unavailable(e.into()))?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .map_err(map_err)?;
    let (base, query) = server_url.split_once('?').map_or((server_url, None), |(b, q)| (b, Some(q)));
    let cut = base
        .rfind('/')
        .filter(|i| *i > base.find("://").map_or(0, |s| s + 2))
        .unwrap_or(base.len());
    let url = format!("{}/{name}", &base[..cut]);
    Ok(match query {
        Some(q) => format!("{url}?{q}"),
        None => url,
    })
}

impl SqlStore {
    /// Writes a consistent copy of a SQLite database to `path` while the
    /// server keeps running (`VACUUM INTO`: one read transaction, so the copy
    /// is a snapshot). Refuses to overwrite an existing file.
    ///
    /// # Errors
    /// `Other` for PostgreSQL (use `pg_dump`), an existing target, or a failed copy.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Other(
                "backup copies SQLite databases; for PostgreSQL use pg_dump".into(),
            ));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Other("the backup path is not valid UTF-8".into()))?;
        // Created empty and private first (VACUUM INTO fills an empty file),
        // so the copy is never readable by others, not even while written.
        files::create_private(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::other(format!("{} already exists", path.display())),
            _ => StoreError::other(format!("cannot create {}: {e}", path.display())),
        })?;
        let copied = sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{}'", target.replace('\'', "''"))))
            .execute(&self.pool)
            .await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(path);
            return Err(map_err(e));
        }
        Ok(())
    }
}
