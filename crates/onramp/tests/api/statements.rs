//! How many SQL statements one request costs: the real binary runs with
//! `RUST_LOG=sqlx::query=debug` (and the store's in-place reads,
//! `onramp_store::inline=debug`) and JSON logs, and the statements logged
//! between two requests' access-log lines are counted, on SQLite or (with
//! `ONRAMP_TEST_DATABASE_URL`) PostgreSQL. Transaction control is not
//! logged on SQLite (its worker runs BEGIN and COMMIT itself); on PostgreSQL
//! the COMMIT is (BEGIN is queued with the next statement, no round trip of
//! its own). BENCHMARKS.md quotes the figures.

use std::path::Path;

use onramp_domain::audit::Actor;
use onramp_domain::partners::PartnerStatus;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{ALL_SCOPES, Api, ChildServer, Resp, TestServer, eventually, host, master_key_file, partner_signup_body, send};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What the measured requests need, created in `dir` by an in-process server.
struct World {
    /// The database, for the child server; `None` for SQLite in its data dir.
    database_url: Option<String>,
    partner_key: String,
    suspended_key: String,
    account_id: String,
    vendor_key: String,
}

async fn world(dir: &Path) -> World {
    let postgres = std::env::var("ONRAMP_TEST_DATABASE_URL").is_ok();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("onramp.db").display());
    let server = TestServer::start_with(|s| {
        if !postgres {
            s.database_url = sqlite;
        }
        // The child server later finds the key in `dir`, as the database.
        s.master_key = master_key_file(dir);
    })
    .await;
    let database_url = postgres.then(|| server.settings.database_url.clone());
    server
        .create_instance("acme", &["client-accounts", "partners", "user-integration"])
        .await;
    let partner_id = server.create_partner("acme", "staging", "Shop", PartnerStatus::Active).await;
    let (_, partner_key) = server.issue_key(&partner_id, &ALL_SCOPES, None).await;
    let suspended = server.create_partner("acme", "staging", "Gone", PartnerStatus::Suspended).await;
    let (_, suspended_key) = server.issue_key(&suspended, &ALL_SCOPES, None).await;
    let partner = server.staging("acme").with_api_key(&partner_key);
    let account_id = partner.create_account("ann@example.com").await["accountId"]
        .as_str()
        .expect("accountId")
        .to_owned();
    let core = &server.core;
    let tenant = core.tenancy().resolve_host(&host("acme", "staging")).await.expect("tenant");
    let actor = Actor::operator();
    let app = core
        .integration()
        .register_app(
            &tenant,
            &account_id.as_str().into(),
            &actor,
            "Shop",
            &["https://shop.example.com".into()],
        )
        .await
        .expect("app");
    let (_, vendor_key) = core
        .integration()
        .reset_vendor_key(&tenant, &account_id.as_str().into(), &actor, &app.id)
        .await
        .expect("key");
    core.integration()
        .authorize(&tenant, &account_id.as_str().into(), &actor, &app, CHALLENGE)
        .await
        .expect("grant");
    server.shutdown().await;
    World {
        database_url,
        partner_key,
        suspended_key,
        account_id,
        vendor_key: vendor_key.expose().to_owned(),
    }
}

/// The log's JSON lines from the access line of request `from` to that of `to`.
fn statements_between(log: &str, from: &str, to: &str) -> Option<Vec<String>> {
    let lines: Vec<Value> = log.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let access = |id: &str| lines.iter().position(|l| l["target"] == "onramp::access" && l["request_id"] == id);
    let (start, end) = (access(from)?, access(to)?);
    Some(
        lines[start..end]
            .iter()
            .filter(|l| l["target"] == "sqlx::query" || l["target"] == "onramp_store::inline")
            .map(|l| l["summary"].as_str().unwrap_or_default().to_owned())
            .collect(),
    )
}

/// Statements of one request sent right after an identical warm-up (so the
/// caches are as in steady traffic); the fewest of three tries, since a
/// settings cache may expire between the two.
async fn count<F, Fut>(server: &ChildServer, what: &str, send_one: F) -> Vec<String>
where
    F: Fn(u32, String) -> Fut,
    Fut: std::future::Future<Output = Resp>,
{
    let mut best: Option<Vec<String>> = None;
    for attempt in 0..3 {
        let (warm, measured) = (format!("{what}-{attempt}-warm"), format!("{what}-{attempt}"));
        send_one(attempt * 2, warm.clone()).await;
        send_one(attempt * 2 + 1, measured.clone()).await;
        let found = eventually("access log lines", || async { statements_between(&server.log(), &warm, &measured) }).await;
        if best.as_ref().is_none_or(|b| found.len() < b.len()) {
            best = Some(found);
        }
    }
    let best = best.expect("three tries");
    eprintln!("{what}: {} statements: {best:#?}", best.len());
    best
}

