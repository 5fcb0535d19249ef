//! The client-credentials grant through an independent client (the
//! `oauth2` crate), RFC 9068 access tokens verified through the JWKS and
//! used on the existing API, and introspection.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, IntrospectionUrl, RequestTokenError, Scope, TokenIntrospectionResponse, TokenResponse,
    TokenUrl,
};
use serde_json::json;

use super::*;

/// A reqwest 0.12 client (the one `oauth2` speaks through) that reaches the
/// test server under the environment's host name.
fn http(fx: &OAuthFx) -> oauth2::reqwest::Client {
    oauth2::reqwest::Client::builder()
        .resolve(&fx.api.host, fx.server.addr)
        .no_proxy()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The `oauth2` crate's client for `client_id` / `secret` at acme/staging.
fn client(
    fx: &OAuthFx,
    client_id: &str,
    secret: &str,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_client_secret(ClientSecret::new(secret.to_owned()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", fx.api.base)).unwrap())
        .set_introspection_url(IntrospectionUrl::new(format!("{}/oauth/introspect", fx.api.base)).unwrap())
}

/// Verifies `token`'s signature with the JWKS key of its `kid`, by hand
/// (ed25519-dalek or p256 on the published coordinates); returns the claims.
pub async fn verify_with_jwks(api: &Api, token: &str) -> Value {
    let keys = jwks(api).await;
    let (header, claims) = jwt_parts(token);
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("kid {} is not in the JWKS", header["kid"]));
    assert_eq!(jwk["alg"], header["alg"], "the key's algorithm is the token's");
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = unb64(signature);
    match jwk["alg"].as_str().unwrap() {
        "EdDSA" => {
            let x: [u8; 32] = unb64(jwk["x"].as_str().unwrap()).try_into().unwrap();
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
            key.verify_strict(input.as_bytes(), &ed25519_dalek::Signature::from_slice(&signature).unwrap())
                .expect("EdDSA signature verifies with the JWKS");
        }
        "ES256" => {
            let mut sec1 = vec![4u8];
            sec1.extend(unb64(jwk["x"].as_str().unwrap()));
            sec1.extend(unb64(jwk["y"].as_str().unwrap()));
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
            let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
            p256::ecdsa::signature::Verifier::verify(&key, input.as_bytes(), &signature).expect("ES256 signature verifies with the JWKS");
        }
        other => panic!("unexpected alg {other}"),
    }
    claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth2_client_gets_an_rfc9068_token_that_the_api_accepts() {
    let fx = OAuthFx::new().await;
    let http = http(&fx);
    let user_id = fx
        .client_id
        .strip_prefix("svc_")
        .expect("client ids are svc_<service user id>")
        .to_owned();
    for (n, auth) in [AuthType::BasicAuth, AuthType::RequestBody].into_iter().enumerate() {
        let before = now_secs();
        let token = client(&fx, &fx.client_id, &fx.secret)
            .set_auth_type(auth.clone())
            .exchange_client_credentials()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));
        assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(15 * 60)));
        let scopes: Vec<&str> = token.scopes().expect("scope").iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["service", "reports"], "every role by default");
        let jwt = token.access_token().secret().clone();

        let (header, _) = jwt_parts(&jwt);
        assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
        assert_eq!(header["alg"], "EdDSA");
        let claims = verify_with_jwks(&fx.api, &jwt).await;
        assert_eq!(claims["iss"], "https://api.staging.acme.localhost");
        assert_eq!(claims["sub"], user_id.as_str());
        assert_eq!(claims["aud"], "onramp-api");
        assert_eq!(claims["client_id"], fx.client_id.as_str());
        assert_eq!(claims["scope"], "service reports");
        assert_eq!(claims["r"], json!(["service", "reports"]));
        assert_eq!(
            (&claims["reg"], &claims["env"], &claims["pid"]),
            (&json!("za"), &json!("staging"), &json!("acme"))
        );
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert!(iat >= before - 5 && exp - iat == 15 * 60, "{claims}");
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));

        // Accepted as Bearer where the password-login token is.
        let api = fx.api.with_token(&jwt);
        api.get("/v1/client").await.expect(200);
        let account = api.signup(&format!("ann-{n}@example.com")).await;
        api.get(&format!("/v1/client/{}", account["user_id"].as_str().unwrap()))
            .await
            .expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_response_is_json_and_never_stored() {
    let fx = OAuthFx::new().await;
    let r = fx
        .basic("/oauth/token", &[("grant_type", "client_credentials"), ("scope", "service")])
        .await;
    r.expect(200);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let mut keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "scope", "token_type"]);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["scope"], "service");
    assert!(r.header("ratelimit-limit").is_some(), "rate limited like every endpoint");
    assert!(!r.text.contains(&fx.secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_narrows_the_token_to_those_roles() {
    let fx = OAuthFx::new().await;
    let token = client(&fx, &fx.client_id, &fx.secret)
        .exchange_client_credentials()
        .add_scope(Scope::new("reports".into()))
        .request_async(&http(&fx))
        .await
        .expect("token");
    let scopes: Vec<&str> = token.scopes().unwrap().iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["reports"]);
    let jwt = token.access_token().secret();
    assert_eq!(jwt_parts(jwt).1["r"], json!(["reports"]));
    // The client account API needs `service`, which this token was not given.
    fx.api.with_token(jwt).get("/v1/client").await.problem(403, "forbidden");
    // A role the user does not have is refused, through the library too.
    let err = client(&fx, &fx.client_id, &fx.secret)
        .exchange_client_credentials()
        .add_scope(Scope::new("admin".into()))
        .request_async(&http(&fx))
        .await
        .expect_err("invalid scope");
    match err {
        RequestTokenError::ServerResponse(e) => assert_eq!(e.error(), &BasicErrorResponseType::InvalidScope),
        other => panic!("{other:?}"),
    }
    let err = client(&fx, &fx.client_id, "onr_cs_wrong")
        .exchange_client_credentials()
        .request_async(&http(&fx))
        .await
        .expect_err("invalid client");
    match err {
        RequestTokenError::ServerResponse(e) => assert_eq!(e.error(), &BasicErrorResponseType::InvalidClient),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_through_the_library_reports_active_tokens_and_their_claims() {
    let fx = OAuthFx::new().await;
    let http = http(&fx);
    let oauth = client(&fx, &fx.client_id, &fx.secret);
    let jwt = fx.access_token(Some("service")).await;
    let info = oauth
        .introspect(&AccessToken::new(jwt.clone()))
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(info.active());
    let scopes: Vec<&str> = info.scopes().unwrap().iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["service"]);
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(fx.client_id.as_str()));
    assert_eq!(info.sub(), fx.client_id.strip_prefix("svc_"));
    assert_eq!(info.iss(), Some("https://api.staging.acme.localhost"));
    assert_eq!(info.jti(), jwt_parts(&jwt).1["jti"].as_str());
    assert!(info.exp().is_some());
    // A password-login token of the same environment is active too, with its roles as scope.
    let login = login_token(&fx.api, "svc", SERVICE_PASSWORD).await;
    let r = fx.basic("/oauth/introspect", &[("token", &login)]).await;
    r.expect(200);
    assert_eq!(r.json["active"], true);
    assert_eq!(r.json["scope"], "service reports");
    assert!(r.json.get("client_id").is_none());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Garbage, a production token and a tampered token are inactive, and say nothing more.
    let prod = {
        let r = form(
            &fx.server.production("acme"),
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&fx.prod_client_id, &fx.prod_secret)),
        )
        .await;
        r.json["access_token"].as_str().unwrap().to_owned()
    };
    let tampered = {
        let (h, rest) = jwt.split_once('.').unwrap();
        let (_, s) = rest.split_once('.').unwrap();
        let mut claims = jwt_parts(&jwt).1;
        claims["scope"] = json!("service admin");
        format!("{h}.{}.{s}", b64(claims.to_string().as_bytes()))
    };
    for token in ["not-a-token", prod.as_str(), tampered.as_str()] {
        let info = oauth
            .introspect(&AccessToken::new(token.to_owned()))
            .request_async(&http)
            .await
            .unwrap();
        assert!(!info.active(), "{token}");
        let r = fx.post_auth("/oauth/introspect", &[("token", token)]).await;
        assert_eq!(r.json, json!({ "active": false }));
    }
}
