//! The client account API: signup, login, sessions, account CRUD, lists.

use serde_json::{Value, json};

use crate::helpers::*;

fn assert_account_body(body: &Value, text: &str) {
    for key in ["user_id", "email", "created_at", "updated_at"] {
        assert!(body[key].is_string(), "{key} missing: {text}");
    }
    parse_rfc3339(body["created_at"].as_str().unwrap());
    parse_rfc3339(body["updated_at"].as_str().unwrap());
    assert!(
        body["name"]["first_name"].is_string() && body["name"]["last_name"].is_string(),
        "name: {text}"
    );
    let lower = text.to_ascii_lowercase();
    assert!(
        !lower.contains("password") && !lower.contains("argon2") && !lower.contains("hash"),
        "no password hash anywhere: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_opens_a_session_and_creates_a_readable_account() {
    let fx = Fixture::new().await;
    let r = fx.staging.post("/v1/client/signup", &signup_body("Ann.Lee@Example.com")).await;
    r.expect(201);
    let token = r.json["client_token"].as_str().expect("client_token");
    assert!(token.starts_with("onr_sess_") && token.len() > "onr_sess_".len() + 20, "{token}");
    let user_id = r.json["user_id"].as_str().expect("user_id");
    assert_eq!(
        uuid::Uuid::parse_str(user_id).expect("user_id is a UUID").get_version_num(),
        7,
        "generated ids are UUIDv7"
    );
    let expires = parse_rfc3339(r.json["expires_at"].as_str().expect("expires_at"));
    assert!(expires > time::OffsetDateTime::now_utc(), "the session expires in the future");
    assert!(!r.text.contains(CLIENT_PASSWORD));

    // The session is live.
    let v = fx
        .staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": token }))
        .await;
    v.expect(200);
    assert_eq!(v.json["user_id"], user_id);
    parse_rfc3339(v.json["expires_at"].as_str().expect("expires_at"));

    // The account, without its password hash.
    let g = fx.staging.get(&format!("/v1/client/{user_id}")).await;
    g.expect(200);
    assert_account_body(&g.json, &g.text);
    assert_eq!(g.json["user_id"], user_id);
    assert_eq!(g.json["email"], "Ann.Lee@Example.com");
    assert_eq!(g.json["name"], json!({ "first_name": "Ann", "last_name": "Lee" }));
    assert!(g.header("ratelimit-limit").is_some());

    // Ids are unique.
    let second = fx.staging.signup("someone.else@example.com").await;
    assert_ne!(second["user_id"], user_id);
    assert_ne!(second["client_token"], token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_with_a_client_supplied_user_id() {
    let fx = Fixture::new().await;
    let id = uuid::Uuid::new_v4();
    let mut body = signup_body("ann@example.com");
    body["user_id"] = json!(id.to_string().to_uppercase());
    let r = fx.staging.post("/v1/client/signup", &body).await;
    r.expect(201);
    assert_eq!(r.json["user_id"], id.to_string(), "the id is kept, in canonical form");
    fx.staging.get(&format!("/v1/client/{id}")).await.expect(200);

    // The same id again, with another email.
    let mut again = signup_body("bob@example.com");
    again["user_id"] = json!(id.to_string());
    fx.staging.post("/v1/client/signup", &again).await.problem(409, "conflict");
    // Not a UUID.
    let mut bad = signup_body("carol@example.com");
    bad["user_id"] = json!("user-42");
    let r = fx.staging.post("/v1/client/signup", &bad).await;
    r.problem(400, "validation_failed");
    assert_eq!(r.error_fields(), vec!["user_id"]);
    assert_eq!(fx.staging.all_account_ids().await, vec![id.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_email_is_refused_case_insensitively() {
    let fx = Fixture::new().await;
    fx.staging.signup("ann@example.com").await;
    for email in ["ann@example.com", "ANN@EXAMPLE.COM", "Ann@Example.Com", "  ann@example.com "] {
        let r = fx.staging.post("/v1/client/signup", &signup_body(email)).await;
        r.problem(409, "email_taken");
    }
    assert_eq!(fx.staging.all_account_ids().await.len(), 1);
}

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
async fn get_account_404s() {
    let fx = Fixture::new().await;
    let prod = fx.production.signup("ann@example.com").await;
    for id in [
        uuid::Uuid::now_v7().to_string(),
        "not-a-uuid".to_owned(),
        "1".to_owned(),
        "%FF%FE".to_owned(),
        "%00".to_owned(),
        prod["user_id"].as_str().unwrap().to_owned(),
    ] {
        let r = fx.staging.get(&format!("/v1/client/{id}")).await;
        r.problem(404, "not_found");
        fx.staging
            .patch(&format!("/v1/client/{id}"), &json!({ "name": { "first_name": "X" } }))
            .await
            .problem(404, "not_found");
        fx.staging.delete(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    }
    // Production still has its account, untouched.
    let g = fx
        .production
        .get(&format!("/v1/client/{}", prod["user_id"].as_str().unwrap()))
        .await;
    g.expect(200);
    assert_eq!(g.json["name"]["first_name"], "Ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_email_and_name() {
    let fx = Fixture::new().await;
    let ann = fx.staging.signup("ann@example.com").await;
    let id = ann["user_id"].as_str().unwrap().to_owned();
    let before = fx.staging.get(&format!("/v1/client/{id}")).await.json;

    let r = fx
        .staging
        .patch(
            &format!("/v1/client/{id}"),
            &json!({ "email": "ann.new@example.com", "name": { "last_name": "Smith" } }),
        )
        .await;
    r.expect(200);
    assert_account_body(&r.json, &r.text);
    assert_eq!(r.json["email"], "ann.new@example.com");
    assert_eq!(r.json["name"], json!({ "first_name": "Ann", "last_name": "Smith" }));
    assert_eq!(r.json["created_at"], before["created_at"]);
    assert!(parse_rfc3339(r.json["updated_at"].as_str().unwrap()) >= parse_rfc3339(before["updated_at"].as_str().unwrap()));

    let g = fx.staging.get(&format!("/v1/client/{id}")).await;
    assert_eq!(g.json["email"], "ann.new@example.com");
    assert_eq!(g.json["name"]["last_name"], "Smith");

    // Login follows the email; the old one is free again.
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann.new@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(401, "unauthenticated");
    fx.staging.signup("ann@example.com").await;
    // Sessions survive an email change.
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": ann["client_token"] }))
        .await
        .expect(200);

    // Changing the letter case of one's own email is not a conflict.
    let r = fx
        .staging
        .patch(&format!("/v1/client/{id}"), &json!({ "email": "Ann.New@Example.com" }))
        .await;
    r.expect(200);
    assert_eq!(r.json["email"], "Ann.New@Example.com");

    // An empty patch changes nothing.
    let r = fx.staging.patch(&format!("/v1/client/{id}"), &json!({})).await;
    r.expect(200);
    assert_eq!(r.json["email"], "Ann.New@Example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_to_a_taken_email_conflicts() {
    let fx = Fixture::new().await;
    let ann = fx.staging.signup("ann@example.com").await;
    fx.staging.signup("bob@example.com").await;
    let id = ann["user_id"].as_str().unwrap();
    for email in ["bob@example.com", "BOB@example.com"] {
        fx.staging
            .patch(&format!("/v1/client/{id}"), &json!({ "email": email }))
            .await
            .problem(409, "email_taken");
    }
    // Invalid changes are refused and change nothing.
    let r = fx
        .staging
        .patch(
            &format!("/v1/client/{id}"),
            &json!({ "email": "not-an-email", "name": { "first_name": "Zed" } }),
        )
        .await;
    r.problem(400, "validation_failed");
    assert!(r.error_fields().contains(&"email".to_owned()));
    fx.staging
        .patch(&format!("/v1/client/{id}"), &json!({ "password": "short" }))
        .await
        .problem(400, "validation_failed");
    fx.staging
        .patch(&format!("/v1/client/{id}"), &json!({ "password": "ann@example.com" }))
        .await
        .problem(400, "validation_failed");
    fx.staging
        .patch(&format!("/v1/client/{id}"), &json!({ "user_id": uuid::Uuid::new_v4().to_string() }))
        .await
        .problem(400, "unknown_field");
    let g = fx.staging.get(&format!("/v1/client/{id}")).await;
    assert_eq!(g.json["email"], "ann@example.com");
    assert_eq!(g.json["name"]["first_name"], "Ann");
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
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
async fn delete_removes_the_account_and_its_sessions() {
    let fx = Fixture::new().await;
    let ann = fx.staging.signup("ann@example.com").await;
    let bob = fx.staging.signup("bob@example.com").await;
    let id = ann["user_id"].as_str().unwrap();
    let r = fx.staging.delete(&format!("/v1/client/{id}")).await;
    r.expect(204);
    assert!(r.text.is_empty());
    fx.staging.get(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": ann["client_token"] }))
        .await
        .problem(401, "unauthenticated");
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(401, "unauthenticated");
    fx.staging.delete(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    assert_eq!(
        fx.staging.all_account_ids().await,
        vec![bob["user_id"].as_str().unwrap().to_owned()]
    );
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": bob["client_token"] }))
        .await
        .expect(200);
    // The email can be used again.
    let again = fx.staging.signup("ann@example.com").await;
    assert_ne!(again["user_id"], ann["user_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_paginates_with_a_cursor() {
    let fx = Fixture::new().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            fx.staging.signup(&format!("user{i}@example.com")).await["user_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/v1/client?limit=2".to_owned();
    loop {
        let r = fx.staging.get(&path).await;
        r.expect(200);
        let data = r.json["data"].as_array().expect("data");
        sizes.push(data.len());
        for a in data {
            assert_account_body(a, &a.to_string());
            seen.push(a["user_id"].as_str().unwrap().to_owned());
        }
        assert!(
            r.json.as_object().unwrap().contains_key("next_cursor"),
            "next_cursor is always present: {}",
            r.text
        );
        match r.json["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/client?limit=2&cursor={c}"),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, created, "every account exactly once, oldest first");

    // Default limit returns everything here, with no next page.
    let r = fx.staging.get("/v1/client").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
    assert!(r.json["next_cursor"].is_null());
    // Exactly a page's worth: no empty extra page.
    let r = fx.staging.get("/v1/client?limit=5").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
    assert!(r.json["next_cursor"].is_null(), "no next page after the last account: {}", r.text);

    // Filter by email, case-insensitively.
    let r = fx.staging.get("/v1/client?email=USER3%40Example.com").await;
    r.expect(200);
    let data = r.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["user_id"], created[3].as_str());
    let r = fx.staging.get("/v1/client?email=nobody%40example.com").await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 0);

    // Out of range or malformed.
    for q in ["limit=0", "limit=201", "limit=-1", "limit=abc", "cursor=not-a-cursor"] {
        let r = fx.staging.get(&format!("/v1/client?{q}")).await;
        r.expect(400);
        assert_problem_shape(&r);
    }
    fx.staging.get("/v1/client?limit=200").await.expect(200);
    fx.staging.get("/v1/client?limit=1").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_endpoints_need_a_service_token_the_feature_and_the_role() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_instance("beta", &[]).await;
    server.create_service_user("beta", "staging", "svc", &[]).await;
    server.create_service_user("acme", "staging", "reader", &["reader"]).await;
    let beta = server.login(&server.staging("beta"), "svc").await;
    let reader = server.login(&server.staging("acme"), "reader").await;
    let anonymous = server.staging("acme");
    let id = uuid::Uuid::now_v7().to_string();
    let account = format!("/v1/client/{id}");
    let token_body = json!({ "client_token": "onr_sess_x" });
    let login_body = json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD });
    let patch_body = json!({ "name": { "first_name": "X" } });
    let calls: Vec<(&str, &str, Option<&Value>)> = vec![
        ("POST", "/v1/client/signup", Some(&login_body)),
        ("POST", "/v1/client/login", Some(&login_body)),
        ("POST", "/v1/client/sessions/verify", Some(&token_body)),
        ("POST", "/v1/client/logout", Some(&token_body)),
        ("GET", "/v1/client", None),
        ("GET", account.as_str(), None),
        ("PATCH", account.as_str(), Some(&patch_body)),
        ("DELETE", account.as_str(), None),
    ];
    let signup = signup_body("ann@example.com");
    for (method, path, body) in calls {
        let body = if path.ends_with("signup") { Some(&signup) } else { body };
        let call = async |api: &Api| {
            let mut rb = api.request(method.parse().unwrap(), path);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            send(rb).await
        };
        let r = call(&anonymous).await;
        r.problem(401, "unauthenticated");
        assert!(
            r.header("www-authenticate").unwrap().to_ascii_lowercase().starts_with("bearer"),
            "{method} {path}"
        );
        call(&beta).await.problem(403, "feature_disabled");
        call(&reader).await.problem(403, "forbidden");
    }
    // Logging in and the JWKS do not need the feature.
    let r = server.staging("beta").get("/.well-known/jwks.json").await;
    r.expect(200);
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
    let fx = Fixture::with(|s| s.core.session_ttl = std::time::Duration::from_secs(1), &[]).await;
    let r = fx.staging.signup("ann@example.com").await;
    let expires = parse_rfc3339(r["expires_at"].as_str().unwrap());
    let v = fx
        .staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": r["client_token"] }))
        .await;
    v.expect(200);
    assert_eq!(parse_rfc3339(v.json["expires_at"].as_str().unwrap()), expires);
    // expires_at has whole seconds; the session may live up to a second past it.
    fx.server.clock.advance(std::time::Duration::from_millis(2300));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_cover_client_supplied_ids_in_id_order() {
    let fx = Fixture::new().await;
    // Client-chosen ids that sort before and after generated ones, mixed with generated ones.
    let ids = [
        "ffffffff-ffff-4fff-bfff-ffffffffffff",
        "",
        "00000000-0000-4000-8000-000000000001",
        "",
        "7fffffff-ffff-4fff-bfff-ffffffffffff",
    ];
    let mut created = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut body = signup_body(&format!("mixed{i}@example.com"));
        if !id.is_empty() {
            body["user_id"] = json!(id);
        }
        let r = fx.staging.post("/v1/client/signup", &body).await;
        r.expect(201);
        created.push(r.json["user_id"].as_str().unwrap().to_owned());
    }
    // Paging with limit 2 returns every account exactly once.
    let mut seen = Vec::new();
    let mut path = "/v1/client?limit=2".to_owned();
    loop {
        let r = fx.staging.get(&path).await;
        r.expect(200);
        seen.extend(
            r.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["user_id"].as_str().unwrap().to_owned()),
        );
        match r.json["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/client?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), created.len(), "every account exactly once: {seen:?}");
    // The documented order: by id (generated UUIDv7 ids sort by creation time).
    let mut by_id = created.clone();
    by_id.sort();
    assert_eq!(seen, by_id, "the list is documented as ordered by id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_defaults_to_fifty() {
    let fx = Fixture::new().await;
    let results = futures::future::join_all((0..51).map(|i| {
        let api = fx.staging.clone();
        async move { api.post("/v1/client/signup", &signup_body(&format!("many{i}@example.com"))).await }
    }))
    .await;
    assert!(results.iter().all(|r| r.status == 201));
    let first = fx.staging.get("/v1/client").await;
    assert_eq!(first.json["data"].as_array().unwrap().len(), 50);
    let cursor = first.json["next_cursor"].as_str().expect("a next page");
    let second = fx.staging.get(&format!("/v1/client?cursor={cursor}")).await;
    assert_eq!(second.json["data"].as_array().unwrap().len(), 1);
    assert!(second.json["next_cursor"].is_null());
}
