//! Migrations embedded in the binary, one folder per backend.

use std::borrow::Cow;

use onramp_domain::store::StoreError;
use sqlx::AnyPool;
use sqlx::SqlSafeStr;

use crate::Backend;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Each backend's migrations: the same versions, tables and columns.
macro_rules! migrations {
    ($dir:literal) => {
        &[
            (1, "core", include_str!(concat!("../migrations/", $dir, "/0001_core.sql"))),
            (
                2,
                "idempotency",
                include_str!(concat!("../migrations/", $dir, "/0002_idempotency.sql")),
            ),
            (3, "partners", include_str!(concat!("../migrations/", $dir, "/0003_partners.sql"))),
            (
                4,
                "usage_alerts",
                include_str!(concat!("../migrations/", $dir, "/0004_usage_alerts.sql")),
            ),
            (
                5,
                "integration",
                include_str!(concat!("../migrations/", $dir, "/0005_integration.sql")),
            ),
        ]
    };
}

const SQLITE: &[(i64, &str, &str)] = migrations!("sqlite");
const POSTGRES: &[(i64, &str, &str)] = migrations!("postgres");

fn migrator(backend: Backend) -> Migrator {
    let files = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let migrations = files
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                sqlx::AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
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
