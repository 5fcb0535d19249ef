//! The operator CLI for partners and keys, and the audit trail.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_and_key_commands_work_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_acme_with_cli(&data);
    let f = cli(&data, &["instance", "features", "acme", "--enable", "partners"]).ok();
    assert!(f["features"].as_array().unwrap().contains(&json!("partners")), "{f}");

    let p = cli(&data, &["partner", "create", "acme", "staging", "Shop"]).ok();
    let partner_id = p["id"].as_str().expect("id").to_owned();
    uuid::Uuid::parse_str(&partner_id).expect("a UUID partner id");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["name"], "Shop");
    assert_eq!(p["platform_id"], "acme");
    assert_eq!(p["environment"], "staging");
    parse_rfc3339(p["created_at"].as_str().expect("created_at"));

    let shown = cli(&data, &["partner", "show", &partner_id]).ok();
    assert_eq!(shown["id"], partner_id.as_str());
    assert_eq!(shown["status"], "pending");
    cli_fails_with(&cli(&data, &["partner", "show", &uuid::Uuid::now_v7().to_string()]), "not_found");
    cli_fails_with(&cli(&data, &["partner", "create", "nope", "staging", "Shop"]), "not_found");
    cli_fails_with(&cli(&data, &["partner", "create", "acme", "staging", ""]), "validation_failed");
    cli_fails_with(&cli(&data, &["partner", "approve", &uuid::Uuid::now_v7().to_string()]), "not_found");

    let prod = cli(&data, &["partner", "create", "acme", "production", "Live shop"]).ok();
    let listed = cli(&data, &["partner", "list"]).ok();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&partner_id.as_str()) && ids.contains(&prod["id"].as_str().unwrap()),
        "{listed}"
    );
    let staging_only = cli(&data, &["partner", "list", "--platform-id", "acme", "--environment", "staging"]).ok();
    assert_eq!(staging_only["data"].as_array().unwrap().len(), 1, "{staging_only}");
    assert_eq!(staging_only["data"][0]["id"], partner_id.as_str());

    let issued = cli(
        &data,
        &["key", "issue", &partner_id, "--scope", "accounts:write", "--expires-in", "30d"],
    )
    .ok();
    let key = issued["key"].as_str().expect("key").to_owned();
    let key_id = issued["key_id"].as_str().expect("key_id").to_owned();
    assert!(key.starts_with("onr_test_"), "{issued}");
    assert_eq!(issued["scopes"], json!(["accounts:write"]));
    assert_eq!(issued["partner_id"], partner_id.as_str());
    let expected = now_secs() + 30 * 86_400;
    let expires = parse_rfc3339(issued["expires_at"].as_str().expect("expires_at")).unix_timestamp();
    assert!((expected - 60..=expected + 1).contains(&expires), "{issued}");
    cli_fails_with(
        &cli(&data, &["key", "issue", &partner_id, "--scope", "accounts:admin"]),
        "validation_failed",
    );
    let live = cli(&data, &["key", "issue", prod["id"].as_str().unwrap()]).ok();
    assert!(live["key"].as_str().unwrap().starts_with("onr_live_"), "{live}");
    assert_eq!(live["scopes"].as_array().unwrap().len(), 4, "all scopes by default: {live}");

    // Key use reaches `last_used_at` with the usage flush.
    let server = ChildServer::start(&data, &["--usage-flush-interval", "100ms"]).await;
    let api = server.api(&host("acme", "staging")).with_api_key(&key);
    api.post("/v1/partners/create", &partner_signup_body("ann@example.com"))
        .await
        .problem(403, "partner_not_approved");

    let approved = cli(&data, &["partner", "approve", &partner_id]).ok();
    assert_eq!(approved["status"], "active");
    let r = api.post("/v1/partners/create", &partner_signup_body("ann@example.com")).await;
    r.expect(201);
    check_link_data(&r.json["data"], APP_LINK, DEFAULT_REDIRECT, 15 * 60);

    let keys = eventually("key use written by the usage flush", || async {
        let keys = cli(&data, &["key", "list", &partner_id]).ok();
        keys["data"][0]["last_used_at"].is_string().then_some(keys)
    })
    .await;
    let keys = keys["data"].as_array().expect("data");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["key_id"], key_id.as_str());
    assert_eq!(keys[0]["status"], "active");
    assert!(keys[0].get("key").is_none(), "a list never shows the key: {}", keys[0]);
    assert!(!keys[0].to_string().contains(&key[9..]), "{}", keys[0]);
    assert!(keys[0]["last_used_at"].is_string(), "use is recorded: {}", keys[0]);

    let revoked = cli(&data, &["key", "revoke", &key_id]).ok();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    assert!(revoked.get("key").is_none());
    assert_api_key_challenge(&api.post("/v1/partners/create", &partner_signup_body("bob@example.com")).await);
    cli_fails_with(&cli(&data, &["key", "revoke", "key_nope"]), "not_found");

    let suspended = cli(&data, &["partner", "suspend", &partner_id]).ok();
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(cli(&data, &["partner", "show", &partner_id]).ok()["status"], "suspended");
    let fresh = cli(&data, &["key", "issue", &partner_id]).ok();
    server
        .api(&host("acme", "staging"))
        .with_api_key(fresh["key"].as_str().unwrap())
        .get("/v1/partners/accounts")
        .await
        .problem(403, "partner_not_approved");
}

