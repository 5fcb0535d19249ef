//! Service-user login, the tokens it issues and the JWKS, disabling and
//! password resets; forged tokens and key rotation are in `tokens`.

mod tokens;

use onramp_domain::audit::Actor;
use onramp_domain::tenancy::EnvKind;
use serde_json::{Value, json};

use crate::helpers::*;

/// A JWK Set read as plain JSON, independently of the server's types.
#[derive(serde::Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

impl JwkSet {
    fn find(&self, kid: &str) -> Option<&Value> {
        self.keys.iter().find(|k| k["kid"] == kid)
    }
}

async fn jwks(api: &Api) -> JwkSet {
    let r = api.without_token().get("/.well-known/jwks.json").await;
    r.expect(200);
    serde_json::from_value(r.json.clone()).unwrap_or_else(|e| panic!("not a JWK Set ({e}): {}", r.text))
}

/// Verifies a token's signature with the key of its `kid` from the JWKS,
/// independently of the server (RFC 7515 / RFC 8037 by hand, with
/// ed25519-dalek); checks `alg` and `exp` (60 s leeway) too; returns the claims.
fn verify_with_jwks(set: &JwkSet, token: &str) -> Value {
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["alg"], "EdDSA", "{header}");
    let kid = header["kid"].as_str().expect("kid");
    let jwk = set.find(kid).unwrap_or_else(|| panic!("kid {kid} is not in the JWKS"));
    assert_eq!((&jwk["kty"], &jwk["crv"]), (&json!("OKP"), &json!("Ed25519")), "{jwk}");
    let x: [u8; 32] = unb64(jwk["x"].as_str().expect("x")).try_into().expect("a 32-byte Ed25519 key");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).expect("decoding key from JWK");
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = ed25519_dalek::Signature::from_slice(&unb64(signature)).expect("a 64-byte signature");
    key.verify_strict(input.as_bytes(), &signature)
        .expect("signature verifies with the published key");
    assert!(claims["exp"].as_i64().expect("exp") >= now_secs() - 60, "token expired: {claims}");
    claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_login_issues_a_verifiable_eddsa_token() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    let user_id = server.create_service_user("acme", "staging", "svc", &[]).await;
    server.create_service_user("acme", "production", "svc", &[]).await;
    let api = server.staging("acme");

    let before = now_secs();
    let r = api
        .post("/v1/login/password", &json!({ "username": "svc", "password": SERVICE_PASSWORD }))
        .await;
    r.expect(200);
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/json"));
    assert_eq!(r.json["token_type"], "Bearer");
    let expires_in = r.json["expires_in"].as_i64().expect("expires_in");
    assert_eq!(expires_in, 15 * 60, "default service token lifetime is 15 minutes");
    let token = r.json["api_token"].as_str().expect("api_token").to_owned();
    assert!(!r.text.contains(SERVICE_PASSWORD));

    let (header, claims) = jwt_parts(&token);
    assert_eq!(header["alg"], "EdDSA");
    let kid = header["kid"].as_str().expect("kid header").to_owned();
    assert!(!kid.is_empty());

    assert_eq!(claims["r"], json!(["service"]));
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["reg"], "za");
    assert_eq!(claims["env"], "staging");
    assert_eq!(claims["pid"], "acme");
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(iat >= before - 5 && iat <= now_secs() + 5, "iat {iat} is now");
    assert_eq!(exp - iat, expires_in, "exp = iat + expires_in");
    assert!(claims["iss"].as_str().is_some_and(|s| !s.is_empty()), "iss");
    assert!(
        claims["aud"].as_str().is_some_and(|s| !s.is_empty()) || claims["aud"].is_array(),
        "aud"
    );
    assert!(claims["jti"].as_str().is_some_and(|s| !s.is_empty()), "jti");

    // The signature verifies with the published key, independently of the server.
    let set = jwks(&api).await;
    assert_eq!(set.keys.len(), 2, "an EdDSA and an ES256 key");
    assert_eq!(verify_with_jwks(&set, &token), claims);
    let jwk = serde_json::to_value(&set.keys[0]).unwrap();
    assert!(jwk.get("d").is_none(), "the JWKS must never contain the private key");
    assert_eq!(jwk["kty"], "OKP", "{jwk}");
    assert_eq!(jwk["crv"], "Ed25519", "{jwk}");
    assert_eq!(jwk["kid"], kid.as_str());
    assert_eq!(unb64(jwk["x"].as_str().expect("x")).len(), 32, "an Ed25519 public key is 32 bytes");
    if let Some(alg) = jwk.get("alg") {
        assert_eq!(alg, "EdDSA");
    }
    if let Some(usage) = jwk.get("use") {
        assert_eq!(usage, "sig");
    }

    // The token works, a second login gets a fresh jti.
    api.with_token(&token).get("/v1/client").await.expect(200);
    let again = login_token(&api, "svc", SERVICE_PASSWORD).await;
    assert_ne!(jwt_parts(&again).1["jti"], claims["jti"]);

    // Production has its own key and its own claims.
    let prod = server.production("acme");
    let prod_token = login_token(&prod, "svc", SERVICE_PASSWORD).await;
    let (prod_header, prod_claims) = jwt_parts(&prod_token);
    assert_eq!(prod_claims["env"], "production");
    assert_ne!(prod_claims["sub"], claims["sub"]);
    assert_ne!(prod_header["kid"], header["kid"], "environments share no signing key");
    assert!(set.find(prod_header["kid"].as_str().unwrap()).is_none());
    verify_with_jwks(&jwks(&prod).await, &prod_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme");
    let wrong = api
        .post(
            "/v1/login/password",
            &json!({ "username": "svc", "password": "not-the-password-1" }),
        )
        .await;
    wrong.problem(401, "unauthenticated");
    let unknown = api
        .post(
            "/v1/login/password",
            &json!({ "username": "nobody", "password": "not-the-password-1" }),
        )
        .await;
    unknown.problem(401, "unauthenticated");
    assert_eq!(
        wrong.json["detail"], unknown.json["detail"],
        "one message for unknown user and wrong password"
    );
    assert_eq!(wrong.json["title"], unknown.json["title"]);
    assert!(wrong.header("www-authenticate").unwrap().to_ascii_lowercase().starts_with("bearer"));
    assert!(unknown.header("www-authenticate").is_some());
    assert!(wrong.json.get("api_token").is_none());
    // A production password is not a staging one: the same username exists in both.
    fx.server
        .production("acme")
        .post(
            "/v1/login/password",
            &json!({ "username": "svc", "password": "not-the-password-1" }),
        )
        .await
        .expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_logins_from_one_address_hold_it_back_even_with_the_correct_password() {
    let server = TestServer::start().await;
    server.create_instance("acme", &[]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    server.create_service_user("acme", "staging", "other", &[]).await;
    let api = server.staging("acme");
    for i in 0..5 {
        let r = api
            .post(
                "/v1/login/password",
                &json!({ "username": "svc", "password": format!("wrong-password-{i}") }),
            )
            .await;
        r.problem(401, "unauthenticated");
    }
    let r = api
        .post("/v1/login/password", &json!({ "username": "svc", "password": SERVICE_PASSWORD }))
        .await;
    r.problem(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1);
    assert!(
        r.json["retry_after"].as_u64().is_some_and(|s| s >= 1),
        "retry_after in the body: {}",
        r.text
    );
    assert!(r.json.get("api_token").is_none());
    // The backoff ends: after Retry-After the correct password works again.
    server.clock.advance(std::time::Duration::from_millis(retry * 1000 + 300));
    login_token(&api, "svc", SERVICE_PASSWORD).await;
    // The backoff is per username (and address): another user of the same environment logs in.
    login_token(&api, "other", SERVICE_PASSWORD).await;
    // And per environment: the same username in production is not locked out.
    server.create_service_user("acme", "production", "svc", &[]).await;
    login_token(&server.production("acme"), "svc", SERVICE_PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_service_user_ends_logins_at_once_and_tokens_soon() {
    let fx = Fixture::new().await;
    let server = &fx.server;
    server.create_service_user("acme", "staging", "ops", &[]).await;
    let ops = server.login(&server.staging("acme"), "ops").await;
    ops.get("/v1/client").await.expect(200);

    // Disabled from another process (as `onramp service-user disable` does):
    // the running server only learns it from the database.
    let other = server.other_process_core().await;
    other
        .service_users()
        .disable_service_user(&Actor::operator(), &pid("acme"), EnvKind::Staging, "ops")
        .await
        .expect("disable");

    // A new login fails at once, with the same answer as a wrong password.
    let r = ops
        .without_token()
        .post("/v1/login/password", &json!({ "username": "ops", "password": SERVICE_PASSWORD }))
        .await;
    r.problem(401, "unauthenticated");
    // The existing token stops working within the settings ttl.
    eventually("the disabled user's token is refused", || async {
        let r = ops.get("/v1/client").await;
        (r.status == 401).then_some(r)
    })
    .await
    .problem(401, "unauthenticated");
    // Other service users are unaffected.
    fx.staging.get("/v1/client").await.expect(200);

    // Disabled through the server's own core: refused on the next request.
    server
        .core
        .service_users()
        .disable_service_user(&Actor::operator(), &pid("acme"), EnvKind::Staging, "svc")
        .await
        .expect("disable");
    fx.staging.get("/v1/client").await.problem(401, "unauthenticated");
    // A production user of the same name is a different user.
    fx.production.get("/v1/client").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_replaces_the_old_password() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme");
    let new_password = "a-brand-new-Secret-99";
    fx.server
        .core
        .service_users()
        .reset_service_user_password(
            &Actor::operator(),
            &pid("acme"),
            EnvKind::Staging,
            "svc",
            Some(onramp_domain::infra::secret::Secret::new(new_password.into())),
        )
        .await
        .expect("reset");
    api.post("/v1/login/password", &json!({ "username": "svc", "password": SERVICE_PASSWORD }))
        .await
        .problem(401, "unauthenticated");
    login_token(&api, "svc", new_password).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_body_is_validated() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme");
    api.post("/v1/login/password", &json!({ "username": "svc" }))
        .await
        .problem(400, "validation_failed");
    let r = api
        .post(
            "/v1/login/password",
            &json!({ "username": "svc", "password": SERVICE_PASSWORD, "otp": "1" }),
        )
        .await;
    r.problem(400, "unknown_field");
    assert_eq!(r.error_fields(), vec!["otp"]);
    let r = crate::helpers::send(api.request(reqwest::Method::POST, "/v1/login/password").body("{\"username\":")).await;
    r.problem(415, "unsupported_media_type");
    let r = crate::helpers::send(
        api.request(reqwest::Method::POST, "/v1/login/password")
            .header("content-type", "application/json")
            .body("{\"username\":"),
    )
    .await;
    r.problem(400, "invalid_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_login_backoff_grows() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme");
    let attempt = async |password: &str| {
        api.post("/v1/login/password", &json!({ "username": "svc", "password": password }))
            .await
    };
    for i in 0..5 {
        attempt(&format!("wrong-password-{i}")).await.expect(401);
    }
    let first = attempt("wrong-password-x").await;
    first.problem(429, "rate_limited");
    let first_wait: u64 = first.header("retry-after").unwrap().parse().unwrap();
    fx.server.clock.advance(std::time::Duration::from_millis(first_wait * 1000 + 300));
    // One more failure once the wait is over...
    attempt("wrong-password-6").await.problem(401, "unauthenticated");
    // ...and the next wait is longer.
    let second = attempt(SERVICE_PASSWORD).await;
    second.problem(429, "rate_limited");
    let second_wait: u64 = second.header("retry-after").unwrap().parse().unwrap();
    assert!(second_wait > first_wait, "backoff grows: {first_wait}s then {second_wait}s");
}
