//! Partners in the console: approving and rejecting applications, issuing
//! keys (shown once) and revoking them, usage per partner and per key.

use onramp_domain::infra::totp::TotpSecret;
use onramp_domain::partners::PartnerStatus;
use serde_json::json;

use super::*;

async fn world() -> (TestServer, Browser) {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["client-accounts", "partners"]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    (server, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_approves_issues_a_key_sees_its_use_and_revokes_it() {
    let (server, mut browser) = world().await;
    let id = server.create_partner("acme", "staging", "Shop Co", PartnerStatus::Pending).await;
    let list = browser.get("/partners").await;
    list.expect(200);
    assert!(list.text.contains("Shop Co"), "listed as awaiting approval");
    browser.get(&format!("/partners/{id}")).await.expect(200);
    let r = browser
        .post(
            &format!("/partners/{id}/status"),
            &[("csrf", &browser.csrf()), ("action", "approve")],
        )
        .await;
    r.expect(303);
    let partner = server.core.partners().partner(&id.as_str().into()).await.unwrap();
    assert_eq!(partner.status, PartnerStatus::Active);

    browser.get(&format!("/partners/{id}")).await.expect(200);
    let r = browser
        .post(
            &format!("/partners/{id}/keys"),
            &[("csrf", &browser.csrf()), ("accounts:write", "on"), ("expires_days", "30")],
        )
        .await;
    r.expect(200);
    let key = element_text(&r.text, "new-key");
    assert!(key.len() > 20, "the key is shown once: {key}");
    let keys = server.core.partners().api_keys(&partner.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["accounts:write"]);
    assert!(keys[0].expires_at.is_some());
    let shown_again = browser.get(&format!("/partners/{id}")).await;
    assert!(!shown_again.text.contains(&key), "never shown again");

    let api = server.staging("acme").without_token();
    let body = json!({ "primaryEmail": "new@example.com", "password": "Partner-made-pw-1" });
    let made = send(
        api.request(reqwest::Method::POST, "/v1/partners/create")
            .header("x-api-key", &key)
            .json(&body),
    )
    .await;
    made.expect(201);
    // The call is counted as its answer goes out: flush until it is written.
    eventually("the call is counted", || async {
        server.core.usage().flush_usage().await.unwrap();
        let filter = onramp_domain::usage::buckets::UsageFilter::of_partner(&partner);
        let series = server
            .core
            .usage()
            .usage_chart(&filter, onramp_domain::usage::buckets::UsagePeriod::Last24Hours)
            .await
            .unwrap();
        (series.buckets.iter().map(|b| b.total).sum::<i64>() == 1).then_some(())
    })
    .await;
    let usage = browser.get(&format!("/partners/{id}?period=24h")).await;
    usage.expect(200);
    assert!(usage.text.contains("<svg"), "a chart of the call");
    assert!(usage.text.contains("<td class=\"num\">1</td>"), "the call counted in the table");
    let per_key = browser.get(&format!("/partners/{id}?period=24h&key={}", keys[0].key_id)).await;
    assert!(per_key.text.contains("<td class=\"num\">1</td>"));

    let r = browser
        .post(
            &format!("/partners/{id}/keys/{}/revoke", keys[0].key_id),
            &[("csrf", &browser.csrf())],
        )
        .await;
    r.expect(303);
    let refused = send(
        api.request(reqwest::Method::POST, "/v1/partners/create")
            .header("x-api-key", &key)
            .json(&body),
    )
    .await;
    refused.expect(401);
    let log = browser.get(&format!("/audit?instance=acme&target={}", keys[0].key_id)).await;
    assert!(log.text.contains("api_key.issued") && log.text.contains("api_key.revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_rejected_with_a_reason_and_support_cannot_act() {
    let (server, mut browser) = world().await;
    let id = server
        .create_partner("acme", "production", "Spam Inc", PartnerStatus::Pending)
        .await;
    browser.get(&format!("/partners/{id}")).await.expect(200);
    let csrf = browser.csrf();
    let r = browser
        .post(
            &format!("/partners/{id}/status"),
            &[("csrf", &csrf), ("action", "reject"), ("reason", "  ")],
        )
        .await;
    r.expect(400);
    let r = browser
        .post(
            &format!("/partners/{id}/status"),
            &[("csrf", &csrf), ("action", "reject"), ("reason", "Not a real business")],
        )
        .await;
    r.expect(303);
    let partner = server.core.partners().partner(&id.as_str().into()).await.unwrap();
    assert_eq!(partner.status, PartnerStatus::Suspended);
    let log = browser.get("/audit?action=partner.rejected").await;
    assert!(log.text.contains(&id));
    let csv = browser.get("/audit.csv?action=partner.rejected").await;
    assert!(csv.text.contains("Not a real business"), "the reason is in the audit detail");
    let again = browser
        .post(
            &format!("/partners/{id}/status"),
            &[("csrf", &csrf), ("action", "reject"), ("reason", "Twice")],
        )
        .await;
    again.expect(400);

    let support = server_with_operator("support").await;
    support.create_instance("acme", &["partners"]).await;
    let other = support.create_partner("acme", "staging", "Shop Co", PartnerStatus::Pending).await;
    let mut reader = console(&support);
    first_sign_in(&support, &mut reader).await;
    let page = reader.get(&format!("/partners/{other}")).await;
    page.expect(200);
    assert!(!page.text.contains(">Approve</button>"), "no actions offered");
    let r = reader
        .post(
            &format!("/partners/{other}/status"),
            &[("csrf", &reader.csrf()), ("action", "approve")],
        )
        .await;
    r.expect(403);
    let r = reader
        .post(
            &format!("/partners/{other}/keys"),
            &[("csrf", &reader.csrf()), ("accounts:write", "on")],
        )
        .await;
    r.expect(403);
    let partner = support.core.partners().partner(&other.as_str().into()).await.unwrap();
    assert_eq!(partner.status, PartnerStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_from_the_portal_shows_its_contact_and_the_admin_invites_another() {
    let (server, mut browser) = world().await;
    let mut applicant = crate::portal::browser(&server);
    crate::portal::apply(&mut applicant, "Shop Co", "ann@shop.example").await;
    let id = crate::portal::partner_named(&server, "Shop Co").await;
    let page = browser.get(&format!("/partners/{id}")).await;
    page.expect(200);
    for shown in ["Ann Example", "ann@shop.example", "Provision shop accounts"] {
        assert!(page.text.contains(shown), "{shown}");
    }
    let r = browser
        .post(
            &format!("/partners/{id}/invite"),
            &[("csrf", &browser.csrf()), ("email", "bo@shop.example")],
        )
        .await;
    r.expect(200);
    let link = element_text(&r.text, "invite-link");
    let path = link
        .split_once(".localhost")
        .map(|(_, p)| p)
        .expect("a link on the environment's host");
    assert!(link.starts_with("https://api.staging.acme.localhost/partners/invite/"), "{link}");
    crate::portal::browser(&server).get(path).await.expect(200);
    let again = browser.get(&format!("/partners/{id}")).await;
    assert!(!again.text.contains(path), "the link is shown once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_resets_a_contacts_lost_authenticator() {
    let (server, mut browser) = world().await;
    let mut ann = crate::portal::browser(&server);
    crate::portal::apply(&mut ann, "Shop Co", "ann@shop.example").await;
    let id = crate::portal::approve(&server, "Shop Co").await;
    // Ann sets up an authenticator in the portal.
    let page = ann.get("/partners/security/enrol").await;
    page.expect(200);
    let secret = TotpSecret::from_base32(&element_text(&page.text, "totp-secret")).unwrap();
    let code = secret.code_at(server.clock.now_ms());
    ann.post("/partners/security/enrol", &[("csrf", &ann.csrf()), ("code", &code)])
        .await
        .expect(200);
    let user = server.core.portal().users_of(&id).await.unwrap().remove(0);
    assert!(user.has_authenticator());

    let page = browser.get(&format!("/partners/{id}")).await;
    assert!(page.text.contains(">Reset authenticator</button>"));
    let r = browser
        .post(
            &format!("/partners/{id}/contacts/{}/reset-authenticator", user.id),
            &[("csrf", &browser.csrf())],
        )
        .await;
    r.expect(303);
    assert!(!server.core.portal().users_of(&id).await.unwrap()[0].has_authenticator());
    // She signs in with her password alone again.
    let mut again = crate::portal::browser(&server);
    let r = crate::portal::sign_in(&mut again, "ann@shop.example", crate::portal::PASSWORD).await;
    assert_ne!(r.header("location"), Some("/partners/sign-in/code"));
    let log = browser.get("/audit?action=portal_user.totp_reset").await;
    assert!(log.text.contains(user.id.as_str()));
    // Nothing left to reset.
    browser.get(&format!("/partners/{id}")).await.expect(200);
    browser
        .post(
            &format!("/partners/{id}/contacts/{}/reset-authenticator", user.id),
            &[("csrf", &browser.csrf())],
        )
        .await
        .expect(403);
}
