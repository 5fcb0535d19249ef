//! A partner's own usage-alert thresholds: `GET` / `PUT
//! /v1/partners/alerts/settings` (scope `webhooks:manage`), their bounds and
//! audit, and the detector applying them to that partner's keys only.

use onramp_domain::audit::AuditFilter;
use onramp_domain::clock::Clock;
use onramp_domain::partners::PartnerStatus;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ALL_SCOPES, PartnerApi, PartnerWorld, Resp, eventually, send};

const SETTINGS: &str = "/v1/partners/alerts/settings";

async fn put(partner: &PartnerApi, body: &Value) -> Resp {
    send(partner.request(Method::PUT, SETTINGS).json(body)).await
}

/// The four effective values of a settings answer.
fn values(r: &Resp) -> Value {
    let j = &r.json;
    json!([j["volumeFactor"], j["volumeMin"], j["errorShare"], j["errorMin"]])
}

/// The audit events of settings changes, oldest first.
async fn settings_audit(world: &PartnerWorld) -> Vec<onramp_domain::audit::AuditEvent> {
    let filter = AuditFilter {
        limit: 200,
        ..Default::default()
    };
    let mut events = world.server.core.audit().events(&filter).await.unwrap();
    events.retain(|e| e.action == "alert_settings.updated");
    events.reverse();
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_start_at_the_deployments_and_a_partial_update_keeps_the_rest() {
    // The defaults are the deployment's own thresholds, whatever they are.
    let world = PartnerWorld::with(|s| s.core.alerts.volume_factor = 4.0).await;
    let (_, _, other) = world.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;

    let r = world.partner.get(SETTINGS).await;
    r.expect(200);
    assert_eq!(values(&r), json!([4.0, 100, 0.5, 50]), "{}", r.text);
    assert_eq!(r.json["custom"], json!([]));
    assert_eq!(
        r.json["defaults"],
        json!({ "volumeFactor": 4.0, "volumeMin": 100, "errorShare": 0.5, "errorMin": 50 })
    );

    let r = put(&world.partner, &json!({ "volumeMin": 10 })).await;
    r.expect(200);
    assert_eq!(values(&r), json!([4.0, 10, 0.5, 50]), "{}", r.text);
    assert_eq!(r.json["custom"], json!(["volumeMin"]));

    // A field left out keeps its value; the answer and a later GET agree.
    let r = put(&world.partner, &json!({ "errorShare": 0.25, "volumeFactor": 7.5 })).await;
    r.expect(200);
    assert_eq!(values(&r), json!([7.5, 10, 0.25, 50]), "{}", r.text);
    let r = world.partner.get(SETTINGS).await;
    assert_eq!(values(&r), json!([7.5, 10, 0.25, 50]), "{}", r.text);
    assert_eq!(r.json["custom"], json!(["volumeFactor", "volumeMin", "errorShare"]));

    // `null` returns a field to the deployment's default.
    let r = put(&world.partner, &json!({ "volumeFactor": null })).await;
    r.expect(200);
    assert_eq!(values(&r), json!([4.0, 10, 0.25, 50]), "{}", r.text);
    assert_eq!(r.json["custom"], json!(["volumeMin", "errorShare"]));

    // Another partner of the same environment still has the defaults.
    let r = other.get(SETTINGS).await;
    r.expect(200);
    assert_eq!(values(&r), json!([4.0, 100, 0.5, 50]), "{}", r.text);
    assert_eq!(r.json["custom"], json!([]));

    // Every change is audited with the key that made it and what it set; an empty one changes nothing.
    put(&world.partner, &json!({})).await.expect(200);
    let audit = settings_audit(&world).await;
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(audit.iter().all(|e| e.target == world.partner_id));
    assert_eq!(audit[0].actor, format!("api_key:{}", world.key_id));
    assert_eq!(audit[0].environment.as_deref(), Some("staging"));
    assert_eq!(audit[1].detail, json!({ "changed": { "volume_factor": 7.5, "error_share": 0.25 } }));
    assert_eq!(audit[2].detail, json!({ "changed": { "volume_factor": null } }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_bounds_values_are_refused_field_by_field_and_nothing_changes() {
    let world = PartnerWorld::new().await;
    put(&world.partner, &json!({ "volumeMin": 20, "errorShare": 0.2 }))
        .await
        .expect(200);

    let r = put(
        &world.partner,
        &json!({ "volumeFactor": 1.49, "volumeMin": 9, "errorShare": 1.01, "errorMin": 1_000_001 }),
    )
    .await;
    r.problem(400, "validation_failed");
    assert_eq!(
        r.error_fields(),
        ["volumeFactor", "volumeMin", "errorShare", "errorMin"],
        "{}",
        r.text
    );
    assert!(r.json["errors"].as_array().unwrap().iter().all(|e| e["code"] == "out_of_range"));
    assert!(r.json["detail"].as_str().unwrap().starts_with("volumeFactor "), "{}", r.text);

    // One bad field refuses the whole change, the good fields included.
    let r = put(&world.partner, &json!({ "volumeFactor": 3, "errorMin": 5 })).await;
    r.problem(400, "validation_failed");
    assert_eq!(r.error_fields(), ["errorMin"]);
    let r = put(&world.partner, &json!({ "errorShare": 0.01, "volumeMin": 30 })).await;
    assert_eq!(r.error_fields(), ["errorShare"]);
    put(&world.partner, &json!({ "volumeMin": 10.5 }))
        .await
        .problem(400, "validation_failed");
    put(&world.partner, &json!({ "volumeMin": "50" }))
        .await
        .problem(400, "validation_failed");
    let r = put(&world.partner, &json!({ "volumeMax": 50 })).await;
    r.problem(400, "unknown_field");
    assert_eq!(r.error_fields(), ["volumeMax"]);

    let r = world.partner.get(SETTINGS).await;
    assert_eq!(values(&r), json!([5.0, 20, 0.2, 50]), "nothing changed: {}", r.text);
    assert_eq!(settings_audit(&world).await.len(), 1, "refused changes are not audited");

    // The bounds themselves are allowed.
    let r = put(
        &world.partner,
        &json!({ "volumeFactor": 1.5, "volumeMin": 10, "errorShare": 0.05, "errorMin": 1_000_000 }),
    )
    .await;
    r.expect(200);
    assert_eq!(values(&r), json!([1.5, 10, 0.05, 1_000_000]));
    let r = put(
        &world.partner,
        &json!({ "volumeFactor": 100, "volumeMin": 1_000_000, "errorShare": 1 }),
    )
    .await;
    r.expect(200);
    assert_eq!(values(&r), json!([100.0, 1_000_000, 1.0, 1_000_000]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_webhooks_manage_can_neither_read_nor_change_the_settings() {
    let world = PartnerWorld::new().await;
    let (_, narrow) = world
        .server
        .issue_key(&world.partner_id, &["accounts:read", "usage:read"], None)
        .await;
    let narrow = world.server.staging("acme").with_api_key(&narrow);
    narrow.get(SETTINGS).await.problem(403, "forbidden");
    put(&narrow, &json!({ "volumeMin": 10 })).await.problem(403, "forbidden");
    let no_key = world.server.staging("acme").without_token();
    send(no_key.request(Method::GET, SETTINGS)).await.problem(401, "unauthenticated");
    let r = world.partner.get(SETTINGS).await;
    assert_eq!(r.json["volumeMin"], 100, "unchanged: {}", r.text);
    assert!(settings_audit(&world).await.is_empty());
}

/// This partner's `usage.alert` events, read from its own feed over HTTP.
async fn alert_events(partner: &PartnerApi) -> Vec<Value> {
    let r = partner.get("/v1/partners/events?type=usage.alert").await;
    r.expect(200);
    r.json["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_lower_volume_min_raises_an_alert_that_the_default_does_not() {
    let world = PartnerWorld::new().await;
    let (other_id, other_key_id, other) = world.other_partner("staging", PartnerStatus::Active, &ALL_SCOPES).await;
    put(&world.partner, &json!({ "volumeMin": 10 })).await.expect(200);

    // The same 15 requests from each partner: above 10, below the default 100.
    for _ in 0..15 {
        other.get("/v1/partners/accounts").await.expect(200);
    }
    for _ in 0..15 {
        world.partner.get("/v1/partners/accounts").await.expect(200);
    }
    // Waited for in the store: polling over HTTP would add to the partner's traffic.
    let usage = world.server.core.usage();
    eventually("the partner's alert", || async {
        let alerts = usage.alerts(50).await.unwrap();
        alerts.into_iter().find(|a| a.key_id == world.key_id)
    })
    .await;
    let events = alert_events(&world.partner).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let data = &events[0]["data"];
    assert_eq!(data["kind"], "volume_spike");
    assert_eq!(data["key_id"], world.key_id.as_str());
    assert_eq!(data["partner_id"], world.partner_id.as_str());
    let requests = data["requests_last_5_minutes"].as_i64().unwrap();
    assert!((10..100).contains(&requests), "raised below the default 100: {requests}");

    // Once every request of the other partner is stored, a detection pass
    // sees its 15 and raises nothing for it: the default applies to it.
    let other_partner = world.server.core.partners().partner(&other_id.as_str().into()).await.unwrap();
    let now = world.server.clock.now_ms();
    eventually("the other partner's requests stored", || async {
        let series = usage
            .usage_series(
                &other_partner,
                now - 3_600_000,
                now + 60_000,
                onramp_domain::usage::service::Granularity::Hour,
            )
            .await
            .unwrap();
        (series.iter().map(|p| p.requests).sum::<i64>() >= 15).then_some(())
    })
    .await;
    let raised = usage.detect_anomalies().await.unwrap();
    assert!(raised.iter().all(|a| a.key_id != other_key_id), "{raised:?}");
    let stored = usage.alerts(50).await.unwrap();
    assert!(stored.iter().any(|a| a.key_id == world.key_id));
    assert!(stored.iter().all(|a| a.key_id != other_key_id), "{stored:?}");
    assert!(alert_events(&other).await.is_empty());
}
