//! The partner provisioning API (`x-api-key`, camelCase): creating accounts
//! with one-time sign-in links, managing the partner's own accounts, key
//! authentication, approval, scopes, idempotency, rotation, the `partner` and
//! `key` CLI commands, and audit events.

use std::time::Duration;

use onramp_domain::audit::Actor;
use onramp_domain::audit::AuditFilter;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::tenancy::service::InstanceChanges;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const APP_LINK: &str = "https://app.acme.example/tokenauth.html?token=";
const DEFAULT_REDIRECT: &str = "&redirect=%2Fadmin%2Fpurchase-plan";
const CREATE_PATHS: [&str; 2] = ["/v1/partners/create", "/v1/partners/accounts"];

/// Checks a sign-in link URL of the shape `{before}<token>{after}`; returns the token.
#[track_caller]
fn link_token(url: &str, before: &str, after: &str) -> String {
    assert!(url.starts_with(before), "{url} should start with {before}");
    let rest = &url[before.len()..];
    assert!(rest.ends_with(after), "{url} should end with {after}");
    let token = &rest[..rest.len() - after.len()];
    let random = token
        .strip_prefix("onr_link_")
        .unwrap_or_else(|| panic!("token {token:?} in {url} should start with onr_link_"));
    assert!(random.len() >= 32, "a long random token: {token}");
    assert!(random.bytes().all(|b| b.is_ascii_alphanumeric()), "a URL-safe token: {token}");
    token.to_owned()
}

/// Checks the `data` of a link response (exactly accountId, completePurchaseUrl,
/// expiresAt, the link expiring in about `ttl_secs`); returns the token.
#[track_caller]
fn check_link_data(data: &Value, before: &str, after: &str, ttl_secs: i64) -> String {
    let keys: Vec<&str> = data.as_object().expect("data object").keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["accountId", "completePurchaseUrl", "expiresAt"], "{data}");
    let id = data["accountId"].as_str().expect("accountId");
    uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("accountId {id} is not a UUID: {e}"));
    let expires = parse_rfc3339(data["expiresAt"].as_str().expect("expiresAt")).unix_timestamp();
    let expected = now_secs() + ttl_secs;
    assert!(
        (expected - 10..=expected + 2).contains(&expires),
        "expiresAt {} should be about {ttl_secs} s from now",
        data["expiresAt"]
    );
    link_token(data["completePurchaseUrl"].as_str().expect("completePurchaseUrl"), before, after)
}

#[track_caller]
fn account_id(data: &Value) -> String {
    data["accountId"].as_str().expect("accountId").to_owned()
}

#[track_caller]
fn assert_api_key_challenge(r: &Resp) {
    r.problem(401, "unauthenticated");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("ApiKey"),
        "WWW-Authenticate should name ApiKey: {challenge:?}"
    );
}

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
        .update_instance(&Actor::operator(), "acme", changes)
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
        .update_instance(&Actor::operator(), "acme", changes)
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

