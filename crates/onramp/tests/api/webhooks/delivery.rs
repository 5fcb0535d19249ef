//! Delivery: events reach the endpoints that subscribe to them, signed the
//! Standard Webhooks way, retried on the schedule (on the test clock) with
//! the same `webhook-id`, and a `410 Gone` disables the endpoint.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use onramp_domain::webhooks::signature;
use serde_json::{Value, json};

use super::*;

use super::crash::Got;

/// A receiver on loopback answering with `script` in turn (then 204).
pub(crate) async fn receiver(script: &[u16]) -> (String, Got) {
    let got: Got = Arc::default();
    let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
    let record = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (record, script) = (Arc::clone(&record), Arc::clone(&script));
            async move {
                record.lock().unwrap().push((headers, body.to_vec()));
                let status = script.lock().unwrap().pop_front().unwrap_or(204);
                (StatusCode::from_u16(status).unwrap(), "receiver says hello")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://localhost:{}/hook", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, got)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).unwrap_or_else(|| panic!("no {name}")).to_str().unwrap()
}

/// Checks a request as a receiver's library would (at the time it was
/// sent: the test clock may run ahead of the wall clock); returns its payload.
#[track_caller]
pub(super) fn verified(secret: &str, (headers, body): &(HeaderMap, Vec<u8>)) -> Value {
    let (id, ts) = (header(headers, "webhook-id"), header(headers, "webhook-timestamp"));
    let now: i64 = ts.parse().unwrap();
    let checked = signature::verify(secret, id, ts, body, header(headers, "webhook-signature"), now);
    assert_eq!(checked, Ok(()), "the signature verifies");
    let wrong = "whsec_QW5vdGhlciBzZWNyZXQgZW50aXJlbHk=";
    assert!(signature::verify(wrong, id, ts, body, header(headers, "webhook-signature"), now).is_err());
    serde_json::from_slice(body).unwrap()
}

async fn received(got: &Got, n: usize) -> Vec<(HeaderMap, Vec<u8>)> {
    eventually(&format!("{n} deliveries"), || async {
        let got = got.lock().unwrap();
        (got.len() >= n).then(|| got.clone())
    })
    .await
}

async fn endpoint(api: &Api, url: &str, types: &[&str]) -> (String, String) {
    let r = api
        .post("/v1/webhooks/endpoints", &json!({ "url": url, "event_types": types }))
        .await;
    r.expect(201);
    (
        r.json["id"].as_str().unwrap().to_owned(),
        r.json["secret"].as_str().unwrap().to_owned(),
    )
}

async fn world() -> PartnerWorld {
    PartnerWorld::with(allowing_private_targets).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_endpoints_that_want_them_signed_and_in_order() {
    let w = world().await;
    let (url, got) = receiver(&[]).await;
    let (_, secret) = endpoint(&w.service, &url, &["account.created", "account.deleted"]).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(w.service.signup(&format!("p{n}@example.com")).await["user_id"].clone());
    }
    let path = format!("/v1/client/{}", ids[0].as_str().unwrap());
    w.service
        .patch(&path, &json!({ "name": { "first_name": "Una" } }))
        .await
        .expect(200);
    w.service.delete(&path).await.expect(204);

    let deliveries = received(&got, 4).await;
    // Attempts start in `sequence` order, a few at a time per endpoint, so
    // they may arrive in another: receivers order by `sequence`.
    let mut payloads: Vec<Value> = deliveries.iter().map(|d| verified(&secret, d)).collect();
    payloads.sort_by_key(|p| p["sequence"].as_i64());
    let types: Vec<&str> = payloads.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["account.created", "account.created", "account.created", "account.deleted"]);
    let accounts: Vec<&Value> = payloads.iter().map(|p| &p["data"]["account_id"]).collect();
    assert_eq!(accounts, [&ids[0], &ids[1], &ids[2], &ids[0]]);
    let sequences: Vec<i64> = payloads.iter().map(|p| p["sequence"].as_i64().unwrap()).collect();
    assert!(sequences.windows(2).all(|s| s[0] < s[1]), "{sequences:?}");
    // The payload is the feed's, and webhook-id is the event id.
    for (headers, body) in &deliveries {
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(header(headers, "webhook-id"), payload["id"].as_str().unwrap());
        assert_eq!(header(headers, "content-type"), "application/json");
    }
    let feed = w.service.get("/v1/events?type=account.deleted").await;
    assert_eq!(feed.json["data"][0], payloads[3]);
    // Delivered at the first attempt: each leaves its attempt in the log
    // and nothing in the retry queue.
    let db = w.server.settings.database_url.clone();
    eventually("4 attempts logged", || async { (attempts(&db).await.len() == 4).then_some(()) }).await;
    assert_eq!(queued_messages(&db).await, 0);
}

