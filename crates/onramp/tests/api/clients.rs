//! The client account API: signup and account CRUD; sessions and lists
//! have files of their own.

mod list;
mod sessions;

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
async fn an_email_is_one_identity_whatever_its_unicode_form() {
    let fx = Fixture::new().await;
    // The Kelvin sign lowercases to `k`: it took kate@example.com before.
    let kelvin = fx.staging.post("/v1/client/signup", &signup_body("\u{212A}ate@example.com")).await;
    kelvin.problem(400, "validation_failed");
    assert_eq!(kelvin.error_fields(), ["email"]);
    let kate = fx.staging.signup("kate@example.com").await;
    // A full-width letter in the domain is the same domain (IDNA).
    fx.staging
        .post("/v1/client/signup", &signup_body("Kate@\u{FF45}xample.com"))
        .await
        .problem(409, "email_taken");
    let login = fx
        .staging
        .post(
            "/v1/client/login",
            &json!({ "email": "KATE@\u{FF45}xample.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    login.expect(200);
    assert_eq!(login.json["user_id"], kate["user_id"]);
    let found = fx.staging.get("/v1/client?email=Kate%40EXAMPLE.com").await;
    found.expect(200);
    assert_eq!(found.json["data"][0]["user_id"], kate["user_id"]);
    assert_eq!(fx.staging.all_account_ids().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_name_has_null_name_parts_and_an_unverified_email() {
    let w = PartnerWorld::new().await;
    let r = w
        .partner
        .post(
            "/v1/partners/create",
            &json!({ "primaryEmail": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    r.expect(201);
    let id = r.json["data"]["accountId"].as_str().unwrap().to_owned();
    for got in [
        w.service.get(&format!("/v1/client/{id}")).await,
        w.service
            .patch(&format!("/v1/client/{id}"), &json!({ "email": "ann@example.org" }))
            .await,
    ] {
        got.expect(200);
        // The schema says 1 to 100 characters: an empty string broke it.
        assert_eq!(got.json["name"], json!({ "first_name": null, "last_name": null }), "{}", got.text);
        assert_eq!(got.json["email_verified"], false, "{}", got.text);
    }
    let list = w.service.get("/v1/client").await;
    assert_eq!(list.json["data"][0]["name"]["first_name"], Value::Null, "{}", list.text);
}
