//! Revocation (RFC 7009): a revoked access token is refused by the node
//! that revoked it at once, by every other node within the settings ttl,
//! and introspection reports it inactive at once everywhere.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_inactive() {
    let fx = OAuthFx::new().await;
    let token = fx.access_token(None).await;
    let keep = fx.access_token(None).await;
    // A second node on the same database, which has already seen the token.
    let (url, key) = (fx.server.settings.database_url.clone(), fx.server.settings.master_key.clone());
    let other = TestServer::start_with(|s| {
        s.database_url = url;
        s.master_key = key;
    })
    .await;
    let there = other.staging("acme");
    there.with_token(&token).get("/v1/client").await.expect(200);
    fx.api.with_token(&token).get("/v1/client").await.expect(200);

    let r = fx
        .basic("/oauth/revoke", &[("token", &token), ("token_type_hint", "access_token")])
        .await;
    r.expect(200);
    assert!(r.text.is_empty(), "{}", r.text);
    // This node: refused from the next request on.
    fx.api.with_token(&token).get("/v1/client").await.problem(401, "unauthenticated");
    // Introspection, on either node, says inactive at once.
    assert_eq!(
        fx.basic("/oauth/introspect", &[("token", &token)]).await.json,
        json!({ "active": false })
    );
    let r = form(&there, "/oauth/introspect", &[("token", &token)], Some((&fx.client_id, &fx.secret))).await;
    assert_eq!(r.json, json!({ "active": false }));
    // The other node refuses it within its settings ttl.
    eventually("the other node refuses the revoked token", || async {
        (there.with_token(&token).get("/v1/client").await.status == 401).then_some(())
    })
    .await;
    // Other tokens of the same client are untouched.
    fx.api.with_token(&keep).get("/v1/client").await.expect(200);
    there.with_token(&keep).get("/v1/client").await.expect(200);
    // Revoking again, or revoking something that is no token, is fine (§2.2).
    fx.basic("/oauth/revoke", &[("token", &token)]).await.expect(200);
    fx.post_auth("/oauth/revoke", &[("token", "not-a-token"), ("token_type_hint", "refresh_token")])
        .await
        .expect(200);
    fx.basic("/oauth/revoke", &[("token", &keep), ("token_type_hint", "something_else")])
        .await
        .expect(200);
    fx.api.with_token(&keep).get("/v1/client").await.problem(401, "unauthenticated");
    // The revocation is audited, naming the client and not the token.
    let audit = op(&fx.server, &["audit", "list", "--platform-id", "acme"]).ok();
    let events = audit["data"].as_array().unwrap();
    let revoked: Vec<_> = events.iter().filter(|e| e["action"] == "oauth_token.revoked").collect();
    assert_eq!(revoked.len(), 2, "{audit}");
    assert!(!audit.to_string().contains(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_revokes_only_its_own_tokens() {
    let fx = OAuthFx::new().await;
    fx.server.create_service_user("acme", "staging", "other", &[]).await;
    let others = fx
        .server
        .core
        .oauth()
        .add_secret(&Actor::operator(), &pid("acme"), EnvKind::Staging, "other", None)
        .await
        .unwrap();
    let (other_id, other_secret) = (others.secret.client_id(), others.client_secret.expose().to_owned());
    let token = fx.access_token(None).await;
    let r = form(&fx.api, "/oauth/revoke", &[("token", &token)], Some((&other_id, &other_secret))).await;
    oauth_error(&r, 400, "unauthorized_client");
    fx.api.with_token(&token).get("/v1/client").await.expect(200);
    // Its own password-login tokens are its own too.
    let login = login_token(&fx.api, "svc", SERVICE_PASSWORD).await;
    fx.basic("/oauth/revoke", &[("token", &login)]).await.expect(200);
    fx.api.with_token(&login).get("/v1/client").await.problem(401, "unauthenticated");
    // Without client authentication nothing is revoked.
    oauth_error(
        &form(&fx.api, "/oauth/revoke", &[("token", &token)], None).await,
        401,
        "invalid_client",
    );
    fx.api.with_token(&token).get("/v1/client").await.expect(200);
}
