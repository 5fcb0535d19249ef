//! User integration, vendor side: code exchange with PKCE and profile reads
//! (the consent popup is driven here through the core, as the pages do).

use onramp_domain::audit::Actor;
use onramp_domain::ids::{AccountId, AppId};
use onramp_domain::store::IntegrationStore;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Api, Fixture, Resp, pid, send};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct World {
    fx: Fixture,
    user_id: AccountId,
    app_id: AppId,
    key: String,
}

async fn world() -> World {
    let fx = Fixture::new().await;
    let actor = Actor::operator();
    fx.server
        .core
        .tenancy()
        .set_features(&actor, &pid("acme"), &["user-integration".into(), "client-accounts".into()], &[])
        .await
        .unwrap();
    let user_id = AccountId::from(fx.staging.signup("ann@example.com").await["user_id"].as_str().unwrap());
    let tenant = fx.server.core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let dev = AccountId::from(fx.staging.signup("dev@example.com").await["user_id"].as_str().unwrap());
    let app = fx
        .server
        .core
        .integration()
        .register_app(&tenant, &dev, &actor, "Shop", &["https://shop.example.com".into()])
        .await
        .unwrap();
    let (_, key) = fx
        .server
        .core
        .integration()
        .reset_vendor_key(&tenant, &dev, &actor, &app.id)
        .await
        .unwrap();
    World {
        fx,
        user_id,
        app_id: app.id,
        key: key.expose().to_owned(),
    }
}

impl World {
    async fn code(&self, challenge: &str) -> String {
        let core = &self.fx.server.core;
        let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
        let app = core.integration().vendor_app(&tenant, &self.app_id).await.unwrap();
        core.integration()
            .authorize(&tenant, &self.user_id, &Actor::operator(), &app, challenge)
            .await
            .unwrap()
            .expose()
            .to_owned()
    }

    fn vendor(&self) -> Api {
        self.fx.server.staging("acme").without_token()
    }
}

async fn exchange(api: &Api, key: &str, code: &str, verifier: &str) -> Resp {
    send(
        api.request(Method::POST, "/v1/integration/exchange")
            .header("x-api-key", key)
            .json(&json!({ "code": code, "code_verifier": verifier })),
    )
    .await
}

