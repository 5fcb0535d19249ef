//! The optional authenticator of portal users: set up on the Security
//! page (QR code, secret, confirmed with a code, recovery codes shown
//! once); then signing in takes an authentication code, each TOTP step and
//! each recovery code accepted once, wrong codes throttled apart from the
//! password; turning it off takes a current code. People without one sign
//! in as before. Codes are computed as an authenticator app would, from the
//! secret on the page and the server's clock.

use std::time::Duration;

use onramp_domain::audit::{AuditEvent, AuditFilter};
use onramp_domain::clock::Clock as _;
use onramp_domain::infra::totp::TotpSecret;

use super::{PASSWORD, apply, approve, browser, element_text, server, sign_in};
use crate::helpers::{Resp, TestServer};
use crate::pages::Browser;

const ANN: &str = "ann@acme.example";
const HINT: &str = "Protect your sign-in with an authenticator app";

/// Ann of Acme Ltd (approved), signed in without an authenticator.
async fn ann(server: &TestServer) -> Browser {
    let mut b = browser(server);
    apply(&mut b, "Acme Ltd", ANN).await;
    approve(server, "Acme Ltd").await;
    b
}

/// Sets up an authenticator from the Security page (a wrong code first);
/// returns the secret and the recovery codes.
async fn set_up(server: &TestServer, b: &mut Browser) -> (TotpSecret, Vec<String>) {
    let security = b.get("/partners/security").await;
    security.expect(200);
    assert!(security.text.contains("Off: signing in takes your password alone."));
    assert!(security.text.contains(r#"href="/partners/security/enrol""#));
    let page = b.get("/partners/security/enrol").await;
    page.expect(200);
    assert!(page.text.contains("<svg"), "the QR code is inline SVG");
    assert!(page.text.contains(r#"data-copy="totp-secret""#), "a copy button beside the secret");
    assert!(page.text.contains(">Authentication code</label>"));
    let secret = TotpSecret::from_base32(&element_text(&page.text, "totp-secret")).expect("a base32 secret");
    let again = b.get("/partners/security/enrol").await;
    assert_eq!(
        element_text(&again.text, "totp-secret"),
        secret.base32(),
        "a reload shows the same secret"
    );
    let wrong = b.post("/partners/security/enrol", &[("csrf", &b.csrf()), ("code", "000000")]).await;
    wrong.expect(401);
    assert!(wrong.text.contains("did not match"));
    assert_eq!(element_text(&wrong.text, "totp-secret"), secret.base32(), "the same secret again");
    let code = secret.code_at(server.clock.now_ms());
    let r = b.post("/partners/security/enrol", &[("csrf", &b.csrf()), ("code", &code)]).await;
    r.expect(200);
    assert!(r.text.contains(r#"data-copy="recovery-codes""#), "a copy button beside the codes");
    let codes: Vec<String> = element_text(&r.text, "recovery-codes").lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Password, then the code step with `code`.
async fn sign_in_with(b: &mut Browser, code: &str) -> Resp {
    let r = sign_in(b, ANN, PASSWORD).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in/code"));
    let page = b.get("/partners/sign-in/code").await;
    page.expect(200);
    assert!(page.text.contains(">Authentication code</label>"));
    b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", code)]).await
}

async fn sign_out(b: &mut Browser) {
    let r = b.post("/partners/sign-out", &[("csrf", &b.csrf())]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in"));
}

/// Ann's audit events, newest first.
async fn audit_of_ann(server: &TestServer) -> Vec<AuditEvent> {
    let partner = super::partner_named(server, "Acme Ltd").await;
    let user = server.core.portal().users_of(&partner).await.unwrap().remove(0);
    server
        .core
        .audit()
        .events(&AuditFilter {
            actor: Some(format!("portal_user:{}", user.id)),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sets_up_an_authenticator_and_signs_in_with_each_code_once() {
    let server = server().await;
    let mut b = ann(&server).await;
    let keys = b.get("/partners/keys").await;
    assert!(keys.text.contains(HINT), "the keys page offers an authenticator");
    assert!(keys.text.contains(">Security</a>"), "Security is in the navigation");
    let (secret, codes) = set_up(&server, &mut b).await;
    assert!(!b.get("/partners/keys").await.text.contains(HINT), "no offer once set up");
    let security = b.get("/partners/security").await;
    assert!(
        security
            .text
            .contains("On: signing in takes your password and an authentication code.")
    );
    assert!(security.text.contains("10 recovery codes left"));
    sign_out(&mut b).await;

    // After the password, nothing opens until the code is in.
    let r = sign_in(&mut b, ANN, PASSWORD).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in/code"));
    for page in [
        "/partners",
        "/partners/keys",
        "/partners/team",
        "/partners/status",
        "/partners/security",
    ] {
        let r = b.get(page).await;
        assert_eq!(r.expect(303).header("location"), Some("/partners/sign-in/code"), "{page}");
    }
    b.get("/partners/sign-in/code").await.expect(200);
    let r = b.post("/partners/keys", &[("csrf", &b.csrf()), ("usage:read", "on")]).await;
    assert_eq!(
        r.expect(303).header("location"),
        Some("/partners/sign-in/code"),
        "no key before the code"
    );
    let wrong = b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", "000000")]).await;
    wrong.expect(401);
    assert!(wrong.text.contains("did not match"));
    // The code that confirmed the set-up does not sign in again.
    let used = secret.code_at(server.clock.now_ms());
    b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", &used)])
        .await
        .expect(401);
    // The next step's code does, once.
    server.clock.advance(Duration::from_secs(30));
    let next = secret.code_at(server.clock.now_ms());
    let r = b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", &next)]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    let keys = b.get("/partners/keys").await;
    keys.expect(200);
    assert!(keys.text.contains("No keys yet"));
    sign_out(&mut b).await;
    sign_in_with(&mut b, &next).await.expect(401);

    // A recovery code works once, whatever its case and spacing.
    let loose = codes[3].to_uppercase().replace('-', " ");
    let r = sign_in_with(&mut b, &loose).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    assert!(b.get("/partners/security").await.text.contains("9 recovery codes left"));
    sign_out(&mut b).await;
    sign_in_with(&mut b, &codes[3]).await.expect(401);
    // Cancel: signing out of the code step leaves no session.
    sign_out(&mut b).await;
    assert_eq!(b.get("/partners").await.expect(303).header("location"), Some("/partners/sign-in"));

    // Audited with Ann as actor; each sign-in says which second factor.
    let audit = audit_of_ann(&server).await;
    let enrolled = audit.iter().find(|e| e.action == "portal_user.totp_enrolled").expect("the set-up");
    assert_eq!(enrolled.detail["email"], ANN);
    let factors: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "portal_user.signed_in")
        .map(|e| e.detail["second_factor"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(factors, ["recovery_code", "totp", "none"], "newest first");
    let text = serde_json::to_string(&audit.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap();
    assert!(
        !text.contains(&secret.base32()) && !text.contains(&codes[0]),
        "no secret in the audit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_the_authenticator_off_takes_a_current_code() {
    let server = server().await;
    let mut b = ann(&server).await;
    let (secret, _) = set_up(&server, &mut b).await;
    b.get("/partners/security").await.expect(200);
    let r = b
        .post("/partners/security/disable", &[("csrf", &b.csrf()), ("code", "123456")])
        .await;
    r.expect(401);
    assert!(r.text.contains("did not match") && r.text.contains("On: "));
    // The code of the set-up is used up; a forged form is refused.
    let used = secret.code_at(server.clock.now_ms());
    b.post("/partners/security/disable", &[("csrf", &b.csrf()), ("code", &used)])
        .await
        .expect(401);
    server.clock.advance(Duration::from_secs(30));
    let now = secret.code_at(server.clock.now_ms());
    b.post("/partners/security/disable", &[("csrf", "forged"), ("code", &now)])
        .await
        .expect(403);
    assert!(b.get("/partners/security").await.text.contains("On: "));
    let r = b.post("/partners/security/disable", &[("csrf", &b.csrf()), ("code", &now)]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners/security"));
    assert!(b.get("/partners/security").await.text.contains("Off: "));
    assert!(b.get("/partners/keys").await.text.contains(HINT), "offered again");
    // Off again: turning it off twice is refused, and the password alone signs in.
    b.post("/partners/security/disable", &[("csrf", &b.csrf()), ("code", &now)])
        .await
        .expect(403);
    sign_out(&mut b).await;
    let r = sign_in(&mut b, ANN, PASSWORD).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    let audit = audit_of_ann(&server).await;
    let disabled = audit.iter().find(|e| e.action == "portal_user.totp_disabled").expect("turned off");
    assert_eq!(disabled.detail["second_factor"], "totp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_apart_from_the_password() {
    let server = server().await;
    let mut b = ann(&server).await;
    let (secret, _) = set_up(&server, &mut b).await;
    sign_out(&mut b).await;
    server.clock.advance(Duration::from_secs(30));
    let good = secret.code_at(server.clock.now_ms());
    let r = sign_in(&mut b, ANN, PASSWORD).await;
    r.expect(303);
    b.get("/partners/sign-in/code").await.expect(200);
    for _ in 0..5 {
        b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", "000000")])
            .await
            .expect(401);
    }
    // The clock stands still: even the right code waits.
    let r = b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", &good)]).await;
    r.expect(429);
    assert!(r.text.contains("Too many failed attempts"));
    // The password is still heard, but a fresh session's code waits too.
    sign_out(&mut b).await;
    sign_in_with(&mut b, &good).await.expect(429);
    // Once the back-off is over, the code signs in.
    server.clock.advance(Duration::from_secs(2));
    let r = b.post("/partners/sign-in/code", &[("csrf", &b.csrf()), ("code", &good)]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_without_an_authenticator_are_unaffected_and_the_new_forms_need_csrf() {
    let server = server().await;
    let mut ann = ann(&server).await;
    let mut bo = browser(&server);
    apply(&mut bo, "Bolt Ltd", "bo@bolt.example").await;
    // A pending partner's person is not offered it: the status page is all there is.
    let status = bo.get("/partners/status").await;
    assert!(!status.text.contains(HINT) && !status.text.contains(">Keys</a>"));
    assert_eq!(
        bo.get("/partners/security").await.expect(303).header("location"),
        Some("/partners/status")
    );
    approve(&server, "Bolt Ltd").await;

    // Ann in a second browser: setting up in the first signs it out.
    let mut elsewhere = browser(&server);
    sign_in(&mut elsewhere, ANN, PASSWORD).await.expect(303);
    elsewhere.get("/partners/keys").await.expect(200);
    // Forged or missing tokens are refused on every new form.
    ann.get("/partners/security/enrol").await.expect(200);
    ann.post("/partners/security/enrol", &[("csrf", "forged"), ("code", "000000")])
        .await
        .expect(403);
    ann.post("/partners/security/enrol", &[("csrf", &bo.csrf()), ("code", "000000")])
        .await
        .expect(403);
    let (secret, _) = set_up(&server, &mut ann).await;
    assert_eq!(
        elsewhere.get("/partners/keys").await.expect(303).header("location"),
        Some("/partners/sign-in"),
        "the other session ended"
    );
    ann.get("/partners/security").await;
    ann.post("/partners/security/disable", &[("code", "000000")]).await.expect(403);
    sign_out(&mut ann).await;
    sign_in(&mut ann, ANN, PASSWORD).await.expect(303);
    ann.get("/partners/sign-in/code").await.expect(200);
    server.clock.advance(Duration::from_secs(30));
    let code = secret.code_at(server.clock.now_ms());
    ann.post("/partners/sign-in/code", &[("csrf", "forged"), ("code", &code)])
        .await
        .expect(403);
    assert_eq!(ann.get("/partners").await.header("location"), Some("/partners/sign-in/code"));

    // Bo (no authenticator) signs in with the password alone, as before,
    // and the code step sends him on; Ann's authenticator is not his.
    sign_out(&mut bo).await;
    let r = sign_in(&mut bo, "bo@bolt.example", PASSWORD).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    assert_eq!(
        bo.get("/partners/sign-in/code").await.expect(303).header("location"),
        Some("/partners")
    );
    let security = bo.get("/partners/security").await;
    assert!(security.text.contains("Off: ") && !security.text.contains(ANN));
    bo.post("/partners/security/disable", &[("csrf", &bo.csrf()), ("code", &code)])
        .await
        .expect(403);
    // A signed-in session has no code step; Ann's pending one completes.
    let r = bo.post("/partners/sign-in/code", &[("csrf", &bo.csrf()), ("code", &code)]).await;
    assert_eq!(r.expect(303).header("location"), Some("/partners"));
    ann.post("/partners/sign-in/code", &[("csrf", &ann.csrf()), ("code", &code)])
        .await
        .expect(303);
    ann.get("/partners/keys").await.expect(200);
}
