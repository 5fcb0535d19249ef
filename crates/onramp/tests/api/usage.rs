//! Usage metering per API key, the usage endpoint, and anomaly alerts
//! delivered to a signed webhook on loopback.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use onramp_domain::audit::Actor;
use onramp_domain::audit::AuditFilter;
use onramp_domain::infra::secret::Secret;
use onramp_domain::partners::PartnerStatus;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::usage::service::webhook_signature;
use onramp_domain::usage::{AlertKind, Delivery};
use onramp_domain::webhooks::signature;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Api, TestServer, eventually, pid, send};

/// A Standard Webhooks secret (`whsec_` and base64), as the reference
/// libraries take it.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Instance `acme` with `partners`, an approved partner and a key with all scopes.
async fn partner_world(server: &TestServer) -> (String, String, String) {
    server.create_instance("acme", &["partners", "client-accounts"]).await;
    let actor = Actor::operator();
    let partner = server
        .core
        .partners()
        .create_partner(&actor, &pid("acme"), EnvKind::Staging, "Shop")
        .await
        .unwrap();
    server
        .core
        .partners()
        .set_partner_status(&actor, &partner.id, PartnerStatus::Active)
        .await
        .unwrap();
    let issued = server.core.partners().issue_api_key(&actor, &partner.id, &[], None).await.unwrap();
    (partner.id.into(), issued.key.key_id.into(), issued.secret.expose().to_owned())
}

