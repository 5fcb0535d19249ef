//! `onramp backup`: a consistent copy of a running server's SQLite database
//! that another server can serve as it is.

use crate::helpers::{Fixture, SERVICE_PASSWORD, TestServer, cli, login_token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_is_a_working_copy() {
    if std::env::var_os("ONRAMP_TEST_DATABASE_URL").is_some() {
        return; // SQLite only: PostgreSQL deployments back up with pg_dump.
    }
    let fx = Fixture::new().await;
    for i in 0..5 {
        fx.staging.signup(&format!("user{i}@example.com")).await;
    }
    let copy = fx.server.dir.path().join("backup.db");
    let copy_arg = copy.to_str().unwrap().to_owned();
    let run = cli(fx.server.dir.path(), &["backup", &copy_arg]);
    let doc = run.ok();
    assert_eq!(doc["status"], "ok");
    assert!(doc["bytes"].as_u64().unwrap() > 0);
    // A second backup to the same file is refused and leaves it alone.
    let again = cli(fx.server.dir.path(), &["backup", &copy_arg]);
    assert!(!again.success);
    assert_eq!(again.json()["error"]["code"], "backup_failed");

    // Another server on the copy has every account, and the old credentials work.
    // Restored with the master key file, backed up alongside.
    let restored = TestServer::start_with(|s| {
        s.database_url = format!("sqlite://{copy_arg}?mode=rw");
        s.master_key = fx.server.settings.master_key.clone();
    })
    .await;
    let api = restored.staging("acme");
    let token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    let ids = api.with_token(&token).all_account_ids().await;
    assert_eq!(ids.len(), 5);
}