fn tagged(api: &Api, method: Method, path: &str, key: &str, request_id: &str) -> reqwest::RequestBuilder {
    api.request(method, path)
        .header("x-api-key", key)
        .header("x-request-id", request_id)
}

/// Sends one request, expecting `status`.
async fn expecting(rb: reqwest::RequestBuilder, status: u16) -> Resp {
    let r = send(rb).await;
    r.expect(status);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_paths_stay_within_their_statement_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let w = world(dir.path()).await;
    // No usage flush inside the measurement.
    let mut flags = vec!["--log-format", "json", "--usage-flush-interval", "1h"];
    let key_file = dir.path().join("master.key").display().to_string();
    if let Some(url) = &w.database_url {
        flags.extend(["--database-url", url.as_str(), "--master-key-file", key_file.as_str()]);
    }
    let server = ChildServer::start_with_env(
        dir.path(),
        &flags,
        &[("RUST_LOG", "info,sqlx::query=debug,onramp_store::inline=debug")],
    )
    .await;
    // The COMMIT of the one transaction, where the driver logs it.
    let commit = usize::from(w.database_url.is_some());
    let api = server.api(&host("acme", "staging")).without_token();
    let is_key_lookup = |s: &String| s.starts_with("SELECT k.*");

    // A partner create with an Idempotency-Key: the key lookup, the claim,
    // the email check, the account, its link, its audit event, its
    // lifecycle event (its number, then its row), the stored response; plus
    // its one password hash.
    let create = count(&server, "partner-create", |n, id| {
        let rb = tagged(&api, Method::POST, "/v1/partners/create", &w.partner_key, &id)
            .header("idempotency-key", format!("create-{n}"))
            .json(&partner_signup_body(&format!("p{n}@example.com")));
        expecting(rb, 201)
    })
    .await;
    assert!(create.len() <= 10 + commit, "{create:#?}");
    assert_eq!(create.iter().filter(|s| is_key_lookup(s)).count(), 1, "{create:#?}");
    assert!(!create.iter().any(|s| s.starts_with("UPDATE api_keys")), "no key write per request");

    // A partner GET: one statement for authentication, none more (the account is cached).
    let get_path = format!("/v1/partners/accounts/{}", w.account_id);
    let get = count(&server, "partner-get", |_, id| {
        expecting(tagged(&api, Method::GET, &get_path, &w.partner_key, &id), 200)
    })
    .await;
    assert_eq!(get.len(), 1, "{get:#?}");
    assert!(is_key_lookup(&get[0]), "{get:#?}");

    // A vendor GET: the app by its key, then the grant; no partner key lookup.
    let user_path = format!("/v1/integration/users/{}", w.account_id);
    let vendor = count(&server, "vendor-get", |_, id| {
        expecting(tagged(&api, Method::GET, &user_path, &w.vendor_key, &id), 200)
    })
    .await;
    assert!(vendor.len() <= 2, "{vendor:#?}");
    assert!(!vendor.iter().any(is_key_lookup), "{vendor:#?}");

    // Each family looks only at its own kind of key: the other kind is
    // refused without any lookup.
    let crossed = count(&server, "vendor-key-on-partner-route", |_, id| {
        expecting(tagged(&api, Method::GET, &get_path, &w.vendor_key, &id), 401)
    })
    .await;
    assert_eq!(crossed, Vec::<String>::new());
    let crossed = count(&server, "partner-key-on-integration-route", |_, id| {
        expecting(tagged(&api, Method::GET, &user_path, &w.partner_key, &id), 401)
    })
    .await;
    assert_eq!(crossed, Vec::<String>::new());

    // A suspended partner's idempotent create is refused before its key is claimed.
    let refused = count(&server, "suspended-create", |n, id| {
        let rb = tagged(&api, Method::POST, "/v1/partners/create", &w.suspended_key, &id)
            .header("idempotency-key", "same-key")
            .json(&partner_signup_body(&format!("s{n}@example.com")));
        expecting(rb, 403)
    })
    .await;
    assert_eq!(refused.len(), 1, "only the key lookup: {refused:#?}");

    eprintln!(
        "statements per request: partner create {}, partner get {}, vendor get {}",
        create.len(),
        get.len(),
        vendor.len()
    );
}
