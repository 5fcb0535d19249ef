//! Deactivating an account: no sign-in anywhere (client API, pages, popup,
//! sign-in links) with `403 account_disabled` shown only to whoever proved
//! the password, its sessions ended at once, its vendor grants answering
//! like a missing user; and reactivating it.

use onramp_domain::audit::{Actor, AuditFilter};
use onramp_domain::ids::{AccountId, AppId};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::pages::{Browser, CHALLENGE, ORIGIN, VERIFIER, World, connect_path, world};

const UNKNOWN_ID: &str = "00000000-0000-4000-8000-000000000000";

impl World {
    /// Ann's id and a fresh authorization code of hers for the app.
    async fn ann_code(&self) -> (String, String) {
        let core = &self.fx.server.core;
        let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
        let ann = core
            .accounts()
            .list(&tenant, None, Some("ann@example.com"), None, 1)
            .await
            .unwrap()
            .items
            .remove(0);
        let app = core
            .integration()
            .vendor_app(&tenant, &AppId::from(self.app_id.as_str()))
            .await
            .unwrap();
        let code = core
            .integration()
            .authorize(&tenant, &ann.id, &Actor::operator(), &app, CHALLENGE)
            .await
            .unwrap();
        (ann.id.to_string(), code.expose().to_owned())
    }

    fn vendor(&self) -> Api {
        self.fx.server.staging("acme").without_token()
    }

    async fn exchange(&self, code: &str) -> Resp {
        send(
            self.vendor()
                .request(Method::POST, "/v1/integration/exchange")
                .header("x-api-key", &self.key)
                .json(&json!({ "code": code, "code_verifier": VERIFIER })),
        )
        .await
    }

