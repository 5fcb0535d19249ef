//! The client address behind a trusted proxy, and page-form limits that
//! are per environment.

use reqwest::Method;

use crate::helpers::{Api, Resp, TestServer, send};

async fn post_login_form(api: &Api, forwarded_for: Option<&str>) -> Resp {
    let mut rb = api
        .request(Method::POST, "/account/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a%40b.c&password=x&csrf=y");
    if let Some(ip) = forwarded_for {
        rb = rb.header("x-forwarded-for", ip);
    }
    send(rb).await
}

async fn server_with(default_rate_limit: u32, trusted: &[&str]) -> TestServer {
    let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|n| n.parse().unwrap()).collect();
    let server = TestServer::start_with(|s| {
        s.default_rate_limit = default_rate_limit;
        s.trusted_proxies = trusted;
    })
    .await;
    server.create_instance("acme", &["client-accounts", "user-integration"]).await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_form_limits_are_per_environment() {
    let server = server_with(3, &[]).await;
    let (staging, production) = (server.staging("acme").without_token(), server.production("acme").without_token());
    for _ in 0..3 {
        assert_ne!(post_login_form(&staging, None).await.status, 429);
    }
    post_login_form(&staging, None).await.problem(429, "rate_limited");
    // The same address on the other environment has its own budget.
    assert_ne!(post_login_form(&production, None).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let server = server_with(3, &["127.0.0.1/32"]).await;
    let api = server.staging("acme").without_token();
    for _ in 0..3 {
        assert_ne!(post_login_form(&api, Some("198.51.100.1")).await.status, 429);
    }
    post_login_form(&api, Some("198.51.100.1")).await.problem(429, "rate_limited");
    // Another visitor behind the same proxy.
    assert_ne!(post_login_form(&api, Some("198.51.100.2")).await.status, 429);
    // A client cannot pick its address by prepending hops: the proxy's own entry counts.
    post_login_form(&api, Some("203.0.113.7, 198.51.100.1"))
        .await
        .problem(429, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_from_untrusted_peers_are_ignored() {
    let server = server_with(3, &["10.0.0.0/8"]).await;
    let api = server.staging("acme").without_token();
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        assert_ne!(post_login_form(&api, Some(&spoofed)).await.status, 429);
    }
    post_login_form(&api, Some("198.51.100.99")).await.problem(429, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_counts_forwarded_clients_apart() {
    let server = server_with(1000, &["127.0.0.1/32"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let api = server.staging("acme").without_token();
    let login = |ip: &'static str, password: &'static str| {
        let rb = api
            .request(Method::POST, "/v1/login/password")
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "username": "svc", "password": password }));
        async move { send(rb).await }
    };
    for _ in 0..5 {
        login("198.51.100.1", "wrong-password").await.problem(401, "unauthenticated");
    }
    login("198.51.100.1", crate::helpers::SERVICE_PASSWORD)
        .await
        .problem(429, "rate_limited");
    login("198.51.100.2", crate::helpers::SERVICE_PASSWORD).await.expect(200);
}