async fn queued_messages(database_url: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// An attempt's row in the log, straight from the database.
async fn attempts(database_url: &str) -> Vec<(i64, Option<i64>, i64, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let rows: Vec<(i64, Option<i64>, i64, String)> =
        sqlx::query_as("SELECT attempt, status_code, attempted_at, response_snippet FROM webhook_attempts ORDER BY attempt")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows
}

async fn next_attempt_at(database_url: &str) -> Option<i64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let next: Option<i64> = sqlx::query_scalar("SELECT next_attempt_at FROM webhook_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_gets_a_third_attempt_with_the_same_id() {
    let w = world().await;
    let db = w.server.settings.database_url.clone();
    let (url, got) = receiver(&[500, 503]).await;
    let (id, secret) = endpoint(&w.service, &url, &["account.created"]).await;
    w.service.signup("ann@example.com").await;

    received(&got, 1).await;
    // Retried on the schedule: 5 s after the first attempt, then 5 minutes.
    let log = eventually("the first attempt logged", || async {
        let log = attempts(&db).await;
        (log.len() == 1).then_some(log)
    })
    .await;
    assert_eq!(log[0].1, Some(500));
    assert_eq!(log[0].3, "receiver says hello", "the answer's first KiB is kept");
    let next = eventually("the retry scheduled", || async { next_attempt_at(&db).await }).await;
    assert_eq!(next - log[0].2, 5_000);
    w.server.clock.advance(Duration::from_secs(5));
    received(&got, 2).await;
    let log = eventually("the second attempt logged", || async {
        let log = attempts(&db).await;
        (log.len() == 2).then_some(log)
    })
    .await;
    assert_eq!(log[1].1, Some(503));
    let next = eventually("the second retry scheduled", || async { next_attempt_at(&db).await }).await;
    assert_eq!(next - log[1].2, 5 * 60_000);
    w.server.clock.advance(Duration::from_secs(5 * 60));
    let deliveries = received(&got, 3).await;
    let ids: Vec<&str> = deliveries.iter().map(|(h, _)| header(h, "webhook-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    for d in &deliveries {
        verified(&secret, d);
    }
    let log = eventually("the third attempt logged", || async {
        let log = attempts(&db).await;
        (log.len() == 3).then_some(log)
    })
    .await;
    assert_eq!(log.iter().map(|a| a.1).collect::<Vec<_>>(), [Some(500), Some(503), Some(204)]);
    assert_eq!(next_attempt_at(&db).await, None, "delivered: nothing more to do");

    // The attempt log over the API: newest first, in pages.
    let path = format!("/v1/webhooks/endpoints/{id}/deliveries");
    let first = w.service.get(&format!("{path}?limit=2")).await;
    first.expect(200);
    let statuses = |r: &Resp| {
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["status_code"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&first), [json!(204), json!(503)]);
    let newest = &first.json["data"][0];
    assert_eq!(newest["attempt"], 3);
    assert_eq!(newest["event_type"], "account.created");
    assert_eq!(newest["event_id"], ids[0]);
    assert_eq!(newest["error"], Value::Null);
    assert_eq!(newest["response_snippet"], "", "a 204 has no body");
    assert_eq!(first.json["data"][1]["response_snippet"], "receiver says hello");
    assert!(newest["latency_ms"].as_i64().unwrap() >= 0);
    parse_rfc3339(newest["attempted_at"].as_str().unwrap());
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let rest = w.service.get(&format!("{path}?limit=2&cursor={cursor}")).await;
    assert_eq!(statuses(&rest), [json!(500)]);
    assert_eq!(rest.json["next_cursor"], Value::Null);
    w.service
        .get(&format!("{path}?cursor=nonsense"))
        .await
        .problem(400, "invalid_query");
    // A partner does not see the environment's endpoint.
    w.partner
        .get(&format!("/v1/partners/webhooks/endpoints/{id}/deliveries"))
        .await
        .problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_and_says_so() {
    let w = world().await;
    let (url, got) = receiver(&[410]).await;
    let (id, _) = endpoint(&w.service, &url, &[]).await;
    w.service.signup("ann@example.com").await;
    received(&got, 1).await;
    let disabled = eventually("the endpoint disabled", || async {
        let r = w.service.get(&format!("/v1/webhooks/endpoints/{id}")).await;
        (r.json["enabled"] == false).then_some(r)
    })
    .await;
    disabled.expect(200);
    let feed = w.service.get("/v1/events?type=endpoint.disabled").await;
    assert_eq!(feed.json["data"][0]["data"], json!({ "endpoint_id": id, "reason": "gone" }));
    let exhausted = w.service.get("/v1/events?type=message.attempt.exhausted").await;
    assert_eq!(exhausted.json["data"][0]["data"]["endpoint_id"], id.as_str());
    // Nothing more is sent to a disabled endpoint.
    w.service.signup("bo@example.com").await;
    let after = w.service.get("/v1/events?type=account.created").await;
    assert_eq!(after.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_endpoint_gets_only_the_partners_events() {
    let w = world().await;
    let (url, got) = receiver(&[]).await;
    let r = w.partner.post("/v1/partners/webhooks/endpoints", &json!({ "url": url })).await;
    r.expect(201);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    // Someone else's account first, then the partner's own.
    w.service.signup("direct@example.com").await;
    let (other_id, _, other) = w
        .other_partner("staging", onramp_domain::partners::PartnerStatus::Active, &ALL_SCOPES)
        .await;
    other.create_account("theirs@example.com").await;
    let mine = w.partner.create_account("mine@example.com").await["accountId"].clone();

    let deliveries = received(&got, 1).await;
    let payload = verified(&secret, &deliveries[0]);
    assert_eq!(payload["type"], "account.created");
    assert_eq!(payload["data"]["account_id"], mine);
    assert_eq!(payload["data"]["partner_id"], w.partner_id.as_str());
    assert_ne!(payload["data"]["partner_id"], other_id.as_str());
    let endpoint_id = r.json["id"].as_str().unwrap();
    let log = eventually("the attempt logged", || async {
        let log = w
            .partner
            .get(&format!("/v1/partners/webhooks/endpoints/{endpoint_id}/deliveries"))
            .await;
        (log.json["data"].as_array().is_some_and(|d| d.len() == 1)).then_some(log)
    })
    .await;
    let entry = &log.json["data"][0];
    assert_eq!(entry["statusCode"], 204);
    assert_eq!(entry["eventType"], "account.created");
    assert!(log.json["nextCursor"].is_null());
    // Earlier events are fanned out and sent first, in order: had any of
    // the others been the partner's to see, it would have arrived before.
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// What a slow receiver saw: per `webhook-id`, how many requests, and
/// whether two of them were ever in flight at once.
#[derive(Default)]
struct Overlaps {
    seen: std::collections::HashMap<String, usize>,
    in_flight: std::collections::HashSet<String>,
    concurrent: Vec<String>,
}

/// A receiver that takes a little while per request and notes overlaps.
async fn slow_receiver() -> (String, Arc<Mutex<Overlaps>>) {
    let state: Arc<Mutex<Overlaps>> = Arc::default();
    let shared = Arc::clone(&state);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let state = Arc::clone(&shared);
            async move {
                let id = header(&headers, "webhook-id").to_owned();
                {
                    let mut s = state.lock().unwrap();
                    *s.seen.entry(id.clone()).or_default() += 1;
                    if !s.in_flight.insert(id.clone()) {
                        s.concurrent.push(id.clone());
                    }
                }
                // A receiver takes a moment to answer: the window in which a
                // second node could attempt the same message.
                tokio::time::sleep(Duration::from_millis(2)).await;
                state.lock().unwrap().in_flight.remove(&id);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://localhost:{}/hook", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, state)
}

/// Two nodes of one deployment (one database, one master key), both
/// delivering: 1,000 events reach the receiver, none lost, none attempted
/// by both nodes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_a_thousand_events_once_each() {
    let w = world().await;
    let first = &w.server;
    let second = TestServer::start_with(|s| {
        allowing_private_targets(s);
        s.database_url = first.settings.database_url.clone();
        s.master_key = first.settings.master_key.clone();
    })
    .await;
    let (url, seen) = slow_receiver().await;
    endpoint(&w.service, &url, &["account.created"]).await;
    let items: Vec<Value> = (0..1000)
        .map(|n| json!({ "primaryEmail": format!("n{n}@example.com"), "passwordHash": CHEAP_BCRYPT }))
        .collect();
    let r = w.partner.post("/v1/partners/accounts/batch", &json!({ "accounts": items })).await;
    r.expect(200);
    assert!(r.json["results"].as_array().unwrap().iter().all(|i| i["status"] == 201));
    // A volume test: on a loaded machine (the whole suite at once on two
    // cores) it takes longer than the suite's usual wait.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while seen.lock().unwrap().seen.len() < 1000 {
        let n = seen.lock().unwrap().seen.len();
        assert!(std::time::Instant::now() < deadline, "{n} of 1,000 delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap();
    let (n, first) = (seen.concurrent.len(), seen.concurrent.iter().take(3).collect::<Vec<_>>());
    assert_eq!(n, 0, "{n} events attempted twice at once, e.g. {first:?}");
    let twice: Vec<_> = seen.seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    drop(second);
}

/// A cheap bcrypt hash (cost 4) for imports that must not cost hashing time.
const CHEAP_BCRYPT: &str = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_sends_an_event_again_and_recover_what_did_not_arrive() {
    let w = world().await;
    // The receiver is gone at first: the endpoint is disabled, the event given up.
    let (url, got) = receiver(&[410]).await;
    let (id, secret) = endpoint(&w.service, &url, &["account.created"]).await;
    w.service.signup("ann@example.com").await;
    received(&got, 1).await;
    let path = format!("/v1/webhooks/endpoints/{id}");
    eventually("the endpoint disabled", || async {
        (w.service.get(&path).await.json["enabled"] == false).then_some(())
    })
    .await;
    // Back, and asked to recover everything since the start.
    w.service.patch(&path, &json!({ "enabled": true })).await.expect(200);
    let r = w
        .service
        .post(&format!("{path}/recover"), &json!({ "since": "2000-01-01T00:00:00Z" }))
        .await;
    r.expect(202);
    assert_eq!(r.json, json!({ "queued": 1 }));
    let deliveries = received(&got, 2).await;
    let (first, second) = (verified(&secret, &deliveries[0]), verified(&secret, &deliveries[1]));
    assert_eq!(first, second, "the same event, the same payload");
    assert_eq!(header(&deliveries[0].0, "webhook-id"), header(&deliveries[1].0, "webhook-id"));
    // Delivered now: recovering again queues nothing, resending sends it once more.
    let none = eventually("the recovery delivered", || async {
        let r = w
            .service
            .post(&format!("{path}/recover"), &json!({ "since": "2000-01-01T00:00:00Z" }))
            .await;
        (r.json["queued"] == 0).then_some(r)
    })
    .await;
    none.expect(202);
    let event_id = first["id"].as_str().unwrap();
    let r = w.service.post(&format!("{path}/events/{event_id}/resend"), &json!({})).await;
    r.expect(202);
    assert_eq!(r.json, json!({ "queued": 1 }));
    let deliveries = received(&got, 3).await;
    assert_eq!(verified(&secret, &deliveries[2]), first);
    let log = eventually("three attempts logged", || async {
        let log = w.service.get(&format!("{path}/deliveries")).await;
        (log.json["data"].as_array().unwrap().len() == 3).then_some(log)
    })
    .await;
    assert_eq!(log.json["data"][0]["attempt"], 3);
    assert_eq!(log.json["data"][2]["status_code"], 410);

    // What cannot be resent or recovered.
    let unknown = "evt_00000000000000000000000000000000";
    w.service
        .post(&format!("{path}/events/{unknown}/resend"), &json!({}))
        .await
        .problem(404, "not_found");
    let bad = w.service.post(&format!("{path}/recover"), &json!({ "since": "yesterday" })).await;
    bad.problem(400, "validation_failed");
    assert_eq!(bad.error_fields(), ["since"]);
    // A partner reaches neither the environment's endpoint nor its events.
    let partner_path = format!("/v1/partners/webhooks/endpoints/{id}");
    w.partner
        .post(&format!("{partner_path}/events/{event_id}/resend"), &json!({}))
        .await
        .problem(404, "not_found");
    let since = json!({ "since": "2000-01-01T00:00:00Z" });
    w.partner
        .post(&format!("{partner_path}/recover"), &since)
        .await
        .problem(404, "not_found");
    let own = w.partner.post("/v1/partners/webhooks/endpoints", &json!({ "url": url })).await;
    let own_path = format!("/v1/partners/webhooks/endpoints/{}", own.json["id"].as_str().unwrap());
    let r = w.partner.post(&format!("{own_path}/events/{event_id}/resend"), &json!({})).await;
    r.problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_reads_deliveries_resends_and_recovers_from_the_cli() {
    use crate::helpers::{fails_with, op};
    let w = world().await;
    let (url, got) = receiver(&[500]).await;
    let (id, _) = endpoint(&w.service, &url, &["account.created"]).await;
    w.service.signup("ann@example.com").await;
    received(&got, 1).await;
    let log = eventually("the attempt logged", || async {
        let log = op(&w.server, &["webhook", "deliveries", &id]).ok();
        (log["data"].as_array().is_some_and(|d| d.len() == 1)).then_some(log)
    })
    .await;
    assert_eq!(log["data"][0]["status_code"], 500);
    assert_eq!(log["next_cursor"], Value::Null);
    let event_id = log["data"][0]["event_id"].as_str().unwrap().to_owned();

    assert_eq!(op(&w.server, &["webhook", "resend", &id, &event_id]).ok(), json!({ "queued": 1 }));
    received(&got, 2).await;
    eventually("the resend logged", || async {
        let log = op(&w.server, &["webhook", "deliveries", &id, "--limit", "1"]).ok();
        (log["data"][0]["status_code"] == 204).then_some(())
    })
    .await;
    // Delivered now: nothing to recover.
    let recovered = op(&w.server, &["webhook", "recover", &id, "--since", "2000-01-01T00:00:00Z"]).ok();
    assert_eq!(recovered, json!({ "queued": 0 }));
    fails_with(
        &op(&w.server, &["webhook", "recover", &id, "--since", "yesterday"]),
        "validation_failed",
    );
    fails_with(
        &op(&w.server, &["webhook", "resend", &id, "evt_00000000000000000000000000000000"]),
        "not_found",
    );
}

/// A change of an endpoint made while delivery disables it (read before,
/// written after) leaves it disabled: only the fields changed are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_racing_with_delivery_does_not_re_enable_the_endpoint() {
    let parking = crate::helpers::parking::Parking::default();
    let wrapper = parking.wrapper();
    let w = PartnerWorld::with(|s| {
        allowing_private_targets(s);
        s.wrap_store = Some(wrapper);
    })
    .await;
    let (url, got) = receiver(&[410]).await;
    let (id, _) = endpoint(&w.service, &url, &[]).await;
    let path = format!("/v1/webhooks/endpoints/{id}");
    // The change reads the endpoint (enabled) and stops before writing.
    let spot = parking.arm("update_endpoint");
    let patch = tokio::spawn({
        let (api, path) = (w.service.clone(), path.clone());
        async move { api.patch(&path, &json!({ "description": "renamed" })).await }
    });
    spot.reached().await;
    // Meanwhile the receiver answers 410 and delivery disables the endpoint.
    w.service.signup("ann@example.com").await;
    received(&got, 1).await;
    eventually("the endpoint disabled", || async {
        let feed = w.service.get("/v1/events?type=endpoint.disabled").await;
        (!feed.json["data"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    spot.release().await;
    let r = patch.await.unwrap();
    r.expect(200);
    assert_eq!(r.json["description"], "renamed");
    assert_eq!(r.json["enabled"], false, "the answer shows the state delivery wrote");
    assert_eq!(w.service.get(&path).await.json["enabled"], false);
}

/// A receiver that does not answer holds only its own endpoint's messages:
/// another endpoint keeps getting new events meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_receiver_does_not_hold_up_other_endpoints() {
    let w = world().await;
    let (stuck_url, mut arrivals, stuck_got) = super::crash::receiver_stuck_on_first().await;
    let (url, got) = receiver(&[]).await;
    let (stuck, _) = endpoint(&w.service, &stuck_url, &["account.created"]).await;
    endpoint(&w.service, &url, &["account.created"]).await;
    w.service.signup("ann@example.com").await;
    tokio::time::timeout(EVENTUALLY, arrivals.recv()).await.unwrap().unwrap();
    received(&got, 1).await;
    for email in ["bob@example.com", "cid@example.com"] {
        w.service.signup(email).await;
    }
    let got = received(&got, 3).await;
    let mut emails: Vec<Value> = got
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap()["data"]["email"].clone())
        .collect();
    // Up to four attempts are in flight per endpoint: they may land in any order.
    emails.sort_by_key(ToString::to_string);
    assert_eq!(
        emails,
        [json!("ann@example.com"), json!("bob@example.com"), json!("cid@example.com")]
    );
    assert_eq!(stuck_got.lock().unwrap().len(), 1);
    let log = w.service.get(&format!("/v1/webhooks/endpoints/{stuck}/deliveries")).await;
    assert_eq!(
        log.json["data"],
        json!([]),
        "its first attempt is still in flight (it times out after 15 s)"
    );
}
