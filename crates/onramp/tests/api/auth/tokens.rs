//! Service tokens: signing-key rotation, and every forged, tampered or
//! foreign token that must be refused.

use hmac::{Hmac, KeyInit, Mac};
use onramp_domain::audit::Actor;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::tenancy::signing::KeyAlg;
use serde_json::{Value, json};

use super::{jwks, verify_with_jwks};
use crate::helpers::*;

/// An HMAC signature (HS256 or HS512), as a forger holding `secret` makes one.
fn hmac_sign(alg: &str, secret: &[u8], input: &[u8]) -> Vec<u8> {
    match alg {
        "HS256" => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret).unwrap();
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_rotation_keeps_old_tokens_valid() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme");
    let old_token = fx.staging.token().to_owned();
    let old_kid = jwt_parts(&old_token).0["kid"].as_str().unwrap().to_owned();
    assert_eq!(jwks(&api).await.keys.len(), 2, "an EdDSA and an ES256 key");

    let new_keys = fx
        .server
        .core
        .tenancy()
        .rotate_signing_key(&Actor::operator(), &pid("acme"), EnvKind::Staging)
        .await
        .expect("rotate");
    let new_key = new_keys.iter().find(|k| k.alg == KeyAlg::EdDsa).expect("a new EdDSA key");
    assert!(new_keys.iter().any(|k| k.alg == KeyAlg::Es256), "and a new ES256 key");
    assert_ne!(new_key.kid, old_kid);

    let set = jwks(&api).await;
    assert_eq!(set.keys.len(), 4, "old and new keys are all published");
    assert!(set.find(&old_kid).is_some() && set.find(&new_key.kid).is_some());
    // The old token still works, and still verifies with the published old key.
    fx.staging.get("/v1/client").await.expect(200);
    verify_with_jwks(&set, &old_token);
    // New tokens are signed with the new key.
    let new_token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    assert_eq!(jwt_parts(&new_token).0["kid"], new_key.kid.as_str());
    verify_with_jwks(&set, &new_token);
    api.with_token(&new_token).get("/v1/client").await.expect(200);
    // Production is untouched.
    assert_eq!(jwks(&fx.server.production("acme")).await.keys.len(), 2);
}