async fn with_key(api: &Api, key: &str, method: Method, path: &str, body: Option<Value>) -> crate::helpers::Resp {
    let mut rb = api.request(method, path).header("x-api-key", key);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    send(rb).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_per_key_and_served_as_a_series() {
    let server = TestServer::start().await;
    let (partner_id, _key_id, key) = partner_world(&server).await;
    let api = server.staging("acme");
    for i in 0..3 {
        let body = json!({ "primaryEmail": format!("u{i}@example.com"), "password": "correct horse battery" });
        with_key(&api, &key, Method::POST, "/v1/partners/create", Some(body))
            .await
            .expect(201);
    }
    for _ in 0..2 {
        with_key(
            &api,
            &key,
            Method::GET,
            "/v1/partners/accounts/00000000-0000-4000-8000-000000000000",
            None,
        )
        .await
        .expect(404);
    }
    // 5 counted requests so far; the usage calls themselves count too, so ask until the 5 show.
    let from = (time::OffsetDateTime::now_utc() - time::Duration::minutes(5))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let path = format!("/v1/partners/usage?granularity=minute&from={from}");
    let series = eventually("usage flushed", || async {
        let r = with_key(&api, &key, Method::GET, &path, None).await;
        r.expect(200);
        let data = r.json["data"].as_array().unwrap().clone();
        let sum = |class: &str| data.iter().map(|b| b["byStatus"][class].as_i64().unwrap()).sum::<i64>();
        (sum("2xx") >= 3 && sum("4xx") == 2).then_some(r.json.clone())
    })
    .await;
    assert_eq!(series["partnerId"], partner_id.as_str());
    assert_eq!(series["granularity"], "minute");
    let buckets = series["data"].as_array().unwrap();
    assert!(
        (5..=7).contains(&buckets.len()),
        "one bucket per minute of the range: {}",
        buckets.len()
    );
    for b in buckets {
        let by = &b["byStatus"];
        let classes: i64 = ["2xx", "3xx", "4xx", "5xx"].iter().map(|c| by[*c].as_i64().unwrap()).sum();
        assert_eq!(b["requests"].as_i64().unwrap(), classes);
    }
    // Bad queries are 400, and a key without usage:read is 403.
    with_key(&api, &key, Method::GET, "/v1/partners/usage?granularity=week", None)
        .await
        .problem(400, "invalid_query");
    with_key(&api, &key, Method::GET, "/v1/partners/usage?from=yesterday", None)
        .await
        .problem(400, "invalid_query");
    let narrow = server
        .core
        .partners()
        .issue_api_key(&Actor::operator(), &partner_id.as_str().into(), &["accounts:read".into()], None)
        .await
        .unwrap();
    with_key(&api, narrow.secret.expose(), Method::GET, "/v1/partners/usage", None)
        .await
        .problem(403, "forbidden");
}

/// Deliveries a receiver got: headers and body of each.
type Deliveries = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A loopback webhook receiver that records every delivery.
async fn webhook_receiver(fail_first: usize) -> (String, Deliveries) {
    let seen: Deliveries = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let record = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (record, calls) = (Arc::clone(&record), Arc::clone(&calls));
            async move {
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < fail_first {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                record.lock().unwrap().push((headers, body.to_vec()));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, seen)
}

fn check_signature(headers: &HeaderMap, body: &[u8]) {
    let header = headers.get("onramp-signature").expect("signature header").to_str().unwrap();
    let t: i64 = header
        .strip_prefix("t=")
        .and_then(|r| r.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((crate::helpers::now_secs() - t).abs() < 60, "fresh timestamp");
    assert_eq!(header, webhook_signature(SECRET.as_bytes(), t, body), "valid HMAC-SHA256 signature");
    assert_ne!(header, webhook_signature(b"another secret entirely", t, body));
    // The Standard Webhooks headers verify as a receiver's library would;
    // the id is the alert's, the same on every attempt.
    let get = |name: &str| headers.get(name).unwrap_or_else(|| panic!("{name}")).to_str().unwrap();
    let alert: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(get("webhook-id"), alert["id"].as_str().unwrap());
    assert_eq!(get("webhook-timestamp"), t.to_string());
    let now = crate::helpers::now_secs();
    let check = |secret: &str| {
        signature::verify(
            secret,
            get("webhook-id"),
            get("webhook-timestamp"),
            body,
            get("webhook-signature"),
            now,
        )
    };
    assert_eq!(check(SECRET), Ok(()));
    assert!(check("whsec_QW5vdGhlciBzZWNyZXQgZW50aXJlbHk=").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_raises_an_alert_delivered_to_the_webhook_with_a_valid_signature() {
    // The receiver fails the first attempt: delivery is retried.
    let (url, seen) = webhook_receiver(1).await;
    let server = TestServer::start_with(|s| {
        s.alert_webhook = Some((url, Secret::new(SECRET.into())));
        s.core.alerts.volume_min = 30;
        s.core.alerts.first_retry = std::time::Duration::from_millis(100);
    })
    .await;
    let (partner_id, key_id, key) = partner_world(&server).await;
    let api = server.staging("acme");
    for _ in 0..40 {
        with_key(&api, &key, Method::GET, "/v1/partners/accounts", None).await.expect(200);
    }
    let (headers, body) = eventually("webhook delivery", || async { seen.lock().unwrap().first().cloned() }).await;
    check_signature(&headers, &body);
    let alert: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(alert["type"], "usage.volume_spike");
    assert_eq!(alert["keyId"], key_id.as_str());
    assert_eq!(alert["partnerId"], partner_id.as_str());
    assert!(alert["detail"]["requests_last_5_minutes"].as_i64().unwrap() >= 30);
    // Stored with its delivery outcome, and audited.
    let stored = eventually("delivery recorded", || async {
        let alerts = server.core.usage().alerts(10).await.unwrap();
        alerts.into_iter().find(|a| a.delivery == Delivery::Delivered)
    })
    .await;
    assert_eq!(stored.kind, AlertKind::VolumeSpike);
    assert!(stored.attempts >= 2, "the failed first attempt was retried");
    let audit = server
        .core
        .audit()
        .events(&AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "alert.raised" && e.target == key_id));
    // And a `usage.alert` event, which the partner sees as its own.
    let tenant = server
        .core
        .tenancy()
        .resolve_host(&crate::helpers::host("acme", "staging"))
        .await
        .unwrap();
    let filter = onramp_domain::events::EventFilter {
        event_type: Some(onramp_domain::events::EventType::UsageAlert),
        partner_id: Some(partner_id.as_str().into()),
        limit: 10,
        ..Default::default()
    };
    let events = server.core.events().feed(&tenant, &filter).await.unwrap().items;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].data["kind"], "volume_spike");
    assert_eq!(events[0].data["key_id"], key_id.as_str());
    assert!(events[0].data["requests_last_5_minutes"].as_i64().unwrap() >= 30);
    assert_eq!(events[0].actor.kind, "system");
    // One alert per key and kind within the cooldown, however long the burst.
    for _ in 0..10 {
        with_key(&api, &key, Method::GET, "/v1/partners/accounts", None).await.expect(200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        server
            .core
            .usage()
            .alerts(10)
            .await
            .unwrap()
            .iter()
            .filter(|a| a.kind == AlertKind::VolumeSpike)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_of_a_revoked_key_raise_an_error_rate_alert() {
    let server = TestServer::start_with(|s| s.core.alerts.error_min = 20).await;
    let (_partner_id, key_id, key) = partner_world(&server).await;
    server
        .core
        .partners()
        .revoke_api_key(&Actor::operator(), &key_id.as_str().into())
        .await
        .unwrap();
    let api = server.staging("acme");
    for _ in 0..25 {
        let r = with_key(&api, &key, Method::GET, "/v1/partners/accounts", None).await;
        r.problem(401, "unauthenticated");
        assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("ApiKey")));
    }
    let alert = eventually("error-rate alert", || async {
        server
            .core
            .usage()
            .alerts(10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.kind == AlertKind::ErrorRate && a.key_id == key_id)
    })
    .await;
    assert_eq!(alert.delivery, Delivery::NotConfigured);
    assert!(alert.detail["denied_401_429"].as_i64().unwrap() >= 20);
}