// ------------------------------------------------------------ keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_invalid_keys_get_401_with_an_api_key_challenge() {
    let w = PartnerWorld::new().await;
    let staging = w.server.staging("acme");
    let body = partner_signup_body("ann@example.com");
    assert!(w.key.starts_with("onr_test_"), "a staging key: {}", w.key);

    // No key at all, on every partner endpoint.
    let id = uuid::Uuid::now_v7().to_string();
    let anonymous = [
        (Method::POST, "/v1/partners/create".to_owned()),
        (Method::POST, "/v1/partners/accounts".to_owned()),
        (Method::GET, "/v1/partners/accounts".to_owned()),
        (Method::GET, format!("/v1/partners/accounts/{id}")),
        (Method::PATCH, format!("/v1/partners/accounts/{id}")),
        (Method::DELETE, format!("/v1/partners/accounts/{id}")),
        (Method::POST, format!("/v1/partners/accounts/{id}/login-link")),
        (Method::POST, "/v1/partners/keys/rotate".to_owned()),
    ];
    for (method, path) in anonymous {
        let rb = staging.without_token().request(method.clone(), &path);
        let rb = if method == Method::GET || method == Method::DELETE {
            rb
        } else {
            rb.json(&json!({}))
        };
        assert_api_key_challenge(&send(rb).await);
    }
    // A service token is not an API key.
    let r = send(
        w.service
            .request(Method::POST, "/v1/partners/create")
            .json(&partner_signup_body("ann@example.com")),
    )
    .await;
    assert_api_key_challenge(&r);

    // Malformed keys, broken checksums and unknown keys.
    let mut bad: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("garbage", "garbage".into()),
        ("prefix only", "onr_test_".into()),
        ("lower-cased", w.key.to_lowercase()),
        ("truncated", w.key[..w.key.len() - 1].to_owned()),
        ("extended", format!("{}0", w.key)),
        ("well-formed but unknown", onramp_domain::partners::generate_key(EnvKind::Staging)),
    ];
    let flip = |s: &str, at: usize| {
        let mut b = s.as_bytes().to_vec();
        b[at] = if b[at] == b'a' { b'b' } else { b'a' };
        String::from_utf8(b).unwrap()
    };
    bad.push(("broken checksum", flip(&w.key, w.key.len() - 1)));
    bad.push(("typo in the random part", flip(&w.key, 12)));
    bad.push(("live prefix on a test key", w.key.replacen("onr_test_", "onr_live_", 1)));
    for (what, key) in &bad {
        let r = staging.with_api_key(key).post("/v1/partners/create", &body).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        assert_api_key_challenge(&r);
    }
    // The real key still works, and nothing was created before.
    assert!(w.partner.all_account_ids().await.is_empty());
    w.partner.create_account("ann@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_api_refuses_the_other_kind_of_key_like_an_unknown_key() {
    let w = PartnerWorld::new().await;
    let core = &w.server.core;
    core.tenancy()
        .set_features(&Actor::operator(), "acme", &["user-integration".into()], &[])
        .await
        .expect("enable user integration");
    settings_reloaded(&w).await;
    let dev = account_id(&w.partner.create_account("dev@example.com").await);
    let tenant = core.tenancy().resolve_host(&host("acme", "staging")).await.expect("tenant");
    let app = core
        .integration()
        .register_app(&tenant, &dev, &Actor::operator(), "Shop", &["https://shop.example.com".into()])
        .await
        .expect("app");
    let (_, app_key) = core
        .integration()
        .reset_vendor_key(&tenant, &dev, &Actor::operator(), &app.id)
        .await
        .expect("key");
    let app_key = app_key.expose().to_owned();
    assert!(app_key.starts_with("onr_app_test_"), "an app key has its own prefix: {app_key}");

    let staging = w.server.staging("acme");
    let user_path = format!("/v1/integration/users/{dev}");
    let integration = |key: &str| send(staging.without_token().request(Method::GET, &user_path).header("x-api-key", key));
    let same_refusal = |r: &Resp, unknown: &Resp| {
        assert_api_key_challenge(r);
        for field in ["type", "title", "status", "detail", "code"] {
            assert_eq!(r.json[field], unknown.json[field], "{field}: {}", r.text);
        }
    };
    // An app key on the partner API: 401, the answer to an unknown partner key.
    let unknown_partner = staging
        .with_api_key(&onramp_domain::partners::generate_key(EnvKind::Staging))
        .get("/v1/partners/accounts")
        .await;
    same_refusal(&staging.with_api_key(&app_key).get("/v1/partners/accounts").await, &unknown_partner);
    let create = staging
        .with_api_key(&app_key)
        .post("/v1/partners/create", &partner_signup_body("ann@example.com"))
        .await;
    same_refusal(&create, &unknown_partner);
    // A partner key on the integration API: 401, the answer to an unknown app key.
    let unknown_app = integration(&onramp_domain::partners::generate_key_of(
        onramp_domain::partners::KeyKind::VendorApp,
        EnvKind::Staging,
    ))
    .await;
    same_refusal(&integration(&w.key).await, &unknown_app);
    // Each works where it belongs.
    integration(&app_key).await.problem(404, "not_found");
    w.partner.get("/v1/partners/accounts").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_keys_get_401() {
    let w = PartnerWorld::new().await;
    let (key_id, key) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api = w.server.staging("acme").with_api_key(&key);
    api.get("/v1/partners/accounts").await.expect(200);
    let revoked = w
        .server
        .core
        .partners()
        .revoke_api_key(&Actor::operator(), &key_id)
        .await
        .expect("revoke");
    assert!(revoked.revoked_at.is_some());
    assert_api_key_challenge(&api.post("/v1/partners/create", &partner_signup_body("ann@example.com")).await);
    assert_api_key_challenge(&api.get("/v1/partners/accounts").await);
    // Other keys of the partner are unaffected.
    w.partner.get("/v1/partners/accounts").await.expect(200);

    let (_, short) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, Some(Duration::from_secs(1))).await;
    let api = w.server.staging("acme").with_api_key(&short);
    w.server.clock.advance(Duration::from_millis(1500));
    assert_api_key_challenge(&api.post("/v1/partners/create", &partner_signup_body("ann@example.com")).await);
    assert!(w.partner.all_account_ids().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_work_only_in_their_own_environment() {
    let w = PartnerWorld::new().await;
    let (_, _, prod) = w.other_partner("production", PartnerStatus::Active, &ALL_SCOPES).await;
    assert!(prod.key.starts_with("onr_live_"), "a production key: {}", prod.key);
    let body = partner_signup_body("ann@example.com");
    // A staging key on the production host, and the other way round.
    assert_api_key_challenge(
        &w.server
            .production("acme")
            .with_api_key(&w.key)
            .post("/v1/partners/create", &body)
            .await,
    );
    assert_api_key_challenge(
        &w.server
            .staging("acme")
            .with_api_key(&prod.key)
            .post("/v1/partners/create", &body)
            .await,
    );
    // A key of another instance's staging environment, on acme's staging host.
    w.server.create_instance("beta", &["partners"]).await;
    let beta = w.server.create_partner("beta", "staging", "Shop", PartnerStatus::Active).await;
    let (_, beta_key) = w.server.issue_key(&beta, &ALL_SCOPES, None).await;
    assert_api_key_challenge(
        &w.server
            .staging("acme")
            .with_api_key(&beta_key)
            .post("/v1/partners/create", &body)
            .await,
    );
    w.server
        .staging("beta")
        .with_api_key(&beta_key)
        .get("/v1/partners/accounts")
        .await
        .expect(200);
    // Each on its own host.
    let staging_id = account_id(&w.partner.create_account("ann@example.com").await);
    let prod_id = account_id(&prod.create_account("ann@example.com").await);
    assert_eq!(w.partner.all_account_ids().await, std::slice::from_ref(&staging_id));
    assert_eq!(prod.all_account_ids().await, std::slice::from_ref(&prod_id));
    // Neither sees the other's account.
    w.partner
        .get(&format!("/v1/partners/accounts/{prod_id}"))
        .await
        .problem(404, "not_found");
    prod.get(&format!("/v1/partners/accounts/{staging_id}"))
        .await
        .problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_suspended_partners_get_403_partner_not_approved() {
    let w = PartnerWorld::new().await;
    let (partner_id, _, api) = w.other_partner("staging", PartnerStatus::Pending, &ALL_SCOPES).await;
    let body = partner_signup_body("ann@example.com");
    api.post("/v1/partners/create", &body).await.problem(403, "partner_not_approved");
    // A refusal that depends on the partner's state is not remembered for the Idempotency-Key.
    api.post_idempotent("/v1/partners/create", "pending-1", &body)
        .await
        .problem(403, "partner_not_approved");
    api.post("/v1/partners/accounts", &body).await.problem(403, "partner_not_approved");
    api.get("/v1/partners/accounts").await.problem(403, "partner_not_approved");
    api.post_empty("/v1/partners/keys/rotate")
        .await
        .problem(403, "partner_not_approved");

    // Approval takes effect at once.
    w.server
        .core
        .partners()
        .set_partner_status(&Actor::operator(), &partner_id, PartnerStatus::Active)
        .await
        .expect("approve");
    let r = api.post_idempotent("/v1/partners/create", "pending-1", &body).await;
    r.expect(201);
    assert!(r.header("idempotent-replayed").is_none(), "the 403 was not stored");
    let id = account_id(&r.json["data"]);

    w.server
        .core
        .partners()
        .set_partner_status(&Actor::operator(), &partner_id, PartnerStatus::Suspended)
        .await
        .expect("suspend");
    api.post("/v1/partners/create", &partner_signup_body("bob@example.com"))
        .await
        .problem(403, "partner_not_approved");
    api.get("/v1/partners/accounts").await.problem(403, "partner_not_approved");
    api.get(&format!("/v1/partners/accounts/{id}"))
        .await
        .problem(403, "partner_not_approved");
    api.delete(&format!("/v1/partners/accounts/{id}"))
        .await
        .problem(403, "partner_not_approved");
    api.post_empty(&format!("/v1/partners/accounts/{id}/login-link"))
        .await
        .problem(403, "partner_not_approved");
    api.post_empty("/v1/partners/keys/rotate")
        .await
        .problem(403, "partner_not_approved");
    // The suspended partner's account is still there.
    w.service.get(&format!("/v1/client/{id}")).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_feature_must_be_on() {
    let w = PartnerWorld::new().await;
    // An instance that never had the feature.
    w.server.create_instance("beta", &["client-accounts"]).await;
    let beta_partner = w.server.create_partner("beta", "staging", "Shop", PartnerStatus::Active).await;
    let (_, beta_key) = w.server.issue_key(&beta_partner, &ALL_SCOPES, None).await;
    let beta = w.server.staging("beta").with_api_key(&beta_key);
    let body = partner_signup_body("ann@example.com");
    beta.post("/v1/partners/create", &body).await.problem(403, "feature_disabled");
    beta.post("/v1/partners/accounts", &body).await.problem(403, "feature_disabled");
    beta.get("/v1/partners/accounts").await.problem(403, "feature_disabled");
    beta.post_empty("/v1/partners/keys/rotate").await.problem(403, "feature_disabled");
    // Sign-in links cannot be redeemed there either.
    w.server.create_service_user("beta", "staging", "svc", &[]).await;
    let beta_service = w.server.login(&w.server.staging("beta"), "svc").await;
    beta_service
        .post("/v1/tokenauth/exchange", &json!({ "token": "onr_link_unknown" }))
        .await
        .problem(403, "feature_disabled");

    // Switching it off on acme takes effect within the settings cache lifetime.
    w.partner.create_account("ann@example.com").await;
    w.server
        .core
        .tenancy()
        .set_features(&Actor::operator(), "acme", &[], &["partners".into()])
        .await
        .expect("disable partners");
    let attempt = std::sync::atomic::AtomicUsize::new(0);
    eventually("partners switched off", || async {
        // Until the cached settings expire, creating still works.
        let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = w
            .partner
            .post("/v1/partners/create", &partner_signup_body(&format!("bob{n}@example.com")))
            .await;
        assert!(matches!(r.status, 201 | 403), "{}", r.text);
        (r.status == 403).then_some(r)
    })
    .await
    .problem(403, "feature_disabled");
    w.partner.get("/v1/partners/accounts").await.problem(403, "feature_disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_need_the_scope_of_the_endpoint() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    let one = format!("/v1/partners/accounts/{id}");
    let link = format!("/v1/partners/accounts/{id}/login-link");

    let (_, _, usage) = w.other_partner("staging", PartnerStatus::Active, &["usage:read"]).await;
    let body = partner_signup_body("bob@example.com");
    for path in CREATE_PATHS {
        usage.post(path, &body).await.problem(403, "forbidden");
    }
    usage.get("/v1/partners/accounts").await.problem(403, "forbidden");

    // Read-only: may list and read its own accounts, but not change anything.
    let (_, _, reader) = w.other_partner("staging", PartnerStatus::Active, &["accounts:read"]).await;
    reader.post("/v1/partners/create", &body).await.problem(403, "forbidden");
    let r = reader.get("/v1/partners/accounts").await;
    r.expect(200);
    assert_eq!(r.json["data"], json!([]));
    // Write-only: may create, but not list or read.
    let (_, _, writer) = w.other_partner("staging", PartnerStatus::Active, &["accounts:write"]).await;
    let written = account_id(&writer.create_account("carol@example.com").await);
    writer.get("/v1/partners/accounts").await.problem(403, "forbidden");
    writer
        .get(&format!("/v1/partners/accounts/{written}"))
        .await
        .problem(403, "forbidden");
    writer
        .patch(&format!("/v1/partners/accounts/{written}"), &json!({ "firstName": "Caro" }))
        .await
        .expect(200);
    writer
        .post_empty(&format!("/v1/partners/accounts/{written}/login-link"))
        .await
        .expect(201);

    // The same partner with a read-only key: reads work, writes are forbidden.
    let (_, own_reader) = w.server.issue_key(&w.partner_id, &["accounts:read"], None).await;
    let own_reader = w.server.staging("acme").with_api_key(&own_reader);
    own_reader.get(&one).await.expect(200);
    own_reader
        .patch(&one, &json!({ "firstName": "Annie" }))
        .await
        .problem(403, "forbidden");
    own_reader.delete(&one).await.problem(403, "forbidden");
    own_reader.post_empty(&link).await.problem(403, "forbidden");
    // Nothing changed.
    let r = w.partner.get(&one).await;
    r.expect(200);
    assert_eq!(r.json["firstName"], "Ann");
    assert_eq!(w.partner.all_account_ids().await, [id]);
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

/// Waits until the settings cache has picked up a feature change.
async fn settings_reloaded(w: &PartnerWorld) {
    tokio::time::sleep(w.server.settings.core.settings_ttl + Duration::from_millis(150)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_before_an_idempotency_key_is_claimed_or_replayed() {
    let w = PartnerWorld::new().await;
    let body = partner_signup_body("ann@example.com");
    let core = &w.server.core;

    // Without the scope: 403, and nothing is created.
    let (_, _, reader) = w.other_partner("staging", PartnerStatus::Active, &["accounts:read"]).await;
    reader
        .post_idempotent("/v1/partners/create", "scope-1", &body)
        .await
        .problem(403, "forbidden");
    reader
        .post_idempotent("/v1/partners/create", "scope-1", &body)
        .await
        .problem(403, "forbidden");

    // With the feature off: 403; once it is back, the same request is processed, not replayed.
    core.tenancy()
        .set_features(&Actor::operator(), "acme", &[], &["partners".into()])
        .await
        .expect("disable partners");
    settings_reloaded(&w).await;
    w.partner
        .post_idempotent("/v1/partners/create", "feature-1", &body)
        .await
        .problem(403, "feature_disabled");
    core.tenancy()
        .set_features(&Actor::operator(), "acme", &["partners".into()], &[])
        .await
        .expect("enable partners");
    settings_reloaded(&w).await;
    let first = w.partner.post_idempotent("/v1/partners/create", "feature-1", &body).await;
    first.expect(201);
    assert!(
        first.header("idempotent-replayed").is_none(),
        "the 403 claimed nothing: {}",
        first.text
    );

    // Suspended: the stored response is not replayed to a partner who may not create.
    core.partners()
        .set_partner_status(&Actor::operator(), &w.partner_id, PartnerStatus::Suspended)
        .await
        .expect("suspend");
    let refused = w.partner.post_idempotent("/v1/partners/create", "feature-1", &body).await;
    refused.problem(403, "partner_not_approved");
    assert!(refused.header("idempotent-replayed").is_none());
    let bob = partner_signup_body("bob@example.com");
    w.partner
        .post_idempotent("/v1/partners/create", "suspended-1", &bob)
        .await
        .problem(403, "partner_not_approved");
    core.partners()
        .set_partner_status(&Actor::operator(), &w.partner_id, PartnerStatus::Active)
        .await
        .expect("reactivate");
    let again = w.partner.post_idempotent("/v1/partners/create", "feature-1", &body).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    let fresh = w.partner.post_idempotent("/v1/partners/create", "suspended-1", &bob).await;
    fresh.expect(201);
    assert!(fresh.header("idempotent-replayed").is_none(), "{}", fresh.text);
    assert_eq!(w.partner.all_account_ids().await.len(), 2);
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

// ------------------------------------------------------------ managing accounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_list_their_own_accounts_page_by_page() {
    let w = PartnerWorld::new().await;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(account_id(&w.partner.create_account(&format!("user{n}@example.com")).await));
    }
    // Accounts of others are not listed.
    w.service.signup("client@example.com").await;
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let theirs = account_id(&other.create_account("theirs@example.com").await);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/partners/accounts?limit=2&cursor={c}"),
            None => "/v1/partners/accounts?limit=2".to_owned(),
        };
        let r = w.partner.get(&path).await;
        r.expect(200);
        pages += 1;
        let data = r.json["data"].as_array().expect("data");
        assert!(data.len() <= 2);
        for a in data {
            for field in ["accountId", "primaryEmail", "firstName", "lastName", "createdAt", "updatedAt"] {
                assert!(a.get(field).is_some(), "{field} in {a}");
            }
            seen.push(a["accountId"].as_str().unwrap().to_owned());
        }
        assert!(r.json.get("nextCursor").is_some(), "nextCursor is always present: {}", r.text);
        assert!(r.json.get("next_cursor").is_none(), "the partner API uses camelCase: {}", r.text);
        match r.json["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "every account once, in id order");
    assert_eq!(other.all_account_ids().await, [theirs]);

    // Filter by email, case-insensitively.
    let r = w.partner.get("/v1/partners/accounts?email=USER3%40Example.com").await;
    r.expect(200);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.json["data"][0]["accountId"], created[3].as_str());
    assert_eq!(r.json["nextCursor"], Value::Null);
    // Another partner's or a client's email finds nothing.
    for email in ["theirs%40example.com", "client%40example.com"] {
        let r = w.partner.get(&format!("/v1/partners/accounts?email={email}")).await;
        r.expect(200);
        assert_eq!(r.json["data"], json!([]));
    }
    // Out-of-range limits and malformed cursors.
    for bad in ["limit=0", "limit=201", "limit=x", "cursor=not-a-uuid", "bogus=1"] {
        let r = w.partner.get(&format!("/v1/partners/accounts?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_problem_shape(&r);
    }
    let r = w.partner.get("/v1/partners/accounts?limit=200").await;
    r.expect(200);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_read_edit_and_delete_their_accounts() {
    let w = PartnerWorld::new().await;
    let id = account_id(&w.partner.create_account("ann@example.com").await);
    w.partner.create_account("taken@example.com").await;
    w.service.signup("client@example.com").await;
    let one = format!("/v1/partners/accounts/{id}");

    let before = w.partner.get(&one).await;
    before.expect(200);
    let new_password = "new-Passw0rd-for-annie";
    let r = w
        .partner
        .patch(
            &one,
            &json!({ "primaryEmail": "Annie@Example.com", "firstName": "Annie", "lastName": "Smith", "password": new_password }),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["accountId"], id.as_str());
    assert_eq!(r.json["primaryEmail"], "Annie@Example.com");
    assert_eq!(r.json["firstName"], "Annie");
    assert_eq!(r.json["lastName"], "Smith");
    assert_eq!(r.json["createdAt"], before.json["createdAt"]);
    assert!(r.json.get("password").is_none() && !r.text.contains(new_password));
    let got = w.partner.get(&one).await;
    got.expect(200);
    assert_eq!(got.json["primaryEmail"], "Annie@Example.com");
    assert_eq!(got.json["lastName"], "Smith");
    // The new password and email sign in; the old password does not.
    w.service
        .post(
            "/v1/client/login",
            &json!({ "email": "annie@example.com", "password": new_password }),
        )
        .await
        .expect(200);
    let r = w
        .service
        .post(
            "/v1/client/login",
            &json!({ "email": "annie@example.com", "password": CLIENT_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Taken emails, case-insensitively, of partner and client accounts.
    for taken in ["TAKEN@example.com", "client@EXAMPLE.com"] {
        let r = w.partner.patch(&one, &json!({ "primaryEmail": taken })).await;
        r.problem(409, "email_taken");
    }
    // Invalid changes name their fields, in camelCase.
    let invalid = [
        (json!({ "primaryEmail": "nope" }), "validation_failed", "primaryEmail"),
        (json!({ "password": "short" }), "validation_failed", "password"),
        (json!({ "firstName": "" }), "validation_failed", "firstName"),
        (json!({ "email": "x@example.com" }), "unknown_field", "email"),
    ];
    for (body, code, field) in invalid {
        let r = w.partner.patch(&one, &body).await;
        r.problem(400, code);
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.text);
    }
    let r = w.partner.get(&one).await;
    assert_eq!(r.json["primaryEmail"], "Annie@Example.com", "failed PATCHes change nothing");
    assert_eq!(r.json["firstName"], "Annie");

    // Fresh sign-in links: with a redirect, with an empty JSON object, with no body at all.
    let r = w
        .partner
        .post(&format!("{one}/login-link"), &json!({ "redirect": "/courses/1" }))
        .await;
    r.expect(201);
    assert_eq!(r.json["message"], "Login link created");
    assert_eq!(r.json["data"]["accountId"], id.as_str());
    let t1 = check_link_data(&r.json["data"], APP_LINK, "&redirect=%2Fcourses%2F1", 15 * 60);
    let r = w.partner.post(&format!("{one}/login-link"), &json!({})).await;
    r.expect(201);
    let t2 = check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
    let r = w.partner.post_empty(&format!("{one}/login-link")).await;
    r.expect(201);
    let t3 = check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);
    assert!(t1 != t2 && t2 != t3 && t1 != t3, "every link is fresh");
    w.partner
        .post(&format!("{one}/login-link"), &json!({ "bogus": 1 }))
        .await
        .problem(400, "unknown_field");
    let r = w.exchange(&t1).await;
    r.expect(200);
    assert_eq!(r.json["user_id"], id.as_str());
    assert_eq!(r.json["redirect"], "/courses/1");

    // Delete: 204, then gone everywhere.
    let r = w.partner.delete(&one).await;
    r.expect(204);
    assert!(r.text.is_empty(), "a 204 has no body: {}", r.text);
    w.partner.get(&one).await.problem(404, "not_found");
    w.partner.delete(&one).await.problem(404, "not_found");
    w.partner.patch(&one, &json!({ "firstName": "X" })).await.problem(404, "not_found");
    w.partner.post_empty(&format!("{one}/login-link")).await.problem(404, "not_found");
    w.service.get(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    assert!(!w.partner.all_account_ids().await.contains(&id));
    // Links to a deleted account no longer work.
    let r = w.exchange(&t2).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The email is free again.
    w.partner.create_account("annie@example.com").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_of_others_are_not_found() {
    let w = PartnerWorld::new().await;
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    let theirs = account_id(&other.create_account("theirs@example.com").await);
    let client = w.service.signup("client@example.com").await["user_id"].as_str().unwrap().to_owned();
    let mine = account_id(&w.partner.create_account("mine@example.com").await);
    let ids = [
        theirs.clone(),
        client.clone(),
        "not-a-uuid".to_owned(),
        uuid::Uuid::now_v7().to_string(),
        "%20".to_owned(),
    ];
    for id in &ids {
        let one = format!("/v1/partners/accounts/{id}");
        w.partner.get(&one).await.problem(404, "not_found");
        w.partner
            .patch(
                &one,
                &json!({ "primaryEmail": "hijack@example.com", "password": "hijacked-Passw0rd!" }),
            )
            .await
            .problem(404, "not_found");
        w.partner.post_empty(&format!("{one}/login-link")).await.problem(404, "not_found");
        w.partner
            .post(&format!("{one}/login-link"), &json!({ "redirect": "/x" }))
            .await
            .problem(404, "not_found");
        w.partner.delete(&one).await.problem(404, "not_found");
    }
    // Nothing happened to them.
    let r = other.get(&format!("/v1/partners/accounts/{theirs}")).await;
    r.expect(200);
    assert_eq!(r.json["primaryEmail"], "theirs@example.com");
    let r = w.service.get(&format!("/v1/client/{client}")).await;
    r.expect(200);
    assert_eq!(r.json["email"], "client@example.com");
    w.service
        .post(
            "/v1/client/login",
            &json!({ "email": "client@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
    // And the other partner cannot reach ours.
    other.get(&format!("/v1/partners/accounts/{mine}")).await.problem(404, "not_found");
    assert_eq!(w.partner.all_account_ids().await, [mine]);
}

// ------------------------------------------------------------ rotation

/// Seconds since the Unix epoch of an RFC 3339 timestamp.
fn unix_secs(v: &Value) -> i64 {
    parse_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"))).unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_gives_a_new_key_and_a_grace_period_for_the_old_one() {
    let w = PartnerWorld::new().await;
    let (old_id, old_key) = w.server.issue_key(&w.partner_id, &["accounts:write", "accounts:read"], None).await;
    let old = w.server.staging("acme").with_api_key(&old_key);
    let r = old.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 2 })).await;
    r.expect(201);
    let new_key = r.json["key"].as_str().expect("key").to_owned();
    assert!(new_key.starts_with("onr_test_") && new_key != old_key, "{}", r.text);
    let new_id = r.json["keyId"].as_str().expect("keyId").to_owned();
    assert_ne!(new_id, old_id);
    let mut scopes: Vec<&str> = r.json["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["accounts:read", "accounts:write"], "the old key's scopes: {}", r.text);
    assert_eq!(r.json["previousKeyId"], old_id.as_str());
    let expires = unix_secs(&r.json["previousKeyExpiresAt"]);
    assert!((now_secs() - 1..=now_secs() + 3).contains(&expires), "{}", r.text);
    assert!(!r.text.contains("previous_key_id"), "camelCase fields: {}", r.text);
    // The new key is stored like the old (same scopes, same partner).
    let keys = w.server.core.partners().api_keys(&w.partner_id).await.expect("keys");
    let stored_new = keys.iter().find(|k| k.key_id == new_id).expect("new key stored");
    let stored_old = keys.iter().find(|k| k.key_id == old_id).expect("old key stored");
    assert_eq!(stored_new.scopes, stored_old.scopes);
    assert_eq!(r.json["scopes"], json!(stored_old.scopes));
    assert!(
        stored_old.retires_at.is_some(),
        "the old key retires at the end of the grace period"
    );
    assert_eq!(stored_old.expires_at, None, "its issued lifetime is unchanged");

    // Both work during the grace period.
    let new = w.server.staging("acme").with_api_key(&new_key);
    new.create_account("ann@example.com").await;
    old.get("/v1/partners/accounts").await.expect(200);
    // The old one fails after it.
    w.server.clock.advance(Duration::from_millis(2500));
    assert_api_key_challenge(&old.get("/v1/partners/accounts").await);
    assert_api_key_challenge(&old.post("/v1/partners/create", &partner_signup_body("bob@example.com")).await);
    new.get("/v1/partners/accounts").await.expect(200);
    // The new key may rotate in turn.
    new.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 0 }))
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_grace_periods_are_bounded() {
    let w = PartnerWorld::new().await;
    // Zero: the old key fails at once.
    let (_, k0) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api0 = w.server.staging("acme").with_api_key(&k0);
    let r = api0.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 0 })).await;
    r.expect(201);
    assert!((now_secs() - 2..=now_secs() + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])));
    assert_api_key_challenge(&api0.get("/v1/partners/accounts").await);
    w.server
        .staging("acme")
        .with_api_key(r.json["key"].as_str().unwrap())
        .get("/v1/partners/accounts")
        .await
        .expect(200);

    // Out of range or malformed: refused, and the key stays as it was.
    let (_, k1) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api1 = w.server.staging("acme").with_api_key(&k1);
    let before = w.server.core.partners().api_keys(&w.partner_id).await.unwrap().len();
    for (body, code, field) in [
        (json!({ "gracePeriodSeconds": 700_000 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": 604_801 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": -1 }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "gracePeriodSeconds": "60" }), "validation_failed", "gracePeriodSeconds"),
        (json!({ "grace_period_seconds": 60 }), "unknown_field", "grace_period_seconds"),
    ] {
        let r = api1.post("/v1/partners/keys/rotate", &body).await;
        r.problem(400, code);
        assert_eq!(r.error_fields(), [field], "{body}: {}", r.text);
    }
    assert_eq!(
        w.server.core.partners().api_keys(&w.partner_id).await.unwrap().len(),
        before,
        "no key was issued"
    );
    api1.get("/v1/partners/accounts").await.expect(200);

    // The longest grace period is accepted.
    let r = api1
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 604_800 }))
        .await;
    r.expect(201);
    let expected = now_secs() + 604_800;
    assert!((expected - 5..=expected + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])));

    // No body at all, or an empty object: 24 hours.
    for (n, empty_object) in [false, true].into_iter().enumerate() {
        let (_, k) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
        let api = w.server.staging("acme").with_api_key(&k);
        let r = if empty_object {
            api.post("/v1/partners/keys/rotate", &json!({})).await
        } else {
            api.post_empty("/v1/partners/keys/rotate").await
        };
        r.expect(201);
        let expected = now_secs() + 86_400;
        assert!(
            (expected - 5..=expected + 1).contains(&unix_secs(&r.json["previousKeyExpiresAt"])),
            "case {n}: {}",
            r.text
        );
        api.get("/v1/partners/accounts").await.expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_the_scopes_and_expiry_of_the_old_key() {
    let w = PartnerWorld::new().await;
    let (old_id, k) = w
        .server
        .issue_key(&w.partner_id, &["usage:read"], Some(Duration::from_secs(3600)))
        .await;
    let api = w.server.staging("acme").with_api_key(&k);
    // Rotation needs no particular scope.
    let r = api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 })).await;
    r.expect(201);
    assert_eq!(r.json["scopes"], json!(["usage:read"]));
    let keys = w.server.core.partners().api_keys(&w.partner_id).await.unwrap();
    let old = keys.iter().find(|k| k.key_id == old_id).unwrap();
    let new = keys.iter().find(|k| k.key_id == r.json["keyId"].as_str().unwrap()).unwrap();
    assert!(
        old.retires_at.is_some() && old.retires_at < new.expires_at,
        "the old key ends with the grace period: {old:?} {new:?}"
    );
    assert_eq!(old.expires_at, new.expires_at, "the new key keeps the issued lifetime");
    let new_expires = unix_secs(&r.json["expiresAt"]);
    let expected = now_secs() + 3600;
    assert!((expected - 10..=expected + 1).contains(&new_expires), "{}", r.text);
    // The new key has no more power than the old: it cannot create accounts either.
    w.server
        .staging("acme")
        .with_api_key(r.json["key"].as_str().unwrap())
        .post("/v1/partners/create", &partner_signup_body("ann@example.com"))
        .await
        .problem(403, "forbidden");
}

