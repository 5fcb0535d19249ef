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

/// The rows of a deployment at migration 6, one per table that migration 7
/// keys by environment (SQLite rebuilds those tables); `u1` exists in both
/// environments, as a client-chosen id can.
const ROWS_AT_6: &[&str] = &[
    "INSERT INTO instances (platform_id, name, region, app_url, features, rate_limits, created_at, updated_at)
     VALUES ('acme', 'Acme', 'za', 'https://app.acme.example', '[]', '{}', 0, 0)",
    "INSERT INTO environments (id, platform_id, kind, cors_origins) VALUES ('e1', 'acme', 'staging', '[]'), ('e2', 'acme', 'production', '[]')",
    "INSERT INTO accounts (env_id, id, email, email_normalized, first_name, last_name, password_hash, created_at, updated_at)
     VALUES ('e1', 'u1', 'a@example.com', 'a@example.com', 'A', 'B', 'h', 0, 0), ('e2', 'u1', 'a@example.com', 'a@example.com', 'A', 'B', 'h', 0, 0)",
    "INSERT INTO vendor_apps (id, env_id, account_id, name, origins, key_id, key_hash, key_created_at, created_at, updated_at)
     VALUES ('app1', 'e2', 'u1', 'Shop', '[]', 'kid', 'kh', 0, 0, 0)",
    "INSERT INTO grants (env_id, account_id, app_id, scopes, granted_at) VALUES ('e2', 'u1', 'app1', '[\"email\"]', 5)",
    "INSERT INTO auth_codes (code_hash, env_id, app_id, account_id, code_challenge, created_at, expires_at) VALUES ('c1', 'e2', 'app1', 'u1', 'ch', 0, 9)",
    "INSERT INTO sessions (token_hash, env_id, account_id, created_at, expires_at) VALUES ('t1', 'e1', 'u1', 0, 9), ('t2', 'e2', 'u1', 0, 9)",
    "INSERT INTO login_tokens (token_hash, env_id, account_id, redirect, created_at, expires_at) VALUES ('l1', 'e1', 'u1', '/next', 0, 9)",
    "INSERT INTO usage_minutes (key_id, partner_id, env_id, route, status_class, minute, count, denied) VALUES ('k', 'p', 'e2', 'r', '2xx', 0, 3, 0)",
];

/// Migrates `url` to version 6, writes [`ROWS_AT_6`], opens the store (which
/// applies the rest) and finds every row again through its environment.
async fn rows_survive_the_environment_keys(url: String, backend: &str) {
    use onramp_domain::accounts::Session;
    use onramp_domain::audit::{Actor, AuditEvent};
    use onramp_domain::ids::EnvId;
    use onramp_domain::ids::PlatformId;
    use onramp_domain::signin_links::Redeemed;
    use onramp_domain::store::{IntegrationStore, SessionStore, SigninLinkStore, UsageStore};

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../store/migrations")
        .join(backend);
    let migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    migrator.run_to(6, &pool).await.unwrap();
    for sql in ROWS_AT_6 {
        sqlx::query(sqlx::AssertSqlSafe(*sql)).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = open(url).await;
    let (staging, production) = (EnvId::from("e1"), EnvId::from("e2"));
    for (env, hash) in [(&staging, "t1"), (&production, "t2")] {
        let session = store.session(env, hash).await.unwrap().expect("session kept");
        assert_eq!(session.account_id, "u1");
    }
    assert!(store.session(&staging, "t2").await.unwrap().is_none());
    let grant = store.grant(&production, &"u1".into(), &"app1".into()).await.unwrap();
    assert_eq!(grant.expect("grant kept").granted_at, 5);
    assert!(store.grant(&staging, &"u1".into(), &"app1".into()).await.unwrap().is_none());
    let app = store.vendor_app_by_key_hash(&production, "kh").await.unwrap();
    assert_eq!(app.expect("app kept").name, "Shop");
    assert!(store.redeem_auth_code(&staging, "c1", 1).await.unwrap().is_none());
    assert!(store.redeem_auth_code(&production, "c1", 1).await.unwrap().is_some());
    let session = Session {
        token_hash: "t3".into(),
        env_id: staging.clone(),
        account_id: "u1".into(),
        created_at: 1,
        expires_at: 9,
    };
    let audit = AuditEvent::new(
        &Actor::operator(),
        &PlatformId::parse("acme").unwrap(),
        Some("staging"),
        "signin_link.redeemed",
        "",
    );
    let redeemed = store.redeem_login_token(&staging, "l1", 1, &session, &audit).await.unwrap();
    assert!(
        matches!(redeemed, Redeemed::Ok { ref redirect, .. } if redirect == "/next"),
        "{redeemed:?}"
    );
    let usage = store.usage(&production, &"p".into(), 0, 60_000).await.unwrap();
    assert_eq!(usage.iter().map(|r| r.count).sum::<i64>(), 3);
    // Migration 14 summed the minutes into their hour (charts read the hours).
    let filter = onramp_domain::usage::buckets::UsageFilter {
        env_id: Some(production.clone()),
        ..Default::default()
    };
    let hours = store
        .usage_buckets(&filter, 0, 3_600_000, onramp_domain::usage::buckets::Granularity::Hour)
        .await
        .unwrap();
    assert_eq!(hours.iter().map(|b| (b.start, b.ok, b.total)).collect::<Vec<_>>(), [(0, 3, 3)]);
    store.close().await;
}

#[tokio::test]
async fn sqlite_rows_written_before_the_environment_keys_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("upgrade.db").display());
    rows_survive_the_environment_keys(url, "sqlite").await;
}

#[tokio::test]
#[cfg_attr(
    no_postgres_tests,
    ignore = "PostgreSQL suite skipped: set ONRAMP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn postgres_rows_written_before_the_environment_keys_are_kept() {
    let Ok(server) = std::env::var("ONRAMP_TEST_DATABASE_URL") else {
        return;
    };
    let name = format!("onramp_test_{}", uuid::Uuid::new_v4().simple());
    let url = onramp_store::create_postgres_database(&server, &name).await.unwrap();
    rows_survive_the_environment_keys(url, "postgres").await;
}
