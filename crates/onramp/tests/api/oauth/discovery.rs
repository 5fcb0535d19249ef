//! `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration`
//! and the JWKS with both algorithms.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_documents_describe_exactly_what_is_served() {
    let fx = OAuthFx::new().await;
    let issuer = "https://api.staging.acme.localhost";
    let r = fx.api.get("/.well-known/oauth-authorization-server").await;
    r.expect(200);
    assert_eq!(
        r.json,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "scopes_supported": ["openid", "email", "profile"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "EdDSA"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email",
                "email_verified", "given_name", "family_name", "name"],
        })
    );
    let oidc = fx.api.get("/.well-known/openid-configuration").await;
    oidc.expect(200);
    assert_eq!(oidc.json, r.json);
    // Production is its own issuer.
    let prod = fx.server.production("acme").get("/.well-known/openid-configuration").await;
    assert_eq!(prod.json["issuer"], "https://api.acme.localhost");
    assert_eq!(prod.json["token_endpoint"], "https://api.acme.localhost/oauth/token");
    // Each advertised endpoint answers at its path (here without a client: 401).
    for endpoint in ["token_endpoint", "introspection_endpoint", "revocation_endpoint"] {
        let path = r.json[endpoint].as_str().unwrap().strip_prefix(issuer).unwrap();
        super::oauth_error(&form(&fx.api, path, &[("token", "x")], None).await, 401, "invalid_client");
    }
    // An unknown host has no issuer.
    fx.server
        .api("api.staging.nobody.localhost")
        .get("/.well-known/openid-configuration")
        .await
        .problem(404, "unknown_instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_scheme_and_port_make_the_issuer_of_documents_and_tokens() {
    let server = TestServer::start_with(|s| {
        s.core.public_scheme = "http".into();
        s.core.public_port = Some(8080);
    })
    .await;
    server.create_instance("acme", &["client-accounts"]).await;
    server.create_service_user("acme", "staging", "svc", &[]).await;
    let api = server.staging("acme");
    let issuer = "http://api.staging.acme.localhost:8080";
    let doc = api.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(doc.json["issuer"], issuer);
    assert_eq!(doc.json["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    let (client_id, secret) = add_secret(&server, EnvKind::Staging, None).await;
    let r = form(
        &api,
        "/oauth/token",
        &[("grant_type", "client_credentials")],
        Some((&client_id, &secret)),
    )
    .await;
    r.expect(200);
    let token = r.json["access_token"].as_str().unwrap();
    assert_eq!(jwt_parts(token).1["iss"], issuer);
    // The password-login token has the same issuer, and both work.
    let login = login_token(&api, "svc", SERVICE_PASSWORD).await;
    assert_eq!(jwt_parts(&login).1["iss"], issuer);
    api.with_token(token).get("/v1/client").await.expect(200);
    api.with_token(&login).get("/v1/client").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_publishes_an_eddsa_and_an_es256_key() {
    let fx = OAuthFx::new().await;
    let keys = jwks(&fx.api).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    let ed = keys.iter().find(|k| k["alg"] == "EdDSA").expect("an EdDSA key");
    let ec = keys.iter().find(|k| k["alg"] == "ES256").expect("an ES256 key");
    for key in [ed, ec] {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
        assert!(key.get("d").is_none(), "no private part: {key}");
    }
    assert_ne!(ed["kid"], ec["kid"]);
    assert_eq!((&ed["kty"], &ed["crv"]), (&json!("OKP"), &json!("Ed25519")));
    assert_eq!(unb64(ed["x"].as_str().unwrap()).len(), 32);
    assert_eq!((&ec["kty"], &ec["crv"]), (&json!("EC"), &json!("P-256")));
    // The coordinates are a point on P-256.
    let mut sec1 = vec![4u8];
    sec1.extend(unb64(ec["x"].as_str().unwrap()));
    sec1.extend(unb64(ec["y"].as_str().unwrap()));
    assert_eq!(sec1.len(), 65);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).expect("a P-256 public key");
    // The ES256 key that signs is the one published: signed here with the
    // stored key, verified with the JWKS coordinates.
    let stored = fx
        .server
        .core
        .tenancy()
        .signing_keys(&pid("acme"), EnvKind::Staging)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.kid == ec["kid"].as_str().unwrap())
        .expect("the ES256 key is stored");
    let private = p256::ecdsa::SigningKey::from_slice(&fx.server.seed_of(&stored)).unwrap();
    let signature: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&private, b"probe");
    let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    p256::ecdsa::signature::Verifier::verify(&public, b"probe", &signature).expect("the published key verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_from_before_es256_keys_gets_one_at_the_next_start() {
    let old = TestServer::start().await;
    old.create_instance("acme", &["client-accounts"]).await;
    // What a database of an earlier version holds: Ed25519 keys only.
    let url = old.settings.database_url.clone();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM signing_keys WHERE alg = 'ES256'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let ed_kid = jwks(&old.staging("acme")).await[0]["kid"].clone();

    let new = TestServer::start_with(|s| {
        s.database_url = url.clone();
        s.master_key = old.settings.master_key.clone();
    })
    .await;
    for api in [new.staging("acme"), new.production("acme")] {
        let keys = jwks(&api).await;
        let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
        assert_eq!(algs.len(), 2, "{keys:?}");
        assert!(algs.contains(&"ES256") && algs.contains(&"EdDSA"), "{keys:?}");
    }
    assert!(
        jwks(&new.staging("acme")).await.iter().any(|k| k["kid"] == ed_kid),
        "the EdDSA key is kept"
    );
    // A third start adds nothing more.
    let again = TestServer::start_with(|s| {
        s.database_url = url.clone();
        s.master_key = old.settings.master_key.clone();
    })
    .await;
    assert_eq!(jwks(&again.staging("acme")).await.len(), 2);
}
