//! `GET /oauth/authorize`: the popup's sign-in and consent pages, driven
//! over HTTP with a cookie jar, then the redirect to the client with a code
//! or an error (OpenID Connect Core §3.1.2.6); an unknown client or
//! redirect URI never redirects.

use onramp_domain::audit::Actor;
use onramp_domain::integration::AppFields;
use onramp_domain::tenancy::signing::KeyAlg;

use crate::helpers::{CLIENT_PASSWORD, Resp};
use crate::pages::{Browser, CHALLENGE, ORIGIN, World, connect_path, world_with};

pub(crate) const REDIRECT: &str = "https://shop.example.com/callback";
/// acme/staging's issuer, which every authorization response names (RFC 9207).
pub(crate) const ISSUER: &str = "https://api.staging.acme.localhost";

/// [`world`] plus Dev's OpenID Connect app "Oidc shop" (redirect URI
/// [`REDIRECT`], ID tokens in `alg`) with a key: `(world, client_id, key)`.
pub(crate) async fn oidc_world(alg: KeyAlg) -> (World, String, String) {
    oidc_world_with(alg, |_| {}).await
}

/// [`oidc_world`] on a server with other settings.
pub(crate) async fn oidc_world_with(alg: KeyAlg, tweak: impl FnOnce(&mut onramp::startup::ServerSettings)) -> (World, String, String) {
    let w = world_with(tweak).await;
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let dev = core
        .accounts()
        .list(&tenant, None, Some("dev@example.com"), None, 1)
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    let fields = AppFields {
        name: "Oidc shop".into(),
        origins: vec![ORIGIN.into()],
        redirect_uris: vec![REDIRECT.into(), "http://localhost:3000/cb?x=1".into()],
        id_token_alg: alg,
    };
    let actor = Actor::account(&dev);
    let app = core.integration().register_app_with(&tenant, &dev, &actor, &fields).await.unwrap();
    let (_, key) = core.integration().reset_vendor_key(&tenant, &dev, &actor, &app.id).await.unwrap();
    (w, app.id.to_string(), key.expose().to_owned())
}

