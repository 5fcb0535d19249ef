//! Several nodes on one database and one Redis: shared rate limits,
//! revocation seen by every node, uniqueness across nodes, and the fallback
//! to per-node limits when Redis is unreachable.

use onramp_domain::audit::Actor;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use reqwest::Method;

use crate::helpers::{TestServer, pid, send, signup_body};

/// The Redis of the shared-limit tests (`ONRAMP_TEST_REDIS_URL`).
fn redis() -> String {
    std::env::var("ONRAMP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Node A (which sets up `acme`) and node B on A's database, both on `redis`.
async fn two_nodes(redis: &str, limits: &[(&str, u32)]) -> (TestServer, TestServer) {
    let a = TestServer::start_with(|s| s.redis_url = Some(redis.to_owned())).await;
    a.create_instance("acme", &["client-accounts", "partners"]).await;
    a.set_rate_limits("acme", limits).await;
    a.create_service_user("acme", "staging", "svc", &[]).await;
    let url = a.settings.database_url.clone();
    let b = TestServer::start_with(|s| {
        s.redis_url = Some(redis.to_owned());
        s.database_url = url;
        // Nodes of one database share its master key file.
        s.master_key = a.settings.master_key.clone();
    })
    .await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn a_rate_limit_holds_across_both_nodes() {
    let (a, b) = two_nodes(&redis(), &[("GET /v1/client", 5)]).await;
    let on_a = a.login(&a.staging("acme"), "svc").await;
    let on_b = b.staging("acme").with_token(on_a.token());
    let mut statuses = Vec::new();
    for api in [&on_a, &on_a, &on_a, &on_b, &on_b, &on_b] {
        statuses.push(api.get("/v1/client").await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "5 a minute in total, not per node");
    let r = on_b.get("/v1/client").await;
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.header("ratelimit-limit"), Some("5"));
    let ready = b.api("localhost").get("/readyz").await;
    assert_eq!(ready.json["redis"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn revocation_and_uniqueness_hold_across_nodes() {
    let (a, b) = two_nodes(&redis(), &[]).await;
    let actor = Actor::operator();
    let partner = a
        .core
        .partners()
        .create_partner(&actor, &pid("acme"), EnvKind::Staging, "Shop")
        .await
        .unwrap();
    a.core
        .partners()
        .set_partner_status(&actor, &partner.id, PartnerStatus::Active)
        .await
        .unwrap();
    let issued = a.core.partners().issue_api_key(&actor, &partner.id, &[], None).await.unwrap();
    let key = issued.secret.expose().to_owned();
    let list = |node: &TestServer| {
        let api = node.staging("acme").without_token();
        let key = key.clone();
        async move {
            send(api.request(Method::GET, "/v1/partners/accounts").header("x-api-key", key))
                .await
                .status
        }
    };
    assert_eq!(list(&b).await, 200);
    a.core.partners().revoke_api_key(&actor, &issued.key.key_id).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(list(&b).await, 401, "node B refuses a key revoked through node A");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));

    // 50 concurrent signups with one email, spread over both nodes: one account.
    let on_a = a.login(&a.staging("acme"), "svc").await;
    let on_b = b.staging("acme").with_token(on_a.token());
    let body = signup_body("same@example.com");
    let results = futures::future::join_all((0..50).map(|i| {
        let api = if i % 2 == 0 { on_a.clone() } else { on_b.clone() };
        let body = body.clone();
        async move { api.post("/v1/client/signup", &body).await.status }
    }))
    .await;
    assert_eq!(results.iter().filter(|s| **s == 201).count(), 1, "{results:?}");
    assert!(results.iter().all(|s| *s == 201 || *s == 409), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_node_limits_on_its_own() {
    let (a, _b) = two_nodes("redis://127.0.0.1:1", &[("GET /v1/client", 2)]).await;
    let api = a.login(&a.staging("acme"), "svc").await;
    assert_eq!(api.get("/v1/client").await.status, 200);
    assert_eq!(api.get("/v1/client").await.status, 200);
    assert_eq!(api.get("/v1/client").await.status, 429, "the node's own limiter still applies");
    let ready = a.api("localhost").get("/readyz").await;
    ready.expect(200);
    assert_eq!(ready.json["redis"], "unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn failed_logins_through_one_node_throttle_the_other() {
    let (a, b) = two_nodes(&redis(), &[]).await;
    let login = |node: &TestServer, password: &str| {
        let api = node.staging("acme").without_token();
        let body = serde_json::json!({ "username": "svc", "password": password });
        async move { api.post("/v1/login/password", &body).await }
    };
    for _ in 0..5 {
        login(&a, "wrong password entirely").await.problem(401, "unauthenticated");
    }
    // Node B has seen none of these failures itself, yet backs off, even for the right password.
    let r = login(&b, crate::helpers::SERVICE_PASSWORD).await;
    r.problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
}

/// A private Redis on a free port, so stopping it disturbs no other test.
struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        Self { port, child: Some(child) }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_tests, ignore = "Redis suite skipped: set ONRAMP_TEST_REDIS_URL=redis://127.0.0.1:6379")]
async fn when_redis_stops_nodes_keep_serving_and_return_to_shared_limits() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = PrivateRedis::start(port);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (a, b) = two_nodes(&format!("redis://127.0.0.1:{}", redis.port), &[("GET /v1/client", 1000)]).await;
    let on_a = a.login(&a.staging("acme"), "svc").await;
    let on_b = b.staging("acme").with_token(on_a.token());
    on_a.get("/v1/client").await.expect(200);
    assert_eq!(a.api("localhost").get("/readyz").await.json["redis"], "ok");

    // Redis down: both nodes keep serving with their own limits and say so.
    redis.stop();
    for api in [&on_a, &on_b, &on_a] {
        api.get("/v1/client").await.expect(200);
    }
    let ready = b.api("localhost").get("/readyz").await;
    ready.expect(200);
    assert_eq!(ready.json["redis"], "unreachable");

    // Redis back on the same port: shared limits resume without a restart.
    let _redis = PrivateRedis::start(port);
    crate::helpers::eventually("shared limits resume", || async {
        on_b.get("/v1/client").await.expect(200);
        let ready = b.api("localhost").get("/readyz").await;
        (ready.json["redis"] == "ok").then_some(())
    })
    .await;
}

/// A private PostgreSQL cluster on a free port (run as the `postgres` user:
/// the server refuses root), so stopping it disturbs no other test.
struct PrivatePostgres {
    dir: std::path::PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn bin(name: &str) -> String {
        let dir = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path());
        dir.map_or_else(|| name.to_owned(), |d| d.join("bin").join(name).display().to_string())
    }

    fn as_postgres(command: &str) -> bool {
        std::process::Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", command])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn create() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let dir = std::env::temp_dir().join(format!("onramp-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let chown = std::process::Command::new("chown")
            .args(["postgres", dir.to_str()?])
            .status()
            .ok()?;
        let init = format!("{} -D {} -A trust -U postgres", Self::bin("initdb"), dir.join("data").display());
        (chown.success() && Self::as_postgres(&init)).then_some(Self { dir, port })
    }

    fn start(&self) -> bool {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        Self::as_postgres(&format!(
            "{} -D {} -w -o '{options}' -l {} start",
            Self::bin("pg_ctl"),
            self.dir.join("data").display(),
            self.dir.join("log").display()
        ))
    }

    fn stop(&self) {
        Self::as_postgres(&format!(
            "{} -D {} -m fast -w stop",
            Self::bin("pg_ctl"),
            self.dir.join("data").display()
        ));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_postgres_tests,
    ignore = "PostgreSQL suite skipped: set ONRAMP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
)]
async fn a_postgres_outage_gives_503s_then_full_recovery_without_losing_acknowledged_writes() {
    let Some(pg) = PrivatePostgres::create() else {
        panic!("could not create a private PostgreSQL cluster (initdb as the postgres user)");
    };
    assert!(pg.start(), "private PostgreSQL starts");
    let database = onramp_store::create_postgres_database(&pg.url(), "onramp_fault").await.unwrap();
    let server = TestServer::start_with(|s| {
        s.database_url = database.clone();
        s.db_acquire_timeout = std::time::Duration::from_millis(500);
    })
    .await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let api = server.login(&server.staging("acme"), "svc").await;
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let r = api.post("/v1/client/signup", &signup_body(&format!("before{i}@example.com"))).await;
        r.expect(201);
        acknowledged.push(r.json["user_id"].as_str().unwrap().to_owned());
    }

    // Load keeps coming through the outage: every 201 must survive, everything else must be a 503.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (api, stop) = (api.clone(), std::sync::Arc::clone(&stop));
        tokio::spawn(async move {
            let (mut created, mut statuses) = (Vec::new(), Vec::new());
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let r = api.post("/v1/client/signup", &signup_body(&format!("load{i}@example.com"))).await;
                if r.status == 201 {
                    created.push(r.json["user_id"].as_str().unwrap().to_owned());
                }
                statuses.push(r.status);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            (created, statuses)
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    pg.stop();
    let started = std::time::Instant::now();
    let during = api.post("/v1/client/signup", &signup_body("during@example.com")).await;
    during.problem(503, "unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a quick 503, not a hang");
    server.api("localhost").get("/readyz").await.expect(503);

    assert!(pg.start(), "PostgreSQL comes back");
    crate::helpers::eventually("the node recovers by itself", || async {
        (server.api("localhost").get("/readyz").await.status == 200).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (created, statuses) = load.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 503),
        "only 201s and 503s under load: {statuses:?}"
    );
    assert!(statuses.contains(&503) && statuses.last() == Some(&201), "{statuses:?}");
    acknowledged.extend(created);
    let after = api.post("/v1/client/signup", &signup_body("after@example.com")).await;
    after.expect(201);
    acknowledged.push(after.json["user_id"].as_str().unwrap().to_owned());
    let ids = api.all_account_ids().await;
    for id in &acknowledged {
        assert!(ids.contains(id), "acknowledged account {id} survived the outage");
    }
}
