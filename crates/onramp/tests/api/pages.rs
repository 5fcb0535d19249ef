//! The account pages and the consent popup over plain HTTP: cookies, CSRF,
//! origin checks, consent and its memory, and the code the popup hands out.
//! CSRF binding and cookie names, the developer pages and account deletion
//! have modules of their own.

mod cookies_and_csrf;
mod delete_account;
mod developers;

use onramp_domain::audit::Actor;
use onramp_domain::ids::AccountId;
use onramp_domain::partners::provisioning::encode_component;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Api, CLIENT_PASSWORD, Fixture, Resp, pid, send};

pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub(crate) const ORIGIN: &str = "https://shop.example.com";

/// A browser-like client: keeps the cookies it is given, and the CSRF token
/// of the last page it read (tokens are bound to the session or to the
/// pre-session cookie, so only a page can give one).
pub(crate) struct Browser {
    api: Api,
    cookies: Vec<(String, String)>,
    token: String,
    /// Sent with every request (what a proxy in front would add).
    headers: Vec<(&'static str, &'static str)>,
}

impl Browser {
    pub(crate) fn new(api: Api) -> Self {
        Self {
            api: api.without_token(),
            cookies: Vec::new(),
            token: String::new(),
            headers: Vec::new(),
        }
    }

    /// Every request of this browser carries `name: value`.
    pub(crate) fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.api.request(method, path).header("cookie", self.cookie_header());
        for (name, value) in &self.headers {
            rb = rb.header(*name, *value);
        }
        rb
    }

    fn keep(&mut self, r: &Resp) {
        for value in r.headers.get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            self.cookies.push((name.to_owned(), val.to_owned()));
        }
        let marker = r#"name="csrf" value=""#;
        if let Some(start) = r.text.find(marker).map(|i| i + marker.len()) {
            self.token = r.text[start..start + r.text[start..].find('"').unwrap()].to_owned();
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// The CSRF token of the last page read.
    pub(crate) fn csrf(&self) -> String {
        self.token.clone()
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    /// Sets a cookie as another site could (a sibling subdomain's `Domain=` cookie).
    pub(crate) fn plant_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    pub(crate) async fn get(&mut self, path: &str) -> Resp {
        let r = send(self.request(Method::GET, path)).await;
        self.keep(&r);
        r
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let rb = self.request(Method::POST, path);
        let r = send(rb.header("content-type", "application/x-www-form-urlencoded").body(body)).await;
        self.keep(&r);
        r
    }

    /// Signs in on the login page, then reads the profile page (so the
    /// token is the session's).
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) {
        self.get("/account/login").await.expect(200);
        let csrf = self.csrf();
        let r = self
            .post(
                "/account/login",
                &[("csrf", &csrf), ("email", email), ("password", password), ("next", "/account")],
            )
            .await;
        r.expect(303);
        assert_eq!(r.header("location"), Some("/account"));
        self.get("/account").await.expect(200);
    }

    /// The `Set-Cookie` header of `name` in `r`.
    pub(crate) fn set_cookie<'a>(r: &'a Resp, name: &str) -> &'a str {
        r.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie set"))
    }
}

pub(crate) struct World {
    pub(crate) fx: Fixture,
    pub(crate) app_id: String,
    pub(crate) key: String,
}

/// `acme` with user integration; Ann, and Dev whose app "Shop" has a key.
pub(crate) async fn world() -> World {
    world_with(|_| {}).await
}

/// [`world`] on a server with other settings.
pub(crate) async fn world_with(tweak: impl FnOnce(&mut onramp::startup::ServerSettings)) -> World {
    let fx = Fixture::with(tweak, &[]).await;
    let actor = Actor::operator();
    fx.server
        .core
        .tenancy()
        .set_features(&actor, &pid("acme"), &["user-integration".into(), "client-accounts".into()], &[])
        .await
        .unwrap();
    fx.staging.signup("ann@example.com").await;
    let dev = AccountId::from(fx.staging.signup("dev@example.com").await["user_id"].as_str().unwrap());
    let tenant = fx.server.core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let app = fx
        .server
        .core
        .integration()
        .register_app(&tenant, &dev, &actor, "Shop", &[ORIGIN.into()])
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
        app_id: app.id.into(),
        key: key.expose().to_owned(),
    }
}

