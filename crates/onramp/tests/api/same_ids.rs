//! Staging and production rows that share ids. A client chooses some ids (a
//! signup's `user_id`) and learns others (an app's `client_id`), so the same
//! id can exist in both environments; every table keys and reads its rows by
//! environment. Per table: the same ids in both environments, an action in
//! one, and a look at the other, which must be untouched.

use std::sync::Arc;

use onramp_domain::audit::{Actor, AuditEvent};
use onramp_domain::clock::{Clock, rfc3339};
use onramp_domain::ids::{AccountId, AppId};
use onramp_domain::infra::secret::token_hash;
use onramp_domain::integration::{AuthCode, VendorApp};
use onramp_domain::partners::PartnerStatus;
use onramp_domain::signin_links::LoginToken;
use onramp_domain::store::{IntegrationStore, SessionStore, SigninLinkStore, UsageStore};
use onramp_domain::tenancy::{EnvKind, Tenant};
use onramp_domain::usage::{StatusClass, UsageRow};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Api, CLIENT_PASSWORD, Fixture, Resp, pid, send, signup_body};
use crate::pages::Browser;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Instance `acme` with ann in production and mallory in staging under the
/// same account id, which mallory chose at signup.
struct Twins {
    fx: Fixture,
    staging: Arc<Tenant>,
    production: Arc<Tenant>,
    user_id: AccountId,
}

async fn twins() -> Twins {
    let fx = Fixture::new().await;
    let features = ["user-integration".into(), "partners".into()];
    let core = &fx.server.core;
    core.tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &features, &[])
        .await
        .unwrap();
    let user_id = AccountId::from(fx.production.signup("ann@example.com").await["user_id"].as_str().unwrap());
    let mut mallory = signup_body("mallory@example.com");
    mallory["user_id"] = json!(user_id);
    fx.staging.post("/v1/client/signup", &mallory).await.expect(201);
    let staging = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let production = core.tenancy().resolve_host("api.acme.localhost").await.unwrap();
    Twins {
        fx,
        staging,
        production,
        user_id,
    }
}

impl Twins {
    fn tenant(&self, kind: EnvKind) -> &Tenant {
        match kind {
            EnvKind::Staging => &self.staging,
            EnvKind::Production => &self.production,
        }
    }

    fn api(&self, kind: EnvKind) -> Api {
        match kind {
            EnvKind::Staging => self.fx.server.staging("acme"),
            EnvKind::Production => self.fx.server.production("acme"),
        }
    }

    fn now(&self) -> i64 {
        self.fx.server.clock.now_ms()
    }

    /// Registers an app owned by the twin account, with a key; returns both.
    async fn app(&self, kind: EnvKind, name: &str) -> (VendorApp, String) {
        let integration = self.fx.server.core.integration();
        let tenant = self.tenant(kind);
        let app = integration
            .register_app(
                tenant,
                &self.user_id,
                &Actor::operator(),
                name,
                &["https://shop.example.com".into()],
            )
            .await
            .unwrap();
        (app.clone(), self.reset_key(kind, &app.id).await)
    }

    /// Stores an app under a given id, as if two environments' ids had met.
    async fn app_with_id(&self, kind: EnvKind, id: &AppId) -> String {
        let tenant = self.tenant(kind);
        let now = self.now();
        let app = VendorApp {
            id: id.clone(),
            env_id: tenant.env.id.clone(),
            account_id: self.user_id.clone(),
            name: format!("Shop {kind}"),
            origins: vec!["https://shop.example.com".into()],
            redirect_uris: Vec::new(),
            id_token_alg: onramp_domain::tenancy::signing::KeyAlg::Es256,
            key_id: None,
            key_hash: None,
            key_created_at: None,
            created_at: now,
            updated_at: now,
            suspended_at: None,
        };
        let audit = AuditEvent::in_tenant(&Actor::operator(), tenant, "vendor_app.created", id.as_str());
        self.fx.server.store.create_vendor_app(&app, &audit).await.unwrap();
        self.reset_key(kind, id).await
    }