/// The authorization request's parameters, to change one at a time.
pub(crate) fn params(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid email profile".into()),
        ("state", "st4te".into()),
        ("nonce", "n0nce".into()),
        ("code_challenge", CHALLENGE.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

pub(crate) fn with(mut p: Vec<(&'static str, String)>, key: &'static str, value: Option<&str>) -> Vec<(&'static str, String)> {
    p.retain(|(k, _)| *k != key);
    if let Some(v) = value {
        p.push((key, v.to_owned()));
    }
    p
}

pub(crate) fn authorize_path(p: &[(&'static str, String)]) -> String {
    let query: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("{k}={}", onramp_domain::partners::provisioning::encode_component(v)))
        .collect();
    format!("/oauth/authorize?{}", query.join("&"))
}

/// A form's fields: the request's parameters and `extra`.
pub(crate) async fn post(b: &mut Browser, path: &str, p: &[(&'static str, String)], extra: &[(&str, &str)]) -> Resp {
    let csrf = b.csrf();
    let mut form: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.extend_from_slice(extra);
    form.push(("csrf", &csrf));
    b.post(path, &form).await
}

/// The query of a redirect to the client, as `(key, value)` pairs.
pub(crate) fn client_query(r: &Resp, redirect_uri: &str) -> Vec<(String, String)> {
    r.expect(303);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(redirect_uri), "{location}");
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub(crate) fn get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Signs Ann in through the flow and allows the app: the redirect's query.
pub(crate) async fn sign_in_and_allow(b: &mut Browser, p: &[(&'static str, String)]) -> Vec<(String, String)> {
    let page = b.get(&authorize_path(p)).await;
    page.expect(200);
    assert!(page.text.contains("action=\"/oauth/authorize/login\""), "{}", page.text);
    let creds = [("email", "ann@example.com"), ("password", CLIENT_PASSWORD)];
    let signed_in = post(b, "/oauth/authorize/login", p, &creds).await;
    signed_in.expect(303);
    let again = signed_in.header("location").unwrap().to_owned();
    assert!(again.starts_with("/oauth/authorize?"), "relative: {again}");
    let consent = b.get(&again).await;
    consent.expect(200);
    assert!(consent.text.contains("action=\"/oauth/authorize/decision\""), "{}", consent.text);
    let allowed = post(b, "/oauth/authorize/decision", p, &[("decision", "allow")]).await;
    client_query(&allowed, REDIRECT)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_consent_redirect_with_a_code_then_prompt_none_goes_straight_through() {
    let (w, client_id, _) = oidc_world(KeyAlg::Es256).await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    let p = params(&client_id);
    let page = b.get(&authorize_path(&p)).await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self' https://shop.example.com;"), "{csp}");
    let q = sign_in_and_allow(&mut b, &p).await;
    assert!(get(&q, "code").unwrap().starts_with("onr_code_"), "{q:?}");
    assert_eq!(get(&q, "state"), Some("st4te"));
    assert_eq!(get(&q, "iss"), Some(ISSUER), "RFC 9207: {q:?}");

    // Consent is remembered: no page in between, with or without prompt=none.
    for prompt in [None, Some("none")] {
        let r = b.get(&authorize_path(&with(p.clone(), "prompt", prompt))).await;
        let q = client_query(&r, REDIRECT);
        assert!(get(&q, "code").is_some() && get(&q, "error").is_none(), "{q:?}");
        assert_eq!(get(&q, "iss"), Some(ISSUER));
    }
    // prompt=consent asks again; prompt=login signs in again.
    let r = b.get(&authorize_path(&with(p.clone(), "prompt", Some("consent")))).await;
    assert!(r.text.contains("action=\"/oauth/authorize/decision\""), "{}", r.text);
    let r = b.get(&authorize_path(&with(p.clone(), "prompt", Some("login")))).await;
    assert!(r.text.contains("action=\"/oauth/authorize/login\""), "{}", r.text);
    // A redirect URI with a query of its own keeps it.
    let local = with(p.clone(), "redirect_uri", Some("http://localhost:3000/cb?x=1"));
    let q = client_query(&b.get(&authorize_path(&local)).await, "http://localhost:3000/cb?x=1&");
    assert!(get(&q, "x") == Some("1") && get(&q, "code").is_some(), "{q:?}");
    assert_eq!(get(&q, "iss"), Some(ISSUER));

    // The same grant as the popup's: it skips consent there, and shows under Connections.
    let popup = b.get(&connect_path(&client_id, ORIGIN)).await;
    assert!(popup.text.contains("connect-result"), "{}", popup.text);
    assert!(b.get("/account/connections").await.text.contains("Oidc shop"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_or_redirect_uri_shows_a_page_and_never_redirects() {
    let (w, client_id, _) = oidc_world(KeyAlg::Es256).await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let p = params(&client_id);
    for (key, value) in [
        ("client_id", None),
        ("client_id", Some("00000000-0000-4000-8000-000000000000")),
        ("redirect_uri", None),
        ("redirect_uri", Some("https://evil.example/callback")),
        ("redirect_uri", Some("https://shop.example.com/callback/")),
        ("redirect_uri", Some("https://shop.example.com/callback?x=1")),
    ] {
        // Even an otherwise broken request: the client is checked first.
        let bad = with(with(p.clone(), key, value), "response_type", Some("token"));
        let r = b.get(&authorize_path(&bad)).await;
        r.expect(400);
        assert_eq!(r.header("location"), None, "{key}={value:?}");
        assert!(r.text.contains("Cannot sign in"), "{}", r.text);
    }
    // The popup's app has no redirect URI at all.
    let r = b.get(&authorize_path(&with(p.clone(), "client_id", Some(&w.app_id)))).await;
    r.expect(400);
    assert_eq!(r.header("location"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_past_the_client_check_go_back_to_the_client_with_the_state() {
    let (w, client_id, _) = oidc_world(KeyAlg::Es256).await;
    let mut b = Browser::new(w.fx.server.staging("acme"));
    let p = params(&client_id);
    let error_of = async |b: &mut Browser, p: Vec<(&'static str, String)>| {
        let q = client_query(&b.get(&authorize_path(&p)).await, REDIRECT);
        assert_eq!(get(&q, "state"), Some("st4te"), "{q:?}");
        assert_eq!(get(&q, "iss"), Some(ISSUER), "errors name the issuer too: {q:?}");
        assert_eq!(get(&q, "code"), None);
        get(&q, "error").unwrap().to_owned()
    };
    // Signed out, prompt=none cannot show the login page.
    assert_eq!(error_of(&mut b, with(p.clone(), "prompt", Some("none"))).await, "login_required");
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    for (key, value, error) in [
        ("code_challenge", None, "invalid_request"),
        ("code_challenge_method", None, "invalid_request"),
        ("code_challenge_method", Some("plain"), "invalid_request"),
        ("code_challenge", Some("too-short"), "invalid_request"),
        ("scope", Some("openid admin"), "invalid_scope"),
        ("scope", None, "invalid_scope"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("response_type", None, "unsupported_response_type"),
        ("prompt", Some("none login"), "invalid_request"),
        ("prompt", Some("select_account"), "invalid_request"),
        ("max_age", Some("soon"), "invalid_request"),
        // Signed in, but no grant: prompt=none cannot ask.
        ("prompt", Some("none"), "consent_required"),
    ] {
        assert_eq!(error_of(&mut b, with(p.clone(), key, value)).await, error, "{key}={value:?}");
    }
    // Declining sends access_denied, and grants nothing.
    let consent = b.get(&authorize_path(&p)).await;
    assert!(consent.text.contains("Oidc shop"), "{}", consent.text);
    let denied = post(&mut b, "/oauth/authorize/decision", &p, &[("decision", "deny")]).await;
    let q = client_query(&denied, REDIRECT);
    assert_eq!((get(&q, "error"), get(&q, "state")), (Some("access_denied"), Some("st4te")));
    assert_eq!(get(&q, "iss"), Some(ISSUER));
    assert_eq!(error_of(&mut b, with(p.clone(), "prompt", Some("none"))).await, "consent_required");
    // A form whose CSRF token is wrong is refused, without a redirect.
    let forged = b
        .post(
            "/oauth/authorize/decision",
            &p.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .chain([("decision", "allow"), ("csrf", "forged")])
                .collect::<Vec<_>>(),
        )
        .await;
    forged.expect(403);
    // A fresh enough session needs no new sign-in; max_age is honoured.
    let fresh = with(with(p.clone(), "prompt", Some("none")), "max_age", Some("3600"));
    assert_eq!(error_of(&mut b, fresh).await, "consent_required");
}
