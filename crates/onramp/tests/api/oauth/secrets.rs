//! `onramp service-user secret add|list|revoke`: shown once, hashed at
//! rest, revoked or expired secrets refused from the next request on.

use std::time::Duration;

use super::*;

const CC: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_adds_lists_and_revokes_client_secrets() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts"]).await;
    let user_id = server.create_service_user("acme", "staging", "svc", &[]).await;
    let api = server.staging("acme");

    let added = op(&server, &["service-user", "secret", "add", "acme", "staging", "svc"]).ok();
    let mut keys: Vec<&String> = added.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["client_id", "client_secret", "expires_at", "id"], "{added}");
    let (id, client_id, secret) = (
        added["id"].as_str().unwrap().to_owned(),
        added["client_id"].as_str().unwrap().to_owned(),
        added["client_secret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        client_id,
        format!("svc_{user_id}"),
        "the client id is derived from the service user"
    );
    assert!(secret.starts_with("onr_cs_") && secret.len() == 7 + 40 + 6, "{secret}");
    assert!(added["expires_at"].is_null());
    // Only a hash is stored.
    let stored = {
        use sqlx::Row as _;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&server.settings.database_url).await.unwrap();
        let rows = sqlx::query("SELECT secret_hash FROM oauth_client_secrets")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get::<String, _>("secret_hash")).collect::<Vec<_>>()
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret) && stored[0].len() == 64, "{stored:?}");

    let expiring = op(
        &server,
        &["service-user", "secret", "add", "acme", "staging", "svc", "--expires-in", "90d"],
    )
    .ok();
    let expires_at = parse_rfc3339(expiring["expires_at"].as_str().unwrap());
    let in_90_days = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    assert!((expires_at - in_90_days).abs() < time::Duration::minutes(5), "{expiring}");
    assert_eq!(expiring["client_id"], client_id.as_str(), "one client, several secrets");

    for s in [&secret, expiring["client_secret"].as_str().unwrap()] {
        form(&api, "/oauth/token", &[CC], Some((&client_id, s))).await.expect(200);
    }
    let list = op(&server, &["service-user", "secret", "list", "acme", "staging", "svc"]).ok();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(data.iter().all(|s| s["status"] == "active" && s["client_id"] == client_id.as_str()));
    assert!(!list.to_string().contains("onr_cs_"), "never the secrets: {list}");

    let revoked = op(&server, &["service-user", "secret", "revoke", &id]).ok();
    assert_eq!(revoked["status"], "revoked");
    let r = form(&api, "/oauth/token", &[CC], Some((&client_id, &secret))).await;
    super::oauth_error(&r, 401, "invalid_client");
    form(
        &api,
        "/oauth/token",
        &[CC],
        Some((&client_id, expiring["client_secret"].as_str().unwrap())),
    )
    .await
    .expect(200);
    let list = op(&server, &["service-user", "secret", "list", "acme", "staging", "svc"]).ok();
    assert_eq!(list["data"][0]["status"], "revoked");
    fails_with(&op(&server, &["service-user", "secret", "revoke", &id]), "conflict");
    fails_with(&op(&server, &["service-user", "secret", "revoke", "nope"]), "not_found");
    fails_with(
        &op(&server, &["service-user", "secret", "add", "acme", "staging", "nobody"]),
        "not_found",
    );
    fails_with(
        &op(
            &server,
            &["service-user", "secret", "add", "acme", "staging", "svc", "--expires-in", "5s"],
        ),
        "validation_failed",
    );
    // Audited, without the secret.
    let audit = op(&server, &["audit", "list", "--platform-id", "acme"]).ok();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "oauth_client_secret.added").count(), 2);
    assert_eq!(actions.iter().filter(|a| **a == "oauth_client_secret.revoked").count(), 1);
    assert!(!audit.to_string().contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_secret_is_refused() {
    let fx = OAuthFx::new().await;
    let (client_id, secret) = add_secret(&fx.server, EnvKind::Staging, Some(Duration::from_secs(120))).await;
    form(&fx.api, "/oauth/token", &[CC], Some((&client_id, &secret))).await.expect(200);
    fx.server.clock.advance(Duration::from_secs(121));
    let r = form(&fx.api, "/oauth/token", &[CC], Some((&client_id, &secret))).await;
    super::oauth_error(&r, 401, "invalid_client");
    // The secret without an expiry still works.
    fx.basic("/oauth/token", &[CC]).await.expect(200);
    let list = op(&fx.server, &["service-user", "secret", "list", "acme", "staging", "svc"]).ok();
    let statuses: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"active"), "{list}");
}

#[test]
fn every_secret_command_has_help() {
    for args in [
        &["service-user", "secret", "--help"][..],
        &["service-user", "secret", "add", "--help"],
        &["service-user", "secret", "list", "--help"],
        &["service-user", "secret", "revoke", "--help"],
    ] {
        let run = run_raw(args);
        assert!(run.success && run.stdout.contains("Usage"), "onramp {args:?}: {}", run.stderr);
    }
    assert!(run_raw(&["service-user", "--help"]).stdout.contains("secret"));
}
