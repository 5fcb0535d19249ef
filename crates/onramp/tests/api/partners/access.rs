//! Who may call: keys of each kind, revocation, expiry, environments, partner status, feature, scope.

use super::*;

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
        .set_features(&Actor::operator(), &pid("acme"), &["user-integration".into()], &[])
        .await
        .expect("enable user integration");
    settings_reloaded(&w).await;
    let dev = account_id(&w.partner.create_account("dev@example.com").await);
    let tenant = core.tenancy().resolve_host(&host("acme", "staging")).await.expect("tenant");
    let app = core
        .integration()
        .register_app(
            &tenant,
            &dev.as_str().into(),
            &Actor::operator(),
            "Shop",
            &["https://shop.example.com".into()],
        )
        .await
        .expect("app");
    let (_, app_key) = core
        .integration()
        .reset_vendor_key(&tenant, &dev.as_str().into(), &Actor::operator(), &app.id)
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
        .revoke_api_key(&Actor::operator(), &key_id.as_str().into())
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
        .set_partner_status(&Actor::operator(), &partner_id.as_str().into(), PartnerStatus::Active)
        .await
        .expect("approve");
    let r = api.post_idempotent("/v1/partners/create", "pending-1", &body).await;
    r.expect(201);
    assert!(r.header("idempotent-replayed").is_none(), "the 403 was not stored");
    let id = account_id(&r.json["data"]);

    w.server
        .core
        .partners()
        .set_partner_status(&Actor::operator(), &partner_id.as_str().into(), PartnerStatus::Suspended)
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
        .set_features(&Actor::operator(), &pid("acme"), &[], &["partners".into()])
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
        .set_features(&Actor::operator(), &pid("acme"), &[], &["partners".into()])
        .await
        .expect("disable partners");
    settings_reloaded(&w).await;
    w.partner
        .post_idempotent("/v1/partners/create", "feature-1", &body)
        .await
        .problem(403, "feature_disabled");
    core.tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &["partners".into()], &[])
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
        .set_partner_status(&Actor::operator(), &w.partner_id.as_str().into(), PartnerStatus::Suspended)
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
        .set_partner_status(&Actor::operator(), &w.partner_id.as_str().into(), PartnerStatus::Active)
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
