//! Client sessions: login, its throttle, verification, logout, expiry and
//! the end of every session on a password change.

use serde_json::json;

use super::assert_account_body;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_login_opens_a_new_session() {
    let fx = Fixture::new().await;
    let signed = fx.staging.signup("ann@example.com").await;
    for email in ["ann@example.com", "ANN@example.com"] {
        let r = fx
            .staging
            .post("/v1/client/login", &json!({ "email": email, "password": CLIENT_PASSWORD }))
            .await;
        r.expect(200);
        assert_eq!(r.json["user_id"], signed["user_id"]);
        let token = r.json["client_token"].as_str().expect("client_token");
        assert!(token.starts_with("onr_sess_"));
        assert_ne!(token, signed["client_token"].as_str().unwrap());
        parse_rfc3339(r.json["expires_at"].as_str().expect("expires_at"));
        let v = fx
            .staging
            .post("/v1/client/sessions/verify", &json!({ "client_token": token }))
            .await;
        v.expect(200);
        assert_eq!(v.json["user_id"], signed["user_id"]);
    }
    let wrong = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": "wrong-password-1" }),
        )
        .await;
    wrong.problem(401, "unauthenticated");
    let unknown = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "nobody@example.com", "password": "wrong-password-1" }),
        )
        .await;
    unknown.problem(401, "unauthenticated");
    assert_eq!(
        wrong.json["detail"], unknown.json["detail"],
        "one message for unknown email and wrong password"
    );
    assert!(wrong.json.get("client_token").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_login_is_throttled_after_five_failures() {
    let fx = Fixture::new().await;
    fx.staging.signup("ann@example.com").await;
    fx.staging.signup("bob@example.com").await;
    for i in 0..5 {
        let r = fx
            .staging
            .post(
                "/v1/client/login",
                &json!({ "email": "ann@example.com", "password": format!("wrong-password-{i}") }),
            )
            .await;
        r.problem(401, "unauthenticated");
    }
    let r = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    r.problem(429, "rate_limited");
    assert!(
        r.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1),
        "Retry-After: {:?}",
        r.headers
    );
    assert!(r.json.get("client_token").is_none());
    // The same email in other letter case is the same username.
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ANN@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(429, "rate_limited");
    // Another account is unaffected.
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "bob@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_verify_and_logout() {
    let fx = Fixture::new().await;
    let signed = fx.staging.signup("ann@example.com").await;
    let first = signed["client_token"].as_str().unwrap().to_owned();
    let login = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    let second = login.json["client_token"].as_str().unwrap().to_owned();

    for bogus in [
        "onr_sess_doesnotexist",
        "",
        "not-even-prefixed",
        &format!("{first}x"),
        &"onr_sess_a".repeat(50),
    ] {
        let r = fx
            .staging
            .post("/v1/client/sessions/verify", &json!({ "client_token": bogus }))
            .await;
        r.problem(401, "unauthenticated");
    }

    let r = fx.staging.post("/v1/client/logout", &json!({ "client_token": first })).await;
    r.expect(204);
    assert!(r.text.is_empty());
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": first }))
        .await
        .problem(401, "unauthenticated");
    // Only that session ended.
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": second }))
        .await
        .expect(200);
    // Ending an ended or unknown session is not an error.
    fx.staging
        .post("/v1/client/logout", &json!({ "client_token": first }))
        .await
        .expect(204);
    fx.staging
        .post("/v1/client/logout", &json!({ "client_token": "onr_sess_unknown" }))
        .await
        .expect(204);
    // The body is required.
    fx.staging
        .post("/v1/client/logout", &json!({}))
        .await
        .problem(400, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_every_session() {
    let fx = Fixture::new().await;
    let ann = fx.staging.signup("ann@example.com").await;
    let id = ann["user_id"].as_str().unwrap();
    let t1 = ann["client_token"].as_str().unwrap().to_owned();
    let t2 = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .json["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = fx.staging.signup("bob@example.com").await;

    let new_password = "a-different-Passphrase-7";
    let r = fx
        .staging
        .patch(&format!("/v1/client/{id}"), &json!({ "password": new_password }))
        .await;
    r.expect(200);
    assert_account_body(&r.json, &r.text);
    for t in [&t1, &t2] {
        fx.staging
            .post("/v1/client/sessions/verify", &json!({ "client_token": t }))
            .await
            .problem(401, "unauthenticated");
    }
    // Other accounts keep their sessions.
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": bob["client_token"] }))
        .await
        .expect(200);
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(401, "unauthenticated");
    let r = fx
        .staging
        .post("/v1/client/login", &json!({ "email": "ann@example.com", "password": new_password }))
        .await;
    r.expect(200);
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": r.json["client_token"] }))
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_last_the_configured_time_and_then_end() {
    // Default: 30 days.
    let fx = Fixture::new().await;
    let r = fx.staging.signup("ann@example.com").await;
    let left = parse_rfc3339(r["expires_at"].as_str().unwrap()) - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::days(29) && left <= time::Duration::days(30),
        "session lifetime {left}"
    );

    // A short lifetime: the session ends when it expires.
    // A minute, so a loaded machine's real time cannot end it before the
    // test moves the clock.
    let fx = Fixture::with(|s| s.core.session_ttl = std::time::Duration::from_secs(60), &[]).await;
    let r = fx.staging.signup("ann@example.com").await;
    let expires = parse_rfc3339(r["expires_at"].as_str().unwrap());
    let v = fx
        .staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": r["client_token"] }))
        .await;
    v.expect(200);
    assert_eq!(parse_rfc3339(v.json["expires_at"].as_str().unwrap()), expires);
    // expires_at has whole seconds; the session may live up to a second past it.
    fx.server.clock.advance(std::time::Duration::from_millis(61_300));
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": r["client_token"] }))
        .await
        .problem(401, "unauthenticated");
    // Logging in again opens a fresh one.
    let l = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    l.expect(200);
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": l.json["client_token"] }))
        .await
        .expect(200);
}
