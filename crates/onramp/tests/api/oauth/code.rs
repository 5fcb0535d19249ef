//! `POST /oauth/token` with `grant_type=authorization_code`: a vendor app
//! (its key as client secret) exchanges a code of `/oauth/authorize` for an
//! RFC 9068 access token and an ID token, both verified here through the
//! published JWKS; and every way a code exchange fails.

use base64::Engine as _;
use onramp_domain::infra::secret::token_hash;
use onramp_domain::integration::AuthCode;
use onramp_domain::integration::oidc::CodeBinding;
use onramp_domain::store::{IntegrationStore, OAuthStore};
use onramp_domain::tenancy::signing::KeyAlg;
use serde_json::Value;

use std::time::Duration;

use super::authorize::{REDIRECT, authorize_path, client_query, get, oidc_world, params, post, sign_in_and_allow, with};
use super::{form, jwks, oauth_error, raw};
use crate::helpers::{Api, Resp};
use crate::pages::{Browser, VERIFIER, World};

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// A JWS's header and claims, its signature checked with the JWKS key its
/// `kid` names, of the algorithm its `alg` names.
pub(crate) async fn verified(api: &Api, token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    let claims: Value = serde_json::from_slice(&unb64(parts[1])).unwrap();
    let keys = jwks(api).await;
    let key = keys.iter().find(|k| k["kid"] == header["kid"]).expect("the kid is published");
    assert_eq!(key["alg"], header["alg"], "the key's algorithm");
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature = unb64(parts[2]);
    match header["alg"].as_str().unwrap() {
        "ES256" => {
            let mut sec1 = vec![4u8];
            sec1.extend(unb64(key["x"].as_str().unwrap()));
            sec1.extend(unb64(key["y"].as_str().unwrap()));
            let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
            let sig = p256::ecdsa::Signature::from_slice(&signature).unwrap();
            p256::ecdsa::signature::Verifier::verify(&public, signed.as_bytes(), &sig).expect("ES256 verifies");
        }
        "EdDSA" => {
            let x: [u8; 32] = unb64(key["x"].as_str().unwrap()).try_into().unwrap();
            let public = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
            let sig = ed25519_dalek::Signature::from_slice(&signature).unwrap();
            public.verify_strict(signed.as_bytes(), &sig).expect("EdDSA verifies");
        }
        other => panic!("unexpected alg {other}"),
    }
    (header, claims)
}

/// Ann signs in (in a fresh browser) and gets a code for the app: she
/// allows it the first time; then consent is remembered.
async fn a_code(w: &World, client_id: &str) -> String {
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", crate::helpers::CLIENT_PASSWORD).await;
    let r = b.get(&authorize_path(&params(client_id))).await;
    let q = if r.status == 303 {
        client_query(&r, REDIRECT)
    } else {
        let mut fresh = Browser::new(w.fx.server.staging("acme"));
        sign_in_and_allow(&mut fresh, &params(client_id)).await
    };
    get(&q, "code").unwrap().to_owned()
}

fn exchange_params<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

async fn exchange(api: &Api, client: (&str, &str), code: &str, verifier: &str) -> Resp {
    form(api, "/oauth/token", &exchange_params(code, verifier), Some(client)).await
}

