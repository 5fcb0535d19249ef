//! Crash safety: what the server acknowledged survives `kill -9`.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::helpers::*;

/// Creates instance `acme` (client-accounts on) and staging service user
/// `svc` with [`SERVICE_PASSWORD`] through the CLI.
pub fn provision(data: &std::path::Path) {
    create_acme_with_cli(data);
    cli(data, &["instance", "features", "acme", "--enable", "client-accounts"]).ok();
    let doc = cli_with_stdin(
        data,
        &["service-user", "create", "acme", "staging", "svc", "--password-stdin"],
        Some(&format!("{SERVICE_PASSWORD}\n")),
    )
    .ok();
    assert!(doc.get("password").is_none(), "a password read from stdin is not printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_signups_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let mut server = ChildServer::start(&data, &["--rate-limit", "100000"]).await;
    let api = server.api(&host("acme", "staging"));
    let authed = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);

    // Writers sign up accounts as fast as they can; each 201 is recorded.
    let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..4 {
        let api = authed.clone();
        let acked = Arc::clone(&acked);
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let email = format!("w{w}-{i}@example.com");
                let sent = api
                    .request(reqwest::Method::POST, "/v1/client/signup")
                    .json(&signup_body(&email))
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                if response.status().as_u16() != 201 {
                    assert!(
                        response.status().as_u16() < 500 || response.status().as_u16() == 503,
                        "unexpected {}",
                        response.status()
                    );
                    continue;
                }
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    return;
                };
                let id = body["user_id"].as_str().expect("user_id").to_owned();
                let token = body["client_token"].as_str().expect("client_token").to_owned();
                acked.lock().unwrap().push((id, email, token));
            }
        }));
    }
    eventually("enough signups are acknowledged", || async {
        (acked.lock().unwrap().len() >= 60).then_some(())
    })
    .await;
    // Pull the plug while the writers are still writing.
    server.kill9();
    for w in writers {
        w.await.expect("writer task");
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60);

    let server = ChildServer::start(&data, &["--rate-limit", "100000"]).await;
    let api = server.api(&host("acme", "staging"));
    let authed = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
    for (id, email, token) in &acked {
        let r = authed.get(&format!("/v1/client/{id}")).await;
        assert_eq!(r.status, 200, "acknowledged account {id} was lost: {}", r.text);
        assert_eq!(r.json["email"], email.as_str());
        let v = authed.post("/v1/client/sessions/verify", &json!({ "client_token": token })).await;
        assert_eq!(v.status, 200, "the session of acknowledged account {id} was lost");
    }
    let listed = authed.all_account_ids().await;
    assert!(listed.len() >= acked.len());
    // The database is consistent and writable after the crash.
    authed.signup("after-crash@example.com").await;
    let r = authed
        .post("/v1/client/login", &json!({ "email": acked[0].1, "password": CLIENT_PASSWORD }))
        .await;
    r.expect(200);
}
