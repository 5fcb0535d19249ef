//! Partner A's people never see or touch partner B's anything; a portal
//! session is its environment's; forms without the session's CSRF token
//! are refused; an instance without partners has no portal.

use super::{PASSWORD, apply, approve, browser, create_key, server, sign_in};
use crate::helpers::{PartnerApi, TestServer, partner_signup_body};
use crate::pages::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_see_only_their_own_keys_usage_accounts_and_team() {
    let server = server().await;
    let (mut a, mut b) = (browser(&server), browser(&server));
    apply(&mut a, "Acme Ltd", "ann@acme.example").await;
    apply(&mut b, "Bolt Ltd", "bo@bolt.example").await;
    approve(&server, "Acme Ltd").await;
    approve(&server, "Bolt Ltd").await;
    let (a_key_id, a_key) = create_key(&mut a, &["accounts:write", "accounts:read"]).await;
    let (b_key_id, _) = create_key(&mut b, &["usage:read"]).await;
    PartnerApi::new(&server.staging("acme"), &a_key)
        .post("/v1/partners/create", &partner_signup_body("a-shopper@example.com"))
        .await
        .expect(201);
    server.core.usage().flush_usage().await.unwrap();

    // B's pages show nothing of A's.
    let keys = b.get("/partners/keys").await;
    assert!(keys.text.contains(&b_key_id) && !keys.text.contains(&a_key_id));
    let usage = b.get(&format!("/partners/usage?key={a_key_id}")).await;
    usage.expect(200);
    assert!(!usage.text.contains(&a_key_id), "A's key is no filter of B's");
    assert!(usage.text.contains("No requests in this period."));
    let csv = b.get(&format!("/partners/usage.csv?key={a_key_id}")).await;
    assert!(csv.text.lines().skip(1).all(|l| l.ends_with(",0")), "{}", csv.text);
    let accounts = b.get("/partners/accounts?email=a-shopper@example.com").await;
    assert!(!accounts.text.contains("a-shopper@example.com<"));
    assert!(a.get("/partners/accounts").await.text.contains("a-shopper@example.com"));
    let team = b.get("/partners/team").await;
    assert!(!team.text.contains("ann@acme.example"));

    // B's forms against A's things find nothing.
    b.get("/partners/keys").await;
    let csrf = b.csrf();
    b.post(&format!("/partners/keys/{a_key_id}/revoke"), &[("csrf", &csrf)])
        .await
        .expect(404);
    b.post(&format!("/partners/keys/{a_key_id}/rotate"), &[("csrf", &csrf), ("grace", "0")])
        .await
        .expect(404);
    let acme = super::partner_named(&server, "Acme Ltd").await;
    let ann = server.core.portal().users_of(&acme).await.unwrap().remove(0);
    b.post(&format!("/partners/team/{}/remove", ann.id), &[("csrf", &csrf)])
        .await
        .expect(404);
    PartnerApi::new(&server.staging("acme"), &a_key)
        .get("/v1/partners/accounts")
        .await
        .expect(200);
    assert!(a.get("/partners/team").await.text.contains("ann@acme.example"));

    // A portal session is its environment's: production does not know it.
    let mut on_production = Browser::new(server.production("acme"));
    on_production.plant_cookie("onramp_portal", &a.cookie("onramp_portal").unwrap());
    let r = on_production.get("/partners/keys").await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in"));
    sign_in(&mut on_production, "ann@acme.example", PASSWORD).await.expect(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_csrf_token_of_their_own_session() {
    let server = server().await;
    let (mut a, mut b) = (browser(&server), browser(&server));
    // Before sign-in: no token, or a made-up one, is refused.
    a.get("/partners/sign-in").await.expect(200);
    let r = a
        .post("/partners/sign-in", &[("email", "ann@acme.example"), ("password", PASSWORD)])
        .await;
    r.expect(403);
    assert!(r.text.contains("Expired form"));
    a.post(
        "/partners/apply",
        &[
            ("csrf", "forged"),
            ("company", "Acme Ltd"),
            ("contact_name", "Ann"),
            ("email", "ann@acme.example"),
        ],
    )
    .await
    .expect(403);
    apply(&mut a, "Acme Ltd", "ann@acme.example").await;
    apply(&mut b, "Bolt Ltd", "bo@bolt.example").await;
    approve(&server, "Acme Ltd").await;
    approve(&server, "Bolt Ltd").await;
    a.get("/partners/keys").await.expect(200);
    b.get("/partners/keys").await.expect(200);
    // After: another session's token is refused, and nothing is made.
    let r = a.post("/partners/keys", &[("csrf", &b.csrf()), ("usage:read", "on")]).await;
    r.expect(403);
    a.post("/partners/keys", &[("usage:read", "on")]).await.expect(403);
    a.post("/partners/sign-out", &[("csrf", "")]).await.expect(403);
    assert!(a.get("/partners/keys").await.text.contains("No keys yet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_https_proxy_the_portal_cookies_are_host_prefixed_and_secure() {
    let server = TestServer::start_with(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    server.create_instance("acme", &["client-accounts", "partners"]).await;
    let mut b = browser(&server).with_header("x-forwarded-proto", "https");
    let form = b.get("/partners/apply").await;
    let csrf = Browser::set_cookie(&form, "__Host-onramp_portal_csrf");
    assert!(csrf.contains("Secure") && csrf.contains("HttpOnly") && csrf.contains("Path=/") && !csrf.contains("Domain"));
    let r = b
        .post(
            "/partners/apply",
            &[
                ("csrf", &b.csrf()),
                ("company", "Acme Ltd"),
                ("contact_name", "Ann Example"),
                ("email", "ann@acme.example"),
                ("intended_use", "Shops"),
                ("password", PASSWORD),
            ],
        )
        .await;
    r.expect(303);
    let session = Browser::set_cookie(&r, "__Host-onramp_portal");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    b.get("/partners/status").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_partners_has_no_portal() {
    let server = TestServer::start().await;
    server.create_instance("acme", &["client-accounts", "user-integration"]).await;
    let mut b = browser(&server);
    for page in [
        "/partners/apply",
        "/partners/sign-in",
        "/partners/keys",
        "/partners/invite/onr_inv_x",
    ] {
        let r = b.get(page).await;
        r.expect(404);
        assert!(r.text.contains("No partner portal"), "{page}");
    }
    b.post("/partners/apply", &[("company", "Acme Ltd")]).await.expect(404);
    let unknown = Browser::new(server.staging("nope")).get("/partners/apply").await;
    unknown.expect(404);
    assert!(unknown.text.contains("Unknown platform"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_session_ends_after_the_portal_idle_timeout() {
    // `--portal-idle-timeout 5m`, set as the CLI sets it.
    let server = TestServer::start_with(|s| s.core.portal_idle = std::time::Duration::from_secs(300)).await;
    server.create_instance("acme", &["client-accounts", "partners"]).await;
    let mut b = browser(&server);
    apply(&mut b, "Acme Ltd", "ann@acme.example").await;
    approve(&server, "Acme Ltd").await;
    b.get("/partners/keys").await.expect(200);
    server.clock.advance(std::time::Duration::from_secs(4 * 60));
    b.get("/partners/keys").await.expect(200);
    server.clock.advance(std::time::Duration::from_secs(4 * 60));
    b.get("/partners/keys").await.expect(200);
    server.clock.advance(std::time::Duration::from_secs(6 * 60));
    assert_eq!(
        b.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/sign-in")
    );
}
