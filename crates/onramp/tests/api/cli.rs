//! The operator CLI (the real binary): one JSON document per command with
//! --json, non-zero exits on errors, and changes that reach a running server.

use serde_json::{Value, json};

use crate::durability::provision;
use crate::helpers::*;

#[test]
fn help_succeeds_for_every_command() {
    let commands: &[&[&str]] = &[
        &["--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["instance", "--help"],
        &["instance", "create", "--help"],
        &["instance", "list", "--help"],
        &["instance", "show", "--help"],
        &["instance", "update", "--help"],
        &["instance", "features", "--help"],
        &["instance", "hosts", "--help"],
        &["service-user", "--help"],
        &["service-user", "create", "--help"],
        &["service-user", "list", "--help"],
        &["service-user", "disable", "--help"],
        &["service-user", "reset-password", "--help"],
        &["signing-key", "--help"],
        &["signing-key", "rotate", "--help"],
        &["signing-key", "list", "--help"],
        &["audit", "--help"],
        &["audit", "list", "--help"],
    ];
    for args in commands {
        let run = run_raw(args);
        assert!(run.success, "onramp {args:?} failed: {}", run.stderr);
        assert!(run.stdout.contains("Usage"), "onramp {args:?} printed no usage: {}", run.stdout);
    }
    let top = run_raw(&["--help"]).stdout;
    for sub in ["serve", "migrate", "instance", "service-user", "signing-key", "audit"] {
        assert!(top.contains(sub), "--help does not list {sub}");
    }
    assert!(run_raw(&["--version"]).success);
    // Misuse fails.
    assert!(!run_raw(&["no-such-command"]).success);
    assert!(!run_raw(&["instance", "create"]).success);
}

#[track_caller]
fn fails_with(run: &CliRun, code: &str) {
    assert!(!run.success, "should have failed: {}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], code, "{doc}");
    assert!(doc["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn env_doc<'a>(instance: &'a Value, kind: &str) -> &'a Value {
    instance["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {instance}"))
}

#[test]
fn instance_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let m = cli(data, &["migrate"]).ok();
    assert_eq!(m["status"], "ok");
    assert!(m["migrations"].is_array());
    // Migrating again is a no-op that still succeeds.
    assert_eq!(cli(data, &["migrate"]).ok()["status"], "ok");

    assert_eq!(cli(data, &["instance", "list"]).ok()["data"], json!([]));
    let created = cli(
        data,
        &[
            "instance",
            "create",
            "acme",
            "--name",
            "Acme",
            "--region",
            "za",
            "--app-url",
            "https://app.acme.example",
        ],
    )
    .ok();
    assert_eq!(created["platform_id"], "acme");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["region"], "za");
    assert_eq!(created["app_url"], "https://app.acme.example");
    assert_eq!(created["features"], json!([]));
    assert_eq!(env_doc(&created, "staging")["host"], "api.staging.acme.localhost");
    assert_eq!(env_doc(&created, "production")["host"], "api.acme.localhost");
    assert_ne!(env_doc(&created, "staging")["id"], env_doc(&created, "production")["id"]);

    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "acme",
                "--name",
                "Again",
                "--region",
                "za",
                "--app-url",
                "https://x.example",
            ],
        ),
        "conflict",
    );
    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "Bad_Id!",
                "--name",
                "Bad",
                "--region",
                "za",
                "--app-url",
                "https://x.example",
            ],
        ),
        "validation_failed",
    );
    fails_with(
        &cli(
            data,
            &[
                "instance",
                "create",
                "okid",
                "--name",
                "Ok",
                "--region",
                "za",
                "--app-url",
                "not a url",
            ],
        ),
        "validation_failed",
    );
    cli(
        data,
        &[
            "instance",
            "create",
            "beta",
            "--name",
            "Beta",
            "--region",
            "eu",
            "--app-url",
            "https://beta.example",
        ],
    )
    .ok();

    let list = cli(data, &["instance", "list"]).ok();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["platform_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"acme") && ids.contains(&"beta"));

    let shown = cli(data, &["instance", "show", "acme"]).ok();
    assert_eq!(shown["platform_id"], "acme");
    assert_eq!(shown["name"], "Acme");
    fails_with(&cli(data, &["instance", "show", "nobody"]), "not_found");

    let updated = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--name",
            "Acme Inc",
            "--region",
            "eu",
            "--rate-limit",
            "GET /v1/client/{user_id}=5",
            "--rate-limit",
            "default=100",
            "--cors-origin",
            "staging=https://app.acme.example",
        ],
    )
    .ok();
    assert_eq!(updated["name"], "Acme Inc");
    assert_eq!(updated["region"], "eu");
    assert_eq!(updated["rate_limits"]["GET /v1/client/{user_id}"], 5);
    assert_eq!(updated["rate_limits"]["default"], 100);
    assert_eq!(env_doc(&updated, "staging")["cors_origins"], json!(["https://app.acme.example"]));
    assert_eq!(env_doc(&updated, "production")["cors_origins"], json!([]));
    // Persisted, and N=0 removes an override.
    let updated = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--rate-limit",
            "default=0",
            "--remove-cors-origin",
            "staging=https://app.acme.example",
        ],
    )
    .ok();
    assert!(updated["rate_limits"].get("default").is_none(), "{updated}");
    assert_eq!(updated["rate_limits"]["GET /v1/client/{user_id}"], 5);
    assert_eq!(env_doc(&updated, "staging")["cors_origins"], json!([]));
    assert_eq!(cli(data, &["instance", "show", "acme"]).ok()["name"], "Acme Inc");
    fails_with(
        &cli(data, &["instance", "update", "acme", "--rate-limit", "lots"]),
        "validation_failed",
    );
    fails_with(
        &cli(data, &["instance", "update", "acme", "--cors-origin", "staging=not-an-origin"]),
        "validation_failed",
    );
    fails_with(&cli(data, &["instance", "update", "nobody", "--name", "X"]), "not_found");

    let f = cli(data, &["instance", "features", "acme", "--enable", "client-accounts"]).ok();
    assert_eq!(f["features"], json!(["client-accounts"]));
    fails_with(
        &cli(data, &["instance", "features", "acme", "--enable", "no-such-feature"]),
        "validation_failed",
    );
    assert_eq!(
        cli(data, &["instance", "show", "acme"]).ok()["features"],
        json!(["client-accounts"])
    );
    assert_eq!(cli(data, &["instance", "show", "beta"]).ok()["features"], json!([]));
    let f = cli(data, &["instance", "features", "acme", "--disable", "client-accounts"]).ok();
    assert_eq!(f["features"], json!([]));

    let h = cli(data, &["instance", "hosts", "acme", "production", "--add", "accounts.acme.example"]).ok();
    assert_eq!(h["hostnames"], json!(["accounts.acme.example"]));
    assert_eq!(h["environment"], "production");
    assert_eq!(
        cli(data, &["instance", "hosts", "acme", "production"]).ok()["hostnames"],
        json!(["accounts.acme.example"])
    );
    assert_eq!(cli(data, &["instance", "hosts", "acme", "staging"]).ok()["hostnames"], json!([]));
    fails_with(
        &cli(data, &["instance", "hosts", "beta", "staging", "--add", "accounts.acme.example"]),
        "conflict",
    );
    fails_with(
        &cli(data, &["instance", "hosts", "acme", "staging", "--add", "not a host"]),
        "validation_failed",
    );
    let h = cli(
        data,
        &["instance", "hosts", "acme", "production", "--remove", "accounts.acme.example"],
    )
    .ok();
    assert_eq!(h["hostnames"], json!([]));
    assert!(
        !cli(data, &["instance", "hosts", "acme", "qa"]).success,
        "only staging and production exist"
    );

    // Everything the operator did is in the audit log.
    let audit = cli(data, &["audit", "list", "--platform-id", "acme", "--limit", "100"]).ok();
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "instance.created",
        "instance.updated",
        "instance.features_changed",
        "environment.updated",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    assert!(
        audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["platform_id"] == "acme" && e["actor"] == "operator")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_user_commands_and_login_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli(
        &data,
        &[
            "instance",
            "create",
            "acme",
            "--name",
            "Acme",
            "--region",
            "za",
            "--app-url",
            "https://app.acme.example",
        ],
    )
    .ok();
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
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["status"], "active");
    assert_eq!(keys[0]["algorithm"], "EdDSA");
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();
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
    let list = cli(&data, &["signing-key", "list", "acme", "staging"]).ok();
    let statuses: Vec<(String, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap().to_owned(), k["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&(old_kid.clone(), "retired".to_owned())), "{statuses:?}");
    assert!(statuses.contains(&(new_kid.clone(), "active".to_owned())), "{statuses:?}");
    assert_eq!(
        cli(&data, &["signing-key", "list", "acme", "production"]).ok()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
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
    assert_eq!(kids.len(), 2, "{jwks}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully_and_keeps_the_data() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let mut server = ChildServer::start(&data, &["--rate-limit", "100000"]).await;
    let api = server.api(&host("acme", "staging"));
    let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
    let ann = api.signup("ann@example.com").await;

    // Writers keep signing up while the server is told to stop.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..3 {
        let (api, acked) = (api.clone(), Arc::clone(&acked));
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let sent = api
                    .request(reqwest::Method::POST, "/v1/client/signup")
                    .json(&signup_body(&format!("t{w}-{i}@example.com")))
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                let status = response.status().as_u16();
                let Ok(body) = response.json::<Value>().await else { return };
                if status == 201 {
                    acked.lock().unwrap().push(body["user_id"].as_str().unwrap().to_owned());
                } else {
                    assert!(status < 500 || status == 503, "unexpected {status}: {body}");
                }
            }
        }));
    }
    eventually("some signups are acknowledged", || async {
        (acked.lock().unwrap().len() >= 10).then_some(())
    })
    .await;
    let status = server.terminate();
    assert!(status.success(), "SIGTERM should exit 0, got {status}:\n{}", server.log());
    for w in writers {
        w.await.expect("writer task");
    }
    // The port is released.
    let reachable = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{}/healthz", server.addr))
        .send()
        .await;
    assert!(reachable.is_err(), "the server still answers after exiting");

    let server = ChildServer::start(&data, &[]).await;
    let api = server.api(&host("acme", "staging"));
    let api = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
    api.get(&format!("/v1/client/{}", ann["user_id"].as_str().unwrap()))
        .await
        .expect(200);
    let acked = acked.lock().unwrap().clone();
    for id in &acked {
        api.get(&format!("/v1/client/{id}")).await.expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_logs_have_one_line_per_request_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let server = ChildServer::start(&data, &["--log-format", "json"]).await;
    let anonymous = server.api(&host("acme", "staging"));
    let token = login_token(&anonymous, "svc", SERVICE_PASSWORD).await;
    let api = anonymous.with_token(&token);
    let signed = api.signup("ann@example.com").await;
    let id = signed["user_id"].as_str().unwrap().to_owned();
    let client_token = signed["client_token"].as_str().unwrap().to_owned();
    let get = api.get(&format!("/v1/client/{id}")).await;
    get.expect(200);
    let rid = get.header("x-request-id").unwrap().to_owned();
    api.post("/v1/client/sessions/verify", &json!({ "client_token": client_token }))
        .await
        .expect(200);
    api.patch(&format!("/v1/client/{id}"), &json!({ "password": "another-Secret-pass-2" }))
        .await
        .expect(200);
    anonymous
        .post(
            "/v1/login/password",
            &json!({ "username": "svc", "password": "wrong-Secret-pass-3" }),
        )
        .await
        .expect(401);

    let line = eventually("the access log line is written", || async {
        server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["request_id"] == rid.as_str())
    })
    .await;
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/v1/client/{user_id}", "the route template, not the path: {line}");
    assert_eq!(line["status"], 200);
    assert_eq!(line["instance"], "acme");
    assert_eq!(line["environment"], "staging");
    assert!(
        line["credential"].as_str().is_some_and(|c| c.starts_with("service_user:")),
        "{line}"
    );
    assert!(line.get("latency_us").is_some() || line.get("latency_ms").is_some(), "{line}");
    let log = server.log();
    assert_eq!(log.lines().filter(|l| l.contains(&rid)).count(), 1, "one line per request");
    for secret in [
        SERVICE_PASSWORD,
        CLIENT_PASSWORD,
        token.as_str(),
        client_token.as_str(),
        "another-Secret-pass-2",
        "wrong-Secret-pass-3",
    ] {
        assert!(!log.contains(secret), "the log contains a secret ({secret}):\n{log}");
    }
    // Only the signature-less part of a token could identify it; not even that is logged.
    let payload = token.split('.').nth(1).unwrap();
    assert!(!log.contains(payload));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_answers_on_plain_localhost() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ChildServer::start(&data, &["--demo"]).await;
    let saved = std::fs::read_to_string(data.join("demo.env")).expect("demo.env is written");
    let password = saved
        .lines()
        .find_map(|l| l.strip_prefix("ONRAMP_DEMO_PASSWORD="))
        .expect("password line")
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("demo.env")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "demo credentials are private");
    }
    for host in ["localhost", "127.0.0.1", "api.staging.demo.localhost"] {
        let api = server.api(host);
        let api = api.with_token(&login_token(&api, "demo-service", &password).await);
        api.get("/v1/client").await.expect(200);
    }
    // A token from plain localhost is a demo staging token.
    let api = server.api("localhost");
    let token = login_token(&api, "demo-service", &password).await;
    let claims = jwt_parts(&token).1;
    assert_eq!((claims["pid"].as_str(), claims["env"].as_str()), (Some("demo"), Some("staging")));
    server
        .api("api.demo.localhost")
        .with_token(&token)
        .get("/v1/client")
        .await
        .problem(401, "unauthenticated");
    drop(server);

    // Restarting keeps the same credentials.
    let server = ChildServer::start(&data, &["--demo"]).await;
    login_token(&server.api("localhost"), "demo-service", &password).await;
}