/// A key in its grace period that is rotated again (say by a second server
/// of the partner that still has it) must not hand out a replacement that
/// dies with the retiring key: either the rotation is refused, or the new key
/// lives like the original one (here: no expiry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_retiring_key_does_not_give_a_short_lived_key() {
    let w = PartnerWorld::new().await;
    let (_, k) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let api = w.server.staging("acme").with_api_key(&k);
    let first = api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 })).await;
    first.expect(201);
    assert_eq!(
        first.json["expiresAt"],
        Value::Null,
        "the original key never expires: {}",
        first.text
    );
    let second = api.post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 })).await;
    if second.status == 201 {
        assert_eq!(
            second.json["expiresAt"],
            Value::Null,
            "a key that never expired was replaced by one that dies with the grace period: {}",
            second.text
        );
    } else {
        assert!((400..500).contains(&second.status), "{}", second.text);
        assert_problem_shape(&second);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_use_is_recorded() {
    let w = PartnerWorld::new().await;
    let (key_id, key) = w.server.issue_key(&w.partner_id, &ALL_SCOPES, None).await;
    let find = |keys: Vec<onramp_domain::partners::ApiKey>| keys.into_iter().find(|k| k.key_id == key_id).expect("key");
    let before = find(w.server.core.partners().api_keys(&w.partner_id).await.unwrap());
    assert!(before.last_used_at.is_none(), "an unused key: {before:?}");
    let start = onramp_domain::clock::now_ms();
    w.server
        .staging("acme")
        .with_api_key(&key)
        .get("/v1/partners/accounts")
        .await
        .expect(200);
    // The request writes nothing itself; the usage flush (200 ms here) does.
    let after = eventually("last_used_at written by the usage flush", || async {
        let key = find(w.server.core.partners().api_keys(&w.partner_id).await.unwrap());
        key.last_used_at.is_some().then_some(key)
    })
    .await;
    let used = after.last_used_at.expect("last_used_at is recorded");
    assert!(used >= start - 1000 && used <= onramp_domain::clock::now_ms(), "{after:?}");
    // The key itself is never stored.
    assert_ne!(after.key_hash, key);
    assert!(!after.key_hash.contains(&key[9..]));
}

// ------------------------------------------------------------ CLI

#[track_caller]
fn cli_fails_with(run: &CliRun, code: &str) {
    assert!(!run.success, "should have failed: {}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], code, "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_and_key_commands_work_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli(
        &data,
        &[
            "instance",
            "create",
            "acme",
            "--name",
            "Acme",
            "--region",
            "za",
            "--app-url",
            "https://app.acme.example",
        ],
    )
    .ok();
    let f = cli(&data, &["instance", "features", "acme", "--enable", "partners"]).ok();
    assert!(f["features"].as_array().unwrap().contains(&json!("partners")), "{f}");

    let p = cli(&data, &["partner", "create", "acme", "staging", "Shop"]).ok();
    let partner_id = p["id"].as_str().expect("id").to_owned();
    uuid::Uuid::parse_str(&partner_id).expect("a UUID partner id");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["name"], "Shop");
    assert_eq!(p["platform_id"], "acme");
    assert_eq!(p["environment"], "staging");
    parse_rfc3339(p["created_at"].as_str().expect("created_at"));

    let shown = cli(&data, &["partner", "show", &partner_id]).ok();
    assert_eq!(shown["id"], partner_id.as_str());
    assert_eq!(shown["status"], "pending");
    cli_fails_with(&cli(&data, &["partner", "show", &uuid::Uuid::now_v7().to_string()]), "not_found");
    cli_fails_with(&cli(&data, &["partner", "create", "nope", "staging", "Shop"]), "not_found");
    cli_fails_with(&cli(&data, &["partner", "create", "acme", "staging", ""]), "validation_failed");
    cli_fails_with(&cli(&data, &["partner", "approve", &uuid::Uuid::now_v7().to_string()]), "not_found");

    let prod = cli(&data, &["partner", "create", "acme", "production", "Live shop"]).ok();
    let listed = cli(&data, &["partner", "list"]).ok();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&partner_id.as_str()) && ids.contains(&prod["id"].as_str().unwrap()),
        "{listed}"
    );
    let staging_only = cli(&data, &["partner", "list", "--platform-id", "acme", "--environment", "staging"]).ok();
    assert_eq!(staging_only["data"].as_array().unwrap().len(), 1, "{staging_only}");
    assert_eq!(staging_only["data"][0]["id"], partner_id.as_str());

    let issued = cli(
        &data,
        &["key", "issue", &partner_id, "--scope", "accounts:write", "--expires-in", "30d"],
    )
    .ok();
    let key = issued["key"].as_str().expect("key").to_owned();
    let key_id = issued["key_id"].as_str().expect("key_id").to_owned();
    assert!(key.starts_with("onr_test_"), "{issued}");
    assert_eq!(issued["scopes"], json!(["accounts:write"]));
    assert_eq!(issued["partner_id"], partner_id.as_str());
    let expected = now_secs() + 30 * 86_400;
    let expires = parse_rfc3339(issued["expires_at"].as_str().expect("expires_at")).unix_timestamp();
    assert!((expected - 60..=expected + 1).contains(&expires), "{issued}");
    cli_fails_with(
        &cli(&data, &["key", "issue", &partner_id, "--scope", "accounts:admin"]),
        "validation_failed",
    );
    let live = cli(&data, &["key", "issue", prod["id"].as_str().unwrap()]).ok();
    assert!(live["key"].as_str().unwrap().starts_with("onr_live_"), "{live}");
    assert_eq!(live["scopes"].as_array().unwrap().len(), 3, "all scopes by default: {live}");

    // Key use reaches `last_used_at` with the usage flush.
    let server = ChildServer::start(&data, &["--usage-flush-interval", "100ms"]).await;
    let api = server.api(&host("acme", "staging")).with_api_key(&key);
    api.post("/v1/partners/create", &partner_signup_body("ann@example.com"))
        .await
        .problem(403, "partner_not_approved");

    let approved = cli(&data, &["partner", "approve", &partner_id]).ok();
    assert_eq!(approved["status"], "active");
    let r = api.post("/v1/partners/create", &partner_signup_body("ann@example.com")).await;
    r.expect(201);
    check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);

    let keys = eventually("key use written by the usage flush", || async {
        let keys = cli(&data, &["key", "list", &partner_id]).ok();
        keys["data"][0]["last_used_at"].is_string().then_some(keys)
    })
    .await;
    let keys = keys["data"].as_array().expect("data");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["key_id"], key_id.as_str());
    assert_eq!(keys[0]["status"], "active");
    assert!(keys[0].get("key").is_none(), "a list never shows the key: {}", keys[0]);
    assert!(!keys[0].to_string().contains(&key[9..]), "{}", keys[0]);
    assert!(keys[0]["last_used_at"].is_string(), "use is recorded: {}", keys[0]);

    let revoked = cli(&data, &["key", "revoke", &key_id]).ok();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    assert!(revoked.get("key").is_none());
    assert_api_key_challenge(&api.post("/v1/partners/create", &partner_signup_body("bob@example.com")).await);
    cli_fails_with(&cli(&data, &["key", "revoke", "key_nope"]), "not_found");

    let suspended = cli(&data, &["partner", "suspend", &partner_id]).ok();
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(cli(&data, &["partner", "show", &partner_id]).ok()["status"], "suspended");
    let fresh = cli(&data, &["key", "issue", &partner_id]).ok();
    server
        .api(&host("acme", "staging"))
        .with_api_key(fresh["key"].as_str().unwrap())
        .get("/v1/partners/accounts")
        .await
        .problem(403, "partner_not_approved");
}

