//! Tenancy: hosts resolve to one instance and environment, and nothing
//! (credentials, accounts, sessions) crosses from one to another.

use onramp_domain::audit::Actor;
use onramp_domain::tenancy::service::EnvChanges;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_only_work_on_their_own_environment_and_instance() {
    let fx = Fixture::new().await;
    let server = &fx.server;
    server.create_instance("globex", &["client-accounts"]).await;
    server.create_service_user("globex", "staging", "svc", &[]).await;
    let globex = server.login(&server.staging("globex"), "svc").await;
    globex.get("/v1/client").await.expect(200);

    let staging_token = fx.staging.token();
    let production_token = fx.production.token();
    let cases = [
        ("staging token on production", server.production("acme").with_token(staging_token)),
        ("production token on staging", server.staging("acme").with_token(production_token)),
        ("acme token on globex staging", server.staging("globex").with_token(staging_token)),
        ("globex token on acme staging", server.staging("acme").with_token(globex.token())),
        (
            "acme token on globex production",
            server.production("globex").with_token(staging_token),
        ),
    ];
    for (what, api) in &cases {
        let r = api.get("/v1/client").await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        r.problem(401, "unauthenticated");
        let r = api.post("/v1/client/signup", &signup_body("intruder@example.com")).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
    }
    // Nothing was created anywhere.
    for api in [&fx.staging, &fx.production, &globex] {
        assert!(api.all_account_ids().await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions_of_staging_are_invisible_in_production() {
    let fx = Fixture::new().await;
    let ann = fx.staging.signup("ann@example.com").await;
    let id = ann["user_id"].as_str().unwrap();

    assert!(fx.production.all_account_ids().await.is_empty());
    fx.production.get(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    fx.production.get("/v1/client?email=ann%40example.com").await.expect(200);
    assert_eq!(
        fx.production.get("/v1/client?email=ann%40example.com").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    fx.production
        .post("/v1/client/sessions/verify", &json!({ "client_token": ann["client_token"] }))
        .await
        .problem(401, "unauthenticated");
    fx.production
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .problem(401, "unauthenticated");
    // Logging out on production does not end the staging session.
    fx.production
        .post("/v1/client/logout", &json!({ "client_token": ann["client_token"] }))
        .await
        .expect(204);
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": ann["client_token"] }))
        .await
        .expect(200);
    // Deleting on production does not delete on staging.
    fx.production.delete(&format!("/v1/client/{id}")).await.problem(404, "not_found");
    fx.staging.get(&format!("/v1/client/{id}")).await.expect(200);

    // The same email and even the same user id may exist in production.
    let mut body = signup_body("ann@example.com");
    body["user_id"] = json!(id);
    body["name"]["first_name"] = json!("Production Ann");
    let r = fx.production.post("/v1/client/signup", &body).await;
    r.expect(201);
    assert_eq!(r.json["user_id"], id);
    assert_eq!(
        fx.production.get(&format!("/v1/client/{id}")).await.json["name"]["first_name"],
        "Production Ann"
    );
    assert_eq!(fx.staging.get(&format!("/v1/client/{id}")).await.json["name"]["first_name"], "Ann");
    // Changing one leaves the other alone.
    fx.production
        .patch(&format!("/v1/client/{id}"), &json!({ "password": "production-Only-pass-1" }))
        .await
        .expect(200);
    fx.staging
        .post("/v1/client/sessions/verify", &json!({ "client_token": ann["client_token"] }))
        .await
        .expect(200);
    fx.staging
        .post(
            "/v1/client/login",
            &json!({ "email": "ann@example.com", "password": CLIENT_PASSWORD }),
        )
        .await
        .expect(200);
    fx.staging.delete(&format!("/v1/client/{id}")).await.expect(204);
    fx.production.get(&format!("/v1/client/{id}")).await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_resolve_case_insensitively_and_ignore_the_port() {
    let fx = Fixture::new().await;
    let server = &fx.server;

    // Unknown hosts.
    for host in [
        "api.staging.nobody.localhost",
        "api.nobody.localhost",
        "example.com",
        "api.staging.acme.example.com",
        "localhost",
    ] {
        let r = server.api(host).get("/.well-known/jwks.json").await;
        assert_eq!(r.status, 404, "{host}: {}", r.text);
        r.problem(404, "unknown_instance");
        server
            .api(host)
            .with_token(fx.staging.token())
            .get("/v1/client")
            .await
            .problem(404, "unknown_instance");
    }

    // Upper case and a port, sent as an explicit Host header.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{}/v1/client", server.addr);
    for host in [
        format!("API.STAGING.ACME.LOCALHOST:{}", server.addr.port()),
        "Api.Staging.Acme.Localhost".to_owned(),
        "api.staging.acme.localhost:1".to_owned(),
    ] {
        let r = send(client.get(&url).header("host", &host).bearer_auth(fx.staging.token())).await;
        assert_eq!(r.status, 200, "Host {host}: {}", r.text);
        // And it is still staging: the production token is refused there.
        let r = send(client.get(&url).header("host", &host).bearer_auth(fx.production.token())).await;
        assert_eq!(r.status, 401, "Host {host}: {}", r.text);
    }
    let r = send(
        client
            .get(&url)
            .header("host", format!("API.ACME.LOCALHOST:{}", server.addr.port()))
            .bearer_auth(fx.production.token()),
    )
    .await;
    r.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_hostname_routes_to_its_environment() {
    let fx = Fixture::new().await;
    let server = &fx.server;
    let extra = server.api("accounts.acme.example");
    extra
        .with_token(fx.production.token())
        .get("/v1/client")
        .await
        .problem(404, "unknown_instance");

    let changes = EnvChanges {
        add_hosts: vec!["Accounts.Acme.Example".into()],
        ..EnvChanges::default()
    };
    server.update_environment("acme", "production", changes).await;

    // Applies to the running server within the settings ttl.
    let extra = extra.with_token(fx.production.token());
    eventually("the new hostname resolves", || async {
        let r = extra.get("/v1/client").await;
        (r.status != 404).then_some(r)
    })
    .await
    .expect(200);
    // It is production: the staging token is refused, accounts are production's.
    extra
        .with_token(fx.staging.token())
        .get("/v1/client")
        .await
        .problem(401, "unauthenticated");
    let ann = extra.signup("ann@example.com").await;
    fx.production
        .get(&format!("/v1/client/{}", ann["user_id"].as_str().unwrap()))
        .await
        .expect(200);
    fx.staging
        .get(&format!("/v1/client/{}", ann["user_id"].as_str().unwrap()))
        .await
        .problem(404, "not_found");
    assert_eq!(
        extra.get("/.well-known/jwks.json").await.json,
        fx.production.get("/.well-known/jwks.json").await.json
    );
    // Case-insensitive too, and a service user logs in there.
    let upper = server.api("ACCOUNTS.ACME.EXAMPLE");
    login_token(&upper, "svc", SERVICE_PASSWORD).await;

    // A hostname belongs to one environment only.
    let taken = EnvChanges {
        add_hosts: vec!["accounts.acme.example".into()],
        ..EnvChanges::default()
    };
    let err = server
        .core
        .tenancy()
        .update_environment(&Actor::operator(), &pid("acme"), onramp_domain::tenancy::EnvKind::Staging, taken)
        .await;
    assert!(err.is_err(), "a hostname cannot be given to two environments");
    // A canonical host cannot be added as an extra one.
    let canonical = EnvChanges {
        add_hosts: vec!["api.acme.localhost".into()],
        ..EnvChanges::default()
    };
    assert!(
        server
            .core
            .tenancy()
            .update_environment(
                &Actor::operator(),
                &pid("acme"),
                onramp_domain::tenancy::EnvKind::Staging,
                canonical
            )
            .await
            .is_err()
    );

    // Removing it stops routing (within the ttl).
    let remove = EnvChanges {
        remove_hosts: vec!["accounts.acme.example".into()],
        ..EnvChanges::default()
    };
    server.update_environment("acme", "production", remove).await;
    eventually("the removed hostname no longer resolves", || async {
        let r = extra.get("/v1/client").await;
        (r.status == 404).then_some(r)
    })
    .await
    .problem(404, "unknown_instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_a_feature_off_applies_to_the_running_server() {
    let fx = Fixture::new().await;
    fx.staging.get("/v1/client").await.expect(200);
    fx.server
        .core
        .tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &[], &["client-accounts".into()])
        .await
        .expect("disable feature");
    eventually("the feature is off", || async {
        let r = fx.staging.get("/v1/client").await;
        (r.status == 403).then_some(r)
    })
    .await
    .problem(403, "feature_disabled");
    // Each host's settings are cached on their own: production follows within the ttl too.
    eventually("the feature is off on production", || async {
        let r = fx.production.get("/v1/client").await;
        (r.status == 403).then_some(r)
    })
    .await
    .problem(403, "feature_disabled");
    fx.server
        .core
        .tenancy()
        .set_features(&Actor::operator(), &pid("acme"), &["client-accounts".into()], &[])
        .await
        .expect("enable feature");
    eventually("the feature is on again", || async {
        let r = fx.staging.get("/v1/client").await;
        (r.status == 200).then_some(r)
    })
    .await;
}
