//! Races: uniqueness holds under concurrency, and parallel writes all land.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_signups_with_one_email_create_exactly_one_account() {
    let fx = Fixture::new().await;
    let emails: Vec<String> = (0..20).map(|i| if i % 2 == 0 { "race@example.com".to_owned() } else { "RACE@Example.com".to_owned() }).collect();
    let results = join_all(emails.iter().map(|e| {
        let (api, body) = (fx.staging.clone(), signup_body(e));
        async move { api.post("/v1/client/signup", &body).await }
    })).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "only 201 and 409: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "exactly one 201: {statuses:?}");
    for r in results.iter().filter(|r| r.status == 409) {
        r.problem(409, "email_taken");
    }
    let winner = results.iter().find(|r| r.status == 201).unwrap();
    assert_eq!(fx.staging.all_account_ids().await, vec![winner.json["user_id"].as_str().unwrap().to_owned()]);
    // The winner's session works, and its password logs in.
    fx.staging.post("/v1/client/sessions/verify", &json!({ "client_token": winner.json["client_token"] })).await.expect(200);
    fx.staging.post("/v1/client/login", &json!({ "email": "race@example.com", "password": CLIENT_PASSWORD })).await.expect(200);
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
    })).await;
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
        ids.push(fx.staging.signup(&format!("p{i}@example.com")).await["user_id"].as_str().unwrap().to_owned());
    }
    let results = join_all(ids.iter().map(|id| {
        let (api, path) = (fx.staging.clone(), format!("/v1/client/{id}"));
        async move { api.patch(&path, &json!({ "email": "wanted@example.com" })).await }
    })).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "exactly one account gets the email: {statuses:?}");
    for r in results.iter().filter(|r| r.status != 200) {
        r.problem(409, "email_taken");
    }
    let r = fx.staging.get("/v1/client?email=wanted%40example.com").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    // Expensive hashes and many parallel logins: the queue fills up.
    let fx = Fixture::with(
        |s| {
            s.core.hash_cost = onramp_domain::hashing::HashCost { memory_kib: 32 * 1024, iterations: 2, parallelism: 1 };
            s.default_rate_limit = 100_000;
        },
        &[],
    )
    .await;
    let api = fx.server.staging("acme");
    let results = join_all((0..300).map(|i| {
        let api = api.clone();
        async move { api.post("/v1/login/password", &json!({ "username": format!("nobody-{i}"), "password": "wrong-password-1" })).await }
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    let overloaded: Vec<&Resp> = results.iter().filter(|r| r.status == 503).collect();
    assert!(!overloaded.is_empty(), "300 parallel hashes on a bounded queue should overflow it");
    for r in overloaded {
        r.problem(503, "overloaded");
        assert!(r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1), "{:?}", r.headers);
    }
    // Once the queue drains, the server works normally.
    login_token(&api, "svc", SERVICE_PASSWORD).await;
}
