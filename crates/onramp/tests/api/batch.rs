//! Partner batch import: mixed valid and invalid items, imported argon2id
//! and bcrypt hashes that then log in (and get upgraded), idempotency.

use argon2::password_hash::PasswordHasher as _;
use onramp_domain::audit::Actor;
use onramp_domain::store::AccountStore;
use onramp_domain::tenancy::EnvKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Api, Fixture, active_partner_key, pid, send};

async fn partner_key(fx: &Fixture) -> String {
    active_partner_key(&fx.server.core, "acme", &["partners", "client-accounts"], "Importer").await
}

async fn batch(api: &Api, key: &str, body: &Value, idempotency: Option<&str>) -> crate::helpers::Resp {
    let mut rb = api
        .request(Method::POST, "/v1/partners/accounts/batch")
        .header("x-api-key", key)
        .json(body);
    if let Some(k) = idempotency {
        rb = rb.header("idempotency-key", k);
    }
    send(rb).await
}

async fn client_login(fx: &Fixture, email: &str, password: &str) -> u16 {
    fx.staging
        .post("/v1/client/login", &json!({ "email": email, "password": password }))
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_items_are_created_or_rejected_one_by_one_and_imported_hashes_log_in() {
    let fx = Fixture::new().await;
    let key = partner_key(&fx).await;
    fx.staging.signup("taken@example.com").await;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(64, 1, 1, None).unwrap(),
    )
    .hash_password(b"argon old password")
    .unwrap()
    .to_string();
    let bcrypt_hash = bcrypt::hash("bcrypt old password", 4).unwrap();
    let body = json!({ "accounts": [
        { "primaryEmail": "plain@example.com", "password": "correct horse battery", "firstName": "Pia" },
        { "primaryEmail": "argon@example.com", "passwordHash": argon },
        { "primaryEmail": "bcrypt@example.com", "passwordHash": bcrypt_hash, "redirect": "/courses/7" },
        { "primaryEmail": "not-an-email", "password": "correct horse battery" },
        { "primaryEmail": "taken@example.com", "password": "correct horse battery" },
        { "primaryEmail": "dup@example.com", "password": "correct horse battery" },
        { "primaryEmail": "DUP@example.com", "password": "correct horse battery" },
        { "primaryEmail": "weak@example.com", "password": "password" },
        { "primaryEmail": "both@example.com", "password": "correct horse battery", "passwordHash": "$2b$04$x" },
        { "primaryEmail": "badhash@example.com", "passwordHash": "md5:5f4dcc3b5aa765d61d8327deb882cf99" },
        { "primaryEmail": "extra@example.com", "password": "correct horse battery", "admin": true },
        { "primaryEmail": "redirect@example.com", "password": "correct horse battery", "redirect": "https://evil.example" },
    ]});
    let r = batch(&fx.staging, &key, &body, None).await;
    r.expect(200);
    let results = r.json["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    let status: Vec<u64> = results.iter().map(|x| x["status"].as_u64().unwrap()).collect();
    assert_eq!(status, [201, 201, 201, 400, 409, 201, 409, 400, 400, 400, 400, 400]);
    for (i, x) in results.iter().enumerate() {
        assert_eq!(x["index"].as_u64().unwrap(), i as u64);
        if x["status"] == 201 {
            assert!(
                x["completePurchaseUrl"]
                    .as_str()
                    .unwrap()
                    .contains("tokenauth.html?token=onr_link_")
            );
            assert!(x["accountId"].is_string() && x.get("error").is_none());
        } else {
            assert!(x["error"]["code"].is_string() && x.get("accountId").is_none(), "{x}");
        }
    }
    assert_eq!(results[3]["error"]["field"], "primaryEmail");
    assert_eq!(results[4]["error"]["code"], "email_taken");
    assert_eq!(results[10]["error"]["code"], "unknown_field");
    assert!(
        results[2]["completePurchaseUrl"]
            .as_str()
            .unwrap()
            .ends_with("redirect=%2Fcourses%2F7")
    );
    // Exactly the valid items exist: 4 new accounts besides the taken one.
    assert_eq!(fx.staging.all_account_ids().await.len(), 5);

    // Imported hashes log in with the old passwords, and are upgraded to argon2id at once.
    assert_eq!(client_login(&fx, "argon@example.com", "argon old password").await, 200);
    assert_eq!(client_login(&fx, "bcrypt@example.com", "bcrypt old password").await, 200);
    assert_eq!(client_login(&fx, "bcrypt@example.com", "wrong password here").await, 401);
    assert_eq!(client_login(&fx, "plain@example.com", "correct horse battery").await, 200);
    let core = &fx.server.core;
    let env = core.tenancy().environment(&pid("acme"), EnvKind::Staging).await.unwrap();
    for email in ["argon@example.com", "bcrypt@example.com"] {
        let stored = fx.server.store.account_by_email(&env.id, email).await.unwrap().unwrap();
        assert!(
            stored.password_hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{email} upgraded: {}",
            stored.password_hash
        );
    }
    assert_eq!(
        client_login(&fx, "bcrypt@example.com", "bcrypt old password").await,
        200,
        "still logs in after the upgrade"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_limits_and_idempotency() {
    let fx = Fixture::new().await;
    let key = partner_key(&fx).await;
    batch(&fx.staging, &key, &json!({ "accounts": [] }), None)
        .await
        .problem(400, "validation_failed");
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({ "primaryEmail": format!("m{i}@example.com"), "passwordHash": "x" }))
        .collect();
    batch(&fx.staging, &key, &json!({ "accounts": too_many }), None)
        .await
        .problem(400, "validation_failed");
    batch(&fx.staging, &key, &json!({ "items": [] }), None)
        .await
        .problem(400, "unknown_field");
    // A body over 64 KiB is fine here (up to 2 MiB).
    let hash = bcrypt::hash("imported password", 4).unwrap();
    let many: Vec<Value> = (0..700)
        .map(|i| json!({ "primaryEmail": format!("bulk{i}@example.com"), "passwordHash": hash, "firstName": "Bulk" }))
        .collect();
    let body = json!({ "accounts": many });
    assert!(body.to_string().len() > 64 * 1024);
    let first = batch(&fx.staging, &key, &body, Some("import-1")).await;
    first.expect(200);
    assert!(first.json["results"].as_array().unwrap().iter().all(|x| x["status"] == 201));
    let replay = batch(&fx.staging, &key, &body, Some("import-1")).await;
    replay.expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, first.json);
    assert_eq!(fx.staging.all_account_ids().await.len(), 700);
    batch(
        &fx.staging,
        &key,
        &json!({ "accounts": [{ "primaryEmail": "other@example.com", "passwordHash": hash }] }),
        Some("import-1"),
    )
    .await
    .problem(409, "idempotency_key_reused");
    // Without the scope, or without a key, nothing is created.
    let read_only = fx
        .server
        .core
        .partners()
        .issue_api_key(
            &Actor::operator(),
            &fx.server.core.partners().list(None).await.unwrap()[0].id,
            &["accounts:read".into()],
            None,
        )
        .await
        .unwrap();
    batch(
        &fx.staging,
        read_only.secret.expose(),
        &json!({ "accounts": [{ "primaryEmail": "x@example.com", "passwordHash": hash }] }),
        None,
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(fx.staging.all_account_ids().await.len(), 700);
}
