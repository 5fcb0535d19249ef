//! `Idempotency-Key` on signup: replay of the same request, refusal of a
//! reused key, per-credential scope, and no plaintext secrets at rest.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::parking::Parking;
use crate::helpers::*;

async fn signup_with_key(api: &Api, key: &str, body: &Value) -> Resp {
    send(
        api.request(Method::POST, "/v1/client/signup")
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_and_body_replays_the_first_response() {
    let fx = Fixture::new().await;
    let body = signup_body("ann@example.com");
    let first = signup_with_key(&fx.staging, "key-1", &body).await;
    first.expect(201);
    assert!(first.header("idempotent-replayed").is_none(), "a first response is not a replay");
    let again = signup_with_key(&fx.staging, "key-1", &body).await;
    again.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json, "the replay is the first response");
    assert!(again.header("content-type").unwrap_or_default().starts_with("application/json"));
    assert!(again.header("x-request-id").is_some());
    assert_eq!(
        fx.staging.all_account_ids().await,
        vec![first.json["user_id"].as_str().unwrap().to_owned()]
    );
    // The replayed session token is the real, live one.
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": again.json["client_token"] }))
        .await
        .expect(200);

    // Without the key, the same body is a new request (and a duplicate email).
    fx.staging.post("/v1/client/signup", &body).await.problem(409, "email_taken");
    // A different key is a new request too.
    let other = signup_with_key(&fx.staging, "key-2", &body).await;
    other.problem(409, "email_taken");
    assert!(other.header("idempotent-replayed").is_none());
    // A stored refusal is replayed as a refusal.
    let replayed = signup_with_key(&fx.staging, "key-2", &body).await;
    replayed.expect(409);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert!(
        replayed
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/problem+json")
    );
    // The first response, verbatim (so its request_id is the first request's).
    assert_eq!(replayed.json, other.json);
    assert!(replayed.header("x-request-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_with_another_body_is_refused() {
    let fx = Fixture::new().await;
    signup_with_key(&fx.staging, "key-1", &signup_body("ann@example.com"))
        .await
        .expect(201);
    let r = signup_with_key(&fx.staging, "key-1", &signup_body("bob@example.com")).await;
    r.problem(409, "idempotency_key_reused");
    assert_eq!(fx.staging.all_account_ids().await.len(), 1, "the second body was not processed");
    // Invalid keys.
    for bad in ["k".repeat(256)] {
        signup_with_key(&fx.staging, &bad, &signup_body("carol@example.com"))
            .await
            .problem(400, "validation_failed");
    }
    // The longest valid key works.
    signup_with_key(&fx.staging, &"k".repeat(255), &signup_body("carol@example.com"))
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_one_credential_and_environment() {
    let fx = Fixture::new().await;
    fx.server.create_service_user("acme", "staging", "svc2", &[]).await;
    let second = fx.server.login(&fx.server.staging("acme"), "svc2").await;
    let body = signup_body("ann@example.com");
    let first = signup_with_key(&fx.staging, "shared-key", &body).await;
    first.expect(201);
    // Another service user with the same key: its own request, not a replay of someone else's session.
    let r = signup_with_key(&second, "shared-key", &body).await;
    assert!(
        r.header("idempotent-replayed").is_none(),
        "another credential must not get a replay: {}",
        r.text
    );
    r.problem(409, "email_taken");
    assert!(!r.text.contains(first.json["client_token"].as_str().unwrap()));
    // Production with the same key: a new account there.
    let p = signup_with_key(&fx.production, "shared-key", &body).await;
    p.expect(201);
    assert!(p.header("idempotent-replayed").is_none());
    assert_ne!(p.json["client_token"], first.json["client_token"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_with_one_key_create_one_account() {
    let fx = Fixture::new().await;
    let body = signup_body("race@example.com");
    let results = join_all((0..10).map(|_| {
        let (api, body) = (fx.staging.clone(), body.clone());
        async move { signup_with_key(&api, "race-key", &body).await }
    }))
    .await;
    let fresh: Vec<&Resp> = results
        .iter()
        .filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(
        fresh.len(),
        1,
        "{:?}",
        results.iter().map(|r| (r.status, r.json["code"].clone())).collect::<Vec<_>>()
    );
    for r in &results {
        match r.status {
            201 => assert_eq!(r.json["user_id"], fresh[0].json["user_id"]),
            409 => assert_problem_shape(r),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(fx.staging.all_account_ids().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_responses_do_not_keep_session_tokens_in_plaintext() {
    let fx = Fixture::new().await;
    let r = signup_with_key(&fx.staging, "secret-key", &signup_body("ann@example.com")).await;
    r.expect(201);
    let token = r.json["client_token"].as_str().unwrap().to_owned();
    if !fx.server.settings.database_url.starts_with("sqlite:") {
        // The check reads the database files; a PostgreSQL run has none here.
        return;
    }
    let mut scanned = 0;
    for entry in std::fs::read_dir(fx.server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "{} holds a session token in plaintext",
            path.display()
        );
        assert!(
            !bytes.windows(CLIENT_PASSWORD.len()).any(|w| w == CLIENT_PASSWORD.as_bytes()),
            "{} holds a password in plaintext",
            path.display()
        );
    }
    assert!(scanned > 0);
}

/// A server whose store parks the call a test arms.
async fn parked_fixture() -> (Fixture, Parking) {
    let parking = Parking::default();
    let wrapper = parking.wrapper();
    let fx = Fixture::with(|s| s.wrap_store = Some(wrapper), &[]).await;
    (fx, parking)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_request_can_retry_with_its_key() {
    let (fx, parking) = parked_fixture().await;
    let body = signup_body("ann@example.com");
    let spot = parking.arm("create_account");
    let first = tokio::spawn({
        let (api, body) = (fx.staging.clone(), body.clone());
        async move { signup_with_key(&api, "order-4711", &body).await }
    });
    spot.reached().await;
    // The client gives up while its request sits in the store.
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    // The server sees the closed connection, drops the request and frees
    // the key: the retry runs (before the fix: 409 for 24 hours).
    let retry = eventually("the abandoned key is released", || {
        let (api, body) = (fx.staging.clone(), body.clone());
        async move {
            let r = signup_with_key(&api, "order-4711", &body).await;
            (r.status != 409).then_some(r)
        }
    })
    .await;
    retry.expect(201);
    assert!(retry.header("idempotent-replayed").is_none());
    let replay = signup_with_key(&fx.staging, "order-4711", &body).await;
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["user_id"], retry.json["user_id"]);
    assert_eq!(fx.staging.all_account_ids().await.len(), 1);
}

/// Keys held in the database, read straight from it.
async fn stored_keys(database_url: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_that_meets_the_key_as_it_is_released_claims_it_and_keeps_its_answer() {
    let (fx, parking) = parked_fixture().await;
    let body = signup_body("ann@example.com");
    let first_spot = parking.arm("create_account");
    let first = tokio::spawn({
        let (api, body) = (fx.staging.clone(), body.clone());
        async move { signup_with_key(&api, "order-4711", &body).await }
    });
    first_spot.reached().await;
    // The retry loses its claim to the first request, then stops just
    // before reading the record that beat it.
    let lookup = parking.arm("idempotency_key");
    let retry = tokio::spawn({
        let (api, body) = (fx.staging.clone(), body.clone());
        async move { signup_with_key(&api, "order-4711", &body).await }
    });
    lookup.reached().await;
    // Meanwhile the first client hangs up and its claim is released.
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    let url = fx.server.settings.database_url.clone();
    eventually("the abandoned claim is released", || {
        let url = url.clone();
        async move { (stored_keys(&url).await == 0).then_some(()) }
    })
    .await;
    // The record is gone when the retry reads it: the key is free, and the
    // retry claims it (before the fix it ran without a claim, its answer
    // was not kept, and the replay below created nothing but `email_taken`).
    lookup.release().await;
    let retry = retry.await.unwrap();
    retry.expect(201);
    let replay = signup_with_key(&fx.staging, "order-4711", &body).await;
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["user_id"], retry.json["user_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_stuck_in_progress_is_a_lease_that_a_retry_takes_over() {
    let (fx, parking) = parked_fixture().await;
    let body = signup_body("ann@example.com");
    let spot = parking.arm("create_account");
    let stuck = tokio::spawn({
        let (api, body) = (fx.staging.clone(), body.clone());
        async move { signup_with_key(&api, "order-4711", &body).await }
    });
    spot.reached().await;
    // While the first request runs, a retry is told to wait.
    signup_with_key(&fx.staging, "order-4711", &body).await.problem(409, "conflict");
    // A node that died mid-request never releases its claim: past the
    // lease (five minutes), the key is free again.
    fx.server.clock.advance(std::time::Duration::from_secs(5 * 60 + 1));
    let retry = signup_with_key(&fx.staging, "order-4711", &body).await;
    retry.expect(201);
    // The first request, when it finally runs, must not overwrite the
    // answer the retry stored.
    spot.release().await;
    stuck.await.unwrap().problem(409, "email_taken");
    let replay = signup_with_key(&fx.staging, "order-4711", &body).await;
    replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["user_id"], retry.json["user_id"]);
}