    async fn reset_key(&self, kind: EnvKind, app_id: &AppId) -> String {
        let (_, key) = self
            .fx
            .server
            .core
            .integration()
            .reset_vendor_key(self.tenant(kind), &self.user_id, &Actor::operator(), app_id)
            .await
            .unwrap();
        key.expose().to_owned()
    }

    /// The twin account consents to the app (as the popup does); returns a code.
    async fn consent(&self, kind: EnvKind, app_id: &AppId) -> String {
        let integration = self.fx.server.core.integration();
        let tenant = self.tenant(kind);
        let app = integration.vendor_app(tenant, app_id).await.unwrap();
        let code = integration
            .authorize(tenant, &self.user_id, &Actor::operator(), &app, CHALLENGE)
            .await
            .unwrap();
        code.expose().to_owned()
    }

    /// `GET /v1/integration/users/{twin}` as the app with `key`.
    async fn vendor_reads_user(&self, kind: EnvKind, key: &str) -> Resp {
        let path = format!("/v1/integration/users/{}", self.user_id);
        send(self.api(kind).without_token().request(Method::GET, &path).header("x-api-key", key)).await
    }

    async fn exchange(&self, kind: EnvKind, key: &str, code: &str) -> Resp {
        let body = json!({ "code": code, "code_verifier": VERIFIER });
        let rb = self.api(kind).without_token().request(Method::POST, "/v1/integration/exchange");
        send(rb.header("x-api-key", key).json(&body)).await
    }

    /// Mallory, signed in to the staging pages.
    async fn mallory(&self) -> Browser {
        let mut b = Browser::new(self.fx.server.staging("acme"));
        b.sign_in("mallory@example.com", CLIENT_PASSWORD).await;
        b
    }
}

/// The attack of the review: a staging account holding a production
/// account's id revokes, by app id, a grant that exists only in production.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_staging_pages_neither_revoke_nor_reveal_a_production_grant() {
    let t = twins().await;
    let (app, key) = t.app(EnvKind::Production, "Shop").await;
    t.consent(EnvKind::Production, &app.id).await;
    t.vendor_reads_user(EnvKind::Production, &key).await.expect(200);

    let mut mallory = t.mallory().await;
    mallory.get("/account/connections").await.expect(200);
    let csrf = mallory.csrf();
    let r = mallory
        .post(&format!("/account/connections/{}/revoke", app.id), &[("csrf", &csrf)])
        .await;
    r.expect(200);
    // Nothing to revoke in staging, and the page says exactly that.
    assert!(
        r.text.contains("That app had no access") && !r.text.contains("Access revoked"),
        "{}",
        r.text
    );
    t.vendor_reads_user(EnvKind::Production, &key).await.expect(200);
}

/// `vendor_apps` and `grants`: one app id in both environments, each with
/// its own key and its own consent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_apps_and_grants_the_same_app_id_in_both_environments_stays_apart() {
    let t = twins().await;
    let id = AppId::generate();
    let production_key = t.app_with_id(EnvKind::Production, &id).await;
    let staging_key = t.app_with_id(EnvKind::Staging, &id).await;
    t.consent(EnvKind::Production, &id).await;
    t.consent(EnvKind::Staging, &id).await;
    t.vendor_reads_user(EnvKind::Production, &production_key).await.expect(200);
    t.vendor_reads_user(EnvKind::Staging, &staging_key).await.expect(200);

    // A new staging key ends the old staging key only.
    let new_staging_key = t.reset_key(EnvKind::Staging, &id).await;
    t.vendor_reads_user(EnvKind::Staging, &staging_key)
        .await
        .problem(401, "unauthenticated");
    t.vendor_reads_user(EnvKind::Staging, &new_staging_key).await.expect(200);
    t.vendor_reads_user(EnvKind::Production, &production_key).await.expect(200);

    // Revoking in staging ends the staging grant only.
    let mut mallory = t.mallory().await;
    let list = mallory.get("/account/connections").await;
    assert!(
        list.text.contains("Shop staging") && !list.text.contains("Shop production"),
        "{}",
        list.text
    );
    let csrf = mallory.csrf();
    let r = mallory.post(&format!("/account/connections/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert!(r.text.contains("Access revoked"), "{}", r.text);
    t.vendor_reads_user(EnvKind::Staging, &new_staging_key)
        .await
        .problem(404, "not_found");
    t.vendor_reads_user(EnvKind::Production, &production_key).await.expect(200);

    // Editing and deleting the staging app leaves the production one alone.
    let (edit, delete) = (format!("/account/developers/{id}/edit"), format!("/account/developers/{id}/delete"));
    mallory.get(&edit).await.expect(200);
    let csrf = mallory.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "Renamed"),
        ("origins", "https://renamed.example.com"),
    ];
    mallory.post(&edit, &fields).await.expect(303);
    mallory.post(&delete, &[("csrf", &csrf)]).await.expect(303);
    t.vendor_reads_user(EnvKind::Staging, &new_staging_key)
        .await
        .problem(401, "unauthenticated");
    t.vendor_reads_user(EnvKind::Production, &production_key).await.expect(200);
    let integration = t.fx.server.core.integration();
    let production = integration.vendor_app(t.tenant(EnvKind::Production), &id).await.unwrap();
    assert_eq!(
        (production.name.as_str(), production.origins[0].as_str()),
        ("Shop production", "https://shop.example.com")
    );
}

