//! The way in and the keys: apply, see nothing but "awaiting approval",
//! be approved, sign in, make a key (shown once), call the API with it,
//! see the calls in the usage, rotate it with a grace period, revoke it;
//! each step audited with the portal user as actor.

use std::time::Duration;

use onramp_domain::audit::AuditFilter;

use super::{PASSWORD, apply, approve, browser, create_key, server, sign_in};
use crate::helpers::{PartnerApi, partner_signup_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_wait_for_approval_then_make_use_rotate_and_revoke_a_key() {
    let server = server().await;
    let mut b = browser(&server);

    // The form carries the labels people and tests rely on.
    let form = b.get("/partners/apply").await;
    form.expect(200);
    for label in ["Company", "Contact name", "Email", "Intended use", "Password"] {
        assert!(form.text.contains(&format!(">{label}</label>")), "label {label}");
    }
    apply(&mut b, "Acme Ltd", "ann@acme.example").await;
    assert!(b.cookie("onramp_portal").is_some(), "the portal's own cookie");
    assert!(b.cookie("onramp_session").is_none(), "not the account pages' cookie");

    // Pending: the status page and nothing else.
    let status = b.get("/partners/status").await;
    status.expect(200);
    assert!(status.text.contains("Awaiting approval"));
    assert!(!status.text.contains(">Keys</a>"), "no navigation yet");
    for page in [
        "/partners",
        "/partners/keys",
        "/partners/usage",
        "/partners/alerts",
        "/partners/accounts",
        "/partners/team",
    ] {
        let r = b.get(page).await;
        r.expect(303);
        assert_eq!(r.header("location"), Some("/partners/status"), "{page}");
    }
    let r = b.post("/partners/keys", &[("csrf", &b.csrf()), ("usage:read", "on")]).await;
    assert_eq!(r.header("location"), Some("/partners/status"), "no key before approval");

    // The operator approves; the portal opens.
    let partner_id = approve(&server, "Acme Ltd").await;
    assert_eq!(b.get("/partners").await.expect(303).header("location"), Some("/partners/keys"));
    let keys = b.get("/partners/keys").await;
    keys.expect(200);
    for nav in ["Keys", "Usage", "Alerts", "Accounts", "Team"] {
        assert!(keys.text.contains(&format!(">{nav}</a>")), "navigation {nav}");
    }
    assert!(keys.text.contains(r#"href="/docs/""#), "a link to the API documentation");

    // Out and in again, with the sign-in form's labels.
    let r = b.post("/partners/sign-out", &[("csrf", &b.csrf())]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in"));
    assert_eq!(
        b.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/sign-in")
    );
    let page = b.get("/partners/sign-in").await;
    assert!(page.text.contains(">Email</label>") && page.text.contains(">Password</label>"));
    sign_in(&mut b, "ann@acme.example", "Not-the-password-1").await.expect(401);
    let r = sign_in(&mut b, "ann@acme.example", PASSWORD).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));

    // A key, shown once.
    let (key_id, key) = create_key(&mut b, &["accounts:write", "accounts:read", "usage:read"]).await;
    assert!(key.starts_with("onr_test_"), "a sandbox key: {key}");
    let list = b.get("/partners/keys").await;
    assert!(
        list.text.contains(&key_id) && !list.text.contains(&key),
        "listed, never shown again"
    );
    assert!(list.text.contains("accounts:write, accounts:read, usage:read"));

    // The key works on the API, and its calls show in the usage.
    let api = PartnerApi::new(&server.staging("acme"), &key);
    api.post("/v1/partners/create", &partner_signup_body("shopper@example.com"))
        .await
        .expect(201);
    api.post("/v1/partners/create", &partner_signup_body("shopper@example.com"))
        .await
        .expect(409);
    // The server's own flush may be writing the counts as ours finds none: wait for both.
    let partner = server.core.partners().partner(&partner_id).await.unwrap();
    crate::helpers::eventually("the 2 calls are counted", || async {
        server.core.usage().flush_usage().await.unwrap();
        let filter = onramp_domain::usage::buckets::UsageFilter::of_partner(&partner);
        let series = server
            .core
            .usage()
            .usage_chart(&filter, onramp_domain::usage::buckets::UsagePeriod::Last24Hours)
            .await
            .unwrap();
        (series.buckets.iter().map(|b| b.total).sum::<i64>() == 2).then_some(())
    })
    .await;
    let usage = b.get("/partners/usage").await;
    usage.expect(200);
    for column in ["2xx", "4xx", "429", "5xx", "Total"] {
        assert!(usage.text.contains(&format!(">{column}</th>")), "column {column}");
    }
    assert!(usage.text.contains("<svg"), "a chart");
    assert!(usage.text.contains("POST /v1/partners/create"), "by endpoint");
    assert!(
        usage.text.contains(r#"<th scope="row">Total</th><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">2</td>"#),
        "one created, one conflict: {}",
        usage.text
    );
    for period in ["7d", "30d"] {
        let r = b.get(&format!("/partners/usage?period={period}&key={key_id}")).await;
        r.expect(200);
        assert!(r.text.contains(&format!("key {key_id}")));
    }
    let csv = b.get(&format!("/partners/usage.csv?period=24h&key={key_id}")).await;
    csv.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.text.starts_with("start,2xx,4xx,429,5xx,total\r\n"));
    assert_eq!(csv.text.lines().count(), 25, "a header and 24 hours");
    assert!(
        !b.get("/partners/keys").await.text.contains("never</td><td>active"),
        "lastUsedAt is set"
    );
    let accounts = b.get("/partners/accounts?email=shopper@example.com").await;
    assert!(accounts.text.contains("shopper@example.com"));
    assert!(accounts.text.contains(">Sign-in link</th>") && accounts.text.contains("unused, expires"));

    // Rotation: a new key now, the old one for the grace period.
    let page = b.get("/partners/keys").await;
    page.expect(200);
    let r = b
        .post(
            &format!("/partners/keys/{key_id}/rotate"),
            &[("csrf", &b.csrf()), ("grace", "3600")],
        )
        .await;
    r.expect(200);
    let successor = super::element_text(&r.text, "new-key");
    assert_ne!(successor, key);
    let again = b
        .post(
            &format!("/partners/keys/{key_id}/rotate"),
            &[("csrf", &b.csrf()), ("grace", "3600")],
        )
        .await;
    again.expect(400);
    assert!(again.text.contains("rotated already"));
    let new_api = PartnerApi::new(&server.staging("acme"), &successor);
    new_api.get("/v1/partners/accounts").await.expect(200);
    api.get("/v1/partners/accounts").await.expect(200);
    server.clock.advance(Duration::from_secs(3601));
    api.get("/v1/partners/accounts").await.expect(401);

    // Revocation: refused from the next request on.
    let r = sign_in(&mut b, "ann@acme.example", PASSWORD).await;
    r.expect(303);
    let list = b.get("/partners/keys").await;
    let start = list.text.find("action=\"/partners/keys/key_").unwrap() + "action=\"/partners/keys/".len();
    let successor_id = list.text[start..start + list.text[start..].find('/').unwrap()].to_owned();
    assert_ne!(successor_id, key_id, "the newest key is listed first");
    let r = b
        .post(&format!("/partners/keys/{successor_id}/revoke"), &[("csrf", &b.csrf())])
        .await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/keys"));
    new_api.get("/v1/partners/accounts").await.expect(401);
    assert!(b.get("/partners/keys").await.text.contains("revoked"));

    // Every step is audited with the portal user as actor.
    let user = server.core.portal().users_of(&partner_id).await.unwrap().remove(0);
    let audit = server
        .core
        .audit()
        .events(&AuditFilter {
            actor: Some(format!("portal_user:{}", user.id)),
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "partner.applied",
        "portal_user.created",
        "portal_user.signed_in",
        "portal_user.signed_out",
        "api_key.issued",
        "api_key.rotated",
        "api_key.revoked",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
