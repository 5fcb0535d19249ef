//! Losing Redis: a circuit breaker stops calls to it at once (the node uses
//! its own limits) and a background probe brings shared limits back;
//! `/readyz` reports what a real, recent check saw, also on an idle node.

use std::net::SocketAddr;

use crate::helpers::{TestServer, eventually};
use crate::vantage::CuttableProxy;

/// The Redis of the tests (`ONRAMP_TEST_REDIS_URL`), as an address.
fn redis_addr() -> SocketAddr {
    let url = std::env::var("ONRAMP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let hostport = url.trim_start_matches("redis://").trim_end_matches('/');
    let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
    std::net::ToSocketAddrs::to_socket_addrs(hostport)
        .expect("Redis address")
        .next()
        .expect("Redis address")
}

async fn node_behind(proxy: &CuttableProxy) -> TestServer {
    let url = proxy.url();
    let server = TestServer::start_with(|s| s.redis_url = Some(url)).await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    server
}

async fn redis_status(server: &TestServer) -> String {
    let ready = server.api("localhost").get("/readyz").await;
    ready.expect(200);
    ready.json["redis"].as_str().expect("redis status").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn after_losing_redis_a_node_stops_calling_it_until_it_answers() {
    let proxy = CuttableProxy::to(redis_addr()).await;
    let server = node_behind(&proxy).await;
    let api = server.login(&server.staging("acme"), "svc").await;
    api.get("/v1/client").await.expect(200);

    // Redis hangs: the first call waits for its timeout, then the breaker opens.
    proxy.cut();
    for _ in 0..20 {
        api.get("/v1/client").await.expect(200);
    }
    assert!(
        proxy.scripts_while_cut() <= 2,
        "{} calls were sent to a Redis that does not answer",
        proxy.scripts_while_cut()
    );
    assert_eq!(redis_status(&server).await, "unreachable");

    // Redis answers again: the probe closes the breaker and limits are shared again.
    proxy.restore();
    eventually("the node uses Redis again", || async {
        (redis_status(&server).await == "ok").then_some(())
    })
    .await;
    let before = proxy.scripts_relayed();
    api.get("/v1/client").await.expect(200);
    assert!(proxy.scripts_relayed() > before, "the rate limit is checked in Redis again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn readiness_follows_redis_on_an_idle_node() {
    let proxy = CuttableProxy::to(redis_addr()).await;
    let url = proxy.url();
    // No request that needs a limit is made: only /readyz.
    let server = TestServer::start_with(|s| s.redis_url = Some(url)).await;
    assert_eq!(redis_status(&server).await, "ok", "a fresh node has checked Redis");
    proxy.cut();
    eventually("an idle node notices Redis is gone", || async {
        (redis_status(&server).await == "unreachable").then_some(())
    })
    .await;
    proxy.restore();
    eventually("and that it is back", || async {
        (redis_status(&server).await == "ok").then_some(())
    })
    .await;
}