/// `auth_codes`: a production code presented to staging is not used up, and
/// one code hash in both environments is redeemed once in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_codes_a_code_is_redeemed_only_in_its_own_environment() {
    let t = twins().await;
    let (production_app, production_key) = t.app(EnvKind::Production, "Shop").await;
    let (staging_app, staging_key) = t.app(EnvKind::Staging, "Shop").await;

    let code = t.consent(EnvKind::Production, &production_app.id).await;
    t.exchange(EnvKind::Staging, &staging_key, &code)
        .await
        .problem(400, "invalid_grant");
    let r = t.exchange(EnvKind::Production, &production_key, &code).await;
    r.expect(200);
    assert_eq!(r.json["user"]["email"], "ann@example.com");

    // The same code in both environments (each bound to its own app).
    let code = t.consent(EnvKind::Production, &production_app.id).await;
    t.consent(EnvKind::Staging, &staging_app.id).await;
    let now = t.now();
    let twin = AuthCode {
        code_hash: token_hash(&code),
        env_id: t.staging.env.id.clone(),
        app_id: staging_app.id.clone(),
        account_id: t.user_id.clone(),
        code_challenge: CHALLENGE.into(),
        created_at: now,
        expires_at: now + 60_000,
        oidc: None,
    };
    t.fx.server.store.create_auth_code(&twin).await.unwrap();
    let r = t.exchange(EnvKind::Staging, &staging_key, &code).await;
    r.expect(200);
    assert_eq!(r.json["user"]["email"], "mallory@example.com");
    t.exchange(EnvKind::Staging, &staging_key, &code)
        .await
        .problem(400, "invalid_grant");
    let r = t.exchange(EnvKind::Production, &production_key, &code).await;
    r.expect(200);
    assert_eq!(r.json["user"]["email"], "ann@example.com");
}

/// `sessions`: one token in both environments; logging out in staging ends
/// the staging session only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_logging_out_in_staging_leaves_the_production_session() {
    let t = twins().await;
    let token = format!("onr_sess_{}", "Tw1n".repeat(8));
    let now = t.now();
    for kind in EnvKind::ALL {
        let session = onramp_domain::accounts::Session {
            token_hash: token_hash(&token),
            env_id: t.tenant(kind).env.id.clone(),
            account_id: t.user_id.clone(),
            created_at: now,
            expires_at: now + 3_600_000,
        };
        t.fx.server.store.create_session(&session).await.unwrap();
    }
    let verify = json!({ "client_token": token });
    for api in [&t.fx.staging, &t.fx.production] {
        let r = api.post("/v1/client/sessions/verify", &verify).await;
        r.expect(200);
        assert_eq!(r.json["user_id"], t.user_id.as_str());
    }
    t.fx.staging.post("/v1/client/logout", &verify).await.expect(204);
    t.fx.staging
        .post("/v1/client/sessions/verify", &verify)
        .await
        .problem(401, "unauthenticated");
    t.fx.production.post("/v1/client/sessions/verify", &verify).await.expect(200);
}

