//! Creating accounts: both paths, links, redirects, validation, uniqueness, idempotency, races.

use super::*;

// ------------------------------------------------------------ creating

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_create_paths_return_a_one_time_sign_in_link() {
    let w = PartnerWorld::new().await;
    let mut tokens = Vec::new();
    for (n, path) in CREATE_PATHS.iter().enumerate() {
        let email = format!("ann{n}@example.com");
        let r = w.partner.post(path, &partner_signup_body(&email)).await;
        r.expect(201);
        assert!(r.header("content-type").unwrap_or_default().starts_with("application/json"));
        assert_eq!(r.json["message"], "Integration initialized", "{}", r.text);
        let token = check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
        tokens.push(token);

        // The account exists, with the given names, and belongs to the partner.
        let id = account_id(&r.json["data"]);
        let got = w.partner.get(&format!("/v1/partners/accounts/{id}")).await;
        got.expect(200);
        assert_eq!(got.json["accountId"], id.as_str());
        assert_eq!(got.json["primaryEmail"], email.as_str());
        assert_eq!(got.json["firstName"], "Ann");
        assert_eq!(got.json["lastName"], "Lee");
        parse_rfc3339(got.json["createdAt"].as_str().expect("createdAt"));
        parse_rfc3339(got.json["updatedAt"].as_str().expect("updatedAt"));
        // It is an ordinary account of the environment: the client API sees it too.
        w.service.get(&format!("/v1/client/{id}")).await.expect(200);
    }
    assert_ne!(tokens[0], tokens[1], "every link has its own token");
    assert_eq!(w.partner.all_account_ids().await.len(), 2);

    // Names are optional.
    let r = w
        .partner
        .post(
            "/v1/partners/create",
            &json!({ "primaryEmail": "bare@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    r.expect(201);
    check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_redirect_is_percent_encoded_into_the_link() {
    let w = PartnerWorld::new().await;
    for (n, path) in CREATE_PATHS.iter().enumerate() {
        let mut body = partner_signup_body(&format!("ann{n}@example.com"));
        body["redirect"] = json!("/courses/1");
        let r = w.partner.post(path, &body).await;
        r.expect(201);
        check_link_data(&r.json["data"], APP_LINK, "&redirect=%2Fcourses%2F1", 15 * 60);
    }
    // Query strings and fragments in the redirect cannot break out of the parameter.
    let mut body = partner_signup_body("bob@example.com");
    body["redirect"] = json!("/shop?plan=pro&seats=2#top");
    let r = w.partner.post("/v1/partners/create", &body).await;
    r.expect(201);
    let url = r.json["data"]["completePurchaseUrl"].as_str().unwrap();
    link_token(url, APP_LINK, "&redirect=%2Fshop%3Fplan%3Dpro%26seats%3D2%23top");
    assert_eq!(query_param(url, "redirect"), "/shop?plan=pro&seats=2#top");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_link_template_and_lifetime_are_used() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    let changes = InstanceChanges {
        link_template: Some("https://login.shop.example/sso?t={token}&next={redirect}".into()),
        login_link_ttl_secs: Some(3600),
        ..InstanceChanges::default()
    };
    w.server
        .core
        .tenancy()
        .update_instance(&Actor::operator(), &pid("acme"), changes)
        .await
        .expect("update instance");
    let link_path = format!("/v1/partners/accounts/{id}/login-link");
    // Settings are cached briefly; the new template applies within moments.
    let data = eventually("the new link template", || async {
        let r = w.partner.post(&link_path, &json!({ "redirect": "/courses/1" })).await;
        r.expect(201);
        let url = r.json["data"]["completePurchaseUrl"].as_str().unwrap_or_default().to_owned();
        url.starts_with("https://login.shop.example/").then_some(r.json["data"].clone())
    })
    .await;
    check_link_data(&data, "https://login.shop.example/sso?t=", "&next=%2Fcourses%2F1", 3600);

    // Creating uses it too.
    let r = w
        .partner
        .post("/v1/partners/accounts", &partner_signup_body("bob@example.com"))
        .await;
    r.expect(201);
    check_link_data(
        &r.json["data"],
        "https://login.shop.example/sso?t=",
        "&next=%2Fadmin%2Fpurchase-plan",
        3600,
    );

    // A template built on {app_url} without {redirect}.
    let changes = InstanceChanges {
        link_template: Some("{app_url}/welcome?token={token}".into()),
        ..InstanceChanges::default()
    };
    w.server
        .core
        .tenancy()
        .update_instance(&Actor::operator(), &pid("acme"), changes)
        .await
        .expect("update instance");
    let data = eventually("the second link template", || async {
        let r = w.partner.post_empty(&link_path).await;
        r.expect(201);
        let url = r.json["data"]["completePurchaseUrl"].as_str().unwrap_or_default().to_owned();
        url.starts_with("https://app.acme.example/welcome")
            .then_some(r.json["data"].clone())
    })
    .await;
    check_link_data(&data, "https://app.acme.example/welcome?token=", "", 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_must_stay_on_the_platform() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    let bad = [
        "https://evil.com",
        "//evil.com",
        "/\\evil.com",
        "javascript:alert(1)",
        "relative/path",
        "",
        "/a b",
        "/\nevil",
        // Ways off the platform once decoded or normalised.
        "/.//evil.com",
        "/%2F%2Fevil.com",
        "/%252F%252Fevil.com",
        "/\u{FF0F}\u{FF0F}evil.com",
        "/a/..//evil.com",
    ];
    for redirect in bad {
        for path in CREATE_PATHS {
            let mut body = partner_signup_body("bob@example.com");
            body["redirect"] = json!(redirect);
            let r = w.partner.post(path, &body).await;
            r.problem(400, "validation_failed");
            assert_eq!(r.error_fields(), ["redirect"], "redirect {redirect:?} on {path}: {}", r.text);
        }
        let r = w
            .partner
            .post(&format!("/v1/partners/accounts/{id}/login-link"), &json!({ "redirect": redirect }))
            .await;
        r.problem(400, "validation_failed");
        assert_eq!(r.error_fields(), ["redirect"], "redirect {redirect:?} on login-link: {}", r.text);
    }
    assert_eq!(
        w.partner.all_account_ids().await,
        [id],
        "no account was created with a bad redirect"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_bodies_are_refused_naming_the_field() {
    let w = PartnerWorld::new().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = partner_signup_body("ann@example.com");
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "invalid email",
            with(&|b| b["primaryEmail"] = json!("not-an-email")),
            "validation_failed",
            "primaryEmail",
        ),
        (
            "empty email",
            with(&|b| b["primaryEmail"] = json!("")),
            "validation_failed",
            "primaryEmail",
        ),
        (
            "missing email",
            with(&|b| drop(b.as_object_mut().unwrap().remove("primaryEmail"))),
            "validation_failed",
            "primaryEmail",
        ),
        (
            "missing password",
            with(&|b| drop(b.as_object_mut().unwrap().remove("password"))),
            "validation_failed",
            "password",
        ),
        (
            "short password",
            with(&|b| b["password"] = json!("Ab1!xyz")),
            "validation_failed",
            "password",
        ),
        (
            "common password",
            with(&|b| b["password"] = json!("password123")),
            "validation_failed",
            "password",
        ),
        (
            "password equal to the email",
            with(&|b| b["password"] = json!("ann@example.com")),
            "validation_failed",
            "password",
        ),
        (
            "email as a number",
            with(&|b| b["primaryEmail"] = json!(5)),
            "validation_failed",
            "primaryEmail",
        ),
        (
            "empty first name",
            with(&|b| b["firstName"] = json!("")),
            "validation_failed",
            "firstName",
        ),
        (
            "unknown field",
            with(&|b| b["email"] = json!("x@example.com")),
            "unknown_field",
            "email",
        ),
        (
            "snake_case field",
            json!({ "primary_email": "ann@example.com", "password": CLIENT_PASSWORD }),
            "unknown_field",
            "primary_email",
        ),
    ];
    for path in CREATE_PATHS {
        for (what, body, code, field) in &cases {
            let r = w.partner.post(path, body).await;
            r.problem(400, code);
            assert!(
                r.error_fields().iter().any(|f| f == field),
                "{what} on {path}: expected field {field}: {}",
                r.text
            );
        }
        for raw in ["{", "not json", "{\"primaryEmail\":\"a@b.co\",}", ""] {
            let r = send(
                w.partner
                    .request(Method::POST, path)
                    .header("content-type", "application/json")
                    .body(raw),
            )
            .await;
            r.problem(400, "invalid_json");
        }
    }
    assert!(w.partner.all_account_ids().await.is_empty(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_are_unique_per_environment_case_insensitively() {
    let w = PartnerWorld::new().await;
    w.partner.create_account("ann@example.com").await;
    for path in CREATE_PATHS {
        let r = w.partner.post(path, &partner_signup_body("ANN@Example.COM")).await;
        r.problem(409, "email_taken");
    }
    // Against accounts made through the client API, both ways round.
    w.service.signup("bob@example.com").await;
    w.partner
        .post("/v1/partners/create", &partner_signup_body("Bob@EXAMPLE.com"))
        .await
        .problem(409, "email_taken");
    w.service
        .post("/v1/client/signup", &signup_body("Ann@example.com"))
        .await
        .problem(409, "email_taken");
    // Another partner of the same environment shares the namespace.
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    other
        .post("/v1/partners/create", &partner_signup_body("ann@EXAMPLE.com"))
        .await
        .problem(409, "email_taken");
    assert_eq!(w.partner.all_account_ids().await.len(), 1);
    // Production is another environment: the same email is free there.
    let (_, _, prod) = w.other_partner("production", PartnerStatus::Active, &ALL_SCOPES).await;
    prod.create_account("ann@example.com").await;
}

/// The partner API names its fields in camelCase, in errors too: a taken
/// email is `primaryEmail`, as `PATCH` already reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_taken_on_create_names_primary_email() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    let bob = account_id(&w.partner.create_account("bob@example.com").await);
    let r = w
        .partner
        .patch(
            &format!("/v1/partners/accounts/{bob}"),
            &json!({ "primaryEmail": "ann@example.com" }),
        )
        .await;
    r.problem(409, "email_taken");
    assert_eq!(r.error_fields(), ["primaryEmail"], "PATCH: {}", r.text);
    for path in CREATE_PATHS {
        let r = w.partner.post(path, &partner_signup_body("ann@example.com")).await;
        r.problem(409, "email_taken");
        assert_eq!(r.error_fields(), ["primaryEmail"], "{path} should name primaryEmail: {}", r.text);
    }
    assert_eq!(w.partner.all_account_ids().await.len(), 2, "{id}");
}

// ------------------------------------------------------------ idempotency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_replay_creates_on_both_paths() {
    let w = PartnerWorld::new().await;
    for (n, path) in CREATE_PATHS.iter().enumerate() {
        let key = format!("idem-{n}");
        let body = partner_signup_body(&format!("ann{n}@example.com"));
        let first = w.partner.post_idempotent(path, &key, &body).await;
        first.expect(201);
        assert!(first.header("idempotent-replayed").is_none(), "a first response is not a replay");
        let again = w.partner.post_idempotent(path, &key, &body).await;
        again.expect(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{path}");
        assert_eq!(again.json, first.json, "the replay is the first response on {path}");
        assert!(again.header("content-type").unwrap_or_default().starts_with("application/json"));

        // The same key with another body is refused, and nothing is created.
        let other = w
            .partner
            .post_idempotent(path, &key, &partner_signup_body(&format!("bob{n}@example.com")))
            .await;
        other.problem(409, "idempotency_key_reused");
    }
    let ids = w.partner.all_account_ids().await;
    assert_eq!(ids.len(), 2, "one account per path: {ids:?}");

    // The key belongs to the credential: another key of another partner may use it.
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let r = other
        .post_idempotent("/v1/partners/create", "idem-0", &partner_signup_body("dave@example.com"))
        .await;
    r.expect(201);
    assert!(r.header("idempotent-replayed").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_link_is_still_single_use() {
    let w = PartnerWorld::new().await;
    let body = partner_signup_body("ann@example.com");
    let first = w.partner.post_idempotent("/v1/partners/create", "k1", &body).await;
    first.expect(201);
    let again = w.partner.post_idempotent("/v1/partners/create", "k1", &body).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let token = query_param(again.json["data"]["completePurchaseUrl"].as_str().unwrap(), "token");
    w.exchange(&token).await.expect(200);
    w.exchange(&token).await.problem(400, "invalid_grant");
}

// ------------------------------------------------------------ concurrency and limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_email_make_one_account() {
    let w = PartnerWorld::new().await;
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let api = w.partner.clone();
            let path = CREATE_PATHS[n % 2];
            let email = if n % 3 == 0 { "ANN@example.com" } else { "ann@example.com" };
            tokio::spawn(async move { api.post(path, &partner_signup_body(email)).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            201 => created += 1,
            _ => {
                r.problem(409, "email_taken");
            }
        }
    }
    assert_eq!(created, 1, "exactly one create succeeds");
    assert_eq!(w.partner.all_account_ids().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_idempotency_key_make_one_account() {
    let w = PartnerWorld::new().await;
    let body = partner_signup_body("ann@example.com");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let api = w.partner.clone();
            let body = body.clone();
            tokio::spawn(async move { api.post_idempotent("/v1/partners/create", "retry-1", &body).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            201 => bodies.push(r.json),
            // Still in progress: the client retries later.
            _ => {
                r.problem(409, "conflict");
            }
        }
    }
    assert!(!bodies.is_empty(), "at least the first request succeeds");
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every 201 is the same response: {bodies:?}");
    let r = w.partner.post_idempotent("/v1/partners/create", "retry-1", &body).await;
    r.expect(201);
    assert_eq!(r.json, bodies[0]);
    assert_eq!(w.partner.all_account_ids().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413() {
    let w = PartnerWorld::new().await;
    let mut body = partner_signup_body("ann@example.com");
    body["firstName"] = json!("a".repeat(70 * 1024));
    for path in CREATE_PATHS {
        w.partner.post(path, &body).await.problem(413, "payload_too_large");
        w.partner
            .post_idempotent(path, &format!("big-{path}"), &body)
            .await
            .problem(413, "payload_too_large");
    }
    assert!(w.partner.all_account_ids().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_accounts_are_real_client_accounts() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    // The password the partner chose signs in through the client API.
    let r = w
        .service
        .post(
            "/v1/client/login",
            &json!({ "email": "Ann@Example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["user_id"], id.as_str());
    let session = r.json["client_token"].as_str().unwrap().to_owned();
    let verify = |token: String| {
        let service = w.service.clone();
        async move { service.post("/v1/client/sessions/verify", &json!({ "client_token": token })).await }
    };
    verify(session.clone()).await.expect(200);

    // Changing only the case of its own email is no conflict.
    let one = format!("/v1/partners/accounts/{id}");
    let r = w.partner.patch(&one, &json!({ "primaryEmail": "ANN@example.com" })).await;
    r.expect(200);
    assert_eq!(r.json["primaryEmail"], "ANN@example.com");
    // Editing names keeps sessions; a new password ends them.
    w.partner.patch(&one, &json!({ "firstName": "Annie" })).await.expect(200);
    verify(session.clone()).await.expect(200);
    w.partner
        .patch(&one, &json!({ "password": "brand-new-Passw0rd" }))
        .await
        .expect(200);
    verify(session).await.problem(401, "unauthenticated");

    // Deleting ends the sessions too.
    let link = w.partner.post_empty(&format!("{one}/login-link")).await;
    link.expect(201);
    let token = query_param(link.json["data"]["completePurchaseUrl"].as_str().unwrap(), "token");
    let r = w.exchange(&token).await;
    r.expect(200);
    let session = r.json["client_token"].as_str().unwrap().to_owned();
    verify(session.clone()).await.expect(200);
    w.partner.delete(&one).await.expect(204);
    verify(session).await.problem(401, "unauthenticated");
}