pub(crate) fn connect_path(app_id: &str, origin: &str) -> String {
    format!(
        "/connect?client_id={app_id}&origin={}&state=st4te&code_challenge={CHALLENGE}&code_challenge_method=S256",
        encode_component(origin)
    )
}

pub(crate) fn attribute<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} in {html}")) + name.len() + 2;
    &html[start..start + html[start..].find('"').unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_consent_and_exchange_then_consent_is_remembered() {
    let w = world().await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    // Not signed in: the popup shows a login form that posts to /connect/login.
    let r = b.get(&connect_path(&w.app_id, ORIGIN)).await;
    r.expect(200);
    assert!(r.text.contains("action=\"/connect/login\""));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    let csrf = b.csrf();
    let login = b
        .post(
            "/connect/login",
            &[
                ("csrf", &csrf),
                ("email", "ann@example.com"),
                ("password", CLIENT_PASSWORD),
                ("client_id", &w.app_id),
                ("origin", ORIGIN),
                ("state", "st4te"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    login.expect(303);
    let session_cookie = login
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("onramp_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    // Consent names the app and what it will see.
    let consent = b.get(login.header("location").unwrap()).await;
    consent.expect(200);
    // Signed in now: the consent form's token is the session's.
    assert_ne!(b.csrf(), csrf, "a token bound to the new session");
    let csrf = b.csrf();
    assert!(consent.text.contains("Shop") && consent.text.contains("email address") && consent.text.contains("last name"));
    let allow = b
        .post(
            "/connect/decision",
            &[
                ("csrf", &csrf),
                ("decision", "allow"),
                ("client_id", &w.app_id),
                ("origin", ORIGIN),
                ("state", "st4te"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    allow.expect(200);
    assert_eq!(
        attribute(&allow.text, "data-origin"),
        ORIGIN,
        "posted to the registered origin only"
    );
    assert_eq!(attribute(&allow.text, "data-state"), "st4te");
    let code = attribute(&allow.text, "data-code").to_owned();
    let vendor = w.fx.server.staging("acme").without_token();
    let r = send(
        vendor
            .request(Method::POST, "/v1/integration/exchange")
            .header("x-api-key", &w.key)
            .json(&json!({ "code": code, "code_verifier": VERIFIER })),
    )
    .await;
    r.expect(200);
    assert_eq!(r.json["user"]["email"], "ann@example.com");
    // A second connect skips the consent screen but still needs the session.
    let again = b.get(&connect_path(&w.app_id, ORIGIN)).await;
    again.expect(200);
    assert!(again.text.contains("connect-result") && !attribute(&again.text, "data-code").is_empty());
    let mut stranger = Browser::new(w.fx.server.staging("acme"));
    assert!(
        stranger
            .get(&connect_path(&w.app_id, ORIGIN))
            .await
            .text
            .contains("action=\"/connect/login\"")
    );
    // The connection is listed and can be revoked; then the consent is asked again.
    let list = b.get("/account/connections").await;
    assert!(list.text.contains("Shop"));
    let csrf = b.csrf();
    let revoked = b
        .post(&format!("/account/connections/{}/revoke", w.app_id), &[("csrf", &csrf)])
        .await;
    assert!(revoked.text.contains("Access revoked"));
    assert!(
        b.get(&connect_path(&w.app_id, ORIGIN))
            .await
            .text
            .contains("action=\"/connect/decision\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_origin_mismatch_unknown_app_and_csrf() {
    let w = world().await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let csrf = b.csrf();
    let deny = b
        .post(
            "/connect/decision",
            &[
                ("csrf", &csrf),
                ("decision", "deny"),
                ("client_id", &w.app_id),
                ("origin", ORIGIN),
                ("state", "st4te"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(attribute(&deny.text, "data-error"), "access_denied");
    assert_eq!(attribute(&deny.text, "data-code"), "");
    // An origin the app did not register: an error page that sends nothing.
    let wrong = b.get(&connect_path(&w.app_id, "https://evil.example")).await;
    wrong.expect(400);
    assert!(!wrong.text.contains("connect-result") && wrong.text.contains("not registered"));
    b.get(&connect_path("00000000-0000-4000-8000-000000000000", ORIGIN))
        .await
        .expect(400);
    let plain = b
        .get(&format!(
            "/connect?client_id={}&origin=https%3A%2F%2Fshop.example.com&state=s&code_challenge=abc&code_challenge_method=plain",
            w.app_id
        ))
        .await;
    plain.expect(400);
    // Forms without the CSRF token change nothing.
    let r = b.post("/account/profile", &[("first_name", "Mallory"), ("last_name", "X")]).await;
    r.expect(403);
    let r = b
        .post(
            "/account/profile",
            &[
                ("csrf", "wrong-token-wrong-token-wrong-tok"),
                ("first_name", "Mallory"),
                ("last_name", "X"),
            ],
        )
        .await;
    r.expect(403);
    assert!(!b.get("/account").await.text.contains("Mallory"));
    let ok = b
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("first_name", "Annie"), ("last_name", "Lee")],
        )
        .await;
    ok.expect(200);
    assert!(b.get("/account").await.text.contains("Annie"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_posts_are_rate_limited_per_address() {
    let server = crate::helpers::TestServer::start_with(|s| s.default_rate_limit = 3).await;
    let api = server.staging("acme").without_token();
    let post = || async {
        send(
            api.request(Method::POST, "/account/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("email=a%40b.c&password=x&csrf=y"),
        )
        .await
    };
    for _ in 0..3 {
        assert_ne!(post().await.status, 429);
    }
    let limited = post().await;
    limited.problem(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // Pages that are only read are not counted.
    for _ in 0..5 {
        assert_ne!(send(api.request(Method::GET, "/account/login")).await.status, 429);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_checks_the_current_one_and_renews_the_session() {
    const NEW_PASSWORD: &str = "a-Fresh-passphrase-42";
    let w = world().await;
    let staging = || w.fx.server.staging("acme");
    let mut b = Browser::new(staging());
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let mut elsewhere = Browser::new(staging());
    elsewhere.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let csrf = b.csrf();
    let change = |csrf: &str, current: &str, new: &str| {
        [("csrf", csrf), ("current_password", current), ("new_password", new)].map(|(k, v)| (k, v.to_owned()))
    };
    let post = async |b: &mut Browser, form: [(&'static str, String); 3]| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/account/password", &form).await
    };

    let wrong = post(&mut b, change(&csrf, "not-my-password", NEW_PASSWORD)).await;
    wrong.expect(400);
    assert!(wrong.text.contains("The current password is wrong."));
    let weak = post(&mut b, change(&csrf, CLIENT_PASSWORD, "short")).await;
    weak.expect(400);
    assert!(weak.text.contains("validation failed"), "{}", weak.text);
    post(&mut b, change("", CLIENT_PASSWORD, NEW_PASSWORD)).await.expect(403);
    elsewhere.get("/account").await.expect(200);

    let old_session = b.cookies.iter().find(|(n, _)| n == "onramp_session").unwrap().1.clone();
    let ok = post(&mut b, change(&csrf, CLIENT_PASSWORD, NEW_PASSWORD)).await;
    ok.expect(200);
    assert!(ok.text.contains("other sessions were signed out"));
    let fresh = Browser::set_cookie(&ok, "onramp_session");
    assert!(!fresh.contains(&old_session));
    // The answer's forms belong to the new session.
    let renewed = b.csrf();
    assert_ne!(renewed, csrf);
    let rename = [("csrf", renewed.as_str()), ("first_name", "Ann"), ("last_name", "Lee")];
    b.post("/account/profile", &rename).await.expect(200);
    b.get("/account").await.expect(200);
    let signed_out = elsewhere.get("/account").await;
    signed_out.expect(303);
    assert_eq!(signed_out.header("location"), Some("/account/login?next=/account"));
    let mut stale = Browser::new(staging());
    stale.cookies.push(("onramp_session".into(), old_session));
    stale.get("/account").await.expect(303);

    let mut with_old = Browser::new(staging());
    with_old.get("/account/login").await;
    let token = with_old.csrf();
    let refused = with_old
        .post(
            "/account/login",
            &[("csrf", &token), ("email", "ann@example.com"), ("password", CLIENT_PASSWORD)],
        )
        .await;
    refused.expect(401);
    Browser::new(staging()).sign_in("ann@example.com", NEW_PASSWORD).await;
}
