//! Service users, signing keys and the audit log from the CLI, checked over HTTP.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_user_commands_and_login_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    create_acme_with_cli(&data);
    cli(&data, &["instance", "features", "acme", "--enable", "client-accounts"]).ok();

    // A generated password is printed once.
    let created = cli(&data, &["service-user", "create", "acme", "staging", "gen"]).ok();
    let generated = created["password"].as_str().expect("generated password in `password`").to_owned();
    assert!(generated.len() >= 16, "a strong generated password: {generated}");
    assert_eq!(created["username"], "gen");
    assert_eq!(created["status"], "active");
    assert_eq!(created["roles"], json!(["service"]));
    assert_eq!(created["environment"], "staging");
    // A given password is not.
    let given = cli_with_stdin(
        &data,
        &[
            "service-user",
            "create",
            "acme",
            "staging",
            "given",
            "--role",
            "service",
            "--role",
            "reports",
            "--password-stdin",
        ],
        Some(&format!("{SERVICE_PASSWORD}\n")),
    )
    .ok();
    assert!(given.get("password").is_none());
    assert_eq!(given["roles"], json!(["service", "reports"]));
    fails_with(&cli(&data, &["service-user", "create", "acme", "staging", "gen"]), "conflict");
    fails_with(&cli(&data, &["service-user", "create", "nobody", "staging", "x"]), "not_found");
    fails_with(
        &cli_with_stdin(
            &data,
            &["service-user", "create", "acme", "staging", "weak", "--password-stdin"],
            Some("password123\n"),
        ),
        "validation_failed",
    );
    fails_with(
        &cli(&data, &["service-user", "create", "acme", "staging", "bad name!"]),
        "validation_failed",
    );

    let list = cli(&data, &["service-user", "list", "acme", "staging"]).ok();
    let users = list["data"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert!(
        !list.to_string().contains(&generated) && !list.to_string().contains("argon2"),
        "lists never show passwords: {list}"
    );
    assert!(users.iter().all(|u| u.get("password").is_none() && u["status"] == "active"));
    assert_eq!(cli(&data, &["service-user", "list", "acme", "production"]).ok()["data"], json!([]));

    // The server on the same data dir accepts them.
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let gen_api = api.with_token(&login_token(&api, "gen", &generated).await);
    gen_api.get("/v1/client").await.expect(200);
    let given_token = login_token(&api, "given", SERVICE_PASSWORD).await;
    assert_eq!(jwt_parts(&given_token).1["r"], json!(["service", "reports"]));
    // Not in production.
    server
        .api(&host("acme", "production"))
        .post("/v1/login/password", &json!({ "username": "gen", "password": generated }))
        .await
        .problem(401, "unauthenticated");

    // Reset: generated, then from stdin.
    let reset = cli(&data, &["service-user", "reset-password", "acme", "staging", "gen"]).ok();
    let second = reset["password"].as_str().expect("new generated password").to_owned();
    assert_ne!(second, generated);
    api.post("/v1/login/password", &json!({ "username": "gen", "password": generated }))
        .await
        .problem(401, "unauthenticated");
    login_token(&api, "gen", &second).await;
    let reset = cli_with_stdin(
        &data,
        &["service-user", "reset-password", "acme", "staging", "gen", "--password-stdin"],
        Some("third-Password-from-stdin\n"),
    )
    .ok();
    assert!(reset.get("password").is_none());
    login_token(&api, "gen", "third-Password-from-stdin").await;
    fails_with(
        &cli(&data, &["service-user", "reset-password", "acme", "staging", "nobody"]),
        "not_found",
    );

    // Disable while the server runs: logins stop at once, tokens soon.
    let disabled = cli(&data, &["service-user", "disable", "acme", "staging", "gen"]).ok();
    assert_eq!(disabled["status"], "disabled");
    api.post(
        "/v1/login/password",
        &json!({ "username": "gen", "password": "third-Password-from-stdin" }),
    )
    .await
    .problem(401, "unauthenticated");
    eventually("the disabled user's token is refused by the running server", || async {
        let r = gen_api.get("/v1/client").await;
        (r.status == 401).then_some(())
    })
    .await;
    let list = cli(&data, &["service-user", "list", "acme", "staging"]).ok();
    let gen_user = list["data"].as_array().unwrap().iter().find(|u| u["username"] == "gen").unwrap();
    assert_eq!(gen_user["status"], "disabled");
    fails_with(&cli(&data, &["service-user", "disable", "acme", "staging", "nobody"]), "not_found");
    // A reset does not re-enable.
    cli_with_stdin(
        &data,
        &["service-user", "reset-password", "acme", "staging", "gen", "--password-stdin"],
        Some("fourth-Password-from-stdin\n"),
    )
    .ok();
    api.post(
        "/v1/login/password",
        &json!({ "username": "gen", "password": "fourth-Password-from-stdin" }),
    )
    .await
    .problem(401, "unauthenticated");
    // The other user is unaffected.
    api.with_token(&given_token).get("/v1/client").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_commands_reach_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let keys = cli(&data, &["signing-key", "list", "acme", "staging"]).ok();
    let keys = keys["data"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2, "one EdDSA and one ES256 key: {keys:?}");
    assert!(keys.iter().all(|k| k["status"] == "active"));
    let mut algorithms: Vec<&str> = keys.iter().map(|k| k["algorithm"].as_str().unwrap()).collect();
    algorithms.sort_unstable();
    assert_eq!(algorithms, ["ES256", "EdDSA"]);
    let eddsa = keys.iter().find(|k| k["algorithm"] == "EdDSA").unwrap();
    let old_kid = eddsa["kid"].as_str().unwrap().to_owned();
    assert!(
        !serde_json::to_string(&keys).unwrap().contains("seed"),
        "private keys are never printed"
    );

    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let old_token = login_token(&api, "svc", SERVICE_PASSWORD).await;
    assert_eq!(jwt_parts(&old_token).0["kid"], old_kid.as_str());

    let rotated = cli(&data, &["signing-key", "rotate", "acme", "staging"]).ok();
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["status"], "active");
    assert_eq!(rotated["algorithm"], "EdDSA");
    assert_eq!(rotated["keys"][1]["algorithm"], "ES256");
    let list = cli(&data, &["signing-key", "list", "acme", "staging"]).ok();
    let statuses: Vec<(String, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), k["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(statuses.len(), 4, "two retired and two new keys");
    assert!(statuses.contains(&(old_kid.clone(), "retired".to_owned())), "{statuses:?}");
    assert!(statuses.contains(&(new_kid.clone(), "active".to_owned())), "{statuses:?}");
    assert_eq!(
        cli(&data, &["signing-key", "list", "acme", "production"]).ok()["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    fails_with(&cli(&data, &["signing-key", "rotate", "nobody", "staging"]), "not_found");

    // The running server picks the new key up within the settings ttl.
    let new_token = eventually("new tokens use the new key", || async {
        let t = login_token(&api, "svc", SERVICE_PASSWORD).await;
        (jwt_parts(&t).0["kid"] == new_kid.as_str()).then_some(t)
    })
    .await;
    let jwks = api.get("/.well-known/jwks.json").await.json;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 4, "the old and new EdDSA and ES256 keys: {jwks}");
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    api.with_token(&old_token).get("/v1/client").await.expect(200);
    api.with_token(&new_token).get("/v1/client").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_list_shows_account_changes_made_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
    let r = send(
        api.request(reqwest::Method::POST, "/v1/client/signup")
            .header("x-request-id", "cli-audit-signup")
            .json(&signup_body("ann@example.com")),
    )
    .await;
    r.expect(201);
    let id = r.json["user_id"].as_str().unwrap().to_owned();
    let r = api
        .patch(&format!("/v1/client/{id}"), &json!({ "name": { "first_name": "Annie" } }))
        .await;
    r.expect(200);
    let patch_rid = r.header("x-request-id").unwrap().to_owned();
    let r = api.delete(&format!("/v1/client/{id}")).await;
    r.expect(204);
    let delete_rid = r.header("x-request-id").unwrap().to_owned();

    let audit = cli(&data, &["audit", "list", "--platform-id", "acme", "--environment", "staging"]).ok();
    let events = audit["data"].as_array().unwrap();
    let find = |action: &str| {
        events
            .iter()
            .find(|e| e["action"] == action && e["target"] == id.as_str())
            .unwrap_or_else(|| panic!("no {action} for {id}: {audit}"))
    };
    assert_eq!(find("account.created")["request_id"], "cli-audit-signup");
    assert_eq!(find("account.updated")["request_id"], patch_rid.as_str());
    assert_eq!(find("account.deleted")["request_id"], delete_rid.as_str());
    for action in ["account.created", "account.updated", "account.deleted"] {
        let e = find(action);
        assert!(e["actor"].as_str().unwrap().starts_with("service_user:"), "{e}");
        assert_eq!(e["environment"], "staging");
        parse_rfc3339(e["at"].as_str().expect("at"));
    }
    assert!(!audit.to_string().contains(CLIENT_PASSWORD));
    // Filters work: nothing of this in production.
    let prod = cli(&data, &["audit", "list", "--platform-id", "acme", "--environment", "production"]).ok();
    assert!(
        prod["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["target"] != id.as_str() && e["environment"] == "production")
    );
    let limited = cli(&data, &["audit", "list", "--limit", "1"]).ok();
    assert_eq!(limited["data"].as_array().unwrap().len(), 1);
    assert_eq!(limited["data"][0]["action"], "account.deleted", "newest first");
}
