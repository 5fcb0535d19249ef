//! The schema is written twice (one migration folder per backend) and
//! `onramp copy` names every table and column once more: these tests hold
//! the three to one another.

use std::time::Duration;

use onramp_store::{Schema, SqlStore, StoreOptions, copied_schema};

async fn open(url: String) -> SqlStore {
    SqlStore::open(&StoreOptions {
        url,
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: None,
    })
    .await
    .expect("store opens and migrates")
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let store = open(format!("sqlite://{}?mode=rwc", dir.path().join("schema.db").display())).await;
    let schema = store.schema().await.unwrap();
    store.close().await;
    schema
}

#[tokio::test]
async fn onramp_copy_moves_every_table_and_column_of_the_migrations() {
    let schema = sqlite_schema().await;
    assert!(schema.contains_key("accounts") && schema.contains_key("audit_events"), "{schema:?}");
    assert_eq!(
        copied_schema(),
        schema,
        "copy.rs TABLES must list exactly the migrated tables and columns"
    );
}

#[tokio::test]
#[cfg_attr(
    no_postgres_tests,
    ignore = "PostgreSQL suite skipped: set ONRAMP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn sqlite_and_postgres_migrations_make_the_same_tables_and_columns() {
    let Ok(server) = std::env::var("ONRAMP_TEST_DATABASE_URL") else {
        return;
    };
    let name = format!("onramp_test_{}", uuid::Uuid::new_v4().simple());
    let url = onramp_store::create_postgres_database(&server, &name).await.unwrap();
    let postgres = open(url).await;
    assert_eq!(postgres.schema().await.unwrap(), sqlite_schema().await);
    postgres.close().await;
}