#[test]
fn a_failed_instance_update_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    cli(
        data,
        &[
            "instance",
            "create",
            "acme",
            "--name",
            "Acme",
            "--region",
            "za",
            "--app-url",
            "https://app.acme.example",
        ],
    )
    .ok();
    // The origin is invalid, so the command fails as a whole...
    let run = cli(
        data,
        &[
            "instance",
            "update",
            "acme",
            "--name",
            "Renamed",
            "--region",
            "eu",
            "--rate-limit",
            "default=7",
            "--cors-origin",
            "staging=not-an-origin",
        ],
    );
    fails_with(&run, "validation_failed");
    // ...and none of its other changes may have been applied.
    let shown = cli(data, &["instance", "show", "acme"]).ok();
    assert_eq!(shown["name"], "Acme", "a failed update applied part of its changes: {shown}");
    assert_eq!(shown["region"], "za", "{shown}");
    assert!(shown["rate_limits"].get("default").is_none(), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_settings_come_from_flags_then_environment_then_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let config = dir.path().join("onramp.toml");
    std::fs::write(&config, "token_ttl = \"5m\"\nsession_ttl = \"2d\"\n").unwrap();
    let config = config.to_str().unwrap().to_owned();

    let lifetimes = async |server: &ChildServer| {
        let api = server.api(&host("acme", "staging"));
        let r = api
            .post("/v1/login/password", &json!({ "username": "svc", "password": SERVICE_PASSWORD }))
            .await;
        r.expect(200);
        let token_ttl = r.json["expires_in"].as_i64().unwrap();
        let api = api.with_token(r.json["api_token"].as_str().unwrap());
        let s = api.signup(&format!("ttl-{token_ttl}@example.com")).await;
        let session_left = parse_rfc3339(s["expires_at"].as_str().unwrap()) - time::OffsetDateTime::now_utc();
        (token_ttl, session_left.whole_hours())
    };

    // From the file.
    let server = ChildServer::start(&data, &["--config", &config]).await;
    let (token_ttl, session_hours) = lifetimes(&server).await;
    assert_eq!(token_ttl, 300, "token_ttl from the config file");
    assert!(
        (47..=48).contains(&session_hours),
        "session_ttl from the config file: {session_hours}h"
    );
    drop(server);
    // The environment wins over the file.
    let server = ChildServer::start_with_env(&data, &["--config", &config], &[("ONRAMP_TOKEN_TTL", "10m")]).await;
    assert_eq!(lifetimes(&server).await.0, 600, "ONRAMP_TOKEN_TTL over the file");
    drop(server);
    // A flag wins over both.
    let server = ChildServer::start_with_env(&data, &["--config", &config, "--token-ttl", "2m"], &[("ONRAMP_TOKEN_TTL", "10m")]).await;
    assert_eq!(lifetimes(&server).await.0, 120, "--token-ttl over the environment");
    drop(server);

    // Bad settings stop the server before it listens.
    let data_arg = data.to_str().unwrap();
    for args in [
        vec!["serve", "--data-dir", data_arg, "--listen", "127.0.0.1:0", "--token-ttl", "10s"],
        vec!["serve", "--data-dir", data_arg, "--listen", "127.0.0.1:0", "--token-ttl", "2y"],
        vec!["serve", "--data-dir", data_arg, "--listen", "127.0.0.1:0", "--session-ttl", "soon"],
    ] {
        let run = run_raw(&args);
        assert!(!run.success, "{args:?} should fail");
        assert!(!run.stderr.is_empty(), "{args:?} should say why");
    }
    let bad_config = dir.path().join("bad.toml");
    std::fs::write(&bad_config, "listen = \"127.0.0.1:0\"\nno_such_setting = 1\n").unwrap();
    let run = run_raw(&["serve", "--data-dir", data_arg, "--config", bad_config.to_str().unwrap()]);
    assert!(!run.success, "an unknown key in the config file is an error");
    assert!(run.stderr.contains("no_such_setting"), "the error names the key: {}", run.stderr);
}
