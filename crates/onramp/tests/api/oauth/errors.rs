//! Every error case of RFC 6749 §5.2 (and the shared layers' errors on
//! `/oauth/` paths), RFC 7662 and RFC 7009 at the HTTP level, and access
//! tokens the API must refuse (RFC 9068 §4).

use std::time::Duration;

use serde_json::json;

use super::*;

const CC: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_invalid_request() {
    let fx = OAuthFx::new().await;
    let auth = Some(basic_header((&fx.client_id, &fx.secret)));
    // No grant_type.
    oauth_error(&fx.basic("/oauth/token", &[("scope", "service")]).await, 400, "invalid_request");
    // A parameter twice (§3.2).
    let twice = format!("{}&grant_type=client_credentials", encode(&[CC]));
    let r = raw(&fx.api, "/oauth/token", "application/x-www-form-urlencoded", twice, auth.clone()).await;
    oauth_error(&r, 400, "invalid_request");
    // JSON instead of a form.
    let r = raw(
        &fx.api,
        "/oauth/token",
        "application/json",
        json!({ "grant_type": "client_credentials" }).to_string(),
        auth.clone(),
    )
    .await;
    oauth_error(&r, 400, "invalid_request");
    // No content type at all.
    let r = send(fx.api.request(reqwest::Method::POST, "/oauth/token").body(encode(&[CC]))).await;
    oauth_error(&r, 400, "invalid_request");
    // Two authentication methods at once.
    let both = form(
        &fx.api,
        "/oauth/token",
        &[CC, ("client_secret", &fx.secret)],
        Some((&fx.client_id, &fx.secret)),
    )
    .await;
    oauth_error(&both, 400, "invalid_request");
    let other_id = form(
        &fx.api,
        "/oauth/token",
        &[CC, ("client_id", "svc_someone-else")],
        Some((&fx.client_id, &fx.secret)),
    )
    .await;
    oauth_error(&other_id, 400, "invalid_request");
    // The same client_id in the body beside Basic is fine (§3.2.1 allows it).
    form(
        &fx.api,
        "/oauth/token",
        &[CC, ("client_id", &fx.client_id)],
        Some((&fx.client_id, &fx.secret)),
    )
    .await
    .expect(200);
    // Over the body limit.
    let huge = format!("{}&pad={}", encode(&[CC]), "a".repeat(70 * 1024));
    let r = raw(&fx.api, "/oauth/token", "application/x-www-form-urlencoded", huge, auth.clone()).await;
    assert!(matches!(r.status, 400 | 413), "{}", r.status);
    assert_eq!(r.json["error"], "invalid_request", "{}", r.text);
    // Introspection and revocation need their `token`.
    oauth_error(&fx.basic("/oauth/introspect", &[]).await, 400, "invalid_request");
    oauth_error(
        &fx.basic("/oauth/revoke", &[("token_type_hint", "access_token")]).await,
        400,
        "invalid_request",
    );
    // The wrong method or an unknown path under /oauth/ answer in OAuth's format too.
    let r = fx.api.get("/oauth/token").await;
    assert_eq!((r.status, r.json["error"].as_str()), (405, Some("invalid_request")), "{}", r.text);
    let r = fx.basic("/oauth/nowhere", &[CC]).await;
    assert_eq!((r.status, r.json["error"].as_str()), (404, Some("invalid_request")), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_client_authentication_is_invalid_client_with_a_basic_challenge() {
    let fx = OAuthFx::new().await;
    let challenge = |r: &Resp| {
        let header = r.header("www-authenticate").unwrap_or_default();
        assert!(header.starts_with("Basic "), "{:?}", r.headers);
    };
    // No client authentication.
    let r = form(&fx.api, "/oauth/token", &[CC], None).await;
    oauth_error(&r, 401, "invalid_client");
    challenge(&r);
    // A client_id without a secret: public clients are not served.
    oauth_error(
        &form(&fx.api, "/oauth/token", &[CC, ("client_id", &fx.client_id)], None).await,
        401,
        "invalid_client",
    );
    // The last character changed (to one it is not).
    let last = if fx.secret.ends_with('x') { 'y' } else { 'x' };
    let wrong_secret = format!("{}{last}", &fx.secret[..fx.secret.len() - 1]);
    let (_, other_secret) = add_secret(&fx.server, EnvKind::Staging, None).await;
    fx.server.create_service_user("acme", "staging", "other", &[]).await;
    let others = fx
        .server
        .core
        .oauth()
        .add_secret(&Actor::operator(), &pid("acme"), EnvKind::Staging, "other", None)
        .await
        .unwrap();
    let other_users_secret = others.client_secret.expose().to_owned();
    for (what, id, secret) in [
        ("wrong secret", fx.client_id.as_str(), wrong_secret.as_str()),
        ("unknown client", "svc_00000000-0000-7000-8000-000000000000", fx.secret.as_str()),
        ("another client's secret", fx.client_id.as_str(), other_users_secret.as_str()),
        (
            "production's client and secret on staging",
            fx.prod_client_id.as_str(),
            fx.prod_secret.as_str(),
        ),
        ("not a secret at all", fx.client_id.as_str(), "hunter2"),
    ] {
        let r = form(&fx.api, "/oauth/token", &[CC], Some((id, secret))).await;
        oauth_error(&r, 401, "invalid_client");
        challenge(&r);
        assert_eq!(
            r.json["error_description"], "client authentication failed",
            "{what}: one message for every cause"
        );
        let r = form(&fx.api, "/oauth/token", &[CC, ("client_id", id), ("client_secret", secret)], None).await;
        oauth_error(&r, 401, "invalid_client");
        // The same failures on introspection and revocation.
        for path in ["/oauth/introspect", "/oauth/revoke"] {
            oauth_error(
                &form(&fx.api, path, &[("token", "x")], Some((id, secret))).await,
                401,
                "invalid_client",
            );
        }
    }
    // A second secret of the same client works beside the first.
    form(&fx.api, "/oauth/token", &[CC], Some((&fx.client_id, &other_secret)))
        .await
        .expect(200);
    // Basic credentials that do not decode.
    let r = raw(
        &fx.api,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        encode(&[CC]),
        Some("Basic %%%".into()),
    )
    .await;
    oauth_error(&r, 401, "invalid_client");
    challenge(&r);
    // A disabled service user's secrets stop working at once.
    fx.server
        .core
        .service_users()
        .disable_service_user(&Actor::operator(), &pid("acme"), EnvKind::Staging, "svc")
        .await
        .unwrap();
    oauth_error(&fx.basic("/oauth/token", &[CC]).await, 401, "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_and_scopes_the_server_does_not_serve_are_named() {
    let fx = OAuthFx::new().await;
    // A service user may not use the authorization code.
    let code = [
        ("grant_type", "authorization_code"),
        ("code", "onr_code_x"),
        ("redirect_uri", "https://a.example/cb"),
    ];
    oauth_error(&fx.basic("/oauth/token", &code).await, 400, "unauthorized_client");
    for grant in [
        "refresh_token",
        "password",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "nonsense",
    ] {
        let r = fx.basic("/oauth/token", &[("grant_type", grant)]).await;
        oauth_error(&r, 400, "unsupported_grant_type");
    }
    for scope in ["admin", "service admin", "SERVICE"] {
        let r = fx.basic("/oauth/token", &[CC, ("scope", scope)]).await;
        oauth_error(&r, 400, "invalid_scope");
    }
    // An empty scope is an omitted one (RFC 6749 appendix: empty values are absent).
    let r = fx.basic("/oauth/token", &[CC, ("scope", "")]).await;
    r.expect(200);
    assert_eq!(r.json["scope"], "service reports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_honours_the_instances_rate_limit_override() {
    let fx = OAuthFx::new().await;
    fx.server.set_rate_limits("acme", &[("POST /oauth/token", 2)]).await;
    let r = eventually("the override applies", || async {
        let r = fx.basic("/oauth/token", &[CC]).await;
        (r.header("ratelimit-limit") == Some("2")).then_some(r)
    })
    .await;
    assert!(r.status == 200 || r.status == 429);
    let limited = eventually("the quota runs out", || async {
        let r = fx.basic("/oauth/token", &[CC]).await;
        (r.status == 429).then_some(r)
    })
    .await;
    assert_eq!(limited.json["error"], "temporarily_unavailable", "{}", limited.text);
    assert!(limited.json["error_description"].as_str().is_some());
    assert!(limited.header("retry-after").is_some());
    assert_eq!(limited.header("cache-control"), Some("no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_access_tokens_that_are_not_valid_here() {
    let fx = OAuthFx::new().await;
    let token = fx.access_token(None).await;
    fx.api.with_token(&token).get("/v1/client").await.expect(200);
    // Another environment's token (RFC 9068 §4: the issuer must match).
    let prod = form(
        &fx.server.production("acme"),
        "/oauth/token",
        &[CC],
        Some((&fx.prod_client_id, &fx.prod_secret)),
    )
    .await;
    let prod = prod.json["access_token"].as_str().unwrap().to_owned();
    fx.server.production("acme").with_token(&prod).get("/v1/client").await.expect(200);
    fx.api.with_token(&prod).get("/v1/client").await.problem(401, "unauthenticated");
    // A changed claim breaks the signature.
    let (h, rest) = token.split_once('.').unwrap();
    let (_, s) = rest.split_once('.').unwrap();
    let mut claims = jwt_parts(&token).1;
    claims["scope"] = json!("service reports admin");
    claims["r"] = json!(["service", "reports", "admin"]);
    let tampered = format!("{h}.{}.{s}", b64(claims.to_string().as_bytes()));
    fx.api.with_token(&tampered).get("/v1/client").await.problem(401, "unauthenticated");
    // `alg: none` in an at+jwt header.
    let none = format!(
        "{}.{}.",
        b64(br#"{"typ":"at+jwt","alg":"none"}"#),
        b64(claims.to_string().as_bytes())
    );
    fx.api.with_token(&none).get("/v1/client").await.problem(401, "unauthenticated");
    // Expired: past `exp` (and the 5 s leeway) on the server's clock.
    fx.server.clock.advance(Duration::from_secs(15 * 60 + 10));
    let r = fx.api.with_token(&token).get("/v1/client").await;
    r.problem(401, "unauthenticated");
    assert!(r.header("www-authenticate").unwrap_or_default().starts_with("Bearer"));
    let r = fx.basic("/oauth/introspect", &[("token", &token)]).await;
    assert_eq!(r.json, json!({ "active": false }));
}
