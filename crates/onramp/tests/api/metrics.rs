//! Prometheus metrics behind the operator's token.

use crate::helpers::{Fixture, METRICS_TOKEN, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_count_requests_by_route_template() {
    let fx = Fixture::new().await;
    let id = fx.staging.signup("ann@example.com").await["user_id"].as_str().unwrap().to_owned();
    fx.staging.get(&format!("/v1/client/{id}")).await.expect(200);
    let anonymous = fx.staging.without_token();
    anonymous.get("/metrics").await.problem(401, "unauthenticated");
    anonymous
        .with_token("not-the-metrics-token-at-all")
        .get("/metrics")
        .await
        .problem(401, "unauthenticated");
    let r = anonymous.with_token(METRICS_TOKEN).get("/metrics").await;
    r.expect(200);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/plain")));
    // Route templates, not raw paths: the account id never becomes a label.
    assert!(
        r.text
            .contains(r#"onramp_http_requests_total{method="GET",route="/v1/client/{user_id}",status="200"}"#),
        "{}",
        r.text
    );
    assert!(r.text.contains("onramp_http_request_duration_seconds_bucket"));
    assert!(!r.text.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_without_a_token() {
    let server = TestServer::start_with(|s| s.metrics_token = None).await;
    server.api("localhost").get("/metrics").await.problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_share_one_label() {
    let server = TestServer::start().await;
    let api = server.api("localhost");
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}X").as_bytes()).unwrap();
        crate::helpers::send(api.request(method, "/v1/client")).await;
    }
    let r = api.with_token(METRICS_TOKEN).get("/metrics").await;
    r.expect(200);
    assert!(!r.text.contains("INVENTED"), "an invented method became a label");
    assert!(r.text.contains(r#"method="OTHER""#), "{}", r.text);
}