async fn ann_id(w: &World) -> String {
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let list = core.accounts().list(&tenant, None, Some("ann@example.com"), None, 1).await.unwrap();
    list.items[0].id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_becomes_an_access_token_and_an_id_token_signed_as_the_client_chose() {
    for (alg, by_post) in [(KeyAlg::Es256, false), (KeyAlg::EdDsa, true)] {
        let (w, client_id, key) = oidc_world(alg).await;
        let api = w.fx.server.staging("acme");
        let code = a_code(&w, &client_id).await;
        let r = if by_post {
            let mut p = exchange_params(&code, VERIFIER);
            p.extend([("client_id", client_id.as_str()), ("client_secret", key.as_str())]);
            form(&api, "/oauth/token", &p, None).await
        } else {
            exchange(&api, (&client_id, &key), &code, VERIFIER).await
        };
        r.expect(200);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(
            (&r.json["token_type"], &r.json["scope"]),
            (&"Bearer".into(), &"openid email profile".into())
        );
        assert!(r.json["expires_in"].as_u64().is_some_and(|s| s > 0));
        let issuer = api.without_token().get("/.well-known/openid-configuration").await.json["issuer"].clone();

        let (header, id) = verified(&api, r.json["id_token"].as_str().unwrap()).await;
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(
            (&id["iss"], &id["aud"], &id["nonce"]),
            (&issuer, &client_id.clone().into(), &"n0nce".into())
        );
        assert_eq!(id["sub"], ann_id(&w).await);
        assert_eq!(id["email"], "ann@example.com");
        assert_eq!(id["email_verified"], false, "a boolean");
        let (given, family) = (id["given_name"].as_str().unwrap(), id["family_name"].as_str().unwrap());
        assert_eq!(id["name"], format!("{given} {family}").trim());
        let (iat, exp, auth_time) = (
            id["iat"].as_i64().unwrap(),
            id["exp"].as_i64().unwrap(),
            id["auth_time"].as_i64().unwrap(),
        );
        assert!(auth_time <= iat && iat < exp, "{id}");

        let (header, access) = verified(&api, r.json["access_token"].as_str().unwrap()).await;
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(
            (&access["aud"], &access["client_id"]),
            (&client_id.clone().into(), &client_id.clone().into())
        );
        assert_eq!((&access["sub"], &access["iss"]), (&id["sub"], &issuer));
        assert!(access["jti"].as_str().is_some_and(|j| !j.is_empty()));
        // The access token is the app's, not a key to the platform's API.
        let me = api.with_token(r.json["access_token"].as_str().unwrap()).get("/v1/client/me").await;
        assert_eq!(me.status, 401, "{}", me.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_single_use_and_bound_to_client_redirect_uri_and_verifier() {
    let (w, client_id, key) = oidc_world(KeyAlg::Es256).await;
    let api = w.fx.server.staging("acme");
    let client = (client_id.as_str(), key.as_str());

    // Client authentication: the app's key, for the app's id.
    let code = a_code(&w, &client_id).await;
    oauth_error(
        &exchange(&api, (&client_id, "onr_app_test_wrong"), &code, VERIFIER).await,
        401,
        "invalid_client",
    );
    oauth_error(&exchange(&api, (&w.app_id, &key), &code, VERIFIER).await, 401, "invalid_client");
    oauth_error(
        &form(&api, "/oauth/token", &exchange_params(&code, VERIFIER), None).await,
        401,
        "invalid_client",
    );
    // Missing parameters.
    let no_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    oauth_error(
        &form(&api, "/oauth/token", &no_verifier, Some(client)).await,
        400,
        "invalid_request",
    );
    // A wrong verifier uses the code up.
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
    oauth_error(&exchange(&api, client, &code, wrong).await, 400, "invalid_grant");
    oauth_error(&exchange(&api, client, &code, VERIFIER).await, 400, "invalid_grant");

    // Another redirect URI than the code's.
    let code = a_code(&w, &client_id).await;
    let mut p = exchange_params(&code, VERIFIER);
    p[2] = ("redirect_uri", "http://localhost:3000/cb?x=1");
    oauth_error(&form(&api, "/oauth/token", &p, Some(client)).await, 400, "invalid_grant");
    // The popup's app (a client with a key of its own) cannot use another's code.
    let code = a_code(&w, &client_id).await;
    oauth_error(&exchange(&api, (&w.app_id, &w.key), &code, VERIFIER).await, 400, "invalid_grant");
    oauth_error(&exchange(&api, client, "onr_code_unknown", VERIFIER).await, 400, "invalid_grant");

    // A replay is refused and revokes the access token the code gave.
    let code = a_code(&w, &client_id).await;
    let first = exchange(&api, client, &code, VERIFIER).await;
    first.expect(200);
    let (_, access) = verified(&api, first.json["access_token"].as_str().unwrap()).await;
    let jti = access["jti"].as_str().unwrap();
    let tenant = w.fx.server.core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let store = &w.fx.server.store;
    let now = onramp_domain::clock::Clock::now_ms(&w.fx.server.clock);
    let token_revoked = async || store.revoked_jtis(&tenant.env.id, now).await.unwrap().iter().any(|r| r == jti);
    assert!(!token_revoked().await);
    oauth_error(&exchange(&api, client, &code, VERIFIER).await, 400, "invalid_grant");
    assert!(token_revoked().await, "the replay revoked the first token");

    // An expired code (stored as if issued 61 s ago: no waiting).
    let expired = "onr_code_expiredexpiredexpiredexpiredexpiredexp";
    let now = onramp_domain::clock::now_ms();
    let record = AuthCode {
        code_hash: token_hash(expired),
        env_id: tenant.env.id.clone(),
        app_id: client_id.as_str().into(),
        account_id: ann_id(&w).await.as_str().into(),
        code_challenge: crate::pages::CHALLENGE.into(),
        created_at: now - 61_000,
        expires_at: now - 1_000,
        oidc: Some(CodeBinding {
            redirect_uri: REDIRECT.into(),
            scope: "openid".into(),
            nonce: None,
            auth_time: now - 61_000,
        }),
    };
    store.create_auth_code(&record).await.unwrap();
    oauth_error(&exchange(&api, client, expired, VERIFIER).await, 400, "invalid_grant");
}

async fn userinfo(api: &Api, token: &str, post: bool) -> Resp {
    let rb = if post {
        api.without_token().request(reqwest::Method::POST, "/oauth/userinfo")
    } else {
        api.without_token().request(reqwest::Method::GET, "/oauth/userinfo")
    };
    crate::helpers::send(rb.header("authorization", format!("Bearer {token}"))).await
}

#[track_caller]
fn invalid_token(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.json["error"], "invalid_token", "{}", r.text);
    assert_eq!(r.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_answers_what_the_scopes_allow_until_the_grant_or_account_ends() {
    let (w, client_id, key) = oidc_world(KeyAlg::Es256).await;
    let api = w.fx.server.staging("acme");
    let client = (client_id.as_str(), key.as_str());
    let code = a_code(&w, &client_id).await;
    let token = exchange(&api, client, &code, VERIFIER).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for post in [false, true] {
        let r = userinfo(&api, &token, post).await;
        r.expect(200);
        assert_eq!(r.json["sub"], ann_id(&w).await);
        assert_eq!(
            (&r.json["email"], &r.json["email_verified"]),
            (&"ann@example.com".into(), &false.into())
        );
        assert!(r.json["name"].is_string() && r.json["given_name"].is_string(), "{}", r.text);
    }
    // Only what the scopes allow: `openid` alone gives the subject.
    let mut b = Browser::new(w.fx.server.staging("acme"));
    b.sign_in("ann@example.com", crate::helpers::CLIENT_PASSWORD).await;
    let p = super::authorize::with(params(&client_id), "scope", Some("openid"));
    let q = client_query(&b.get(&authorize_path(&p)).await, REDIRECT);
    let narrow = exchange(&api, client, get(&q, "code").unwrap(), VERIFIER).await;
    assert!(narrow.json["id_token"].is_string());
    let r = userinfo(&api, narrow.json["access_token"].as_str().unwrap(), false).await;
    let keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["sub"], "{}", r.text);

    // Not a token, a service token, no token.
    invalid_token(&userinfo(&api, "nonsense", false).await);
    let none = api.without_token().get("/oauth/userinfo").await;
    assert_eq!((none.status, none.header("www-authenticate")), (401, Some("Bearer")));

    // Revoking the grant at /account/connections ends the token.
    let csrf = b.csrf();
    let revoked = b
        .post(&format!("/account/connections/{client_id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert!(revoked.text.contains("Access revoked"), "{}", revoked.text);
    invalid_token(&userinfo(&api, &token, false).await);

    // A deactivated account's token stops too.
    let code = a_code(&w, &client_id).await;
    let token = exchange(&api, client, &code, VERIFIER).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    userinfo(&api, &token, false).await.expect(200);
    let core = &w.fx.server.core;
    let tenant = core.tenancy().resolve_host("api.staging.acme.localhost").await.unwrap();
    let ann = onramp_domain::ids::AccountId::from(ann_id(&w).await.as_str());
    let off = onramp_domain::accounts::service::AccountChanges {
        active: Some(false),
        ..Default::default()
    };
    let operator = onramp_domain::audit::Actor::operator();
    core.accounts().update_account(&tenant, &operator, &ann, off).await.unwrap();
    invalid_token(&userinfo(&api, &token, false).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_lives_sixty_seconds_on_the_servers_clock() {
    let (w, client_id, key) = oidc_world(KeyAlg::Es256).await;
    let api = w.fx.server.staging("acme");
    let client = (client_id.as_str(), key.as_str());
    let code = a_code(&w, &client_id).await;
    w.fx.server.clock.advance(Duration::from_secs(59));
    exchange(&api, client, &code, VERIFIER).await.expect(200);
    let code = a_code(&w, &client_id).await;
    w.fx.server.clock.advance(Duration::from_secs(61));
    oauth_error(&exchange(&api, client, &code, VERIFIER).await, 400, "invalid_grant");
}

/// The ID token's claims for the code of redirect query `q`.
async fn id_claims(api: &Api, client: (&str, &str), q: &[(String, String)]) -> Value {
    let r = exchange(api, client, get(q, "code").expect("a code"), VERIFIER).await;
    r.expect(200);
    verified(api, r.json["id_token"].as_str().unwrap()).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_makes_an_older_session_sign_in_again_and_auth_time_is_the_new_sign_in() {
    let (w, client_id, key) = oidc_world(KeyAlg::Es256).await;
    let api = w.fx.server.staging("acme");
    let client = (client_id.as_str(), key.as_str());
    let mut b = Browser::new(w.fx.server.staging("acme"));
    let first = id_claims(&api, client, &sign_in_and_allow(&mut b, &params(&client_id)).await).await;
    let first_auth = first["auth_time"].as_i64().unwrap();

    w.fx.server.clock.advance(Duration::from_secs(600));
    let p = with(params(&client_id), "max_age", Some("300"));
    // Without max_age the ten-minute-old session is good enough.
    let q = client_query(&b.get(&authorize_path(&params(&client_id))).await, REDIRECT);
    assert_eq!(id_claims(&api, client, &q).await["auth_time"], first_auth);
    // With max_age=300 it is not: prompt=none cannot ask, otherwise the sign-in page.
    let q = client_query(&b.get(&authorize_path(&with(p.clone(), "prompt", Some("none")))).await, REDIRECT);
    assert_eq!(get(&q, "error"), Some("login_required"), "{q:?}");
    let page = b.get(&authorize_path(&p)).await;
    page.expect(200);
    assert!(page.text.contains("action=\"/oauth/authorize/login\""), "{}", page.text);
    let creds = [("email", "ann@example.com"), ("password", crate::helpers::CLIENT_PASSWORD)];
    let signed_in = post(&mut b, "/oauth/authorize/login", &p, &creds).await;
    signed_in.expect(303);
    // Consent is remembered, so the fresh sign-in goes straight to the client.
    let q = client_query(&b.get(signed_in.header("location").unwrap()).await, REDIRECT);
    let again = id_claims(&api, client, &q).await;
    let auth_time = again["auth_time"].as_i64().unwrap();
    assert!(auth_time >= first_auth + 600, "{auth_time} after {first_auth}");
    assert!(auth_time <= again["iat"].as_i64().unwrap());
    // The new session is within max_age: no sign-in in between now.
    let q = client_query(&b.get(&authorize_path(&p)).await, REDIRECT);
    assert_eq!(id_claims(&api, client, &q).await["auth_time"], auth_time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_takes_the_token_from_a_form_body_but_not_from_two_places() {
    let (w, client_id, key) = oidc_world(KeyAlg::Es256).await;
    let api = w.fx.server.staging("acme");
    let code = a_code(&w, &client_id).await;
    let r = exchange(&api, (&client_id, &key), &code, VERIFIER).await;
    let token = r.json["access_token"].as_str().unwrap().to_owned();
    let form_type = "application/x-www-form-urlencoded";
    let in_body = |body: String, header: Option<String>| raw(&api, "/oauth/userinfo", form_type, body, header);

    // RFC 6750 §2.2: the token as a form parameter.
    let r = in_body(format!("access_token={token}"), None).await;
    r.expect(200);
    assert_eq!(
        (&r.json["sub"], &r.json["email"]),
        (&ann_id(&w).await.into(), &"ann@example.com".into())
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Header and body both: ambiguous, refused.
    let both = in_body(format!("access_token={token}"), Some(format!("Bearer {token}"))).await;
    oauth_error(&both, 400, "invalid_request");
    assert_eq!(both.header("www-authenticate"), Some("Bearer error=\"invalid_request\""));
    let twice = in_body(format!("access_token={token}&access_token={token}"), None).await;
    oauth_error(&twice, 400, "invalid_request");
    // A bad token in the body is a bad token; other parameters do no harm.
    invalid_token(&in_body("access_token=nonsense".into(), None).await);
    in_body(format!("foo=bar&access_token={token}"), None).await.expect(200);
    // The header alone still works with any body; a JSON body is not read for a token.
    let json = raw(
        &api,
        "/oauth/userinfo",
        "application/json",
        format!("{{\"access_token\":\"{token}\"}}"),
        None,
    )
    .await;
    assert_eq!((json.status, json.header("www-authenticate")), (401, Some("Bearer")));
    let header = raw(
        &api,
        "/oauth/userinfo",
        "application/json",
        "{}".into(),
        Some(format!("Bearer {token}")),
    )
    .await;
    header.expect(200);
}
