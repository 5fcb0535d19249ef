//! `POST /v1/tokenauth/exchange`: the platform's web app redeems a partner's
//! one-time sign-in link for a client session, once.

use std::time::Duration;

use onramp_domain::audit::Actor;
use onramp_domain::tenancy::service::InstanceChanges;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Creates an account through the partner API; returns `(account_id, token)`.
async fn account_with_link(w: &PartnerWorld, email: &str, redirect: Option<&str>) -> (String, String) {
    let mut body = partner_signup_body(email);
    if let Some(r) = redirect {
        body["redirect"] = json!(r);
    }
    let r = w.partner.post("/v1/partners/create", &body).await;
    r.expect(201);
    let data = &r.json["data"];
    let token = query_param(data["completePurchaseUrl"].as_str().expect("completePurchaseUrl"), "token");
    (data["accountId"].as_str().expect("accountId").to_owned(), token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_is_exchanged_once_for_a_client_session() {
    let w = PartnerWorld::new().await;
    for redirect in [None, Some("/courses/1")] {
        let email = format!("ann{}@example.com", redirect.is_some());
        let (id, token) = account_with_link(&w, &email, redirect).await;
        let r = w.exchange(&token).await;
        r.expect(200);
        let client_token = r.json["client_token"].as_str().expect("client_token").to_owned();
        assert!(client_token.starts_with("onr_sess_"), "{}", r.text);
        assert_eq!(r.json["user_id"], id.as_str());
        assert_eq!(r.json["redirect"], redirect.unwrap_or("/admin/purchase-plan"));
        let expires = parse_rfc3339(r.json["expires_at"].as_str().expect("expires_at")).unix_timestamp();
        assert!(expires > now_secs(), "{}", r.text);

        // The session is a real client session.
        let v = w
            .service
            .post("/v1/client/sessions/verify", &json!({ "client_token": client_token }))
            .await;
        v.expect(200);
        assert_eq!(v.json["user_id"], id.as_str());

        // A link works once.
        w.exchange(&token).await.problem(400, "invalid_grant");
        // The first session is unaffected by the failed second attempt.
        w.service
            .post("/v1/client/sessions/verify", &json!({ "client_token": client_token }))
            .await
            .expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_malformed_tokens_are_refused() {
    let w = PartnerWorld::new().await;
    let (_, token) = account_with_link(&w, "ann@example.com", None).await;
    let unknown = format!("onr_link_{}", "A".repeat(43));
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        unknown.as_str(),
        tampered.as_str(),
        "garbage",
        "",
        "onr_link_",
        &token[..token.len() - 1],
        &format!("{token} "),
    ] {
        let r = w.exchange(bad).await;
        r.problem(400, "invalid_grant");
    }
    // A client session token is not a sign-in link.
    let session = w.service.signup("bob@example.com").await["client_token"]
        .as_str()
        .unwrap()
        .to_owned();
    w.exchange(&session).await.problem(400, "invalid_grant");
    // Malformed bodies.
    w.service
        .post("/v1/tokenauth/exchange", &json!({}))
        .await
        .problem(400, "validation_failed");
    w.service
        .post("/v1/tokenauth/exchange", &json!({ "token": token, "extra": 1 }))
        .await
        .problem(400, "unknown_field");
    w.service
        .post("/v1/tokenauth/exchange", &json!({ "token": 5 }))
        .await
        .problem(400, "validation_failed");
    // None of that used the real link up.
    w.exchange(&token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_work_only_in_their_own_environment() {
    let w = PartnerWorld::new().await;
    let (id, token) = account_with_link(&w, "ann@example.com", None).await;
    w.server.create_service_user("acme", "production", "svc", &[]).await;
    let production = w.server.login(&w.server.production("acme"), "svc").await;
    production
        .post("/v1/tokenauth/exchange", &json!({ "token": token }))
        .await
        .problem(400, "invalid_grant");
    let r = w.exchange(&token).await;
    r.expect(200);
    assert_eq!(r.json["user_id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_succeed_exactly_once() {
    let w = PartnerWorld::new().await;
    let (id, token) = account_with_link(&w, "ann@example.com", None).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let api = w.service.clone();
            let token = token.clone();
            tokio::spawn(async move { api.post("/v1/tokenauth/exchange", &json!({ "token": token })).await })
        })
        .collect();
    let mut ok = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            200 => ok.push(r),
            400 => {
                r.problem(400, "invalid_grant");
                refused += 1;
            }
            other => panic!("unexpected status {other}: {}", r.text),
        }
    }
    assert_eq!(ok.len(), 1, "exactly one redemption succeeds");
    assert_eq!(refused, 19);
    assert_eq!(ok[0].json["user_id"], id.as_str());
    w.service
        .post("/v1/client/sessions/verify", &json!({ "client_token": ok[0].json["client_token"] }))
        .await
        .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_needs_a_service_token_with_the_service_role() {
    let w = PartnerWorld::new().await;
    let (_, token) = account_with_link(&w, "ann@example.com", None).await;
    let body = json!({ "token": token });
    let staging = w.server.staging("acme");

    // An API key is not a service token.
    let r = send(
        staging
            .without_token()
            .request(Method::POST, "/v1/tokenauth/exchange")
            .header("x-api-key", &w.key)
            .json(&body),
    )
    .await;
    r.problem(401, "unauthenticated");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    // No credentials, or a bad token.
    staging
        .without_token()
        .post("/v1/tokenauth/exchange", &body)
        .await
        .problem(401, "unauthenticated");
    staging
        .with_token("not.a.jwt")
        .post("/v1/tokenauth/exchange", &body)
        .await
        .problem(401, "unauthenticated");
    // A service user without the `service` role.
    w.server.create_service_user("acme", "staging", "reporter", &["reports"]).await;
    let reporter = w.server.login(&staging, "reporter").await;
    reporter.post("/v1/tokenauth/exchange", &body).await.problem(403, "forbidden");

    // The refused attempts did not use the link up.
    w.exchange(&token).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_of_deleted_accounts_are_refused() {
    let w = PartnerWorld::new().await;
    let (id, token) = account_with_link(&w, "ann@example.com", None).await;
    w.partner.delete(&format!("/v1/partners/accounts/{id}")).await.expect(204);
    w.exchange(&token).await.problem(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_expiry_follows_the_instance_setting() {
    let w = PartnerWorld::new().await;
    w.server
        .core
        .tenancy()
        .update_instance(
            &Actor::operator(),
            &pid("acme"),
            InstanceChanges {
                login_link_ttl_secs: Some(60),
                ..InstanceChanges::default()
            },
        )
        .await
        .expect("update instance");
    let r = w.partner.post("/v1/partners/create", &partner_signup_body("ann@example.com")).await;
    r.expect(201);
    let expires = parse_rfc3339(r.json["data"]["expiresAt"].as_str().unwrap()).unix_timestamp();
    assert!((now_secs() + 55..=now_secs() + 60).contains(&expires), "{}", r.text);
}

/// A one-second lifetime, the shortest allowed; the server's clock moves past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refused() {
    let w = PartnerWorld::new().await;
    w.server
        .core
        .tenancy()
        .update_instance(
            &Actor::operator(),
            &pid("acme"),
            InstanceChanges {
                login_link_ttl_secs: Some(1),
                ..InstanceChanges::default()
            },
        )
        .await
        .expect("update instance");
    let (_, token) = account_with_link(&w, "ann@example.com", None).await;
    let (_, fresh) = account_with_link(&w, "bob@example.com", None).await;
    w.server.clock.advance(Duration::from_millis(1500));
    w.exchange(&token).await.problem(400, "token_expired");
    w.exchange(&fresh).await.problem(400, "token_expired");
}