/// Claims that the server would accept for `svc` in acme/staging.
fn good_claims(fx: &Fixture) -> Value {
    let (_, claims) = jwt_parts(fx.staging.token());
    let now = now_secs();
    let mut c = claims;
    c["iat"] = json!(now);
    c["exp"] = json!(now + 600);
    c["jti"] = json!(format!("forged-{now}"));
    c
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[key] = value;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_and_foreign_tokens_are_rejected() {
    let fx = Fixture::new().await;
    let api = fx.server.staging("acme").without_token();
    let keys = fx
        .server
        .core
        .tenancy()
        .signing_keys(&pid("acme"), EnvKind::Staging)
        .await
        .expect("keys");
    let key = keys.iter().find(|k| k.alg == KeyAlg::EdDsa).expect("the EdDSA key");
    let seed = fx.server.seed_of(key);
    let claims = good_claims(&fx);
    let probe = async |token: &str| api.with_token(token).get("/v1/client").await;

    // Control: with the real key and proper claims, a hand-made token works,
    // so every refusal below is about the one thing that is changed.
    probe(&sign_eddsa(&seed, Some(&key.kid), &claims)).await.expect(200);

    let now = now_secs();
    let mut bad: Vec<(&str, String)> = vec![
        (
            "expired",
            sign_eddsa(
                &seed,
                Some(&key.kid),
                &with(&with(&claims, "exp", json!(now - 3600)), "iat", json!(now - 4600)),
            ),
        ),
        (
            "wrong iss",
            sign_eddsa(&seed, Some(&key.kid), &with(&claims, "iss", json!("https://evil.example"))),
        ),
        (
            "wrong aud",
            sign_eddsa(&seed, Some(&key.kid), &with(&claims, "aud", json!("someone-else"))),
        ),
        (
            "wrong env claim",
            sign_eddsa(&seed, Some(&key.kid), &with(&claims, "env", json!("production"))),
        ),
        (
            "wrong pid claim",
            sign_eddsa(&seed, Some(&key.kid), &with(&claims, "pid", json!("globex"))),
        ),
        (
            "unknown sub",
            sign_eddsa(
                &seed,
                Some(&key.kid),
                &with(&claims, "sub", json!(uuid::Uuid::now_v7().to_string())),
            ),
        ),
        (
            "a year's lifetime (the ttl is 15 minutes)",
            sign_eddsa(&seed, Some(&key.kid), &with(&claims, "exp", json!(now + 365 * 24 * 3600))),
        ),
        (
            "issued in the future",
            sign_eddsa(
                &seed,
                Some(&key.kid),
                &with(&with(&claims, "iat", json!(now + 3600)), "exp", json!(now + 3660)),
            ),
        ),
        ("no kid", sign_eddsa(&seed, None, &claims)),
        ("unknown kid", sign_eddsa(&seed, Some("k_unknown"), &claims)),
        ("no exp", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("exp");
            sign_eddsa(&seed, Some(&key.kid), &c)
        }),
        ("foreign key", sign_eddsa(&[7u8; 32], Some(&key.kid), &claims)),
        ("garbage", "not-a-jwt".to_owned()),
        ("empty segments", "..".to_owned()),
    ];

    // A real token with its payload replaced (more roles), signature kept.
    let real = fx.staging.token().to_owned();
    let parts: Vec<&str> = real.split('.').collect();
    let mut payload = jwt_parts(&real).1;
    payload["r"] = json!(["service", "admin"]);
    bad.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64(payload.to_string().as_bytes()), parts[2]),
    ));
    // One character of the payload flipped.
    let mut flipped = parts[1].to_owned().into_bytes();
    let i = flipped.len() / 2;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    bad.push((
        "flipped payload char",
        format!("{}.{}.{}", parts[0], String::from_utf8(flipped).unwrap(), parts[2]),
    ));
    // One character of the signature flipped.
    let mut sig = parts[2].to_owned().into_bytes();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    bad.push((
        "flipped signature",
        format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(sig).unwrap()),
    ));
    // No signature at all.
    bad.push(("signature removed", format!("{}.{}.", parts[0], parts[1])));

    // alg: none.
    for header in [
        json!({ "alg": "none", "typ": "JWT" }),
        json!({ "alg": "none", "typ": "JWT", "kid": key.kid }),
    ] {
        bad.push((
            "alg none",
            format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes())),
        ));
    }

    // HS256 with the public key as the HMAC secret (algorithm confusion).
    let set = jwks(&api).await;
    let jwk = serde_json::to_value(set.find(&key.kid).expect("published")).unwrap();
    let x = jwk["x"].as_str().expect("x").to_owned();
    for secret in [unb64(&x), x.clone().into_bytes()] {
        for alg in ["HS256", "HS512"] {
            let header = json!({ "typ": "JWT", "alg": alg, "kid": key.kid });
            bad.push((
                "hmac with public key",
                compact_jws(&header, &claims, |input| hmac_sign(alg, &secret, input)),
            ));
        }
    }

    for (what, token) in &bad {
        let r = probe(token).await;
        assert_eq!(r.status, 401, "{what} token must be refused; body: {}", r.text);
        r.problem(401, "unauthenticated");
    }

    // Not a bearer credential at all.
    let r = crate::helpers::send(
        api.request(reqwest::Method::GET, "/v1/client")
            .header("authorization", format!("Basic {}", b64(b"svc:pw"))),
    )
    .await;
    r.problem(401, "unauthenticated");
    let r = crate::helpers::send(api.request(reqwest::Method::GET, "/v1/client").header("authorization", "Bearer")).await;
    r.problem(401, "unauthenticated");
    api.get("/v1/client").await.problem(401, "unauthenticated");
    // The scheme is case-insensitive (RFC 9110).
    let r = crate::helpers::send(
        api.request(reqwest::Method::GET, "/v1/client")
            .header("authorization", format!("bearer {}", fx.staging.token())),
    )
    .await;
    r.expect(200);
    // The good token still works after all that.
    fx.staging.get("/v1/client").await.expect(200);
}