/// `login_tokens`: one sign-in link token in both environments is redeemed
/// once in each, for that environment's account and redirect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_tokens_a_link_redeemed_in_staging_still_works_in_production() {
    let t = twins().await;
    let token = format!("onr_link_{}", "Tw1nL1nk".repeat(5));
    let now = t.now();
    for kind in EnvKind::ALL {
        let link = LoginToken {
            token_hash: token_hash(&token),
            env_id: t.tenant(kind).env.id.clone(),
            account_id: t.user_id.clone(),
            redirect: format!("/{kind}"),
            created_at: now,
            expires_at: now + 600_000,
        };
        t.fx.server.store.create_login_token(&link).await.unwrap();
    }
    let body = json!({ "token": token });
    let r = t.fx.staging.post("/v1/tokenauth/exchange", &body).await;
    r.expect(200);
    assert_eq!(r.json["redirect"], "/staging");
    t.fx.staging
        .post("/v1/tokenauth/exchange", &body)
        .await
        .problem(400, "invalid_grant");
    let r = t.fx.production.post("/v1/tokenauth/exchange", &body).await;
    r.expect(200);
    assert_eq!(r.json["redirect"], "/production");
    assert_eq!(r.json["user_id"], t.user_id.as_str());
}

/// `idempotency_keys`: one `Idempotency-Key` in both environments; each
/// environment runs its own first request and replays its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_the_same_key_in_both_environments_replays_each_ones_answer() {
    let t = twins().await;
    let signup = |api: &Api, email: &str| {
        let rb = api
            .request(Method::POST, "/v1/client/signup")
            .header("idempotency-key", "order-4711");
        send(rb.json(&signup_body(email)))
    };
    let staging = signup(&t.fx.staging, "sam@example.com").await;
    staging.expect(201);
    let production = signup(&t.fx.production, "pat@example.com").await;
    production.expect(201);
    assert!(production.header("idempotent-replayed").is_none(), "{:?}", production.headers);
    assert_ne!(staging.json["user_id"], production.json["user_id"]);
    for (api, email, first) in [
        (&t.fx.staging, "sam@example.com", &staging),
        (&t.fx.production, "pat@example.com", &production),
    ] {
        let replay = signup(api, email).await;
        replay.expect(201);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.json["user_id"], first.json["user_id"]);
    }
}

/// `usage_minutes`: usage counted for the same key and partner ids in
/// staging is neither merged into nor reported with production's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_minutes_staging_counts_do_not_reach_a_production_partners_usage() {
    let t = twins().await;
    let partners = t.fx.server.core.partners();
    let actor = Actor::operator();
    let partner = partners
        .create_partner(&actor, &pid("acme"), EnvKind::Production, "Shop")
        .await
        .unwrap();
    partners
        .set_partner_status(&actor, &partner.id, PartnerStatus::Active)
        .await
        .unwrap();
    let issued = partners.issue_api_key(&actor, &partner.id, &[], None).await.unwrap();
    // Two hours ago, away from the requests this test makes.
    let minute = (t.now() - 2 * 3_600_000) / 60_000 * 60_000;
    let row = |kind: EnvKind, count: i64| UsageRow {
        key_id: issued.key.key_id.clone(),
        partner_id: partner.id.clone(),
        env_id: t.tenant(kind).env.id.clone(),
        route: "POST /v1/partners/create".into(),
        status_class: StatusClass::Success,
        minute,
        count,
        denied: 0,
        limited: 0,
    };
    let store = &t.fx.server.store;
    store.add_usage(&[row(EnvKind::Production, 3)]).await.unwrap();
    store.add_usage(&[row(EnvKind::Staging, 1000)]).await.unwrap();

    let path = format!(
        "/v1/partners/usage?granularity=hour&from={}&to={}",
        rfc3339(minute - 3_600_000),
        rfc3339(minute + 3_600_000)
    );
    let production = t.fx.server.production("acme").with_api_key(issued.secret.expose());
    let r = production.get(&path).await;
    r.expect(200);
    let requests: i64 = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["requests"].as_i64().unwrap())
        .sum();
    assert_eq!(requests, 3, "{}", r.text);
}
