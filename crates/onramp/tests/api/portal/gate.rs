//! "Until approved the portal shows 'awaiting approval' and nothing else":
//! every page and form of the portal (security included) leads a pending,
//! rejected or suspended partner's people back to the status page, which
//! links nowhere but sign-out.

use onramp_domain::audit::Actor;
use onramp_domain::partners::PartnerStatus;

use super::{apply, approve, browser, create_key, partner_named, server};
use crate::pages::Browser;

/// Every page of a signed-in portal user, past the status page.
const PAGES: [&str; 9] = [
    "/partners",
    "/partners/keys",
    "/partners/usage",
    "/partners/usage.csv",
    "/partners/alerts",
    "/partners/accounts",
    "/partners/team",
    "/partners/security",
    "/partners/security/enrol",
];

/// Every form of a signed-in portal user.
const FORMS: [&str; 8] = [
    "/partners/keys",
    "/partners/keys/key_x/rotate",
    "/partners/keys/key_x/revoke",
    "/partners/alerts",
    "/partners/team",
    "/partners/team/x/remove",
    "/partners/security/enrol",
    "/partners/security/disable",
];

/// The status page says `title`; everything else sends there.
async fn sees_the_status_page_only(b: &mut Browser, title: &str) {
    let status = b.get("/partners/status").await;
    status.expect(200);
    assert!(status.text.contains(&format!("<h1>{title}</h1>")), "{}", status.text);
    for label in ["Keys", "Usage", "Alerts", "Accounts", "Team", "Security", "API documentation"] {
        assert!(!status.text.contains(&format!(">{label}</a>")), "no {label} link while {title}");
    }
    assert!(!status.text.contains("/partners/security") && !status.text.contains("/docs/"));
    assert!(status.text.contains("Sign out"));
    for page in PAGES {
        let r = b.get(page).await;
        assert_eq!(r.expect(303).header("location"), Some("/partners/status"), "{page} while {title}");
    }
    let csrf = b.csrf();
    for form in FORMS {
        let r = b
            .post(
                form,
                &[
                    ("csrf", &csrf),
                    ("usage:read", "on"),
                    ("email", "x@acme.example"),
                    ("code", "000000"),
                ],
            )
            .await;
        assert_eq!(
            r.expect(303).header("location"),
            Some("/partners/status"),
            "POST {form} while {title}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_rejected_and_suspended_partners_see_the_status_page_and_nothing_else() {
    let server = server().await;
    let partners = server.core.partners();

    // Pending.
    let mut ann = browser(&server);
    apply(&mut ann, "Acme Ltd", "ann@acme.example").await;
    sees_the_status_page_only(&mut ann, "Awaiting approval").await;

    // Rejected.
    let mut bo = browser(&server);
    apply(&mut bo, "Bolt Ltd", "bo@bolt.example").await;
    let bolt = partner_named(&server, "Bolt Ltd").await;
    partners.reject_application(&Actor::operator(), &bolt, "not a fit").await.unwrap();
    sees_the_status_page_only(&mut bo, "Suspended").await;

    // Approved, then suspended: the same person loses every page at once.
    approve(&server, "Acme Ltd").await;
    create_key(&mut ann, &["usage:read"]).await;
    ann.get("/partners/security").await.expect(200);
    let acme = partner_named(&server, "Acme Ltd").await;
    partners
        .set_partner_status(&Actor::operator(), &acme, PartnerStatus::Suspended)
        .await
        .unwrap();
    sees_the_status_page_only(&mut ann, "Suspended").await;
    let keys = partners.api_keys(&acme).await.unwrap();
    assert_eq!(keys.len(), 1, "no key made while suspended");
}
