//! The scopes a partner's keys may have: an admin sets them on the
//! partner's page (CSRF, audited with the operator as actor), support
//! cannot; the console's own key form stays within them; narrowing them
//! reaches keys issued before.

use onramp_domain::partners::PartnerStatus;
use serde_json::json;

use super::*;

async fn world() -> (TestServer, Browser, String) {
    let server = server_with_operator("admin").await;
    server.create_instance("acme", &["client-accounts", "partners"]).await;
    let mut browser = console(&server);
    first_sign_in(&server, &mut browser).await;
    let id = server.create_partner("acme", "staging", "Shop Co", PartnerStatus::Active).await;
    (server, browser, id)
}

/// How many checkboxes of `scope` the page has, and how many of them are ticked.
fn boxes(html: &str, scope: &str) -> (usize, usize) {
    let all = html.matches(&format!(r#"name="{scope}""#)).count();
    let ticked = html.matches(&format!(r#"name="{scope}" checked"#)).count();
    (all, ticked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_narrows_a_partners_scopes_and_keys_stay_within_them() {
    let (server, mut browser, id) = world().await;
    // Before: every scope allowed (what existing partners keep), offered twice: allowance and key form.
    let page = browser.get(&format!("/partners/{id}")).await;
    page.expect(200);
    assert!(page.text.contains("Allowed scopes"));
    for scope in ["accounts:write", "accounts:read", "usage:read", "webhooks:manage"] {
        assert_eq!(boxes(&page.text, scope), (2, 2), "{scope}");
    }
    // A key issued before the change, with accounts:write.
    let r = browser
        .post(
            &format!("/partners/{id}/keys"),
            &[("csrf", &browser.csrf()), ("accounts:write", "on"), ("usage:read", "on")],
        )
        .await;
    let old_key = element_text(&r.expect(200).text, "new-key");

    // A forged token changes nothing; the admin's form does.
    let url = format!("/partners/{id}/scopes");
    browser.post(&url, &[("csrf", "forged"), ("usage:read", "on")]).await.expect(403);
    browser.post(&url, &[("csrf", &browser.csrf())]).await.expect(400);
    let r = browser
        .post(&url, &[("csrf", &browser.csrf()), ("usage:read", "on"), ("accounts:read", "on")])
        .await;
    r.expect(303);
    let partner = server.core.partners().partner(&id.as_str().into()).await.unwrap();
    let allowed: Vec<&str> = partner.allowed_scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(allowed, ["accounts:read", "usage:read"]);
    let page = browser.get(&format!("/partners/{id}?done=scopes")).await;
    assert!(page.text.contains("Allowed scopes saved"));
    assert_eq!(boxes(&page.text, "accounts:write"), (1, 0), "unticked, and not in the key form");
    assert_eq!(boxes(&page.text, "webhooks:manage"), (1, 0));
    assert_eq!(boxes(&page.text, "usage:read"), (2, 2));

    // The console issues within the allowance: a clear refusal, no key.
    let r = browser
        .post(
            &format!("/partners/{id}/keys"),
            &[("csrf", &browser.csrf()), ("accounts:write", "on"), ("usage:read", "on")],
        )
        .await;
    r.expect(400);
    assert!(r.text.contains("accounts:write not allowed for this partner"), "{}", r.text);
    assert_eq!(server.core.partners().api_keys(&partner.id).await.unwrap().len(), 1);
    let r = browser
        .post(&format!("/partners/{id}/keys"), &[("csrf", &browser.csrf()), ("usage:read", "on")])
        .await;
    r.expect(200);

    // The key from before keeps what is still allowed and loses the rest at once.
    let api = server.staging("acme").without_token();
    let create = json!({ "primaryEmail": "new@example.com", "password": "Partner-made-pw-1" });
    let r = send(
        api.request(reqwest::Method::POST, "/v1/partners/create")
            .header("x-api-key", &old_key)
            .json(&create),
    )
    .await;
    r.expect(403);
    assert!(
        r.text.contains("does not allow this partner the `accounts:write` scope"),
        "{}",
        r.text
    );
    let r = send(
        api.request(reqwest::Method::GET, "/v1/partners/usage")
            .header("x-api-key", &old_key),
    )
    .await;
    r.expect(200);

    // Audited with the operator as actor, old and new sets in the detail.
    let operator = server.core.operators().by_email(EMAIL).await.unwrap();
    let log = browser.get("/audit.csv?action=partner.scopes_changed").await;
    assert!(log.text.contains(&format!("operator:{}", operator.id)), "{}", log.text);
    assert!(log.text.contains("webhooks:manage") && log.text.contains(&id));

    // Widening again works the same way.
    browser.get(&format!("/partners/{id}")).await;
    let r = browser
        .post(&url, &[("csrf", &browser.csrf()), ("accounts:write", "on"), ("usage:read", "on")])
        .await;
    r.expect(303);
    let r = send(
        api.request(reqwest::Method::POST, "/v1/partners/create")
            .header("x-api-key", &old_key)
            .json(&create),
    )
    .await;
    r.expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_sees_the_allowance_but_cannot_change_it() {
    let server = server_with_operator("support").await;
    server.create_instance("acme", &["partners"]).await;
    let id = server.create_partner("acme", "staging", "Shop Co", PartnerStatus::Active).await;
    let mut reader = console(&server);
    first_sign_in(&server, &mut reader).await;
    let page = reader.get(&format!("/partners/{id}")).await;
    page.expect(200);
    assert!(page.text.contains("Allowed scopes") && page.text.contains("<code>webhooks:manage</code>"));
    assert!(!page.text.contains("Save allowed scopes"), "no form for support");
    let r = reader
        .post(&format!("/partners/{id}/scopes"), &[("csrf", &reader.csrf()), ("usage:read", "on")])
        .await;
    r.expect(403);
    let partner = server.core.partners().partner(&id.as_str().into()).await.unwrap();
    assert_eq!(partner.allowed_scopes.len(), 4, "unchanged");
}
