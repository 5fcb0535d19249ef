//! Crash safety of delivery: a server killed with `kill -9` in the middle
//! of an attempt loses nothing; after a restart the event is delivered.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;

use super::delivery::verified;
use crate::durability::provision;
use crate::helpers::*;

/// What a receiver got: the headers and the raw body of each request.
pub(crate) type Got = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver that never answers its first request (it reports its arrival
/// on the channel) and answers `204` to the others; returns its URL and
/// what it got.
pub(super) async fn receiver_stuck_on_first() -> (String, mpsc::UnboundedReceiver<()>, Got) {
    let got: Got = Arc::default();
    let (arrived, arrivals) = mpsc::unbounded_channel();
    let record = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (record, arrived) = (Arc::clone(&record), arrived.clone());
            async move {
                let first = {
                    let mut got = record.lock().unwrap();
                    got.push((headers, body.to_vec()));
                    got.len() == 1
                };
                arrived.send(()).ok();
                if first {
                    std::future::pending::<()>().await;
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://localhost:{}/hook", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, arrivals, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_cut_by_kill_9_is_made_again_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(&data);
    let (url, mut arrivals, got) = receiver_stuck_on_first().await;
    let private = "--webhook-allow-private-targets";
    let added = cli(
        &data,
        &[private, "webhook", "add", "acme", "staging", &url, "--event", "account.created"],
    )
    .ok();
    let secret = added["secret"].as_str().unwrap().to_owned();
    let endpoint_id = added["id"].as_str().unwrap().to_owned();
    // A 1 s timeout makes the lease a dead node leaves behind 4 s long.
    let flags = [private, "--webhook-timeout", "1s"];
    let mut server = ChildServer::start(&data, &flags).await;
    let api = server.api(&host("acme", "staging"));
    let authed = api.with_token(&login_token(&api, "svc", SERVICE_PASSWORD).await);
    let account = authed.post("/v1/client/signup", &signup_body("ann@example.com")).await;
    account.expect(201);

    // The attempt is in flight, unanswered, when the server dies.
    tokio::time::timeout(EVENTUALLY, arrivals.recv())
        .await
        .expect("the first attempt arrives")
        .expect("the receiver runs");
    server.kill9();
    let server = ChildServer::start(&data, &flags).await;
    tokio::time::timeout(EVENTUALLY, arrivals.recv())
        .await
        .expect("the event is attempted again after the restart (once the dead node's lease ran out)")
        .expect("the receiver runs");

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one attempt cut short, one made again");
    assert_eq!(got[0].0["webhook-id"], got[1].0["webhook-id"], "the same message");
    let payload = verified(&secret, &got[1]);
    assert_eq!(payload["type"], "account.created");
    assert_eq!(payload["data"]["account_id"], account.json["user_id"]);
    let log = eventually("the delivery is recorded", || async {
        let log = cli(&data, &["webhook", "deliveries", &endpoint_id]).ok();
        (!log["data"].as_array().unwrap().is_empty()).then_some(log)
    })
    .await;
    let attempts = log["data"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "the cut attempt left no record: {log}");
    assert_eq!(attempts[0]["status_code"], 204);
    drop(server);
}
