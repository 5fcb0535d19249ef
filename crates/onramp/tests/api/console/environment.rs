//! One environment in the console: service users (passwords shown once),
//! signing keys, accounts (search, end sessions, delete), webhook
//! deliveries (resend, recover); what support may do and what it may not.

use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use serde_json::json;

use super::*;

const BASE: &str = "/instances/acme/staging";

async fn login(server: &TestServer, username: &str, password: &str) -> u16 {
    let api = server.staging("acme").without_token();
    let body = json!({ "username": username, "password": password });
    send(api.request(reqwest::Method::POST, "/v1/login/password").json(&body))
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_service_users_and_signing_keys() {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["client-accounts"]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let page = browser.get(BASE).await;
    page.expect(200);
    let r = browser
        .post(
            &format!("{BASE}/service-users"),
            &[("csrf", &browser.csrf()), ("username", "backend"), ("role", "service")],
        )
        .await;
    r.expect(200);
    let password = element_text(&r.text, "new-password");
    assert_eq!(login(&server, "backend", &password).await, 200, "the password shown once works");
    let r = browser
        .post(
            &format!("{BASE}/service-users/backend/reset-password"),
            &[("csrf", &browser.csrf())],
        )
        .await;
    r.expect(200);
    let new_password = element_text(&r.text, "new-password");
    assert_ne!(new_password, password);
    assert_eq!(login(&server, "backend", &password).await, 401);
    assert_eq!(login(&server, "backend", &new_password).await, 200);
    let r = browser
        .post(&format!("{BASE}/service-users/backend/disable"), &[("csrf", &browser.csrf())])
        .await;
    r.expect(303);
    assert_eq!(login(&server, "backend", &new_password).await, 401, "disabled");

    browser.get(BASE).await.expect(200);
    let r = browser
        .post(&format!("{BASE}/signing-keys/rotate"), &[("csrf", &browser.csrf())])
        .await;
    r.expect(200);
    assert!(r.text.contains("Signing keys rotated"));
    let keys = server.core.tenancy().signing_keys(&pid("acme"), EnvKind::Staging).await.unwrap();
    assert_eq!(keys.len(), 4, "two retired, two new (EdDSA and ES256)");
    browser.get("/instances/acme/nowhere").await.expect(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_found_signed_out_and_deleted_and_support_only_signs_out() {
    let fixture = Fixture::new().await;
    let server = &fixture.server;
    add_operator(server, "support").await;
    let account = fixture.staging.signup("ann@example.com").await;
    let id = account["user_id"].as_str().unwrap().to_owned();
    let mut browser = console(server);
    first_sign_in(server, &mut browser).await;
    let base = BASE;
    let found = browser.get(&format!("{base}/accounts?q=ann@example.com")).await;
    found.expect(200);
    assert!(found.text.contains(&id));
    let by_id = browser.get(&format!("{base}/accounts?q={id}")).await;
    assert!(by_id.text.contains("ann@example.com"));
    let view = browser.get(&format!("{base}/accounts/{id}")).await;
    view.expect(200);
    assert!(view.text.contains("the platform"), "created by the platform, not a partner");
    assert!(!view.text.contains("Delete account"), "support cannot delete");
    let r = browser
        .post(&format!("{base}/accounts/{id}/end-sessions"), &[("csrf", &browser.csrf())])
        .await;
    r.expect(303);
    let token = account["client_token"].as_str().unwrap();
    let verify = fixture
        .staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": token }))
        .await;
    assert_ne!(verify.status, 200, "the session ended: {}", verify.text);
    let r = browser
        .post(
            &format!("{base}/accounts/{id}/delete"),
            &[("csrf", &browser.csrf()), ("confirm", "yes")],
        )
        .await;
    r.expect(403);
    fixture.staging.get(&format!("/v1/client/{id}")).await.expect(200);
    let log = browser.get("/audit?action=account.sessions_ended").await;
    assert!(log.text.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_deletes_an_account_only_when_confirmed() {
    let fixture = Fixture::new().await;
    let server = &fixture.server;
    add_operator(server, "admin").await;
    let id = fixture.staging.signup("bo@example.com").await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = console(server);
    first_sign_in(server, &mut browser).await;
    let base = BASE;
    browser.get(&format!("{base}/accounts/{id}")).await.expect(200);
    let r = browser
        .post(&format!("{base}/accounts/{id}/delete"), &[("csrf", &browser.csrf())])
        .await;
    r.expect(400);
    fixture.staging.get(&format!("/v1/client/{id}")).await.expect(200);
    let r = browser
        .post(
            &format!("{base}/accounts/{id}/delete"),
            &[("csrf", &browser.csrf()), ("confirm", "yes")],
        )
        .await;
    r.expect(303);
    assert_eq!(fixture.staging.get(&format!("/v1/client/{id}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_and_support_resends_but_does_not_recover() {
    let fixture = Fixture::with(crate::webhooks::allowing_private_targets, &[]).await;
    let server = &fixture.server;
    add_operator(server, "support").await;
    let (url, got) = crate::webhooks::delivery::receiver(&[]).await;
    let created = fixture
        .staging
        .post("/v1/webhooks/endpoints", &json!({ "url": url, "event_types": ["account.created"] }))
        .await;
    created.expect(201);
    let endpoint = created.json["id"].as_str().unwrap().to_owned();
    fixture.staging.signup("cy@example.com").await;
    let base = BASE;
    let mut browser = console(server);
    first_sign_in(server, &mut browser).await;
    eventually("the event is delivered", || async {
        (!got.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    eventually("the attempt is recorded", || async {
        let log = fixture.staging.get(&format!("/v1/webhooks/endpoints/{endpoint}/deliveries")).await;
        (!log.json["data"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    let env_page = browser.get(base).await;
    assert!(env_page.text.contains(&endpoint));
    let deliveries = browser.get(&format!("{base}/webhooks/{endpoint}")).await;
    deliveries.expect(200);
    assert!(deliveries.text.contains("account.created"));
    assert!(deliveries.text.contains(">204<"), "the receiver's answer");
    let event_id = got.lock().unwrap()[0].0["webhook-id"].to_str().unwrap().to_owned();
    let r = browser
        .post(
            &format!("{base}/webhooks/{endpoint}/resend"),
            &[("csrf", &browser.csrf()), ("event_id", &event_id)],
        )
        .await;
    r.expect(303);
    eventually("the event arrives again", || async {
        (got.lock().unwrap().len() >= 2).then_some(())
    })
    .await;
    browser.get(&format!("{base}/webhooks/{endpoint}")).await.expect(200);
    let r = browser
        .post(
            &format!("{base}/webhooks/{endpoint}/recover"),
            &[("csrf", &browser.csrf()), ("since", "2020-01-01T00:00")],
        )
        .await;
    r.expect(403);
    let log = browser.get("/audit?action=webhook.").await;
    assert!(log.text.contains("webhook.resent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_page_finds_any_owners_endpoint_of_its_environment_only() {
    let fixture = Fixture::with(crate::webhooks::allowing_private_targets, &[]).await;
    let server = &fixture.server;
    add_operator(server, "admin").await;
    let body = json!({ "url": "http://127.0.0.1:9/hook", "event_types": ["account.created"] });
    let staging = fixture.staging.post("/v1/webhooks/endpoints", &body).await;
    let staging = staging.expect(201).json["id"].as_str().unwrap().to_owned();
    let body = json!({ "url": "https://127.0.0.1:9/hook", "event_types": ["account.created"] });
    let production = fixture.production.post("/v1/webhooks/endpoints", &body).await;
    let production = production.expect(201).json["id"].as_str().unwrap().to_owned();
    // A partner's endpoint: the operator sees it too.
    let partner = server.create_partner("acme", "staging", "Shop", PartnerStatus::Active).await;
    let env = server.core.tenancy().environment(&pid("acme"), EnvKind::Staging).await.unwrap();
    let owner = onramp_domain::webhooks::Owner::Partner(onramp_domain::ids::PartnerId::new(partner));
    let theirs = server
        .core
        .webhooks()
        .create(
            &env,
            &owner,
            &onramp_domain::audit::Actor::operator(),
            onramp_domain::webhooks::service::NewEndpoint {
                url: "http://127.0.0.1:9/partner-hook".into(),
                description: None,
                event_types: Vec::new(),
            },
        )
        .await
        .unwrap()
        .endpoint
        .id;

    let mut browser = console(server);
    first_sign_in(server, &mut browser).await;
    for id in [staging.as_str(), theirs.as_str()] {
        let page = browser.get(&format!("{BASE}/webhooks/{id}")).await;
        page.expect(200);
        assert!(page.text.contains(id), "{id}");
    }
    browser
        .get(&format!("/instances/acme/production/webhooks/{production}"))
        .await
        .expect(200);
    // Another environment's endpoint, and ids that name none, are not found.
    browser.get(&format!("{BASE}/webhooks/{production}")).await.expect(404);
    browser
        .get(&format!("/instances/acme/production/webhooks/{staging}"))
        .await
        .expect(404);
    browser
        .get(&format!("{BASE}/webhooks/0190a3c4-0000-7000-8000-000000000000"))
        .await
        .expect(404);
    assert_ne!(browser.get(&format!("{BASE}/webhooks/not-an-id")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_vendor_app_is_refused_until_reinstated() {
    let fixture = Fixture::with(|_| {}, &[]).await;
    let server = &fixture.server;
    let features = ["user-integration".to_owned()];
    let actor = onramp_domain::audit::Actor::operator();
    server
        .core
        .tenancy()
        .set_features(&actor, &pid("acme"), &features, &[])
        .await
        .unwrap();
    add_operator(server, "admin").await;
    let owner = fixture.staging.signup("dev@example.com").await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenancy = server.core.tenancy();
    let tenant = tenancy
        .resolve_host(&tenancy.host_of(&pid("acme"), EnvKind::Staging))
        .await
        .unwrap();
    let actor = onramp_domain::audit::Actor::operator();
    let integration = server.core.integration();
    let app = integration
        .register_app(
            &tenant,
            &owner.as_str().into(),
            &actor,
            "Shop",
            &["https://shop.example.com".to_owned()],
        )
        .await
        .unwrap();
    let (_, key) = integration
        .reset_vendor_key(&tenant, &owner.as_str().into(), &actor, &app.id)
        .await
        .unwrap();
    assert!(integration.authenticate_vendor_key(&tenant, key.expose()).await.is_ok());

    let mut browser = console(server);
    first_sign_in(server, &mut browser).await;
    let page = browser.get(BASE).await;
    assert!(page.text.contains(app.id.as_str()) && page.text.contains(">Suspend</button>"));
    let r = browser
        .post(&format!("{BASE}/apps/{}/suspend", app.id), &[("csrf", &browser.csrf())])
        .await;
    r.expect(303);
    assert!(
        integration.authenticate_vendor_key(&tenant, key.expose()).await.is_err(),
        "its key is refused"
    );
    assert!(integration.vendor_app(&tenant, &app.id).await.is_err(), "its popup does not open");
    browser.get(BASE).await.expect(200);
    let r = browser
        .post(&format!("{BASE}/apps/{}/reinstate", app.id), &[("csrf", &browser.csrf())])
        .await;
    r.expect(303);
    assert!(integration.authenticate_vendor_key(&tenant, key.expose()).await.is_ok());
    let log = browser.get("/audit?action=vendor_app.").await;
    assert!(log.text.contains("vendor_app.suspended") && log.text.contains("vendor_app.reinstated"));
    browser.get(BASE).await.expect(200);
    browser
        .post(&format!("{BASE}/apps/app_nothing/suspend"), &[("csrf", &browser.csrf())])
        .await
        .expect(404);
}

/// A service user's OAuth client secrets in the console: one added (shown
/// once) gets a token at `/oauth/token`; revoked, it is refused at once;
/// a secret is reached only through its own user's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_and_revokes_client_secrets() {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "backend", &[]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let env_page = browser.get(BASE).await;
    assert!(
        env_page.text.contains(&format!("href=\"{BASE}/service-users/backend\"")),
        "linked from the environment"
    );
    let page = format!("{BASE}/service-users/backend");
    browser.get(&page).await.expect(200);
    let r = browser
        .post(&format!("{page}/secrets"), &[("csrf", &browser.csrf()), ("expires", "90d")])
        .await;
    r.expect(200);
    let secret = element_text(&r.text, "new-secret");
    let client_id = element_text(&r.text, "client-id");
    assert!(secret.starts_with("onr_cs_"), "{secret}");
    let api = server.staging("acme");
    let grant = [("grant_type", "client_credentials")];
    let token = crate::oauth::form(&api, "/oauth/token", &grant, Some((&client_id, &secret))).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let listed = browser.get(&page).await;
    assert!(!listed.text.contains(&secret), "never shown again");
    assert!(listed.text.contains(">active<"), "{}", listed.text);
    let id = server
        .core
        .oauth()
        .secrets(&pid("acme"), EnvKind::Staging, "backend")
        .await
        .unwrap()
        .1[0]
        .id
        .to_string();
    let r = browser
        .post(&format!("{page}/secrets/{id}/revoke"), &[("csrf", &browser.csrf())])
        .await;
    r.expect(303);
    let refused = crate::oauth::form(&api, "/oauth/token", &grant, Some((&client_id, &secret))).await;
    assert_eq!(refused.status, 401, "refused from the next request on: {}", refused.text);
    assert!(browser.get(&page).await.text.contains(">revoked<"));
    // Another user's page cannot revoke this user's secret.
    server.create_service_user("acme", "staging", "other", &[]).await;
    browser.get(&page).await;
    let r = browser
        .post(
            &format!("{BASE}/service-users/other/secrets/{id}/revoke"),
            &[("csrf", &browser.csrf())],
        )
        .await;
    r.expect(404);
    browser.get(&format!("{BASE}/service-users/nobody")).await.expect(404);
}
