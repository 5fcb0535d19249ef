//! The partner API (`/v1/partners/webhooks/endpoints…`, scope
//! `webhooks:manage`, camelCase): a partner's own endpoints only, and only
//! the event types a partner receives.

use onramp_domain::partners::PartnerStatus;
use serde_json::json;

use super::*;
use crate::helpers::PartnerWorld;

const LIST: &str = "/v1/partners/webhooks/endpoints";

fn path(id: &str) -> String {
    format!("{LIST}/{id}")
}

fn rotate_path(id: &str) -> String {
    format!("{LIST}/{id}/rotate-secret")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_manage_their_own_endpoints_in_camel_case() {
    let w = PartnerWorld::with(test_resolver).await;
    let r = w
        .partner
        .post(
            LIST,
            &json!({ "url": PUBLIC_URL, "description": "CRM", "eventTypes": ["usage.alert", "account.created"] }),
        )
        .await;
    r.expect(201);
    assert_eq!(
        keys(&r.json),
        ["createdAt", "description", "enabled", "eventTypes", "id", "secret", "url"]
    );
    assert_eq!(r.json["eventTypes"], json!(["usage.alert", "account.created"]), "as sent");
    let repeated = w
        .partner
        .post(
            "/v1/partners/webhooks/endpoints",
            &json!({ "url": PUBLIC_URL, "eventTypes": ["account.deleted", "account.created", "account.deleted"] }),
        )
        .await;
    repeated.expect(201);
    assert_eq!(
        repeated.json["eventTypes"],
        json!(["account.deleted", "account.created"]),
        "each once, in order"
    );
    let repeated_path = format!("/v1/partners/webhooks/endpoints/{}", repeated.json["id"].as_str().unwrap());
    w.partner.delete(&repeated_path).await.expect(204);
    let first_key = secret_key(&r.json["secret"]);
    let id = r.json["id"].as_str().unwrap().to_owned();

    let got = w.partner.get(&path(&id)).await;
    got.expect(200);
    assert_eq!(keys(&got.json), ["createdAt", "description", "enabled", "eventTypes", "id", "url"]);
    let list = w.partner.get(LIST).await;
    list.expect(200);
    assert_eq!(keys(&list.json), ["data", "nextCursor"]);
    assert_eq!(list.json["data"], json!([got.json]));

    let r = w.partner.patch(&path(&id), &json!({ "eventTypes": [], "enabled": false })).await;
    r.expect(200);
    assert_eq!((&r.json["eventTypes"], &r.json["enabled"]), (&json!([]), &json!(false)));
    let r = w.partner.post_empty(&rotate_path(&id)).await;
    r.expect(200);
    assert_ne!(secret_key(&r.json["secret"]), first_key);
    assert!(r.json.get("eventTypes").is_some());

    w.partner.delete(&path(&id)).await.expect(204);
    w.partner.get(&path(&id)).await.problem(404, "not_found");
    let audit = endpoint_audit(&w.server).await;
    assert!(audit.iter().all(|e| e.actor == format!("api_key:{}", w.key_id)), "{audit:?}");
    assert!(audit.iter().all(|e| e.detail["partner_id"] == w.partner_id.as_str()), "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_reaches_another_owners_endpoint() {
    let w = PartnerWorld::with(test_resolver).await;
    let (_, _, other) = w.other_partner("staging", PartnerStatus::Active, &["webhooks:manage"]).await;
    let mine = w.partner.post(LIST, &json!({ "url": PUBLIC_URL })).await;
    mine.expect(201);
    let mine = mine.json["id"].as_str().unwrap().to_owned();
    let theirs = other.post(LIST, &json!({ "url": PUBLIC_URL })).await;
    theirs.expect(201);
    let theirs = theirs.json["id"].as_str().unwrap().to_owned();
    let owned = w.service.post("/v1/webhooks/endpoints", &json!({ "url": PUBLIC_URL })).await;
    owned.expect(201);
    let owned = owned.json["id"].as_str().unwrap().to_owned();

    // Another partner's endpoint, or the environment's, is not there at all.
    for id in [&theirs, &owned] {
        w.partner.get(&path(id)).await.problem(404, "not_found");
        w.partner
            .patch(&path(id), &json!({ "enabled": false }))
            .await
            .problem(404, "not_found");
        w.partner.post_empty(&rotate_path(id)).await.problem(404, "not_found");
        w.partner.delete(&path(id)).await.problem(404, "not_found");
    }
    // Service users manage the environment's own endpoints, not partners'.
    for id in [&mine, &theirs] {
        let r = w.service.get(&format!("/v1/webhooks/endpoints/{id}")).await;
        r.problem(404, "not_found");
        w.service
            .delete(&format!("/v1/webhooks/endpoints/{id}"))
            .await
            .problem(404, "not_found");
    }
    let ids = |r: Resp| -> Vec<String> {
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(w.partner.get(LIST).await), std::slice::from_ref(&mine));
    assert_eq!(ids(other.get(LIST).await), std::slice::from_ref(&theirs));
    assert_eq!(ids(w.service.get("/v1/webhooks/endpoints").await), std::slice::from_ref(&owned));
    // Nothing changed: every endpoint is still there and enabled.
    assert_eq!(w.partner.get(&path(&mine)).await.json["enabled"], true);
    assert_eq!(other.get(&path(&theirs)).await.json["enabled"], true);
    assert_eq!(
        w.service.get(&format!("/v1/webhooks/endpoints/{owned}")).await.json["enabled"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_subscribe_only_to_the_events_they_receive() {
    let w = PartnerWorld::with(test_resolver).await;
    for hidden in [
        "partner.created",
        "service_user.created",
        "signing_key.rotated",
        "app.created",
        "grant.revoked",
    ] {
        let r = w
            .partner
            .post(LIST, &json!({ "url": PUBLIC_URL, "eventTypes": ["account.created", hidden] }))
            .await;
        r.problem(400, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], "eventTypes", "{}", r.text);
        assert_eq!(r.json["errors"][0]["code"], "event_type_not_visible", "{}", r.text);
    }
    let r = w
        .partner
        .post(LIST, &json!({ "url": PUBLIC_URL, "eventTypes": ["account.nope"] }))
        .await;
    r.problem(400, "validation_failed");
    assert_eq!(
        (&r.json["errors"][0]["field"], &r.json["errors"][0]["code"]),
        (&json!("eventTypes"), &json!("unknown_event_type"))
    );
    assert_eq!(w.partner.get(LIST).await.json["data"], json!([]), "nothing was created");

    let visible = [
        "account.created",
        "account.updated",
        "account.deleted",
        "account.password_changed",
        "signin_link.redeemed",
        "api_key.issued",
        "api_key.rotated",
        "api_key.revoked",
        "usage.alert",
        "endpoint.disabled",
        "message.attempt.exhausted",
    ];
    let r = w.partner.post(LIST, &json!({ "url": PUBLIC_URL, "eventTypes": visible })).await;
    r.expect(201);
    assert_eq!(r.json["eventTypes"], json!(visible));
    let id = r.json["id"].as_str().unwrap();
    let r = w.partner.patch(&path(id), &json!({ "eventTypes": ["partner.approved"] })).await;
    r.problem(400, "validation_failed");
    assert_eq!(w.partner.get(&path(id)).await.json["eventTypes"], json!(visible), "unchanged");
    // The environment's own endpoints may take any type.
    let r = w
        .service
        .post(
            "/v1/webhooks/endpoints",
            &json!({ "url": PUBLIC_URL, "event_types": ["partner.created"] }),
        )
        .await;
    r.expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_api_needs_the_webhooks_manage_scope() {
    let w = PartnerWorld::with(test_resolver).await;
    let (_, _, reader) = w.other_partner("staging", PartnerStatus::Active, &["accounts:read"]).await;
    reader.get(LIST).await.problem(403, "forbidden");
    reader.post(LIST, &json!({ "url": PUBLIC_URL })).await.problem(403, "forbidden");
    let (_, _, pending) = w.other_partner("staging", PartnerStatus::Pending, &["webhooks:manage"]).await;
    pending.get(LIST).await.problem(403, "partner_not_approved");
    w.partner.api.get(LIST).await.problem(401, "unauthenticated");
    let (_, _, production) = w.other_partner("production", PartnerStatus::Active, &["webhooks:manage"]).await;
    w.server
        .staging("acme")
        .with_api_key(&production.key)
        .get(LIST)
        .await
        .problem(401, "unauthenticated");
    // Keys of other kinds stay out: a Bearer token is not a partner key.
    w.partner
        .api
        .with_token(w.service.token())
        .get(LIST)
        .await
        .problem(401, "unauthenticated");
}
