//! Server errors over HTTP: a storage failure keeps its 5xx status on every
//! route, its body carries only the request id, and its cause is logged once,
//! on the request's access-log line.

use std::sync::Arc;

use onramp_domain::app::Core;
use onramp_domain::audit::Actor;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Instance `acme` with `partners`, an approved partner and a key with all scopes; returns the key.
async fn partner_key(core: &Arc<Core>) -> String {
    let actor = Actor::operator();
    let instance = onramp_domain::tenancy::service::NewInstance {
        platform_id: "acme".into(),
        name: "acme platform".into(),
        region: "za".into(),
        app_url: "https://app.acme.example".into(),
    };
    core.tenancy().create_instance(&actor, instance).await.unwrap();
    active_partner_key(core, "acme", &["partners"], "Shop").await
}

/// Breaks the usage series behind the server's back: its table goes away.
async fn drop_usage_table(database_url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    sqlx::query("DROP TABLE usage_minutes").execute(&pool).await.expect("drop");
    pool.close().await;
}

/// A GET with the key, without the harness's "no 5xx but 503" check.
async fn get_raw(api: &Api, key: &str, path: &str) -> Resp {
    let response = api
        .request(Method::GET, path)
        .header("x-api-key", key)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

/// A 500 says only that it happened and which request it was.
#[track_caller]
fn assert_bare_internal(r: &Resp) {
    r.problem(500, "internal");
    let mut keys: Vec<&str> = r.json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "request_id", "status", "title", "type"], "{}", r.text);
    assert!(!r.text.contains("usage_minutes"), "the cause leaked: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_usage_series_is_a_server_error_not_an_invalid_query() {
    let server = TestServer::start().await;
    let key = partner_key(&server.core).await;
    let api = server.staging("acme");
    get_raw(&api, &key, "/v1/partners/usage").await.expect(200);

    drop_usage_table(&server.settings.database_url).await;
    let r = get_raw(&api, &key, "/v1/partners/usage?granularity=day").await;
    assert_bare_internal(&r);

    // Queries the server refuses before reading anything stay 400 invalid_query.
    let r = get_raw(&api, &key, "/v1/partners/usage?from=yesterday").await;
    r.problem(400, "invalid_query");
    let backwards = "/v1/partners/usage?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z";
    let r = get_raw(&api, &key, backwards).await;
    r.problem(400, "invalid_query");
    assert_eq!(r.json["errors"][0]["code"], "invalid_range", "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_errors_cause_is_logged_once_with_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let settings = test_settings(&data);
    let opened = onramp::startup::open_core(&settings).await.expect("open");
    let key = partner_key(&opened.core).await;
    opened.store.close().await;
    let server = ChildServer::start(&data, &["--log-format", "json"]).await;
    let api = server.api(&host("acme", "staging"));
    get_raw(&api, &key, "/v1/partners/usage").await.expect(200);

    drop_usage_table(&settings.database_url).await;
    let r = get_raw(&api, &key, "/v1/partners/usage").await;
    assert_bare_internal(&r);
    let rid = r.header("x-request-id").unwrap().to_owned();

    let line = eventually("the access log line is written", || async {
        server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["request_id"] == rid.as_str())
    })
    .await;
    assert_eq!(line["status"], 500, "{line}");
    assert_eq!(line["route"], "/v1/partners/usage", "{line}");
    assert_eq!(line["level"], "ERROR", "{line}");
    let cause = line["error"].as_str().unwrap_or_default();
    assert!(cause.contains("usage_minutes"), "the cause names what failed: {line}");
    let log = server.log();
    assert_eq!(log.lines().filter(|l| l.contains(&rid)).count(), 1, "one line per request:\n{log}");
    // Background jobs may warn about the missing table too; the request's failure is one error line.
    let errors = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["level"] == "ERROR" && l.to_string().contains("usage_minutes"))
        .count();
    assert_eq!(errors, 1, "the cause is logged once:\n{log}");
}