    async fn profile(&self, id: &str) -> Resp {
        send(
            self.vendor()
                .request(Method::GET, &format!("/v1/integration/users/{id}"))
                .header("x-api-key", &self.key),
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> Resp {
        self.fx
            .staging
            .post("/v1/client/login", &json!({ "email": email, "password": password }))
            .await
    }

    async fn set_active(&self, id: &str, active: bool) -> Value {
        let r = self
            .fx
            .staging
            .patch(&format!("/v1/client/{id}"), &json!({ "active": active }))
            .await;
        r.expect(200);
        assert_eq!(r.json["active"], active, "{}", r.text);
        r.json
    }
}

/// Posts the page sign-in form (or the popup's) with a fresh browser.
async fn page_sign_in(w: &World, path: &str, password: &str) -> Resp {
    let mut b = Browser::new(w.fx.server.staging("acme"));
    let mut form = vec![("email", "ann@example.com".to_owned()), ("password", password.to_owned())];
    if path == "/connect/login" {
        b.get(&connect_path(&w.app_id, ORIGIN)).await.expect(200);
        for (k, v) in [
            ("client_id", w.app_id.as_str()),
            ("origin", ORIGIN),
            ("state", "st4te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ] {
            form.push((k, v.to_owned()));
        }
    } else {
        b.get("/account/login").await.expect(200);
        form.push(("next", "/account".to_owned()));
    }
    form.push(("csrf", b.csrf()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_account_cannot_sign_in_anywhere_until_reactivated() {
    let w = world().await;
    let (ann, early_code) = w.ann_code().await;
    // Before: Ann is active, signed in through the API and a page, and the
    // vendor reads her profile through its grant.
    let r = w.fx.staging.get(&format!("/v1/client/{ann}")).await;
    r.expect(200);
    assert_eq!(r.json["active"], true, "{}", r.text);
    let session = w.login("ann@example.com", CLIENT_PASSWORD).await;
    session.expect(200);
    let token = session.json["client_token"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(w.fx.server.staging("acme"));
    browser.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let (_, code) = w.ann_code().await;
    w.exchange(&code).await.expect(200);
    w.profile(&ann).await.expect(200);

    let body = w.set_active(&ann, false).await;
    assert_eq!(body["user_id"], ann.as_str());
    let r = w.fx.staging.get(&format!("/v1/client/{ann}")).await;
    assert_eq!(r.json["active"], false, "{}", r.text);
    let listed = w.fx.staging.get("/v1/client?email=ann%40example.com").await;
    assert_eq!(listed.json["data"][0]["active"], false, "{}", listed.text);

    // Client API: the right password learns the account is disabled; a
    // wrong one gets exactly what an unknown email gets.
    w.login("ann@example.com", CLIENT_PASSWORD).await.problem(403, "account_disabled");
    let wrong = w.login("ann@example.com", "not-Ann's-password-1").await;
    wrong.problem(401, "unauthenticated");
    let unknown = w.login("nobody@example.com", "not-Ann's-password-1").await;
    unknown.problem(401, "unauthenticated");
    assert_eq!(wrong.json["detail"], unknown.json["detail"]);
    assert!(
        !wrong.text.contains("disabled") && !wrong.text.contains("deactivated"),
        "{}",
        wrong.text
    );
    // Her sessions ended at once, the page session too.
    w.fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": token }))
        .await
        .problem(401, "unauthenticated");
    let page = browser.get("/account").await;
    assert_ne!(page.status, 200, "the page session ended: {}", page.text);
    let (count, _) = live_sessions(&w, &ann).await;
    assert_eq!(count, 0);

    // Pages and the popup: a clear message, only after the right password.
    for path in ["/account/login", "/connect/login"] {
        let r = page_sign_in(&w, path, CLIENT_PASSWORD).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert!(r.text.contains("This account is deactivated."), "{path}: {}", r.text);
        assert!(r.header("set-cookie").is_none_or(|c| !c.starts_with("onramp_session=")), "{path}");
        let r = page_sign_in(&w, path, "not-Ann's-password-1").await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        assert!(
            r.text.contains("Wrong email or password.") && !r.text.contains("deactivated"),
            "{path}"
        );
    }

    // The vendor: as if she did not exist.
    let gone = w.profile(&ann).await;
    gone.problem(404, "not_found");
    let missing = w.profile(UNKNOWN_ID).await;
    assert_eq!(gone.json["detail"], missing.json["detail"]);
    w.exchange(&early_code).await.problem(404, "user_not_found");

    // Reactivated: everything works again.
    w.set_active(&ann, true).await;
    w.login("ann@example.com", CLIENT_PASSWORD).await.expect(200);
    assert_eq!(page_sign_in(&w, "/account/login", CLIENT_PASSWORD).await.status, 303);
    assert_eq!(page_sign_in(&w, "/connect/login", CLIENT_PASSWORD).await.status, 303);
    w.profile(&ann).await.expect(200);
    let (_, code) = w.ann_code().await;
    w.exchange(&code).await.expect(200);
}

async fn live_sessions(w: &World, id: &str) -> (u64, Option<i64>) {
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    core.accounts().live_sessions(&tenant, &AccountId::from(id)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_is_audited_and_announced_as_an_update_of_active() {
    let fx = Fixture::new().await;
    let id = fx.staging.signup("ann@example.com").await["user_id"].as_str().unwrap().to_owned();
    for active in [false, true] {
        fx.staging
            .patch(&format!("/v1/client/{id}"), &json!({ "active": active }))
            .await
            .expect(200);
    }
    let events = fx.staging.get("/v1/events?type=account.updated&limit=200").await;
    events.expect(200);
    let data: Vec<&Value> = events.json["data"].as_array().unwrap().iter().map(|e| &e["data"]).collect();
    assert_eq!(data.len(), 2, "{}", events.text);
    for (d, active) in data.iter().zip([false, true]) {
        assert_eq!(d["account_id"], id.as_str());
        assert_eq!(d["changed"], json!(["active"]));
        assert_eq!(d["active"], active);
    }
    let filter = AuditFilter {
        platform_id: Some("acme".into()),
        environment: Some("staging".into()),
        limit: 100,
        ..AuditFilter::default()
    };
    let audit = fx.server.core.audit().events(&filter).await.unwrap();
    let updates: Vec<_> = audit.iter().filter(|e| e.action == "account.updated").collect();
    assert_eq!(updates.len(), 2, "{audit:?}");
    assert!(updates.iter().all(|e| e.target == id && e.detail["changed"] == json!(["active"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_must_be_a_boolean_and_a_refused_patch_changes_nothing() {
    let w = PartnerWorld::new().await;
    let client = w.service.signup("ann@example.com").await["user_id"].as_str().unwrap().to_owned();
    let partners = w.partner.create_account("bob@example.com").await["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_path = format!("/v1/client/{client}");
    let partner_path = format!("/v1/partners/accounts/{partners}");
    for bad in [json!("false"), json!(0), json!(1), json!([false]), json!({})] {
        let r = w
            .service
            .patch(&client_path, &json!({ "name": { "first_name": "Changed" }, "active": bad }))
            .await;
        r.problem(400, "validation_failed");
        assert_eq!(r.error_fields(), ["active"], "{bad}: {}", r.text);
        let r = w
            .partner
            .patch(&partner_path, &json!({ "firstName": "Changed", "active": bad }))
            .await;
        r.problem(400, "validation_failed");
        assert_eq!(r.error_fields(), ["active"], "{bad}: {}", r.text);
    }
    let r = w.service.get(&client_path).await;
    assert_eq!((&r.json["active"], &r.json["name"]["first_name"]), (&json!(true), &json!("Ann")));
    let r = w.partner.get(&partner_path).await;
    assert_eq!((&r.json["active"], &r.json["firstName"]), (&json!(true), &json!("Ann")));
    // `null` leaves it as it is, like every other field.
    let r = w.service.patch(&client_path, &json!({ "active": null })).await;
    r.expect(200);
    assert_eq!(r.json["active"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_deactivate_and_reactivate_their_accounts() {
    let w = PartnerWorld::new().await;
    let data = w.partner.create_account("ann@example.com").await;
    let id = data["accountId"].as_str().unwrap().to_owned();
    let token = query_param(data["completePurchaseUrl"].as_str().unwrap(), "token");
    let path = format!("/v1/partners/accounts/{id}");
    let r = w.partner.get(&path).await;
    r.expect(200);
    assert_eq!(r.json["active"], true, "{}", r.text);

    let r = w.partner.patch(&path, &json!({ "active": false })).await;
    r.expect(200);
    assert_eq!(r.json["active"], false, "{}", r.text);
    let listed = w.partner.get("/v1/partners/accounts").await;
    assert_eq!(listed.json["data"][0]["active"], false, "{}", listed.text);
    // The same flag in the client API.
    assert_eq!(w.service.get(&format!("/v1/client/{id}")).await.json["active"], false);
    // The sign-in link (`completePurchaseUrl`) is refused and stays unused.
    w.exchange(&token).await.problem(403, "account_disabled");
    w.exchange(&token).await.problem(403, "account_disabled");
    w.service
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(403, "account_disabled");
    // Another partner can neither see nor toggle it.
    let (_, _, other) = w
        .other_partner("staging", onramp_domain::partners::PartnerStatus::Active, &ALL_SCOPES)
        .await;
    other.patch(&path, &json!({ "active": true })).await.problem(404, "not_found");

    let r = w.partner.patch(&path, &json!({ "active": true })).await;
    r.expect(200);
    assert_eq!(r.json["active"], true);
    let signed_in = w.exchange(&token).await;
    signed_in.expect(200);
    assert_eq!(signed_in.json["user_id"], id.as_str());
    w.exchange(&token).await.problem(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_wins_over_a_racing_login() {
    let parking = parking::Parking::default();
    let wrapper = parking.wrapper();
    let fx = Fixture::with(move |s| s.wrap_store = Some(wrapper), &[]).await;
    let id = fx.staging.signup("ann@example.com").await["user_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/client/{id}");
    let login = || {
        fx.staging.post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
    };
    // The login has checked the password; the deactivation lands before it
    // opens its session: the login is refused.
    let spot = parking.arm("open_session_checked");
    let (l, p) = spot
        .run_while_parked(login(), fx.staging.patch(&path, &json!({ "active": false })))
        .await;
    p.expect(200);
    l.problem(403, "account_disabled");
    let tenant = fx.server.core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let live = async || {
        fx.server
            .core
            .accounts()
            .live_sessions(&tenant, &AccountId::from(id.as_str()))
            .await
            .unwrap()
            .0
    };
    assert_eq!(live().await, 0);

    // The deactivation has read the account; a login completes before it
    // writes: the deactivation ends that session too.
    fx.staging.patch(&path, &json!({ "active": true })).await.expect(200);
    let spot = parking.arm("update_account");
    let (p, l) = spot
        .run_while_parked(fx.staging.patch(&path, &json!({ "active": false })), login())
        .await;
    let token = l.expect(200).json["client_token"].as_str().unwrap().to_owned();
    p.expect(200);
    assert_eq!(live().await, 0);
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": token }))
        .await
        .problem(401, "unauthenticated");
}
