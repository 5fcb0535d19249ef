//! Secrets at rest: the master key and its file, the database's check of
//! it, sealed signing seeds (and the sealing of an earlier version's
//! plaintext ones), file modes whatever the umask, backups and copies, and
//! idempotent responses sealed under the server's secret.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use onramp_domain::infra::master_key::MasterKey;
use onramp_domain::tenancy::EnvKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::durability::provision;
use crate::helpers::*;

fn mode(path: &Path) -> u32 {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    meta.permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A fresh key file at `path` with `mode`.
fn key_file(path: &Path, mode: u32) -> String {
    std::fs::write(path, MasterKey::generate().1).unwrap();
    chmod(path, mode);
    path.display().to_string()
}

async fn pool(database_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(database_url).await.expect("connect")
}

/// `(kid, seed column)` of every signing key, read behind the server's back.
async fn raw_seeds(database_url: &str) -> Vec<(String, Vec<u8>)> {
    use sqlx::Row as _;
    let pool = pool(database_url).await;
    let rows = sqlx::query("SELECT kid, seed FROM signing_keys ORDER BY kid")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter().map(|r| (r.get("kid"), r.get("seed"))).collect()
}

/// Removes the database's record of its master key.
async fn forget_master_key(database_url: &str) {
    let pool = pool(database_url).await;
    sqlx::query("DELETE FROM master_key_check").execute(&pool).await.unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `svc`'s claims in acme/staging, fresh, for a token signed by hand.
fn claims_from(token: &str) -> Value {
    let (_, mut claims) = jwt_parts(token);
    (claims["iat"], claims["exp"]) = (json!(now_secs()), json!(now_secs() + 600));
    claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_data_dir_and_its_files_are_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    run_with_umask("000", &["--data-dir", &data_arg, "--json", "migrate"]).ok();
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("master.key")), 0o600, "master.key");
    assert_eq!(mode(&data.join("onramp.db")), 0o600, "database");
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_eq!(key.trim().len(), 44, "32 bytes in base64: {key:?}");

    provision(&data);
    let server = ChildServer::start_with_umask(&data, &[], "000").await;
    let api = server.api(&host("acme", "staging"));
    api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await)
        .signup("ann@example.com")
        .await;
    for file in ["onramp.db", "onramp.db-wal", "onramp.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file} while serving under umask 000");
    }
    let backup = dir.path().join("backup.db");
    run_with_umask("000", &["--data-dir", &data_arg, "--json", "backup", &backup.display().to_string()]).ok();
    assert_eq!(mode(&backup), 0o600, "backup");
    drop(server);
    ChildServer::start(&data, &[]).await;
    assert_eq!(std::fs::read_to_string(data.join("master.key")).unwrap(), key, "never regenerated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_an_earlier_version_left_open_are_narrowed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    chmod(&data, 0o755);
    chmod(&data.join("onramp.db"), 0o644);
    chmod(&data.join("master.key"), 0o644);
    let server = ChildServer::start(&data, &[]).await;
    assert_eq!(mode(&data), 0o700);
    for file in ["onramp.db", "master.key", "onramp.db-wal"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let log = server.log();
    assert!(log.contains("data dir was open to others"), "{log}");
    assert!(log.contains("database file was readable by others"), "{log}");
    assert!(log.contains("master key file was readable by others"), "{log}");
}

/// What a start with another master key says.
const SEALED: &str = "this database was sealed with another master key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_outlive_a_restart_and_only_the_databases_master_key_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    drop(server);
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging")).with_token(&token);
    api.get("/v1/client").await.expect(200);
    drop(server);

    let data_arg = data.display().to_string();
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--data-dir", &data_arg, "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        run_raw(&args)
    };
    let refused = |run: &CliRun, message: &str| {
        assert!(!run.success, "should refuse: {}", run.stderr);
        assert!(run.stderr.contains(message), "{message:?} not in {}", run.stderr);
    };
    let other = key_file(&dir.path().join("other.key"), 0o600);
    refused(&serve(&["--master-key-file", &other]), SEALED);
    let listed = cli(&data, &["--master-key-file", &other, "instance", "list"]);
    refused(&listed, SEALED);
    assert_eq!(listed.json()["error"]["code"], "master_key");

    let loose = key_file(&dir.path().join("loose.key"), 0o644);
    refused(&serve(&["--master-key-file", &loose]), "is readable by other users");
    let short = dir.path().join("short.key");
    std::fs::write(&short, "AAAAAAAAAAAAAAAAAAAAAA==\n").unwrap();
    chmod(&short, 0o600);
    refused(&serve(&["--master-key-file", &short.display().to_string()]), "must be exactly 32");
    let unreadable = "cannot read the master key file";
    refused(&serve(&["--master-key-file", "/nonexistent/master.key"]), unreadable);

    // A missing master.key is not silently replaced by a new one.
    let saved = dir.path().join("saved.key");
    std::fs::rename(data.join("master.key"), &saved).unwrap();
    refused(&serve(&[]), "master.key is missing");
    assert!(!data.join("master.key").exists());
    std::fs::rename(&saved, data.join("master.key")).unwrap();
    cli(&data, &["instance", "list"]).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_postgres_tests,
    ignore = "PostgreSQL suite skipped: set ONRAMP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn postgres_refuses_to_start_without_a_master_key_file() {
    let Ok(server_url) = std::env::var("ONRAMP_TEST_DATABASE_URL") else {
        return;
    };
    let name = format!("onramp_test_{}", uuid::Uuid::new_v4().simple());
    let url = onramp_store::create_postgres_database(&server_url, &name).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.display().to_string();
    let run = run_raw(&["serve", "--data-dir", &data_arg, "--database-url", &url, "--listen", "127.0.0.1:0"]);
    assert!(!run.success);
    assert!(run.stderr.contains("PostgreSQL needs a master key file"), "{}", run.stderr);
    assert!(!data.join("master.key").exists(), "no key of its own for a shared database");
    let run = run_raw(&["--data-dir", &data_arg, "--database-url", &url, "instance", "list"]);
    assert!(run.stderr.contains("PostgreSQL needs a master key file"), "{}", run.stderr);

    let key = key_file(&dir.path().join("shared.key"), 0o600);
    let server = ChildServer::start(&data, &["--database-url", &url, "--master-key-file", &key]).await;
    server.api("localhost").get("/readyz").await.expect(200);
    let other = key_file(&dir.path().join("other.key"), 0o600);
    let args = [
        "serve",
        "--database-url",
        &url,
        "--master-key-file",
        &other,
        "--listen",
        "127.0.0.1:0",
    ];
    let run = run_raw(&args);
    assert!(run.stderr.contains(SEALED), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_seeds_are_stored_sealed_never_in_plaintext() {
    let fx = Fixture::new().await;
    let server = &fx.server;
    let mut seeds = Vec::new();
    for env in [EnvKind::Staging, EnvKind::Production] {
        for key in server.core.tenancy().signing_keys(&pid("acme"), env).await.unwrap() {
            seeds.push((key.kid.clone(), server.seed_of(&key)));
        }
    }
    // The opened seed is the real one: a token signed with it verifies.
    let signing_kid = jwt_parts(fx.staging.token()).0["kid"].as_str().unwrap().to_owned();
    let (kid, seed) = seeds.iter().find(|(kid, _)| *kid == signing_kid).expect("the token's key");
    let forged = sign_eddsa(seed, Some(kid), &claims_from(fx.staging.token()));
    fx.staging.with_token(&forged).get("/v1/client").await.expect(200);

    let stored = raw_seeds(&server.settings.database_url).await;
    assert_eq!(stored.len(), 4, "EdDSA and ES256 in each environment");
    for (kid, raw) in &stored {
        assert!(raw.starts_with(b"sealed:v1:"), "{kid}: {raw:?}");
        assert!(seeds.iter().all(|(_, seed)| !contains(raw, seed)), "{kid} holds a plaintext seed");
    }
    if server.settings.database_url.starts_with("sqlite:") {
        for file in ["onramp.db", "onramp.db-wal"].map(|f| server.dir.path().join(f)) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(seeds.iter().all(|(_, seed)| !contains(&bytes, seed)), "{}", file.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_seeds_of_an_earlier_version_are_sealed_at_start() {
    let old = TestServer::start().await;
    old.create_instance("acme", &["client-accounts"]).await;
    old.create_service_user("acme", "staging", "svc", &[]).await;
    let url = old.settings.database_url.clone();
    let before = raw_seeds(&url).await;
    // What an earlier version wrote: a raw seed, here the newest key, so it signs.
    let legacy_seed = [42u8; 32];
    let pool = pool(&url).await;
    sqlx::query(
        "INSERT INTO signing_keys (kid, env_id, seed, created_at) \
         SELECT 'k_legacy', id, $1, $2 FROM environments WHERE platform_id = 'acme' AND kind = 'staging'",
    )
    .bind(legacy_seed.to_vec())
    .bind(onramp_domain::clock::now_ms() + 60_000)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let new = TestServer::start_with(|s| {
        s.database_url = url.clone();
        s.master_key = old.settings.master_key.clone();
    })
    .await;
    let after = raw_seeds(&url).await;
    let (_, sealed) = after.iter().find(|(kid, _)| kid == "k_legacy").unwrap();
    assert!(sealed.starts_with(b"sealed:v1:") && !contains(sealed, &legacy_seed), "{sealed:?}");
    for row in &before {
        assert!(after.contains(row), "sealed keys are left as they are");
    }
    // The sealed seed is the same key: it signs, and what it signed verifies.
    let api = new.staging("acme");
    let token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    assert_eq!(jwt_parts(&token).0["kid"], "k_legacy");
    let forged = sign_eddsa(&legacy_seed, Some("k_legacy"), &claims_from(&token));
    api.with_token(&forged).get("/v1/client").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_copies_serve_with_the_same_master_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    let backup = dir.path().join("backup.db");
    cli(&data, &["backup", &backup.display().to_string()]).ok();
    drop(server);
    let copied = dir.path().join("copied.db");
    let source = format!("sqlite://{}", data.join("onramp.db").display());
    let target = format!("sqlite://{}?mode=rwc", copied.display());
    run_with_umask("000", &["copy", "--json", "--from", &source, "--to", &target]).ok();
    assert_eq!(mode(&copied), 0o600, "copy target");

    let key = data.join("master.key").display().to_string();
    for (n, db) in [backup, copied].iter().enumerate() {
        let url = format!("sqlite://{}?mode=rw", db.display());
        // Elsewhere, without the master key file: refused, nothing generated.
        let elsewhere = dir.path().join(format!("restored-{n}"));
        let elsewhere_arg = elsewhere.display().to_string();
        let run = run_raw(&[
            "serve",
            "--data-dir",
            &elsewhere_arg,
            "--database-url",
            &url,
            "--listen",
            "127.0.0.1:0",
        ]);
        assert!(run.stderr.contains("master.key is missing"), "{}", run.stderr);
        let server = ChildServer::start(&elsewhere, &["--database-url", &url, "--master-key-file", &key]).await;
        let api = server.api(&host("acme", "staging")).with_token(&token);
        api.get("/v1/client").await.expect(200);
    }

    // A target sealed with another master key is refused before any row lands.
    let other = dir.path().join("other");
    cli(&other, &["migrate"]).ok();
    let target = format!("sqlite://{}", other.join("onramp.db").display());
    let run = run_raw(&["copy", "--json", "--from", &source, "--to", &target]);
    assert!(!run.success);
    assert!(run.stderr.contains("sealed with another master key"), "{}", run.stderr);
    assert_eq!(cli(&other, &["instance", "list"]).ok()["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_response_opens_only_under_the_secret_it_was_sealed_with() {
    let a = TestServer::start().await;
    a.create_instance("acme", &[]).await;
    let key = active_partner_key(&a.core, "acme", &["partners", "client-accounts"], "Shop").await;
    let create = async |server: &TestServer, idempotency_key: &str, email: &str| {
        let rb = server
            .staging("acme")
            .without_token()
            .request(Method::POST, "/v1/partners/accounts")
            .header("x-api-key", &key)
            .header("idempotency-key", idempotency_key)
            .json(&partner_signup_body(email));
        send(rb).await
    };
    create(&a, "order-4711", "ann@example.com").await.expect(201);
    let replay = create(&a, "order-4711", "ann@example.com").await;
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));

    // The same database under another master key: its check value is removed
    // behind the servers' backs, as if the key had been replaced knowingly.
    forget_master_key(&a.settings.database_url).await;
    let b = TestServer::start_with(|s| s.database_url = a.settings.database_url.clone()).await;
    assert_ne!(
        std::fs::read(a.dir.path().join("master.key")).unwrap(),
        std::fs::read(b.dir.path().join("master.key")).unwrap()
    );
    // The guessable credential and key are not enough to open the response,
    // and the request is not run a second time.
    let r = create(&b, "order-4711", "ann@example.com").await;
    r.problem(409, "idempotency_response_unreadable");
    assert!(r.header("idempotent-replayed").is_none());
    let list = send(
        b.staging("acme")
            .without_token()
            .request(Method::GET, "/v1/partners/accounts")
            .header("x-api-key", &key),
    )
    .await;
    list.expect(200);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1, "{}", list.text);
    create(&b, "order-4712", "bob@example.com").await.expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_master_key_costs_the_signing_keys_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let old_token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    let ann = api.with_token(&old_token).signup("ann@example.com").await;
    drop(server);

    // The recovery the README describes: forget the old key's check value,
    // start with a new key, rotate every environment's signing key.
    std::fs::remove_file(data.join("master.key")).unwrap();
    forget_master_key(&format!("sqlite://{}", data.join("onramp.db").display())).await;
    for env in ["staging", "production"] {
        cli(&data, &["signing-key", "rotate", "acme", env]).ok();
    }
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    api.with_token(&old_token).get("/v1/client").await.expect(401);
    let token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    let ids = api.with_token(&token).all_account_ids().await;
    assert_eq!(ids, [ann["user_id"].as_str().unwrap()], "accounts and passwords are untouched");
    let keys = api.without_token().get("/.well-known/jwks.json").await;
    assert_eq!(
        keys.json["keys"].as_array().unwrap().len(),
        2,
        "the unreadable keys are left out: {}",
        keys.text
    );
}
