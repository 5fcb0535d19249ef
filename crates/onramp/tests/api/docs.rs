//! Health endpoints, the OpenAPI document, the Swagger UI, and CORS.

use onramp_domain::tenancy::service::EnvChanges;
use reqwest::Method;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_answer_on_any_host_without_credentials() {
    let fx = Fixture::new().await;
    for api in [
        fx.server.staging("acme"),
        fx.server.production("acme"),
        fx.server.api("unknown.example"),
        fx.server.api("localhost"),
    ] {
        let r = api.get("/healthz").await;
        r.expect(200);
        assert_eq!(r.json["status"], "ok", "{}", r.text);
        let r = api.get("/readyz").await;
        r.expect(200);
        assert_eq!(r.json["status"], "ok", "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_an_unreachable_database() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path());
    let opened = onramp::startup::open_core(&settings).await.expect("open");
    let store = opened.store.clone();
    let running = onramp::startup::start_with(settings, opened).await.expect("start");
    let api = Api::new(running.addr, "localhost");
    api.get("/readyz").await.expect(200);
    // The database goes away while the server runs.
    store.close().await;
    let r = api.get("/readyz").await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_ne!(r.json["status"], "ok");
    // The process itself is still alive.
    api.get("/healthz").await.expect(200);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_every_route() {
    let fx = Fixture::new().await;
    let r = fx.server.staging("acme").get("/openapi.json").await;
    r.expect(200);
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/json"));
    let doc = &r.json;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "OpenAPI 3.1: {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    let expected: &[(&str, &[&str])] = &[
        ("/v1/login/password", &["post"]),
        ("/.well-known/jwks.json", &["get"]),
        ("/v1/client/signup", &["post"]),
        ("/v1/client/login", &["post"]),
        ("/v1/client/sessions/verify", &["post"]),
        ("/v1/client/logout", &["post"]),
        ("/v1/client", &["get"]),
        ("/v1/client/{user_id}", &["get", "patch", "delete"]),
        ("/v1/groups", &["get"]),
        ("/v1/groups/{id}", &["get"]),
        ("/v1/groups/{id}/members", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/v1/partners/create", &["post"]),
        ("/v1/partners/accounts", &["get", "post"]),
        ("/v1/partners/accounts/{accountId}", &["get", "patch", "delete"]),
        ("/v1/partners/accounts/{accountId}/login-link", &["post"]),
        ("/v1/partners/keys/rotate", &["post"]),
        ("/v1/partners/accounts/batch", &["post"]),
        ("/v1/partners/usage", &["get"]),
        ("/v1/partners/alerts/settings", &["get", "put"]),
        ("/v1/integration/exchange", &["post"]),
        ("/v1/integration/users/{id}", &["get"]),
        ("/v1/tokenauth/exchange", &["post"]),
        ("/v1/events", &["get"]),
        ("/v1/webhooks/endpoints/{id}/deliveries", &["get"]),
        ("/v1/partners/webhooks/endpoints/{id}/deliveries", &["get"]),
        ("/v1/webhooks/endpoints/{id}/events/{event_id}/resend", &["post"]),
        ("/v1/webhooks/endpoints/{id}/recover", &["post"]),
        ("/v1/partners/webhooks/endpoints/{id}/events/{event_id}/resend", &["post"]),
        ("/v1/partners/webhooks/endpoints/{id}/recover", &["post"]),
        ("/v1/partners/events", &["get"]),
        ("/v1/webhooks/endpoints", &["get", "post"]),
        ("/v1/webhooks/endpoints/{id}", &["get", "patch", "delete"]),
        ("/v1/webhooks/endpoints/{id}/rotate-secret", &["post"]),
        ("/v1/partners/webhooks/endpoints", &["get", "post"]),
        ("/v1/partners/webhooks/endpoints/{id}", &["get", "patch", "delete"]),
        ("/v1/partners/webhooks/endpoints/{id}/rotate-secret", &["post"]),
    ];
    for (path, methods) in expected {
        let item = &doc["paths"][*path];
        assert!(item.is_object(), "{path} is not documented");
        for m in *methods {
            let op = &item[*m];
            assert!(op.is_object(), "{m} {path} is not documented");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {path} documents no responses"
            );
        }
    }
    // Authenticated client routes document their 401 and 403.
    for (path, m) in [
        ("/v1/client/signup", "post"),
        ("/v1/client/{user_id}", "get"),
        ("/v1/client", "get"),
        ("/v1/groups", "get"),
        ("/v1/groups/{id}/members", "get"),
    ] {
        let responses = &doc["paths"][path][m]["responses"];
        for code in ["401", "403", "429"] {
            assert!(responses[code].is_object(), "{m} {path} does not document {code}");
        }
    }
    assert!(doc["paths"]["/v1/client/signup"]["post"]["responses"]["409"].is_object());
    assert!(doc["paths"]["/v1/login/password"]["post"]["responses"]["401"].is_object());
    // Every documented path is one the server answers (no stale entries), and
    // every error code of the table is in the Problem schema.
    let documented: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(documented.len(), expected.len(), "documented paths: {documented:?}");
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("code enum");
    for code in [
        "validation_failed",
        "unknown_field",
        "unauthenticated",
        "feature_disabled",
        "unknown_instance",
        "email_taken",
        "idempotency_key_reused",
        "rate_limited",
        "overloaded",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} missing from the Problem schema");
    }
    // The same document on any host.
    assert_eq!(fx.server.production("acme").get("/openapi.json").await.json, r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_try_it_out_only_on_staging() {
    let fx = Fixture::new().await;
    let staging = fx.server.staging("acme");
    let production = fx.server.production("acme");

    let r = staging.get("/docs/").await;
    r.expect(200);
    assert!(
        r.header("content-type").unwrap_or_default().starts_with("text/html"),
        "{:?}",
        r.headers
    );
    assert!(
        r.text.to_ascii_lowercase().contains("<html"),
        "HTML: {}",
        &r.text[..r.text.len().min(200)]
    );
    // No other site may frame the docs.
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(
        r.header("content-security-policy")
            .is_some_and(|csp| csp.contains("frame-ancestors 'none'")),
        "{:?}",
        r.headers
    );
    let redirect = staging.get("/docs").await;
    assert!((300..400).contains(&redirect.status), "/docs redirects to /docs/");
    assert_eq!(redirect.header("location"), Some("/docs/"));

    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let read_only = |js: &str| {
        let js = compact(js);
        js.contains("\"supportedSubmitMethods\":[]") || js.contains("supportedSubmitMethods:[]")
    };
    let prod_js = production.get("/docs/swagger-initializer.js").await;
    prod_js.expect(200);
    assert!(
        prod_js.text.contains("/openapi.json"),
        "the UI loads our document: {}",
        prod_js.text
    );
    assert!(
        read_only(&prod_js.text),
        "production docs must not submit requests: {}",
        prod_js.text
    );
    let staging_js = staging.get("/docs/swagger-initializer.js").await;
    staging_js.expect(200);
    assert!(staging_js.text.contains("/openapi.json"));
    assert!(
        !compact(&staging_js.text).contains("supportedSubmitMethods\":[]") && !read_only(&staging_js.text),
        "staging docs allow try-it-out: {}",
        staging_js.text
    );
    // A host that is no environment gets the safe, read-only page.
    let unknown = fx.server.api("unknown.example").get("/docs/swagger-initializer.js").await;
    unknown.expect(200);
    assert!(read_only(&unknown.text));
    fx.server
        .api("unknown.example")
        .get("/docs/no-such-file.js")
        .await
        .problem(404, "not_found");
}

async fn preflight(api: &Api, origin: &str) -> Resp {
    send(
        api.without_token()
            .request(Method::OPTIONS, "/v1/client/signup")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type"),
    )
    .await
}

/// acme with `origin` allowed on staging, applied to the running server.
async fn fixture_with_origin(origin: &str) -> Fixture {
    let fx = Fixture::new().await;
    let changes = EnvChanges {
        add_origins: vec![origin.into()],
        ..EnvChanges::default()
    };
    fx.server.update_environment("acme", "staging", changes).await;
    // Wait for the settings ttl with actual requests, which need no preflight.
    eventually("the new origin applies", || async {
        let r = send(fx.staging.request(Method::GET, "/v1/client").header("origin", origin)).await;
        r.header("access-control-allow-origin").is_some().then_some(())
    })
    .await;
    fx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_the_origins_configured_for_the_environment() {
    let origin = "https://app.acme.example";
    let fx = fixture_with_origin(origin).await;

    // An actual request from that origin gets the header, with the exposed headers.
    let r = send(fx.staging.request(Method::GET, "/v1/client").header("origin", origin)).await;
    r.expect(200);
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    let exposed = r.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("ratelimit-remaining"),
        "expose-headers: {exposed}"
    );

    // The same origin against production, and other origins against staging: no.
    let r = send(fx.production.request(Method::GET, "/v1/client").header("origin", origin)).await;
    r.expect(200);
    assert!(
        r.header("access-control-allow-origin").is_none(),
        "production must not allow a staging origin: {:?}",
        r.headers
    );
    for other in [
        "https://evil.example",
        "https://app.acme.example.evil.example",
        "http://app.acme.example",
        "null",
    ] {
        let r = send(fx.staging.request(Method::GET, "/v1/client").header("origin", other)).await;
        assert!(
            r.header("access-control-allow-origin").is_none(),
            "{other} must not be allowed: {:?}",
            r.headers
        );
        let r = preflight(&fx.server.staging("acme"), other).await;
        assert!(
            r.header("access-control-allow-origin").is_none(),
            "{other} must not be allowed: {:?}",
            r.headers
        );
    }
    let r = preflight(&fx.server.production("acme"), origin).await;
    assert!(
        r.header("access-control-allow-origin").is_none(),
        "production must not allow a staging origin: {:?}",
        r.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_from_an_allowed_origin_succeeds() {
    let origin = "https://app.acme.example";
    let fx = fixture_with_origin(origin).await;
    let staging = fx.server.staging("acme");
    for path in ["/v1/client/signup", "/v1/client/login", "/v1/login/password"] {
        let r = send(
            staging
                .request(Method::OPTIONS, path)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization,content-type"),
        )
        .await;
        assert!(r.status < 300, "preflight of POST {path} answered {}: {}", r.status, r.text);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(origin),
            "preflight of POST {path}: {:?}",
            r.headers
        );
        let methods = r.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
        assert!(methods.contains("POST"), "allow-methods: {methods}");
        let headers = r.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "allow-headers: {headers}"
        );
    }
    let r = send(
        staging
            .request(Method::OPTIONS, &format!("/v1/client/{}", uuid::Uuid::now_v7()))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH"),
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(origin),
        "preflight of PATCH: {} {:?}",
        r.status,
        r.headers
    );
}
