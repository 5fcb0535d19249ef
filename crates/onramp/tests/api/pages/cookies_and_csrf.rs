//! The pages' cookies and CSRF tokens: plain names over HTTP, `__Host-`
//! names over HTTPS (only a trusted proxy can say so), and tokens bound to
//! the session or to the pre-session cookie, so a cookie planted beside a
//! field of the attacker's choosing passes nothing.

use reqwest::Method;

use super::{Browser, world, world_with};
use crate::helpers::{CLIENT_PASSWORD, send};

/// The attributes of a `Set-Cookie` value, without its `name=value`.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    let mut attributes: Vec<String> = set_cookie.split(';').skip(1).map(|a| a.trim().to_owned()).collect();
    attributes.sort();
    attributes
}

const PRE_SESSION: [&str; 4] = ["HttpOnly", "Max-Age=43200", "Path=/", "SameSite=Lax"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_cookies_keep_their_names_whoever_claims_https() {
    let w = world().await;
    let api = w.fx.server.staging("acme").without_token();
    let plain = send(api.request(Method::GET, "/account/login")).await;
    assert_eq!(cookie_attributes(Browser::set_cookie(&plain, "onramp_csrf")), PRE_SESSION);
    // No proxy is trusted: a client's X-Forwarded-Proto changes nothing.
    let claimed = send(api.request(Method::GET, "/account/login").header("x-forwarded-proto", "https")).await;
    assert_eq!(cookie_attributes(Browser::set_cookie(&claimed, "onramp_csrf")), PRE_SESSION);
    // A page whose cookie is already set sets none.
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.get("/account/login").await;
    assert!(b.get("/account/login").await.headers.get("set-cookie").is_none());
    b.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let csrf = b.csrf();
    let out = b.post("/account/logout", &[("csrf", &csrf)]).await;
    out.expect(303);
    assert_eq!(out.header("location"), Some("/account/login"));
    let cleared = Browser::set_cookie(&out, "onramp_session");
    assert!(cleared.starts_with("onramp_session=;"), "{cleared}");
    assert_eq!(cookie_attributes(cleared), ["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_https_proxy_cookies_are_host_prefixed_and_secure() {
    let w = world_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let mut b = Browser::new(w.fx.server.staging("acme")).with_header("x-forwarded-proto", "https");
    let login = b.get("/account/login").await;
    let csrf_cookie = Browser::set_cookie(&login, "__Host-onramp_csrf");
    assert_eq!(
        cookie_attributes(csrf_cookie),
        ["HttpOnly", "Max-Age=43200", "Path=/", "SameSite=Lax", "Secure"],
        "Secure, Path=/ and no Domain, as the prefix requires"
    );
    assert!(
        login
            .headers
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("onramp_"))
    );
    let csrf = b.csrf();
    let signed_in = b
        .post(
            "/account/login",
            &[("csrf", &csrf), ("email", "ann@example.com"), ("password", CLIENT_PASSWORD)],
        )
        .await;
    signed_in.expect(303);
    let session = Browser::set_cookie(&signed_in, "__Host-onramp_session");
    assert!(
        session.contains("Secure") && session.contains("Path=/") && !session.contains("Domain"),
        "{session}"
    );
    b.get("/account").await.expect(200);

    // The names of one scheme are not read on the other: a plain-named
    // cookie (one a sibling subdomain could set) is not the session here.
    let token = b.cookie("__Host-onramp_session").unwrap();
    let mut planted = Browser::new(w.fx.server.staging("acme")).with_header("x-forwarded-proto", "https");
    planted.plant_cookie("onramp_session", &token);
    planted.get("/account").await.expect(303);
    let mut plain = Browser::new(w.fx.server.staging("acme"));
    plain.plant_cookie("__Host-onramp_session", &token);
    plain.get("/account").await.expect(303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_from_an_untrusted_peer_gets_plain_cookies() {
    // Only 10.0.0.0/8 is trusted; the test client connects from 127.0.0.1.
    let w = world_with(|s| s.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()]).await;
    let api = w.fx.server.staging("acme").without_token();
    let r = send(api.request(Method::GET, "/account/login").header("x-forwarded-proto", "https")).await;
    assert_eq!(cookie_attributes(Browser::set_cookie(&r, "onramp_csrf")), PRE_SESSION);
    assert!(
        r.headers
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("__Host-"))
    );
}

/// 32 characters, the shape of a real pre-session cookie, chosen by the attacker.
const CHOSEN: &str = "AttackerChosenValue0123456789abc";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_cookie_and_field_pair_is_refused() {
    let w = world().await;
    // Before sign-in: the cookie value repeated in the field passed a plain double submit.
    let mut visitor = Browser::new(w.fx.server.staging("acme"));
    visitor.plant_cookie("onramp_csrf", CHOSEN);
    let forged = [("csrf", CHOSEN), ("email", "ann@example.com"), ("password", CLIENT_PASSWORD)];
    visitor.post("/account/login", &forged).await.expect(403);

    // Signed in: a planted pair changes nothing either.
    let mut ann = Browser::new(w.fx.server.staging("acme"));
    ann.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    ann.plant_cookie("onramp_csrf", CHOSEN);
    let rename = |csrf: &'static str| [("csrf", csrf), ("first_name", "Mallory"), ("last_name", "X")];
    ann.post("/account/profile", &rename(CHOSEN)).await.expect(403);

    // Nor does a real pair the attacker got from the server for itself:
    // signed-in forms are bound to the session, not to the cookie.
    let mut attacker = Browser::new(w.fx.server.staging("acme"));
    attacker.get("/account/login").await.expect(200);
    let (cookie, token) = (attacker.cookie("onramp_csrf").unwrap(), attacker.csrf());
    let forged = [("csrf", token.as_str()), ("first_name", "Mallory"), ("last_name", "X")];
    ann.plant_cookie("onramp_csrf", &cookie);
    ann.post("/account/profile", &forged).await.expect(403);
    assert!(!ann.get("/account").await.text.contains("Mallory"));
    // The pair is good for what it was made for: the attacker's own sign-in form.
    let own = [
        ("csrf", token.as_str()),
        ("email", "ann@example.com"),
        ("password", "not-the-password"),
    ];
    attacker.post("/account/login", &own).await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_another_session_is_refused() {
    let w = world().await;
    let mut first = Browser::new(w.fx.server.staging("acme"));
    first.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let mut second = Browser::new(w.fx.server.staging("acme"));
    second.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    let (first_token, second_token) = (first.csrf(), second.csrf());
    assert_ne!(first_token, second_token, "each session has its own token");
    let form = |csrf: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("first_name", "Anna".into()),
            ("last_name", "Lee".into()),
        ]
    };
    let post = async |b: &mut Browser, form: [(&'static str, String); 3]| {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/account/profile", &form).await
    };
    post(&mut first, form(&second_token)).await.expect(403);
    post(&mut second, form(&first_token)).await.expect(403);
    post(&mut first, form(&first_token)).await.expect(200);
    // A new session after signing out again gets a new token; the old one is dead.
    first.post("/account/logout", &[("csrf", &first_token)]).await.expect(303);
    first.sign_in("ann@example.com", CLIENT_PASSWORD).await;
    assert_ne!(first.csrf(), first_token);
    post(&mut first, form(&first_token)).await.expect(403);
}

/// Tokens are keyed with a key derived from the master key, which every
/// node of a deployment shares (and which outlives a restart): a form one
/// node served is accepted by another; under another master key it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_served_by_one_node_is_accepted_by_another() {
    let w = world().await;
    let first = &w.fx.server;
    let same_deployment = |s: &mut onramp::startup::ServerSettings| {
        s.database_url = first.settings.database_url.clone();
        s.master_key = first.settings.master_key.clone();
    };
    let second = crate::helpers::TestServer::start_with(same_deployment).await;
    let mut served = Browser::new(first.staging("acme"));
    served.get("/account/login").await.expect(200);
    let (csrf, cookie) = (served.csrf(), served.cookie("onramp_csrf").unwrap());
    let form = [("csrf", csrf.as_str()), ("email", "ann@example.com"), ("password", CLIENT_PASSWORD)];
    let mut posted = Browser::new(second.staging("acme"));
    posted.plant_cookie("onramp_csrf", &cookie);
    posted.post("/account/login", &form).await.expect(303);

    // A server with a master key of its own (another deployment) refuses it.
    let stranger = crate::helpers::TestServer::start().await;
    stranger.create_instance("acme", &["client-accounts"]).await;
    let mut elsewhere = Browser::new(stranger.staging("acme"));
    elsewhere.plant_cookie("onramp_csrf", &cookie);
    let refused = elsewhere.post("/account/login", &form).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
}
