//! `onramp serve`: graceful shutdown, access logs, demo mode, settings precedence.

use super::*;

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
    // A port of its own for the console (the demo's default, 8081, may be taken here).
    let flags = ["--demo", "--admin-listen", "127.0.0.1:0"];
    let server = ChildServer::start(&data, &flags).await;
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
    demo_operator_signs_in(&server, &saved).await;
    drop(server);

    // Restarting keeps the same credentials.
    let server = ChildServer::start(&data, &flags).await;
    login_token(&server.api("localhost"), "demo-service", &password).await;
    demo_operator_signs_in(&server, &saved).await;
}

/// The console the demo prints answers, and the demo operator's password
/// (from demo.env) opens it; the public port serves none of it.
async fn demo_operator_signs_in(server: &ChildServer, saved: &str) {
    let line = |name: &str| {
        saved
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in demo.env"))
            .to_owned()
    };
    let (email, password) = (line("ONRAMP_DEMO_OPERATOR_EMAIL"), line("ONRAMP_DEMO_OPERATOR_PASSWORD"));
    let console = eventually("the console's address is printed", || async {
        let log = server.log();
        log.lines()
            .find_map(|l| l.split("operator console on http://").nth(1))
            .map(|a| a.trim().parse::<std::net::SocketAddr>().expect("an address"))
    })
    .await;
    let mut browser = crate::pages::Browser::new(Api::new(console, "127.0.0.1"));
    browser.get("/sign-in").await.expect(200);
    let r = browser
        .post("/sign-in", &[("csrf", &browser.csrf()), ("email", &email), ("password", &password)])
        .await;
    r.expect(303);
    assert_eq!(r.header("location"), Some("/sign-in/enrol"));
    server.api("localhost").get("/sign-in").await.expect(404);
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

#[test]
fn debug_hash_rate_measures_the_configured_cost() {
    let dir = tempfile::tempdir().unwrap();
    let run = cli(dir.path(), &["debug", "hash-rate", "--seconds", "1"]).ok();
    assert!(run["threads"].as_u64().unwrap() >= 1, "{run}");
    assert!(run["verifications"].as_u64().unwrap() >= 1, "{run}");
    assert!(run["per_second"].as_f64().unwrap() > 0.0, "{run}");
    // The cost it measured is the one it was given (the suite's cheap cost).
    assert_eq!(run["cost"]["memory_kib"], 1024, "{run}");
}
