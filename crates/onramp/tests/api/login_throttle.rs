//! The failed-login throttle: guessers back off per (username, address) and
//! per address, a username under attack slows every address that has
//! failed for it, and none of that stops the holder of the password.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{CLIENT_PASSWORD, Fixture, Resp, SERVICE_PASSWORD, TestServer, pid};
use crate::vantage::{Browser, From};

fn retry_after(r: &Resp) -> Duration {
    Duration::from_secs(r.header("retry-after").expect("Retry-After").parse().expect("seconds"))
}

/// Sends wrong passwords from `at` until `failures` were counted (401s),
/// letting the clock run through each back-off as a patient guesser would.
async fn guess(server: &TestServer, at: &From, username: &str, failures: usize) {
    let mut counted = 0;
    while counted < failures {
        let r = at.service_login(username, &format!("guess-number-{counted}")).await;
        match r.status {
            401 => counted += 1,
            429 => server.clock.advance(retry_after(&r)),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessers_cannot_lock_a_service_user_out() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let (guesser, other_guesser) = (From::new(&server, "staging", 2), From::new(&server, "staging", 3));
    let backend = From::new(&server, "staging", 9);

    // Five free failures per address, then that address backs off, even for the right password.
    guess(&server, &guesser, "svc", 5).await;
    let r = guesser.service_login("svc", SERVICE_PASSWORD).await;
    r.problem(429, "rate_limited");
    assert_eq!(retry_after(&r), Duration::from_secs(1));
    // The backend, at its own address, logs in as always.
    backend.service_login("svc", SERVICE_PASSWORD).await.expect(200);

    // Guessing on from two addresses puts the username under attack (10 failures).
    guess(&server, &guesser, "svc", 3).await;
    guess(&server, &other_guesser, "svc", 3).await;
    // Even now the backend is heard, again and again.
    for _ in 0..3 {
        backend.service_login("svc", SERVICE_PASSWORD).await.expect(200);
    }
    // Under attack, a fresh address has one free failure, then backs off.
    let newcomer = From::new(&server, "staging", 4);
    newcomer
        .service_login("svc", "one-more-guess")
        .await
        .problem(401, "unauthenticated");
    newcomer
        .service_login("svc", "and-another-guess")
        .await
        .problem(429, "rate_limited");
    // The holder's typo costs a second, then the right password works.
    backend.service_login("svc", "a typo in it").await.problem(401, "unauthenticated");
    let r = backend.service_login("svc", SERVICE_PASSWORD).await;
    r.problem(429, "rate_limited");
    server.clock.advance(retry_after(&r));
    backend.service_login("svc", SERVICE_PASSWORD).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_sprays_many_usernames_backs_off_for_all() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let sprayer = From::new(&server, "staging", 2);
    for i in 0..30 {
        sprayer
            .service_login(&format!("user{i}"), "Winter2025!")
            .await
            .problem(401, "unauthenticated");
    }
    sprayer.service_login("user30", "Winter2025!").await.problem(429, "rate_limited");
    sprayer.service_login("svc", SERVICE_PASSWORD).await.problem(429, "rate_limited");
    From::new(&server, "staging", 3)
        .service_login("svc", SERVICE_PASSWORD)
        .await
        .expect(200);
}

/// The page is public; the platform's backend logs its users in through
/// `POST /v1/client/login` from its own address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_on_the_pages_does_not_lock_the_platform_out() {
    let fx = Fixture::new().await;
    fx.server
        .core
        .tenancy()
        .set_features(
            &onramp_domain::audit::Actor::operator(),
            &pid("acme"),
            &["user-integration".into()],
            &[],
        )
        .await
        .unwrap();
    fx.staging.signup("ann@example.com").await;
    let mut guesser = Browser::new(From::new(&fx.server, "staging", 2));
    for i in 0..12 {
        let r = guesser.sign_in("ann@example.com", &format!("guess-{i}")).await;
        assert!(r.status == 401 || r.status == 429, "{}: {}", r.status, r.text);
        if r.status == 429 {
            assert!(r.text.contains("Too many attempts"), "{}", r.text);
        }
    }
    let body = json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD });
    fx.staging.post("/v1/client/login", &body).await.expect(200);
    // Ann's own browser is heard too.
    let mut ann = Browser::new(From::new(&fx.server, "staging", 5));
    let r = ann.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_password_check_counts_against_the_login_throttle() {
    let fx = Fixture::new().await;
    fx.server
        .core
        .tenancy()
        .set_features(
            &onramp_domain::audit::Actor::operator(),
            &pid("acme"),
            &["user-integration".into()],
            &[],
        )
        .await
        .unwrap();
    fx.staging.signup("ann@example.com").await;
    // Someone with Ann's stolen session tries current passwords.
    let mut thief = Browser::new(From::new(&fx.server, "staging", 2));
    assert_eq!(thief.sign_in("ann@example.com", CLIENT_PASSWORD).await.status, 303);
    thief.get("/account").await.expect(200);
    const NEW: &str = "a-Brand-new-passphrase-42";
    for i in 0..5 {
        let r = thief
            .post(
                "/account/password",
                &[("current_password", &format!("guess-{i}")), ("new_password", NEW)],
            )
            .await;
        r.expect(400);
        assert!(r.text.contains("current password is wrong"), "{}", r.text);
    }
    // The sixth guess waits like a sixth wrong login would, right or not.
    let r = thief
        .post("/account/password", &[("current_password", CLIENT_PASSWORD), ("new_password", NEW)])
        .await;
    r.expect(429);
    assert!(r.text.contains("Too many attempts"), "{}", r.text);
    // And the password was not changed.
    let body = json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD });
    fx.staging.post("/v1/client/login", &body).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_usernames_are_refused_before_the_throttle_or_a_lookup() {
    let fx = Fixture::new().await;
    let anonymous = fx.server.staging("acme").without_token();
    let long = "a".repeat(60_000);
    for _ in 0..3 {
        let r = anonymous
            .post("/v1/login/password", &json!({ "username": long, "password": "whatever-it-is" }))
            .await;
        r.problem(400, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], "username");
        assert_eq!(r.json["errors"][0]["code"], "invalid_length");
    }
    let email = format!("{}@example.com", "b".repeat(250));
    let r = fx
        .staging
        .post("/v1/client/login", &json!({ "email": email, "password": "whatever-it-is" }))
        .await;
    r.problem(400, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "email");
    assert_eq!(r.json["errors"][0]["code"], "invalid_length");
    assert_eq!(fx.server.core.login_throttle().tracked(), 0, "nothing was counted");
    // 254 characters is still a login like any other.
    let email = format!("{}@example.com", "c".repeat(242));
    fx.staging
        .post("/v1/client/login", &json!({ "email": email, "password": "whatever-it-is" }))
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_login_records_are_dropped_when_their_time_is_over() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    let at = From::new(&server, "staging", 2);
    for i in 0..3 {
        at.service_login(&format!("nobody{i}"), "wrong-password")
            .await
            .problem(401, "unauthenticated");
    }
    // A record per (username, address), per username, and one for the address.
    assert_eq!(server.core.login_throttle().tracked(), 7);
    server.clock.advance(Duration::from_secs(31 * 60));
    at.service_login("nobody-else", "wrong-password")
        .await
        .problem(401, "unauthenticated");
    assert_eq!(server.core.login_throttle().tracked(), 3, "the old records were swept");
}