async fn user(api: &Api, key: &str, id: &str) -> Resp {
    send(
        api.request(Method::GET, &format!("/v1/integration/users/{id}"))
            .header("x-api-key", key),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_exchanged_once_for_the_profile() {
    let w = world().await;
    let code = w.code(CHALLENGE).await;
    let r = exchange(&w.vendor(), &w.key, &code, VERIFIER).await;
    r.expect(200);
    assert_eq!(r.json["user"]["id"], w.user_id.as_str());
    assert_eq!(r.json["user"]["email"], "ann@example.com");
    assert!(r.json["user"]["name"]["first_name"].is_string() && r.json["granted_at"].is_string());
    assert_eq!(r.json["user"]["email_verified"], false, "{}", r.text);
    assert!(!r.text.contains("password"));
    exchange(&w.vendor(), &w.key, &code, VERIFIER).await.problem(400, "invalid_grant");
    // The profile stays readable while the grant stands, and follows edits.
    user(&w.vendor(), &w.key, w.user_id.as_str()).await.expect(200);
    w.fx.staging
        .patch(&format!("/v1/client/{}", w.user_id), &json!({ "name": { "first_name": "Annie" } }))
        .await
        .expect(200);
    let r = user(&w.vendor(), &w.key, w.user_id.as_str()).await;
    assert_eq!(r.json["user"]["name"]["first_name"], "Annie");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_verifier_other_app_unknown_code_and_bad_keys_are_refused() {
    let w = world().await;
    let vendor = w.vendor();
    // A wrong verifier uses the code up.
    let code = w.code(CHALLENGE).await;
    exchange(&vendor, &w.key, &code, &"a".repeat(43))
        .await
        .problem(400, "invalid_grant");
    exchange(&vendor, &w.key, &code, VERIFIER).await.problem(400, "invalid_grant");
    // Another app's key.
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let other_dev = AccountId::from(w.fx.staging.signup("other@example.com").await["user_id"].as_str().unwrap());
    let other = core
        .integration()
        .register_app(
            &tenant,
            &other_dev,
            &Actor::operator(),
            "Other",
            &["https://other.example.com".into()],
        )
        .await
        .unwrap();
    let (_, other_key) = core
        .integration()
        .reset_vendor_key(&tenant, &other_dev, &Actor::operator(), &other.id)
        .await
        .unwrap();
    let code = w.code(CHALLENGE).await;
    exchange(&vendor, other_key.expose(), &code, VERIFIER)
        .await
        .problem(400, "invalid_grant");
    exchange(&vendor, &w.key, "onr_code_unknown", VERIFIER)
        .await
        .problem(400, "invalid_grant");
    // Missing or wrong key: 401 with an ApiKey challenge.
    let r = send(
        vendor
            .request(Method::POST, "/v1/integration/exchange")
            .json(&json!({ "code": "x", "code_verifier": VERIFIER })),
    )
    .await;
    r.problem(401, "unauthenticated");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("ApiKey")));
    exchange(&vendor, "onr_app_test_notakey", &code, VERIFIER)
        .await
        .problem(401, "unauthenticated");
    // Malformed challenges are refused when the code is made.
    let app = core.integration().vendor_app(&tenant, &w.app_id).await.unwrap();
    assert!(
        core.integration()
            .authorize(&tenant, &w.user_id, &Actor::operator(), &app, "plain")
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused() {
    let w = world().await;
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    // A code past its 60 seconds, written as the popup would have.
    let code = "onr_code_expiredexpiredexpiredexpiredexpiredexp";
    let now = onramp_domain::clock::now_ms();
    let record = onramp_domain::integration::AuthCode {
        code_hash: onramp_domain::infra::secret::token_hash(code),
        env_id: tenant.env.id.clone(),
        app_id: w.app_id.clone(),
        account_id: w.user_id.clone(),
        code_challenge: CHALLENGE.into(),
        created_at: now - 61_000,
        expires_at: now - 1_000,
        oidc: None,
    };
    w.fx.server.store.create_auth_code(&record).await.unwrap();
    exchange(&w.vendor(), &w.key, code, VERIFIER).await.problem(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_exchanges_of_one_code_succeed_once() {
    let w = world().await;
    let code = w.code(CHALLENGE).await;
    let vendor = w.vendor();
    let results = futures::future::join_all((0..20).map(|_| exchange(&vendor, &w.key, &code, VERIFIER))).await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    assert!(results.iter().all(|r| r.status == 200 || r.status == 400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_users_revoked_grants_and_reset_keys() {
    let w = world().await;
    let vendor = w.vendor();
    // Deleted between consent and exchange: 404 user_not_found.
    let code = w.code(CHALLENGE).await;
    w.fx.staging.delete(&format!("/v1/client/{}", w.user_id)).await.expect(204);
    exchange(&vendor, &w.key, &code, VERIFIER).await.problem(404, "user_not_found");
    user(&vendor, &w.key, w.user_id.as_str()).await.problem(404, "not_found");

    // A fresh person: readable while granted, then revoked → the same 404 as an unknown id.
    let w = world().await;
    let vendor = w.vendor();
    let code = w.code(CHALLENGE).await;
    exchange(&vendor, &w.key, &code, VERIFIER).await.expect(200);
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    core.integration()
        .revoke_connection(&tenant, &w.user_id, &Actor::operator(), &w.app_id)
        .await
        .unwrap();
    let revoked = user(&vendor, &w.key, w.user_id.as_str()).await;
    revoked.problem(404, "not_found");
    let unknown = user(&vendor, &w.key, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(unknown.json["detail"], revoked.json["detail"]);
    // Resetting the key stops the old one at once.
    let dev = core.integration().vendor_app(&tenant, &w.app_id).await.unwrap().account_id;
    let (_, new_key) = core
        .integration()
        .reset_vendor_key(&tenant, &dev, &Actor::operator(), &w.app_id)
        .await
        .unwrap();
    user(&vendor, &w.key, w.user_id.as_str()).await.problem(401, "unauthenticated");
    user(&vendor, new_key.expose(), w.user_id.as_str()).await.problem(404, "not_found");
    // The feature switched off: 403.
    core.tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &[], &["user-integration".into()])
        .await
        .unwrap();
    user(&vendor, new_key.expose(), w.user_id.as_str())
        .await
        .problem(403, "feature_disabled");
}
