//! Races: uniqueness holds under concurrency, and parallel writes all land.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_signups_with_one_email_create_exactly_one_account() {
    let fx = Fixture::new().await;
    let emails: Vec<String> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                "race@example.com".to_owned()
            } else {
                "RACE@Example.com".to_owned()
            }
        })
        .collect();
    let results = join_all(emails.iter().map(|e| {
        let (api, body) = (fx.staging.clone(), signup_body(e));
        async move { api.post("/v1/client/signup", &body).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "only 201 and 409: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "exactly one 201: {statuses:?}");
    for r in results.iter().filter(|r| r.status == 409) {
        r.problem(409, "email_taken");
    }
    let winner = results.iter().find(|r| r.status == 201).unwrap();
    assert_eq!(
        fx.staging.all_account_ids().await,
        vec![winner.json["user_id"].as_str().unwrap().to_owned()]
    );
    // The winner's session works, and its password logs in.
    fx.staging
        .post(
            "/v1/client/sessions/verify",
            &json!({ "client_token": winner.json["client_token"] }),
        )
        .await
        .expect(200);
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "race@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_signups_with_one_user_id_create_exactly_one_account() {
    let fx = Fixture::new().await;
    let id = uuid::Uuid::new_v4().to_string();
    let bodies: Vec<_> = (0..12)
        .map(|i| {
            let mut b = signup_body(&format!("same-id-{i}@example.com"));
            b["user_id"] = json!(id);
            b
        })
        .collect();
    let results = join_all(bodies.iter().map(|b| fx.staging.post("/v1/client/signup", b))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "exactly one 201: {statuses:?}");
    for r in results.iter().filter(|r| r.status != 201) {
        r.problem(409, "conflict");
    }
    assert_eq!(fx.staging.all_account_ids().await, vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_signups_with_distinct_emails_all_succeed() {
    let fx = Fixture::new().await;
    let emails: Vec<String> = (0..24).map(|i| format!("user{i}@example.com")).collect();
    let results = join_all(emails.iter().map(|e| {
        let (api, body) = (fx.staging.clone(), signup_body(e));
        async move { api.post("/v1/client/signup", &body).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "every signup succeeds: {statuses:?}");
    let mut ids: Vec<String> = results.iter().map(|r| r.json["user_id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut listed = fx.staging.all_account_ids().await;
    listed.sort();
    assert_eq!(listed, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_patches_to_one_email_leave_it_unique() {
    let fx = Fixture::new().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(
            fx.staging.signup(&format!("p{i}@example.com")).await["user_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let results = join_all(ids.iter().map(|id| {
        let (api, path) = (fx.staging.clone(), format!("/v1/client/{id}"));
        async move { api.patch(&path, &json!({ "email": "wanted@example.com" })).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one account gets the email: {statuses:?}"
    );
    for r in results.iter().filter(|r| r.status != 200) {
        r.problem(409, "email_taken");
    }
    let r = fx.staging.get("/v1/client?email=wanted%40example.com").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    // Expensive hashes, one hashing thread with room for two, and many
    // parallel logins: the queue fills up whatever the machine's core count.
    let fx = Fixture::with(
        |s| {
            s.core.hash_cost = onramp_domain::infra::hashing::HashCost {
                memory_kib: 32 * 1024,
                iterations: 2,
                parallelism: 1,
            };
            s.core.hash_workers = Some(1);
            s.core.hash_queue = Some(2);
            s.default_rate_limit = 100_000;
        },
        &[],
    )
    .await;
    let api = fx.server.staging("acme");
    let results = join_all((0..300).map(|i| {
        let api = api.clone();
        async move {
            api.post(
                "/v1/login/password",
                &json!({ "username": format!("nobody-{i}"), "password": "wrong-password-1" }),
            )
            .await
        }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    let overloaded: Vec<&Resp> = results.iter().filter(|r| r.status == 503).collect();
    assert!(!overloaded.is_empty(), "300 parallel hashes on a bounded queue should overflow it");
    for r in overloaded {
        r.problem(503, "overloaded");
        assert!(
            r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1),
            "{:?}",
            r.headers
        );
    }
    // Once the queue drains, the server works normally.
    login_token(&api, "svc", SERVICE_PASSWORD).await;
}

/// Starts `first`, waits a moment so it has read the account and is hashing,
/// then runs `second` to completion, then waits for `first`.
async fn overlap<A, B>(first: A, second: B) -> (Resp, Resp)
where
    A: std::future::Future<Output = Resp> + Send + 'static,
    B: std::future::Future<Output = Resp>,
{
    let first = tokio::spawn(first);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = second.await;
    (first.await.expect("first request"), second)
}

/// A server whose accounts `a@`, `b@`, `c@example.com` were hashed with a
/// cheap cost, restarted with an expensive one: logins rehash (a slow write)
/// and password changes are slow.
struct Rehashing {
    running: onramp::startup::Running,
    api: Api,
    ids: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Rehashing {
    async fn new() -> Self {
        use onramp_domain::infra::hashing::HashCost;
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(dir.path());
        let running = onramp::startup::start(settings.clone()).await.expect("start");
        let actor = onramp_domain::audit::Actor::operator();
        let new = onramp_domain::tenancy::service::NewInstance {
            platform_id: "acme".into(),
            name: "Acme".into(),
            region: "za".into(),
            app_url: "https://app.acme.example".into(),
        };
        running.core.tenancy().create_instance(&actor, new).await.unwrap();
        running
            .core
            .tenancy()
            .set_features(&actor, "acme", &["client-accounts".into()], &[])
            .await
            .unwrap();
        let secret = onramp_domain::infra::secret::Secret::new(SERVICE_PASSWORD.into());
        running
            .core
            .service_users()
            .create_service_user(&actor, "acme", onramp_domain::tenancy::EnvKind::Staging, "svc", &[], Some(secret))
            .await
            .unwrap();
        let api = Api::new(running.addr, &host("acme", "staging"));
        let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
        let mut ids = Vec::new();
        for email in [
            "a@example.com",
            "b0@example.com",
            "c@example.com",
            "b1@example.com",
            "b2@example.com",
            "b3@example.com",
            "b4@example.com",
        ] {
            ids.push(api.signup(email).await["user_id"].as_str().unwrap().to_owned());
        }
        running.shutdown().await;

        settings.core.hash_cost = HashCost {
            memory_kib: 64 * 1024,
            iterations: 4,
            parallelism: 1,
        };
        let running = onramp::startup::start(settings).await.expect("restart");
        let api = Api::new(running.addr, &host("acme", "staging"));
        let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
        Self {
            running,
            api,
            ids,
            _dir: dir,
        }
    }

    fn login(&self, email: &str, password: &str) -> impl std::future::Future<Output = Resp> + Send + 'static {
        let (api, body) = (self.api.clone(), json!({ "email": email, "password": password }));
        async move { api.post("/v1/client/login", &body).await }
    }

    fn patch(&self, id: &str, body: Value) -> impl std::future::Future<Output = Resp> + Send + 'static {
        let (api, path) = (self.api.clone(), format!("/v1/client/{id}"));
        async move { api.patch(&path, &body).await }
    }
}

const NEW_PASSWORD: &str = "brand-New-password-42";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashing_login_does_not_undo_a_concurrent_name_change() {
    let w = Rehashing::new().await;
    let (l, p) = overlap(
        w.login("a@example.com", CLIENT_PASSWORD),
        w.patch(&w.ids[0], json!({ "name": { "first_name": "Renamed" } })),
    )
    .await;
    l.expect(200);
    p.expect(200);
    let now = w.api.get(&format!("/v1/client/{}", w.ids[0])).await;
    assert_eq!(
        now.json["name"]["first_name"], "Renamed",
        "a login undid an acknowledged name change"
    );
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashing_login_does_not_undo_a_concurrent_password_change() {
    let w = Rehashing::new().await;
    // The interleaving depends on scheduling, so try it on several accounts.
    let accounts = [
        (1, "b0@example.com"),
        (3, "b1@example.com"),
        (4, "b2@example.com"),
        (5, "b3@example.com"),
        (6, "b4@example.com"),
    ];
    for (i, email) in accounts {
        let (p, l) = overlap(
            w.patch(&w.ids[i], json!({ "password": NEW_PASSWORD })),
            w.login(email, CLIENT_PASSWORD),
        )
        .await;
        p.expect(200);
        assert!(l.status == 200 || l.status == 401, "{}", l.text);
        let with_new = w.login(email, NEW_PASSWORD).await;
        assert_eq!(
            with_new.status, 200,
            "an acknowledged password change of {email} was undone by a concurrent login: {}",
            with_new.text
        );
        let with_old = w.login(email, CLIENT_PASSWORD).await;
        assert_eq!(with_old.status, 401, "the old password of {email} works again after it was changed");
    }
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_password_change_does_not_undo_a_concurrent_email_change() {
    let w = Rehashing::new().await;
    let (p1, p2) = overlap(
        w.patch(&w.ids[2], json!({ "password": NEW_PASSWORD })),
        w.patch(&w.ids[2], json!({ "email": "c.new@example.com" })),
    )
    .await;
    p1.expect(200);
    p2.expect(200);
    let now = w.api.get(&format!("/v1/client/{}", w.ids[2])).await;
    assert_eq!(
        now.json["email"], "c.new@example.com",
        "a password change undid an acknowledged email change"
    );
    w.login("c.new@example.com", NEW_PASSWORD).await.expect(200);
    w.running.shutdown().await;
}
