//! Migrations embedded in the binary, one folder per backend: the same
//! versions, tables and columns (the schema-parity test holds them to it).

use onramp_domain::store::StoreError;
use sqlx::AnyPool;
use sqlx::migrate::Migrator;

use crate::Backend;

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    }
}

/// Applies pending migrations; returns the versions now applied.
pub async fn apply(pool: &AnyPool, backend: Backend) -> Result<Vec<i64>, StoreError> {
    let migrator = migrator(backend);
    migrator
        .run(pool)
        .await
        .map_err(|e| StoreError::other(format!("migration failed: {e}")))?;
    Ok(migrator.iter().map(|m| m.version).collect())
}
