//! `onramp scim-token …` (the real binary): tokens issued per environment,
//! shown once, stored hashed, listed without their secret, revoked, and
//! recognised only in their own environment while live.

use onramp_domain::infra::secret::token_hash;
use onramp_domain::partners::{KeyKind, key_is_well_formed_as};
use onramp_domain::tenancy::EnvKind;
use serde_json::Value;

use crate::helpers::{Fixture, TestServer, fails_with, op, pid};

fn issue(server: &TestServer, env: &str, name: Option<&str>) -> Value {
    let mut args = vec!["scim-token", "issue", "acme", env];
    if let Some(name) = name {
        args.extend(["--name", name]);
    }
    op(server, &args).ok()
}

async fn recognised(server: &TestServer, kind: EnvKind, token: &str) -> Option<String> {
    let env = server.core.tenancy().environment(&pid("acme"), kind).await.unwrap();
    let found = server.core.scim_tokens().authenticate(&env, token).await.unwrap();
    found.map(|t| t.id.to_string())
}

async fn stored_hashes(server: &TestServer) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&server.settings.database_url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM scim_tokens ORDER BY created_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_issued_per_environment_shown_once_and_stored_hashed() {
    let fx = Fixture::new().await;
    let s = &fx.server;
    let okta = issue(s, "staging", Some("Okta"));
    let token = okta["token"].as_str().expect("the token, once").to_owned();
    assert!(key_is_well_formed_as(&token, KeyKind::Scim, EnvKind::Staging), "{token}");
    assert!(token.starts_with("onr_scim_test_") && token.len() == 14 + 40 + 6, "{token}");
    assert_eq!(
        (&okta["name"], &okta["environment"], &okta["status"]),
        (&"Okta".into(), &"staging".into(), &"active".into())
    );
    let live = issue(s, "production", None);
    assert!(live["token"].as_str().unwrap().starts_with("onr_scim_live_"));
    assert_eq!(live["name"], "SCIM");

    // Only the SHA-256 of each token is kept.
    let hashes = stored_hashes(s).await;
    assert_eq!(hashes, [token_hash(&token), token_hash(live["token"].as_str().unwrap())]);

    // Lists show the environment's tokens, never a secret.
    let list = op(s, &["scim-token", "list", "acme", "staging"]).ok();
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], okta["id"]);
    assert!(data[0].get("token").is_none() && !list.to_string().contains(&token));

    // Recognised in its own environment only; a typo fails the checksum.
    assert_eq!(
        recognised(s, EnvKind::Staging, &token).await,
        okta["id"].as_str().map(str::to_owned)
    );
    assert_eq!(recognised(s, EnvKind::Production, &token).await, None);
    let mut typo = token.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    assert_eq!(recognised(s, EnvKind::Staging, &String::from_utf8(typo).unwrap()).await, None);

    // Bad input changes nothing.
    fails_with(
        &op(s, &["scim-token", "issue", "acme", "staging", "--name", " "]),
        "validation_failed",
    );
    fails_with(&op(s, &["scim-token", "issue", "nobody", "staging"]), "not_found");
    assert_eq!(stored_hashes(s).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_the_operator_actions_are_audited() {
    let fx = Fixture::new().await;
    let s = &fx.server;
    let issued = issue(s, "staging", Some("Entra"));
    let (id, token) = (issued["id"].as_str().unwrap(), issued["token"].as_str().unwrap());
    assert!(recognised(s, EnvKind::Staging, token).await.is_some());

    let revoked = op(s, &["scim-token", "revoke", id]).ok();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string() && revoked.get("token").is_none());
    assert_eq!(recognised(s, EnvKind::Staging, token).await, None);
    fails_with(&op(s, &["scim-token", "revoke", id]), "conflict");
    fails_with(&op(s, &["scim-token", "revoke", "no-such-token"]), "not_found");
    let list = op(s, &["scim-token", "list", "acme", "staging"]).ok();
    assert_eq!(list["data"][0]["status"], "revoked");

    let audit = op(s, &["audit", "list", "--platform-id", "acme", "--environment", "staging"]).ok();
    for action in ["scim_token.issued", "scim_token.revoked"] {
        let event = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action && e["target"] == id)
            .unwrap_or_else(|| panic!("no {action}: {audit}"));
        assert_eq!(event["actor"], "operator");
    }
    assert!(!audit.to_string().contains(token));
}