// ------------------------------------------------------------ audit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_changes_are_audited() {
    let w = PartnerWorld::new().await;
    let r = send(
        w.partner
            .request(Method::POST, "/v1/partners/create")
            .header("x-request-id", "req-partner-create-1")
            .json(&partner_signup_body("ann@example.com")),
    )
    .await;
    r.expect(201);
    let id = account_id(&r.json["data"]);
    let token = query_param(r.json["data"]["completePurchaseUrl"].as_str().unwrap(), "token");
    let bob = account_id(&w.partner.create_account("bob@example.com").await);
    w.partner
        .patch(&format!("/v1/partners/accounts/{bob}"), &json!({ "firstName": "Bobby" }))
        .await
        .expect(200);
    w.partner.delete(&format!("/v1/partners/accounts/{bob}")).await.expect(204);
    let rotated = w
        .partner
        .post("/v1/partners/keys/rotate", &json!({ "gracePeriodSeconds": 60 }))
        .await;
    rotated.expect(201);
    let new_key = rotated.json["key"].as_str().unwrap().to_owned();

    let filter = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    let events = w.server.core.audit().events(&filter).await.expect("audit events");
    let find = |action: &str, target: &str| {
        events
            .iter()
            .find(|e| e.action == action && e.target == target)
            .unwrap_or_else(|| panic!("no {action} of {target} in {events:#?}"))
    };
    let created = find("partner.created", &w.partner_id);
    assert_eq!(created.actor, "operator");
    assert_eq!(created.environment.as_deref(), Some("staging"));
    assert_eq!(created.platform_id, "acme");
    find("partner.approved", &w.partner_id);
    let issued = find("api_key.issued", &w.key_id);
    assert_eq!(issued.detail["partner_id"], w.partner_id.as_str());
    let rot = find("api_key.rotated", &w.key_id);
    assert_eq!(rot.actor, format!("api_key:{}", w.key_id));
    assert_eq!(rot.detail["new_key_id"], rotated.json["keyId"]);
    let acct = find("account.created", &id);
    assert_eq!(acct.actor, format!("api_key:{}", w.key_id));
    assert_eq!(acct.request_id.as_deref(), Some("req-partner-create-1"));
    assert_eq!(acct.environment.as_deref(), Some("staging"));
    assert_eq!(acct.detail["partner_id"], w.partner_id.as_str());
    for action in ["account.updated", "account.deleted"] {
        assert_eq!(find(action, &bob).actor, format!("api_key:{}", w.key_id), "{action}");
    }
    // No secret in any event.
    for e in &events {
        let all = format!("{e:?}");
        for secret in [&w.key, &new_key, &token, &CLIENT_PASSWORD.to_owned()] {
            assert!(!all.contains(secret.as_str()), "a secret in {all}");
        }
    }
}
