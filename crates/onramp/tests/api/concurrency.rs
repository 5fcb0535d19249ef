//! Races: uniqueness holds under concurrency, and parallel writes all land.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::parking::Parking;
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

/// The accounts of [`Rehashing`].
const REHASHED: [&str; 4] = ["a@example.com", "b0@example.com", "b1@example.com", "c@example.com"];

/// A server whose accounts ([`REHASHED`]) were hashed with one cost and
/// that was restarted with another, so that a correct login rehashes (a
/// write); its store parks the calls the tests arm.
struct Rehashing {
    running: onramp::startup::Running,
    api: Api,
    parking: Parking,
    ids: std::collections::HashMap<&'static str, String>,
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
            .set_features(&actor, &pid("acme"), &["client-accounts".into()], &[])
            .await
            .unwrap();
        let secret = onramp_domain::infra::secret::Secret::new(SERVICE_PASSWORD.into());
        running
            .core
            .service_users()
            .create_service_user(
                &actor,
                &pid("acme"),
                onramp_domain::tenancy::EnvKind::Staging,
                "svc",
                &[],
                Some(secret),
            )
            .await
            .unwrap();
        let api = Api::new(running.addr, &host("acme", "staging"));
        let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
        let mut ids = std::collections::HashMap::new();
        for email in REHASHED {
            ids.insert(email, api.signup(email).await["user_id"].as_str().unwrap().to_owned());
        }
        running.shutdown().await;

        // Only the parameters matter (they differ, so logins rehash): the
        // interleavings are forced by parking, not by slow hashes.
        settings.core.hash_cost = HashCost {
            memory_kib: 2 * 1024,
            iterations: 2,
            parallelism: 1,
        };
        let parking = Parking::default();
        settings.wrap_store = Some(parking.wrapper());
        let running = onramp::startup::start(settings).await.expect("restart");
        let api = Api::new(running.addr, &host("acme", "staging"));
        let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
        Self {
            running,
            api,
            parking,
            ids,
            _dir: dir,
        }
    }

    fn id(&self, email: &str) -> &str {
        &self.ids[email]
    }

    fn login(&self, email: &str, password: &str) -> impl std::future::Future<Output = Resp> + Send + 'static {
        let (api, body) = (self.api.clone(), json!({ "email": email, "password": password }));
        async move { api.post("/v1/client/login", &body).await }
    }

    fn patch(&self, email: &str, body: Value) -> impl std::future::Future<Output = Resp> + Send + 'static {
        let (api, path) = (self.api.clone(), format!("/v1/client/{}", self.id(email)));
        async move { api.patch(&path, &body).await }
    }

    async fn account(&self, email: &str) -> Value {
        let r = self.api.get(&format!("/v1/client/{}", self.id(email))).await;
        r.expect(200);
        r.json
    }

    /// Asserts that `new` logs in to `email` and the old password no longer does.
    async fn assert_password_changed(&self, email: &str, new: &str) {
        let with_new = self.login(email, new).await;
        assert_eq!(
            with_new.status, 200,
            "an acknowledged password change of {email} was undone by a concurrent request: {}",
            with_new.text
        );
        let with_old = self.login(email, CLIENT_PASSWORD).await;
        assert_eq!(with_old.status, 401, "the old password of {email} works again after it was changed");
    }
}

const NEW_PASSWORD: &str = "brand-New-password-42";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashing_login_does_not_undo_a_concurrent_name_change() {
    let w = Rehashing::new().await;
    // The login has read the account and rehashed; the name changes before it writes.
    let spot = w.parking.arm("open_session_checked");
    let (l, p) = spot
        .run_while_parked(
            w.login("a@example.com", CLIENT_PASSWORD),
            w.patch("a@example.com", json!({ "name": { "first_name": "Renamed" } })),
        )
        .await;
    l.expect(200);
    p.expect(200);
    assert_eq!(
        w.account("a@example.com").await["name"]["first_name"],
        "Renamed",
        "a login undid an acknowledged name change"
    );
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashing_login_does_not_undo_a_concurrent_password_change() {
    let w = Rehashing::new().await;

    // The login has verified the old password and rehashed it; the password
    // changes before it writes: the change wins and the login fails.
    let spot = w.parking.arm("open_session_checked");
    let (l, p) = spot
        .run_while_parked(
            w.login("b0@example.com", CLIENT_PASSWORD),
            w.patch("b0@example.com", json!({ "password": NEW_PASSWORD })),
        )
        .await;
    p.expect(200);
    l.expect(401);
    w.assert_password_changed("b0@example.com", NEW_PASSWORD).await;

    // The change has read the account and hashed the new password; a login
    // with the old one completes (and rehashes it) before the change writes.
    let spot = w.parking.arm("update_account");
    let (p, l) = spot
        .run_while_parked(
            w.patch("b1@example.com", json!({ "password": NEW_PASSWORD })),
            w.login("b1@example.com", CLIENT_PASSWORD),
        )
        .await;
    l.expect(200);
    p.expect(200);
    w.assert_password_changed("b1@example.com", NEW_PASSWORD).await;
    // The change also ended the session that login opened.
    w.api
        .post("/v1/client/sessions/verify", &json!({ "client_token": l.json["client_token"] }))
        .await
        .problem(401, "unauthenticated");
    w.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_password_change_does_not_undo_a_concurrent_email_change() {
    let w = Rehashing::new().await;
    // The password change has read the account and hashed; the email changes before it writes.
    let spot = w.parking.arm("update_account");
    let (p1, p2) = spot
        .run_while_parked(
            w.patch("c@example.com", json!({ "password": NEW_PASSWORD })),
            w.patch("c@example.com", json!({ "email": "c.new@example.com" })),
        )
        .await;
    p1.expect(200);
    p2.expect(200);
    assert_eq!(
        w.account("c@example.com").await["email"],
        "c.new@example.com",
        "a password change undid an acknowledged email change"
    );
    w.login("c.new@example.com", NEW_PASSWORD).await.expect(200);
    w.running.shutdown().await;
}
