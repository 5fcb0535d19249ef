//! `onramp copy`: SQLite → PostgreSQL → SQLite round trip of a populated
//! deployment; the copy accepts the old passwords, keys, sessions and tokens.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Fixture, SERVICE_PASSWORD, TestServer, active_partner_key, login_token, run_raw, send};

fn copy(from: &str, to: &str, extra: &[&str]) -> crate::helpers::CliRun {
    let mut args = vec!["copy", "--json", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    run_raw(&args)
}

fn counts(report: &Value) -> Vec<(String, i64)> {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_owned(), t["target_rows"].as_i64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_postgres_tests,
    ignore = "PostgreSQL suite skipped: set ONRAMP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn a_round_trip_through_postgres_keeps_every_row_and_credential() {
    let Some(server_url) = std::env::var("ONRAMP_TEST_DATABASE_URL").ok() else {
        eprintln!("skipped: set ONRAMP_TEST_DATABASE_URL to a PostgreSQL server to run the copy round trip");
        return;
    };
    let fx = Fixture::new().await;
    let core = &fx.server.core;
    let key = active_partner_key(core, "acme", &["partners", "client-accounts"], "Shop").await;
    let session = fx.staging.signup("ann@example.com").await["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..3 {
        fx.staging.signup(&format!("user{i}@example.com")).await;
    }
    let old_token = fx.staging.token().to_owned();
    let settings = json!({ "volumeFactor": 2.75, "errorMin": 12 });
    let partner = |api: &crate::helpers::Api, method: Method| {
        api.without_token()
            .request(method, "/v1/partners/alerts/settings")
            .header("x-api-key", &key)
    };
    send(partner(&fx.staging, Method::PUT).json(&settings)).await.expect(200);

    let middle = onramp_store::create_postgres_database(&server_url, &format!("onramp_test_copy_{}", uuid::Uuid::new_v4().simple()))
        .await
        .unwrap();
    let end_file = fx.server.dir.path().join("copied.db");
    let end = format!("sqlite://{}?mode=rwc", end_file.display());
    let first = copy(&fx.server.settings.database_url, &middle, &[]).ok();
    let second = copy(&middle, &end, &[]).ok();
    assert_eq!(counts(&first), counts(&second), "identical row counts after the round trip");
    assert!(counts(&second).iter().any(|(t, n)| t == "accounts" && *n == 4));
    // A non-empty target is refused unless --force.
    let refused = copy(&middle, &end, &[]);
    assert!(!refused.success);
    assert_eq!(refused.json()["error"]["code"], "target_not_empty");
    copy(&middle, &end, &["--force"]).ok();

    // The copy serves with the old credentials.
    // With the source's master key file: the signing keys came along sealed.
    let copied = TestServer::start_with(|s| {
        s.database_url = end.clone();
        s.master_key = fx.server.settings.master_key.clone();
    })
    .await;
    let api = copied.staging("acme");
    login_token(&api, "svc", SERVICE_PASSWORD).await;
    let with_old_token = api.with_token(&old_token);
    assert_eq!(
        with_old_token.all_account_ids().await.len(),
        4,
        "a token signed before the copy verifies (signing keys came along)"
    );
    with_old_token
        .post("/v1/client/sessions/verify", &json!({ "client_token": session }))
        .await
        .expect(200);
    let r = send(
        api.without_token()
            .request(Method::GET, "/v1/partners/accounts")
            .header("x-api-key", &key),
    )
    .await;
    r.expect(200);
    let r = send(partner(&api, Method::GET)).await;
    assert_eq!(
        (&r.json["volumeFactor"], &r.json["errorMin"], &r.json["custom"]),
        (&json!(2.75), &json!(12), &json!(["volumeFactor", "errorMin"])),
        "a partner's alert thresholds came along: {}",
        r.text
    );
}
