//! Per-credential, per-endpoint rate limits and their headers.

use serde_json::json;

use crate::helpers::*;

const ROUTE: &str = "GET /v1/client/{user_id}";

fn num(r: &Resp, name: &str) -> u64 {
    r.header(name)
        .unwrap_or_else(|| panic!("{name} missing on a {} response", r.status))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_limit_applies_per_credential_and_endpoint() {
    let fx = Fixture::with(|_| {}, &[(ROUTE, 5)]).await;
    let server = &fx.server;
    server.create_service_user("acme", "staging", "svc2", &[]).await;
    let second = server.login(&server.staging("acme"), "svc2").await;
    let ann = fx.staging.signup("ann@example.com").await;
    let path = format!("/v1/client/{}", ann["user_id"].as_str().unwrap());

    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = fx.staging.get(&path).await;
        r.expect(200);
        assert_eq!(num(&r, "ratelimit-limit"), 5);
        num(&r, "ratelimit-reset");
        remaining.push(num(&r, "ratelimit-remaining"));
    }
    assert!(remaining.windows(2).all(|w| w[1] < w[0]), "remaining counts down: {remaining:?}");
    assert_eq!(*remaining.last().unwrap(), 0);

    let r = fx.staging.get(&path).await;
    r.problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!(retry >= 1);
    assert_eq!(num(&r, "ratelimit-limit"), 5);
    assert_eq!(num(&r, "ratelimit-remaining"), 0);
    assert!(num(&r, "ratelimit-reset") >= 1);
    assert!(
        r.json["retry_after"].as_u64().is_some_and(|s| s >= 1),
        "retry_after in the body: {}",
        r.text
    );
    // Other ids behind the same route template share the limit.
    fx.staging
        .get(&format!("/v1/client/{}", uuid::Uuid::now_v7()))
        .await
        .problem(429, "rate_limited");
    // PATCH and DELETE on the same path are other endpoints.
    fx.staging.patch(&path, &json!({})).await.expect(200);

    // Another endpoint, with the default limit.
    let r = fx.staging.get("/v1/client").await;
    r.expect(200);
    assert_eq!(num(&r, "ratelimit-limit"), 1000);
    // Another credential on the same endpoint.
    let r = second.get(&path).await;
    r.expect(200);
    assert_eq!(num(&r, "ratelimit-limit"), 5);
    assert_eq!(num(&r, "ratelimit-remaining"), 4);
    // The same credential name in the other environment is another credential.
    let prod = fx.production.signup("ann@example.com").await;
    fx.production
        .get(&format!("/v1/client/{}", prod["user_id"].as_str().unwrap()))
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_headers_are_on_every_api_response() {
    let fx = Fixture::new().await;
    let anonymous = fx.server.staging("acme");
    let responses = [
        fx.staging.get("/v1/client").await,
        fx.staging.get(&format!("/v1/client/{}", uuid::Uuid::now_v7())).await,
        fx.staging.post("/v1/client/signup", &json!({ "email": 1 })).await,
        fx.staging
            .post("/v1/client/sessions/verify", &json!({ "client_token": "onr_sess_nope" }))
            .await,
        anonymous.get("/v1/client").await,
        anonymous.get("/.well-known/jwks.json").await,
        anonymous
            .post("/v1/login/password", &json!({ "username": "svc", "password": "wrong-password-1" }))
            .await,
    ];
    for r in &responses {
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            num(r, name);
        }
        assert!(r.header("x-request-id").is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_default_limit_applies_to_every_endpoint() {
    let fx = Fixture::with(|_| {}, &[("default", 3), ("GET /v1/client", 10)]).await;
    for _ in 0..3 {
        fx.staging
            .post("/v1/client/sessions/verify", &json!({ "client_token": "onr_sess_nope" }))
            .await
            .expect(401);
    }
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": "onr_sess_nope" }))
        .await
        .problem(429, "rate_limited");
    // The route override wins over the instance default.
    for _ in 0..4 {
        let r = fx.staging.get("/v1/client").await;
        r.expect(200);
        assert_eq!(num(&r, "ratelimit-limit"), 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_requests_count_against_the_get_quota() {
    let fx = Fixture::with(|_| {}, &[(ROUTE, 4)]).await;
    let path = format!(
        "/v1/client/{}",
        fx.staging.signup("ann@example.com").await["user_id"].as_str().unwrap()
    );
    for _ in 0..2 {
        fx.staging.get(&path).await.expect(200);
        let head = send(fx.staging.request(reqwest::Method::HEAD, &path)).await;
        head.expect(200);
    }
    let r = fx.staging.get(&path).await;
    r.problem(429, "rate_limited");
    assert_eq!(num(&r, "ratelimit-limit"), 4);
    assert_eq!(send(fx.staging.request(reqwest::Method::HEAD, &path)).await.status, 429);
}
