//! The target policy over HTTP: webhook URLs whose host is, or resolves to,
//! a loopback, private, link-local or metadata address are refused with
//! `webhook_target_not_allowed`, unless the deployment allows them.

use serde_json::json;

use super::*;
use crate::helpers::PartnerWorld;

/// Targets inside the deployment's own network, by literal or by name.
const PRIVATE_TARGETS: [&str; 12] = [
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://10.0.0.1/hook",
    "http://192.168.1.20:9000/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0:8080/",
    "http://localhost:8080/hook",
    "https://internal.example.com/hook",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_outside_the_public_internet_are_refused() {
    let w = PartnerWorld::with(test_resolver).await;
    let service_list = "/v1/webhooks/endpoints";
    let partner_list = "/v1/partners/webhooks/endpoints";
    for url in PRIVATE_TARGETS {
        for r in [
            w.service.post(service_list, &json!({ "url": url })).await,
            w.partner.post(partner_list, &json!({ "url": url })).await,
        ] {
            r.problem(400, "webhook_target_not_allowed");
            assert_eq!(r.json["errors"][0]["field"], "url", "{url}: {}", r.text);
            assert_eq!(r.json["errors"][0]["code"], "target_not_allowed", "{url}: {}", r.text);
        }
    }
    let r = w.service.post(service_list, &json!({ "url": "http://169.254.169.254/" })).await;
    assert!(r.json["detail"].as_str().unwrap().contains("metadata"), "{}", r.text);
    let r = w
        .service
        .post(service_list, &json!({ "url": "https://internal.example.com/" }))
        .await;
    // Refused without telling the caller what the name resolves to.
    let detail = r.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("internal.example.com resolves to an address that is a private address"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("10.0.0.7"), "{}", r.text);
    let r = w
        .service
        .post(service_list, &json!({ "url": "https://nowhere.example.com/" }))
        .await;
    r.problem(400, "webhook_target_not_allowed");
    assert_eq!(r.json["errors"][0]["code"], "unresolvable_host");
    assert_eq!(w.service.get(service_list).await.json["data"], json!([]), "nothing was created");
    assert_eq!(w.partner.get(partner_list).await.json["data"], json!([]), "nothing was created");

    // An endpoint cannot be moved there either.
    let r = w.partner.post(partner_list, &json!({ "url": PUBLIC_URL })).await;
    r.expect(201);
    let path = format!("{partner_list}/{}", r.json["id"].as_str().unwrap());
    w.partner
        .patch(&path, &json!({ "url": "http://127.0.0.1/" }))
        .await
        .problem(400, "webhook_target_not_allowed");
    assert_eq!(w.partner.get(&path).await.json["url"], PUBLIC_URL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_allows_private_targets_accepts_them() {
    let w = PartnerWorld::with(allowing_private_targets).await;
    for url in PRIVATE_TARGETS {
        let r = w.service.post("/v1/webhooks/endpoints", &json!({ "url": url })).await;
        r.expect(201);
        let r = w.partner.post("/v1/partners/webhooks/endpoints", &json!({ "url": url })).await;
        r.expect(201);
    }
    // The setting lifts the address rule, not the others.
    let r = w
        .service
        .post("/v1/webhooks/endpoints", &json!({ "url": "https://nowhere.example.com/" }))
        .await;
    r.problem(400, "webhook_target_not_allowed");
    let r = w
        .service
        .post("/v1/webhooks/endpoints", &json!({ "url": "http://user:pw@127.0.0.1/" }))
        .await;
    r.problem(400, "validation_failed");
}