// ------------------------------------------------------------ audit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_changes_are_audited() {
    let w = PartnerWorld::new().await;
    let r = send(
        w.partner
            .request(Method::POST, "/v1/partners/create")
            .header("x-request-id", "req-partner-create-1")
            .json(&partner_signup_body("ann@example.com")),
    )
    .await;
    r.expect(201);
    let id = account_id(&r.json["data"]);
    let token = query_param(r.json["data"]["completePurchaseUrl"].as_str().unwrap(), "token");
    let bob = account_id(&w.partner.create_account("bob@example.com").await);
    w.partner
        .patch(&format!("/v1/partners/accounts/{bob}"), &json!({ "firstName": "Bobby" }))
        .await
        .expect(200);
    w.partner.delete(&format!("/v1/partners/accounts/{bob}")).await.expect(204);
    let rotated = w
        .partner
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 }))
        .await;
    rotated.expect(201);
    let new_key = rotated.json["key"].as_str().unwrap().to_owned();

    let filter = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    let events = w.server.core.audit().events(&filter).await.expect("audit events");
    let find = |action: &str, target: &str| {
        events
            .iter()
            .find(|e| e.action == action && e.target == target)
            .unwrap_or_else(|| panic!("no {action} of {target} in {events:#?}"))
    };
    let created = find("partner.created", &w.partner_id);
    assert_eq!(created.actor, "operator");
    assert_eq!(created.environment.as_deref(), Some("staging"));
    assert_eq!(created.platform_id, "acme");
    find("partner.approved", &w.partner_id);
    let issued = find("api_key.issued", &w.key_id);
    assert_eq!(issued.detail["partner_id"], w.partner_id.as_str());
    let rot = find("api_key.rotated", &w.key_id);
    assert_eq!(rot.actor, format!("api_key:{}", w.key_id));
    assert_eq!(rot.detail["new_key_id"], rotated.json["keyId"]);
    let acct = find("account.created", &id);
    assert_eq!(acct.actor, format!("api_key:{}", w.key_id));
    assert_eq!(acct.request_id.as_deref(), Some("req-partner-create-1"));
    assert_eq!(acct.environment.as_deref(), Some("staging"));
    assert_eq!(acct.detail["partner_id"], w.partner_id.as_str());
    for action in ["account.updated", "account.deleted"] {
        assert_eq!(find(action, &bob).actor, format!("api_key:{}", w.key_id), "{action}");
    }
    // No secret in any event.
    for e in &events {
        let all = format!("{e:?}");
        for secret in [&w.key, &new_key, &token, &CLIENT_PASSWORD.to_owned()] {
            assert!(!all.contains(secret.as_str()), "a secret in {all}");
        }
    }
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
